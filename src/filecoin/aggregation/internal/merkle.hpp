// Private Merkle helpers of the aggregation layer: the sha2-256-trunc254-padded node hash and the
// roots of all-zero subtrees (FRC-0058 / Filecoin piece commitment tree), plus the fr32 unpadding
// of whole 128-byte quads used to lay out the index area.
//
// Thin adapters over the piece library (filecoin/piece: node.hpp, zero_comm.hpp, fr32.hpp), in the
// shapes the aggregation code uses.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"

namespace cairn::filecoin::aggregation::internal {

using Node = std::array<uint8_t, 32>;

// SHA-256(left || right) with the two most significant bits of the last byte cleared.
Node HashNodes(const Node& left, const Node& right);

// SHA-256(data) truncated the same way (for the 64-byte index entry).
Node TruncatedHash(ByteSpan data);

// Root of an all-zero subtree whose leaves are `level` levels below it (level 0: 32 zero bytes).
// `level` must be < 64.
const Node& ZeroRoot(unsigned level);

// fr32 unpadding of `padded` (a multiple of 128 bytes) into `out` (padded.size() / 128 * 127
// bytes). Each 32-byte padded word contributes its low 254 bits to the little-endian bit stream.
void Fr32Unpad(ByteSpan padded, MutableByteSpan out);

}  // namespace cairn::filecoin::aggregation::internal
