// FRC-0058 "Verifiable Data Aggregation" (../shared/specs/filecoin/frc-0058.md): packing small
// pieces (data segments) into one deal-sized aggregate piece, the data segment index at the end of
// the deal, the aggregate commitment, and the aggregate payload bytes.
//
// All sizes and offsets in this API are in *padded* bytes (the fr32-padded piece space that piece
// commitments and deals use) unless a name says "unpadded". A piece of padded size S holds
// S * 127 / 128 payload bytes.
//
// Rules (matching go-data-segment's datasegment/ and @web3-storage/data-segment):
// - A deal of padded size D (a power of two) ends with the index area: MaxIndexEntriesInDeal(D)
//   entries of 64 bytes, starting at IndexAreaStart(D).
// - Pieces are placed in the deal in placement order, each at the next offset aligned to its own
//   (power-of-two) size; all pieces must end at or before the index area. Cairn's placement order
//   is largest first, ties in input order (this packs without gaps); go-data-segment and the JS
//   library place in the order given, which equals ours when the input is already sorted.
// - Index entry i (the i-th placed piece) is the 64-byte SegmentDesc at IndexAreaStart(D) + 64 i:
//   CommDs (32 B) | offset (u64 LE) | size (u64 LE) | checksum (16 B) = the first 16 bytes of
//   SHA-256 of the entry with a zero checksum, top two bits of the last byte cleared. The entry is
//   already in padded form (both 32-byte words have their top two bits clear); unused entries are
//   zero.
// - The aggregate commitment is the root of the binary sha2-256-trunc254-padded tree over the
//   padded deal: each piece commitment is a node at level log2(size/32), each index entry is two
//   leaves, everything else is zero. It is computed from those nodes and zero-subtree roots only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "filecoin/aggregation/inclusion_proof.hpp"
#include "filecoin/aggregation/segment.hpp"

namespace cairn::filecoin::aggregation {

// Where one input piece goes.
struct PlacedPiece {
  PieceInfo piece;
  uint64_t offset = 0;     // padded bytes
  size_t input_index = 0;  // position in the caller's input list
};

// The layout of an aggregate: pieces in placement order, and the index geometry.
struct Placement {
  uint64_t deal_size = 0;           // padded
  uint64_t max_index_entries = 0;   // MaxIndexEntriesInDeal(deal_size)
  uint64_t index_start = 0;         // IndexAreaStart(deal_size), padded
  std::vector<PlacedPiece> pieces;  // increasing offsets
};

// Places `pieces` (largest first, ties in input order, each aligned to its size). With
// `deal_size`, the deal has that padded size; without, the smallest power of two (>= 256)
// that holds the pieces and its own index. InvalidArgument when: there are no pieces, a size is
// not a power of two in [128, kMaxDealSize], deal_size is not a power of two in
// [256, kMaxDealSize], there are more pieces than index entries, or the pieces do not fit before
// the index area (the message gives the numbers).
Result<Placement> PlacePieces(std::span<const PieceInfo> pieces,
                              std::optional<uint64_t> deal_size = std::nullopt);

// A built aggregate: placement, index entries and the sparse commitment tree (only nodes that
// differ from zero-subtree roots are stored: O(pieces x height) memory). Immutable and
// thread-compatible once built.
class Aggregate {
 public:
  // Places `pieces` (see PlacePieces) and computes the tree. Errors are PlacePieces' errors.
  static Result<Aggregate> Build(std::span<const PieceInfo> pieces,
                                 std::optional<uint64_t> deal_size = std::nullopt);

  const Placement& placement() const { return placement_; }
  uint64_t deal_size() const { return placement_.deal_size; }
  // Tree height: log2(deal_size / 32).
  unsigned height() const { return height_; }
  // The aggregate commitment (CommP of the whole deal).
  const Node& root() const { return root_; }
  PieceInfo piece() const { return {root_, placement_.deal_size}; }

  // Index entries in placement order (entry i describes placement().pieces[i]).
  const std::vector<SegmentDesc>& entries() const { return entries_; }

  // The padded index area: max_index_entries x 64 bytes, used entries first, the rest zero.
  Bytes IndexAreaPadded() const;
  // The same area fr32-unpadded, as it appears in the aggregate payload.
  Bytes IndexAreaUnpadded() const;

  // PoDSI proof for entry `i` (placement order). InvalidArgument when i is out of range.
  Result<InclusionProof> ProveEntry(size_t i) const;
  // PoDSI proof for the first entry with this commitment and size; NotFound when absent.
  Result<InclusionProof> Prove(const PieceInfo& piece) const;

  // The stored node at (level, index), or the zero-subtree root when none is stored. `level`
  // <= height(), `index` < 2^(height - level).
  Node NodeAt(unsigned level, uint64_t index) const;

 private:
  struct Level {
    std::vector<uint64_t> indices;  // sorted
    std::vector<Node> nodes;
  };
  ProofData CollectProof(unsigned level, uint64_t index) const;

  Placement placement_;
  std::vector<SegmentDesc> entries_;
  unsigned height_ = 0;
  std::vector<Level> levels_;  // levels_[l] for l in [0, height]
  Node root_{};
};

// --- Aggregate payload ----------------------------------------------------------------------

// Writes the unpadded aggregate payload (UnpaddedSize(deal_size) bytes) to `sink`, in order: for
// each placed piece, zeros up to its unpadded offset, then its source's bytes (the unpadded bytes
// whose CommP is the piece commitment), zero-filled to its unpadded size; zeros up to the index
// area; then IndexAreaUnpadded(). Sources and sink are the common byte seam (common/io.hpp).
// `sources[i]` feeds placement().pieces[i] (placement order — use input_index to map from the
// caller's order).
// InvalidArgument when the number of sources differs or a source yields more bytes than its
// piece holds; a source's or the sink's error is returned with the piece number as context.
// The caller is responsible for the sources matching the commitments (CommP of the payload then
// equals root()).
Result<void> WriteAggregatePayload(const Aggregate& aggregate, std::span<ByteSource* const> sources,
                                   ByteSink& sink);

}  // namespace cairn::filecoin::aggregation
