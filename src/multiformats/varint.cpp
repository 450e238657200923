#include "multiformats/varint.hpp"

#include <string>

#include "common/protobuf.hpp"

namespace cairn::multiformats {

// The encoding is protobuf's (unsigned LEB128): one writer for both.
size_t VarintSize(uint64_t value) { return protobuf::VarintSize(value); }

size_t EncodeVarint(uint64_t value, uint8_t* out) {
  return static_cast<size_t>(protobuf::EncodeVarint(value, out) - out);
}

void AppendVarint(Bytes& out, uint64_t value) { protobuf::AppendVarint(out, value); }

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
  return Err(ErrorCode::kInvalidArgument, in.empty() ? "varint: empty input" : "varint: truncated");
}

}  // namespace cairn::multiformats
