// Filecoin primitives the devnet needs, built on the npm peers real clients use.
//
// Contract:
// - Addresses (go-address semantics, FILECOIN.md §3.2): parseAddress(str) -> {protocol, payload,
//   bytes, id?}; addressFromBytes(bytes) -> same; formatAddress(bytes) -> "f0…" / "f1…". The devnet
//   prints the "f" network prefix but accepts "t" too (the bytes carry no network). Only protocols
//   0 (ID) and 1 (secp256k1) exist on the devnet; others are rejected with an error naming them.
// - BigInt CBOR (go-state-types big.Int): encodeBigInt(n) / decodeBigInt(bytes); zero = empty bytes.
// - Signatures (lotus lib/sigs/secp): secp256k1 over blake2b-256 of the signed bytes, encoded
//   R‖S‖V with V ∈ {0,1}, low-S. recoverSigner(sig65, bytes) -> f1 address bytes, or null when the
//   signature is malformed. signBytes(priv, bytes) -> sig65 (RFC 6979, deterministic).
// - Messages (§3.3): messageCbor(msg) tuple of 10; messageCid, signedMessageCid (blake2b-256,
//   dag-cbor CIDv1); message JSON <-> object as Lotus shapes it (§3.6).
// - Deal types (§3.1): DealProposal tuple (11), ClientDealProposal [proposal, sig], DealParams /
//   DealResponse / DealStatusRequest / DealStatusResponse maps, encoded with @ipld/dag-cbor whose
//   canonical key order equals cbor-gen's. Decoders throw Errors that name the field that failed.
// Throws only on malformed input; messages say which input and why.

import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { base32 } from 'multiformats/bases/base32'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { sha256 } from '@noble/hashes/sha2.js'

export const NETWORK_PREFIX = 'f'
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'

export function blake2b256 (bytes) { return blake2b(bytes, { dkLen: 32 }) }
export function blake2b160 (bytes) { return blake2b(bytes, { dkLen: 20 }) }
function blake2b32 (bytes) { return blake2b(bytes, { dkLen: 4 }) }

export function toHex (b) { return Buffer.from(b).toString('hex') }
export function fromHex (h) { return new Uint8Array(Buffer.from(h, 'hex')) }
export function equalBytes (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function b32encode (bytes) {
  let bits = 0; let value = 0; let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte; bits += 8
    while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5 }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out
}
function b32decode (str) {
  let bits = 0; let value = 0; const out = []
  for (const ch of str) {
    const v = B32.indexOf(ch)
    if (v < 0) throw new Error(`address: invalid base32 character '${ch}'`)
    value = (value << 5) | v; bits += 5
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8 }
  }
  return new Uint8Array(out)
}
function uvarint (n) {
  n = BigInt(n); const out = []
  do { let b = Number(n & 0x7fn); n >>= 7n; if (n > 0n) b |= 0x80; out.push(b) } while (n > 0n)
  return out
}
function readUvarint (bytes, at = 0) {
  let n = 0n; let shift = 0n; let i = at
  for (; i < bytes.length; i++) {
    n |= BigInt(bytes[i] & 0x7f) << shift
    if ((bytes[i] & 0x80) === 0) return { value: n, next: i + 1 }
    shift += 7n
    if (shift > 63n) break
  }
  throw new Error('address: truncated or oversized ID varint')
}

export function idAddressBytes (id) { return new Uint8Array([0, ...uvarint(id)]) }

export function addressFromBytes (bytes) {
  bytes = new Uint8Array(bytes)
  if (bytes.length < 2) throw new Error(`address: ${bytes.length} bytes is too short`)
  const protocol = bytes[0]
  if (protocol === 0) {
    const { value, next } = readUvarint(bytes, 1)
    if (next !== bytes.length) throw new Error('address: trailing bytes after ID')
    return { protocol, id: value, bytes, payload: bytes.subarray(1) }
  }
  if (protocol === 1) {
    if (bytes.length !== 21) throw new Error(`address: secp256k1 payload must be 20 bytes, got ${bytes.length - 1}`)
    return { protocol, bytes, payload: bytes.subarray(1) }
  }
  throw new Error(`address: protocol ${protocol} is not supported by the devnet (only ID and secp256k1)`)
}

export function parseAddress (str) {
  if (typeof str !== 'string' || str.length < 3) throw new Error(`address: '${str}' is not an address string`)
  if (str[0] !== 'f' && str[0] !== 't') throw new Error(`address: '${str}' has unknown network prefix '${str[0]}'`)
  const protocol = Number(str[1])
  const rest = str.slice(2)
  if (str[1] === '0') {
    if (!/^(0|[1-9][0-9]{0,19})$/.test(rest)) throw new Error(`address: '${str}' has an invalid actor ID`)
    return addressFromBytes(idAddressBytes(BigInt(rest)))
  }
  if (str[1] === '1') {
    const raw = b32decode(rest)
    if (raw.length !== 24) throw new Error(`address: '${str}' decodes to ${raw.length} bytes, want 24`)
    const bytes = new Uint8Array([protocol, ...raw.subarray(0, 20)])
    if (!equalBytes(blake2b32(bytes), raw.subarray(20))) throw new Error(`address: '${str}' has a bad checksum`)
    return addressFromBytes(bytes)
  }
  throw new Error(`address: '${str}' uses protocol ${str[1]}, not supported by the devnet (only f0 and f1)`)
}

export function formatAddress (bytes, prefix = NETWORK_PREFIX) {
  const a = addressFromBytes(bytes)
  if (a.protocol === 0) return `${prefix}0${a.id}`
  return `${prefix}1${b32encode(new Uint8Array([...a.payload, ...blake2b32(a.bytes)]))}`
}

export function normalizeAddress (str) { return formatAddress(parseAddress(str).bytes) }

// ---- keys and signatures ----

export function deriveSecpKey (seed, label) {
  for (let counter = 0; ; counter++) {
    const priv = sha256(new TextEncoder().encode(`cairn-devnet|${seed}|${label}|${counter}`))
    try {
      const pub = secp256k1.getPublicKey(priv, false)
      return { priv, pub, address: secpAddressBytes(pub) }
    } catch { /* out of range scalar: next counter */ }
  }
}

export function secpAddressBytes (pubUncompressed) {
  return new Uint8Array([1, ...blake2b160(pubUncompressed)])
}

export function signBytes (priv, bytes) {
  const sig = secp256k1.sign(blake2b256(bytes), priv, { prehash: false, format: 'recovered' })
  const out = new Uint8Array(65)
  out.set(sig.subarray(1), 0); out[64] = sig[0]
  return out
}

// Returns the f1 address bytes that produced sig65 over bytes, or null if it cannot be recovered.
export function recoverSigner (sig65, bytes) {
  if (!(sig65 instanceof Uint8Array) || sig65.length !== 65 || sig65[64] > 3) return null
  try {
    const rec = new Uint8Array(65)
    rec[0] = sig65[64]; rec.set(sig65.subarray(0, 64), 1)
    const s = BigInt('0x' + toHex(sig65.subarray(32, 64)))
    if (s > secp256k1.Point.CURVE().n / 2n) return null // RejectMalleable: high-S refused
    const pubC = secp256k1.recoverPublicKey(rec, blake2b256(bytes), { prehash: false })
    const pub = secp256k1.Point.fromBytes(pubC).toBytes(false)
    return secpAddressBytes(pub)
  } catch { return null }
}

// crypto.Signature CBOR bytes: type byte ‖ data. Only type 1 (secp256k1) is verifiable here.
export function signatureBytes (sig65) { return new Uint8Array([1, ...sig65]) }

// ---- big ints ----

export function encodeBigInt (n) {
  n = BigInt(n)
  if (n === 0n) return new Uint8Array(0)
  const neg = n < 0n; let m = neg ? -n : n
  const bytes = []
  while (m > 0n) { bytes.unshift(Number(m & 0xffn)); m >>= 8n }
  return new Uint8Array([neg ? 1 : 0, ...bytes])
}
export function decodeBigInt (b, field = 'BigInt') {
  if (!(b instanceof Uint8Array)) throw new Error(`${field}: expected a byte string`)
  if (b.length === 0) return 0n
  if (b.length > 129) throw new Error(`${field}: big int too large (${b.length} bytes)`)
  if (b[0] > 1) throw new Error(`${field}: invalid big int sign byte ${b[0]}`)
  let n = 0n
  for (const x of b.subarray(1)) n = (n << 8n) | BigInt(x)
  return b[0] === 1 ? -n : n
}

// ---- CIDs ----

const DAG_CBOR = 0x71
const BLAKE2B_256 = 0xb220
const SHA2_256 = 0x12
export function blake2bCid (bytes) { return CID.createV1(DAG_CBOR, Digest.create(BLAKE2B_256, blake2b256(bytes))) }
export function sha256Cid (bytes) { return CID.createV1(DAG_CBOR, Digest.create(SHA2_256, sha256(bytes))) }
export function cidToJson (cid) { return cid ? { '/': cid.toString() } : null }
export function cidFromJson (j, field = 'CID') {
  if (!j || typeof j['/'] !== 'string') throw new Error(`${field}: expected {"/": "<cid>"}`)
  try { return CID.parse(j['/']) } catch (e) { throw new Error(`${field}: cannot parse CID '${j['/']}': ${e.message}`) }
}
export { CID, base32 }

// ---- chain messages ----

export function messageTuple (m) {
  return [0, m.to, m.from, m.nonce, encodeBigInt(m.value), m.gasLimit, encodeBigInt(m.gasFeeCap),
    encodeBigInt(m.gasPremium), m.method, m.params]
}
export function messageCbor (m) { return dagCbor.encode(messageTuple(m)) }
export function messageCid (m) { return blake2bCid(messageCbor(m)) }
export function signedMessageCbor (m, sig65) { return dagCbor.encode([messageTuple(m), signatureBytes(sig65)]) }
export function signedMessageCid (m, sig65) { return blake2bCid(signedMessageCbor(m, sig65)) }

function reqInt (v, field, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new Error(`message: ${field} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`)
  return v
}
function reqBig (v, field) {
  if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) throw new Error(`message: ${field} must be a decimal string, got ${JSON.stringify(v)}`)
  return BigInt(v)
}

// Lotus JSON message -> internal object (addresses as bytes, big ints as bigint).
export function messageFromJson (j) {
  if (!j || typeof j !== 'object') throw new Error('message: expected an object')
  if ((j.Version ?? 0) !== 0) throw new Error(`message: unsupported Version ${j.Version}`)
  let params = new Uint8Array(0)
  if (j.Params != null && j.Params !== '') {
    if (typeof j.Params !== 'string') throw new Error('message: Params must be base64')
    params = new Uint8Array(Buffer.from(j.Params, 'base64'))
  }
  return {
    to: parseAddress(j.To).bytes,
    from: parseAddress(j.From).bytes,
    nonce: reqInt(j.Nonce, 'Nonce'),
    value: reqBig(j.Value ?? '0', 'Value'),
    gasLimit: reqInt(j.GasLimit ?? 0, 'GasLimit'),
    gasFeeCap: reqBig(j.GasFeeCap ?? '0', 'GasFeeCap'),
    gasPremium: reqBig(j.GasPremium ?? '0', 'GasPremium'),
    method: reqInt(j.Method ?? 0, 'Method'),
    params
  }
}
export function messageToJson (m) {
  return {
    Version: 0,
    To: formatAddress(m.to),
    From: formatAddress(m.from),
    Nonce: m.nonce,
    Value: m.value.toString(),
    GasLimit: m.gasLimit,
    GasFeeCap: m.gasFeeCap.toString(),
    GasPremium: m.gasPremium.toString(),
    Method: m.method,
    Params: m.params.length ? Buffer.from(m.params).toString('base64') : null,
    CID: cidToJson(messageCid(m))
  }
}

// ---- deal types ----

export const PIECE_CID_CODEC = 0xf101
export const PIECE_CID_MH = 0x1012

export function proposalTuple (p) {
  return [p.pieceCid, p.pieceSize, p.verified, p.client, p.provider, p.label, p.startEpoch, p.endEpoch,
    encodeBigInt(p.price), encodeBigInt(p.providerCollateral), encodeBigInt(p.clientCollateral)]
}
export function proposalCbor (p) { return dagCbor.encode(proposalTuple(p)) }

function expect (cond, msg) { if (!cond) throw new Error(msg) }
function isInt (v) { return typeof v === 'number' && Number.isSafeInteger(v) }

export function proposalFromTuple (t) {
  expect(Array.isArray(t) && t.length === 11, `DealProposal: expected an array of 11 fields, got ${Array.isArray(t) ? t.length : typeof t}`)
  const [pieceCid, pieceSize, verified, client, provider, label, startEpoch, endEpoch, price, pc, cc] = t
  expect(CID.asCID(pieceCid) != null, 'DealProposal.PieceCID: expected a CID')
  expect(isInt(pieceSize) && pieceSize >= 0, 'DealProposal.PieceSize: expected an unsigned integer')
  expect(typeof verified === 'boolean', 'DealProposal.VerifiedDeal: expected a bool')
  expect(client instanceof Uint8Array, 'DealProposal.Client: expected address bytes')
  expect(provider instanceof Uint8Array, 'DealProposal.Provider: expected address bytes')
  expect(typeof label === 'string' || label instanceof Uint8Array, 'DealProposal.Label: expected a text or byte string')
  expect(isInt(startEpoch), 'DealProposal.StartEpoch: expected an integer')
  expect(isInt(endEpoch), 'DealProposal.EndEpoch: expected an integer')
  addressFromBytes(client); addressFromBytes(provider)
  return {
    pieceCid: CID.asCID(pieceCid),
    pieceSize,
    verified,
    client,
    provider,
    label,
    startEpoch,
    endEpoch,
    price: decodeBigInt(price, 'DealProposal.StoragePricePerEpoch'),
    providerCollateral: decodeBigInt(pc, 'DealProposal.ProviderCollateral'),
    clientCollateral: decodeBigInt(cc, 'DealProposal.ClientCollateral')
  }
}

export function labelLength (label) {
  return typeof label === 'string' ? Buffer.byteLength(label, 'utf8') : label.length
}

export function proposalToJson (p) {
  return {
    PieceCID: cidToJson(p.pieceCid),
    PieceSize: p.pieceSize,
    VerifiedDeal: p.verified,
    Client: formatAddress(p.client),
    Provider: formatAddress(p.provider),
    Label: typeof p.label === 'string' ? p.label : Buffer.from(p.label).toString('base64'),
    StartEpoch: p.startEpoch,
    EndEpoch: p.endEpoch,
    StoragePricePerEpoch: p.price.toString(),
    ProviderCollateral: p.providerCollateral.toString(),
    ClientCollateral: p.clientCollateral.toString()
  }
}

// ClientDealProposal [DealProposal, Signature]; keeps the exact proposal bytes for the signature.
export function clientProposalFromCbor (value) {
  expect(Array.isArray(value) && value.length === 2, 'ClientDealProposal: expected [DealProposal, Signature]')
  const proposal = proposalFromTuple(value[0])
  expect(value[1] instanceof Uint8Array && value[1].length >= 1, 'ClientDealProposal.ClientSignature: expected signature bytes')
  return { proposal, signature: value[1] }
}
export function clientProposalCbor (cp) { return dagCbor.encode([proposalTuple(cp.proposal), cp.signature]) }

export function decodeDealParams (bytes) {
  let v
  try { v = dagCbor.decode(bytes) } catch (e) { throw new Error(`DealParams: invalid CBOR: ${e.message}`) }
  expect(v && typeof v === 'object' && !Array.isArray(v), 'DealParams: expected a map')
  expect(v.DealUUID instanceof Uint8Array && v.DealUUID.length === 16, 'DealParams.DealUUID: expected 16 bytes')
  const t = v.Transfer
  expect(t && typeof t === 'object', 'DealParams.Transfer: expected a map')
  expect(isInt(t.Size) && t.Size >= 0, 'DealParams.Transfer.Size: expected an unsigned integer')
  expect(typeof t.Type === 'string', 'DealParams.Transfer.Type: expected text')
  expect(t.Params instanceof Uint8Array, 'DealParams.Transfer.Params: expected bytes')
  expect(typeof v.IsOffline === 'boolean', 'DealParams.IsOffline: expected a bool')
  expect(CID.asCID(v.DealDataRoot) != null, 'DealParams.DealDataRoot: expected a CID')
  return {
    uuid: v.DealUUID,
    transfer: { size: t.Size, type: t.Type, params: t.Params, clientId: t.ClientID ?? '' },
    isOffline: v.IsOffline,
    dealDataRoot: CID.asCID(v.DealDataRoot),
    skipIpniAnnounce: v.SkipIPNIAnnounce ?? false,
    removeUnsealedCopy: v.RemoveUnsealedCopy ?? false,
    clientProposal: clientProposalFromCbor(v.ClientDealProposal)
  }
}

export function encodeDealResponse (accepted, message) {
  return dagCbor.encode({ Accepted: accepted, Message: message })
}

export function decodeDealStatusRequest (bytes) {
  let v
  try { v = dagCbor.decode(bytes) } catch (e) { throw new Error(`DealStatusRequest: invalid CBOR: ${e.message}`) }
  expect(v && v.DealUUID instanceof Uint8Array && v.DealUUID.length === 16, 'DealStatusRequest.DealUUID: expected 16 bytes')
  expect(v.Signature instanceof Uint8Array, 'DealStatusRequest.Signature: expected bytes')
  return { uuid: v.DealUUID, signature: v.Signature }
}

// status: null (error only) or {error, status, proposal, publishCid, chainDealId, sealingStatus, signedProposalCid}
export function encodeDealStatusResponse ({ uuid, error = '', status = null, isOffline = false, transferSize = 0, nBytesReceived = 0 }) {
  return dagCbor.encode({
    Error: error,
    DealUUID: uuid,
    IsOffline: isOffline,
    DealStatus: status && {
      Error: status.error,
      Status: status.status,
      Proposal: proposalTuple(status.proposal),
      PublishCid: status.publishCid ?? null,
      ChainDealID: status.chainDealId,
      SealingStatus: status.sealingStatus,
      SignedProposalCid: status.signedProposalCid
    },
    TransferSize: transferSize,
    NBytesReceived: nBytesReceived
  })
}

export function uuidString (b) {
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export { dagCbor }
