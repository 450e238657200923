// Roots of all-zero subtrees of the piece commitment tree, by height (FRC-0058, "zero
// commitments"; go-data-segment's zerocomm table). Height 0 is a 32-byte zero leaf; height h is
// HashNode(root(h-1), root(h-1)), the root of 32 * 2^h zero bytes (fr32 padding of zeros is zeros).
// CommP uses them for the zero padding up to the next power of two, so no zero subtree is hashed.
#pragma once

#include <cstdint>

#include "filecoin/piece/node.hpp"

namespace cairn::filecoin::piece {

// Heights 0 .. kMaxZeroCommHeight are available (a tree of height 63 is 2^68 bytes, beyond any
// piece).
inline constexpr int kMaxZeroCommHeight = 63;

// Root of the all-zero subtree of `height` (0 .. kMaxZeroCommHeight; CAIRN_CHECKed: callers pass
// heights they derived from validated sizes). Computed once, on first use; thread-safe.
const Node& ZeroComm(int height);

}  // namespace cairn::filecoin::piece
