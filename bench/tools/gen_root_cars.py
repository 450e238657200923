# Writes N CARs holding R raw-block roots in total (each block is its own root).
import hashlib, sys, os
def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80); n >>= 7
    out.append(n); return bytes(out)
def cbor_head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + n.to_bytes(2, 'big')
    return bytes([major << 5 | 26]) + n.to_bytes(4, 'big')
def cid(data):
    return bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
total, ncars, prefix, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
per = total // ncars
for c in range(ncars):
    blocks = [f"{prefix} root {c} {i}".encode() for i in range(per)]
    cids = [cid(b) for b in blocks]
    h = bytes([0xa2]) + cbor_head(3, 5) + b"roots" + cbor_head(4, len(cids))
    for x in cids:
        h += bytes([0xd8, 0x2a]) + cbor_head(2, len(x) + 1) + b"\x00" + x
    h += cbor_head(3, 7) + b"version" + bytes([1])
    with open(f"{out}/{c}.car", "wb") as f:
        f.write(varint(len(h)) + h)
        for x, b in zip(cids, blocks):
            f.write(varint(len(x) + len(b)) + x + b)
