#include "filecoin/aggregation/internal/merkle.hpp"

#include "filecoin/piece/fr32.hpp"
#include "filecoin/piece/node.hpp"
#include "filecoin/piece/zero_comm.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::aggregation::internal {

Node HashNodes(const Node& left, const Node& right) {
  return filecoin::piece::HashNode(left, right);
}

Node TruncatedHash(ByteSpan data) {
  Node out = multiformats::Sha256(data);
  out[31] &= 0x3f;
  return out;
}

const Node& ZeroRoot(unsigned level) {
  CAIRN_CHECK(level < 64);  // callers bound tree heights by kMaxDealSize (height <= 45)
  return filecoin::piece::ZeroComm(static_cast<int>(level));
}

void Fr32Unpad(ByteSpan padded, MutableByteSpan out) {
  CAIRN_CHECK(padded.size() % 128 == 0);                 // callers pass whole quads
  CAIRN_CHECK(out.size() == padded.size() / 128 * 127);  // and size the output for them
  for (size_t quad = 0; quad < padded.size() / 128; ++quad) {
    filecoin::piece::Fr32UnpadChunk(padded.data() + quad * 128, out.data() + quad * 127);
  }
}

}  // namespace cairn::filecoin::aggregation::internal
