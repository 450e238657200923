// The 32-byte node of Filecoin's piece commitment tree and its hash, sha2-256-trunc254-padded
// (multicodec 0x1012): SHA-256 of the 64-byte concatenation of two children with the two most
// significant bits of the last digest byte cleared, so every node is a valid BLS12-381 field
// element (Filecoin spec, "Piece commitment"; FRC-0058 §"Commitment"; FRC-0069).
//
// Hashing uses the x86 SHA extensions (SHA-NI) when the CPU has them and a portable SHA-256
// compression otherwise; both give identical results. A node hash costs exactly two SHA-256
// compressions: the second block of a 64-byte message is the constant padding block, whose message
// schedule is precomputed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cairn::filecoin::piece {

// One tree node (a leaf is 32 bytes of fr32-padded payload; an inner node is a truncated hash).
using Node = std::array<uint8_t, 32>;
inline constexpr size_t kNodeSize = 32;

// sha2-256-trunc254-padded(left ‖ right). Thread-safe, no allocation.
Node HashNode(const Node& left, const Node& right);

// Hashes `pairs` consecutive pairs of nodes: out[i] = HashNode(in[2i], in[2i+1]). `in` holds
// 2 * pairs nodes (64 * pairs bytes), `out` room for `pairs` nodes; `out` may equal `in` (the
// in-place reduction of one tree level). Faster than calling HashNode in a loop (independent
// hashes are interleaved). Thread-safe.
void HashNodePairs(const uint8_t* in, uint8_t* out, size_t pairs);

// Whether HashNode uses the SHA-NI instructions on this machine (for logs and benchmarks).
bool HashUsesShaNi();

}  // namespace cairn::filecoin::piece
