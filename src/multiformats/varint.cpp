#include "multiformats/varint.hpp"

#include <string>

namespace cairn::multiformats {

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

size_t EncodeVarint(uint64_t value, uint8_t* out) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<uint8_t>(value | 0x80);
    value >>= 7;
  }
  out[n++] = static_cast<uint8_t>(value);
  return n;
}

void AppendVarint(Bytes& out, uint64_t value) {
  uint8_t buf[10];
  size_t n = EncodeVarint(value, buf);
  out.insert(out.end(), buf, buf + n);
}

Result<DecodedVarint> DecodeVarint(ByteSpan in) {
  uint64_t value = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i >= kMaxVarintSize) {
      return Err(ErrorCode::kInvalidArgument, "varint: longer than 9 bytes");
    }
    uint8_t b = in[i];
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) {
        return Err(ErrorCode::kInvalidArgument, "varint: not minimally encoded");
      }
      return DecodedVarint{value, i + 1};
    }
  }
  return Err(ErrorCode::kInvalidArgument,
             in.empty() ? "varint: empty input" : "varint: truncated");
}

}  // namespace cairn::multiformats
