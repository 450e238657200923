#include "filecoin/aggregation/internal/merkle.hpp"

#include <cstring>

#include "multiformats/multihash.hpp"

namespace cairn::aggregation::internal {

Node HashNodes(const Node& left, const Node& right) {
  uint8_t buffer[64];
  std::memcpy(buffer, left.data(), 32);
  std::memcpy(buffer + 32, right.data(), 32);
  return TruncatedHash(ByteSpan(buffer, sizeof(buffer)));
}

Node TruncatedHash(ByteSpan data) {
  Node out = multiformats::Sha256(data);
  out[31] &= 0x3f;
  return out;
}

const Node& ZeroRoot(unsigned level) {
  static const std::array<Node, 64> roots = [] {
    std::array<Node, 64> r{};
    for (unsigned i = 1; i < r.size(); ++i) r[i] = HashNodes(r[i - 1], r[i - 1]);
    return r;
  }();
  CAIRN_CHECK(level < roots.size());  // callers bound tree heights by kMaxTreeHeight < 64
  return roots[level];
}

void Fr32Unpad(ByteSpan padded, MutableByteSpan out) {
  CAIRN_CHECK(padded.size() % 128 == 0);               // callers pass whole quads
  CAIRN_CHECK(out.size() == padded.size() / 128 * 127);  // and size the output for them
  std::memset(out.data(), 0, out.size());
  // Word k of a quad starts at output bit 254k: byte (254k)/8, bit (254k)%8.
  static constexpr size_t kByte[4] = {0, 31, 63, 95};
  static constexpr unsigned kShift[4] = {0, 6, 4, 2};
  for (size_t quad = 0; quad < padded.size() / 128; ++quad) {
    const uint8_t* in = padded.data() + quad * 128;
    uint8_t* o = out.data() + quad * 127;
    for (size_t k = 0; k < 4; ++k) {
      const uint8_t* w = in + 32 * k;
      const unsigned s = kShift[k];
      for (size_t j = 0; j < 32; ++j) {
        const unsigned v = (j == 31) ? (w[j] & 0x3f) : w[j];
        const size_t at = kByte[k] + j;
        o[at] |= static_cast<uint8_t>(v << s);
        if (s != 0 && at + 1 < 127) o[at + 1] |= static_cast<uint8_t>(v >> (8 - s));
      }
    }
  }
}

}  // namespace cairn::aggregation::internal
