// Unsigned varint as the multiformats spec defines it
// (https://github.com/multiformats/unsigned-varint): LEB128, at most 9 bytes (63 bits of value),
// minimal encoding required when decoding.
#pragma once

#include <cstdint>
#include <utility>

#include "common/bytes.hpp"

namespace cairn::multiformats {

inline constexpr size_t kMaxVarintSize = 9;

// Number of bytes EncodeVarint writes for `value` (1..10; values >= 2^63 are not valid varints,
// callers must not pass them).
size_t VarintSize(uint64_t value);

// Writes `value` at `out` (room for VarintSize(value) bytes) and returns the bytes written.
size_t EncodeVarint(uint64_t value, uint8_t* out);

// Appends the varint of `value` to `out`.
void AppendVarint(Bytes& out, uint64_t value);

struct DecodedVarint {
  uint64_t value;
  size_t size;  // bytes consumed
};

// Decodes the varint at the start of `in`. Errors (InvalidArgument): empty or truncated input,
// more than 9 bytes, non-minimal encoding ("0x80 0x00").
Result<DecodedVarint> DecodeVarint(ByteSpan in);

}  // namespace cairn::multiformats
