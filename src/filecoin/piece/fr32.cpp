#include "filecoin/piece/fr32.hpp"

#include <cstring>

namespace cairn::filecoin::piece {

// Quarter q (q = 0..3) of the output starts at input bit 254 * q, i.e. at byte 31 * q + ... with a
// bit shift of 2 * q (bits 0, 254, 508, 762 → byte 0 bit 0, byte 31 bit 6, byte 63 bit 4, byte 95
// bit 2). Each quarter is 32 bytes whose top two bits are zero.
void Fr32PadChunk(const uint8_t* in, uint8_t* out) {
  std::memcpy(out, in, 31);
  out[31] = in[31] & 0x3f;
  for (int i = 0; i < 31; ++i) {
    out[32 + i] = static_cast<uint8_t>((in[31 + i] >> 6) | (in[32 + i] << 2));
  }
  out[63] = static_cast<uint8_t>(((in[62] >> 6) | (in[63] << 2)) & 0x3f);
  for (int i = 0; i < 31; ++i) {
    out[64 + i] = static_cast<uint8_t>((in[63 + i] >> 4) | (in[64 + i] << 4));
  }
  out[95] = static_cast<uint8_t>(((in[94] >> 4) | (in[95] << 4)) & 0x3f);
  for (int i = 0; i < 31; ++i) {
    out[96 + i] = static_cast<uint8_t>((in[95 + i] >> 2) | (in[96 + i] << 6));
  }
  out[127] = static_cast<uint8_t>(in[126] >> 2);
}

void Fr32UnpadChunk(const uint8_t* in, uint8_t* out) {
  // Output byte k collects the bits of the quarter(s) it spans; the two spare bits of each
  // quarter (bits 6..7 of bytes 31, 63, 95, 127) are skipped.
  std::memcpy(out, in, 31);
  out[31] = static_cast<uint8_t>((in[31] & 0x3f) | (in[32] << 6));
  for (int i = 1; i < 32; ++i)
    out[31 + i] = static_cast<uint8_t>((in[31 + i] >> 2) | (in[32 + i] << 6));
  out[63] = static_cast<uint8_t>(((in[63] >> 2) & 0x0f) | (in[64] << 4));
  for (int i = 1; i < 32; ++i)
    out[63 + i] = static_cast<uint8_t>((in[63 + i] >> 4) | (in[64 + i] << 4));
  out[95] = static_cast<uint8_t>(((in[95] >> 4) & 0x03) | (in[96] << 2));
  for (int i = 1; i < 32; ++i)
    out[95 + i] = static_cast<uint8_t>((in[95 + i] >> 6) | (in[96 + i] << 2));
}

void Fr32Pad(const uint8_t* in, uint8_t* out, size_t chunks) {
  for (size_t c = 0; c < chunks; ++c) Fr32PadChunk(in + 127 * c, out + 128 * c);
}

Bytes Fr32Pad(ByteSpan data) {
  const size_t chunks = (data.size() + 126) / 127;
  Bytes out(chunks * 128);
  const size_t full = data.size() / 127;
  Fr32Pad(data.data(), out.data(), full);
  if (full < chunks) {
    uint8_t tail[127] = {};
    std::memcpy(tail, data.data() + 127 * full, data.size() - 127 * full);
    Fr32PadChunk(tail, out.data() + 128 * full);
  }
  return out;
}

Result<Bytes> Fr32Unpad(ByteSpan padded) {
  if (padded.size() % 128 != 0) {
    return Err(ErrorCode::kInvalidArgument, "fr32: padded length " + std::to_string(padded.size()) +
                                                " is not a multiple of 128");
  }
  Bytes out(padded.size() / 128 * 127);
  for (size_t c = 0; c < padded.size() / 128; ++c) {
    for (int q = 0; q < 4; ++q) {
      if ((padded[128 * c + 32 * q + 31] & 0xc0) != 0) {
        return Err(ErrorCode::kInvalidArgument,
                   "fr32: byte " + std::to_string(128 * c + 32 * q + 31) +
                       " has its two top bits set (not fr32-padded data)");
      }
    }
    Fr32UnpadChunk(padded.data() + 128 * c, out.data() + 127 * c);
  }
  return out;
}

}  // namespace cairn::filecoin::piece
