#include "filecoin/aggregation/aggregate.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <string>

#include "filecoin/aggregation/internal/merkle.hpp"

namespace cairn::filecoin::aggregation {
namespace {

std::string PieceName(size_t i) { return "piece[" + std::to_string(i) + "]"; }

// Offsets for pieces taken in `order`, each aligned to its size; returns the end of the last, or
// UINT64_MAX once it passes kMaxDealSize (sizes are <= 2^50, so nothing overflows before that).
uint64_t AssignOffsets(std::span<const PieceInfo> pieces, std::span<const size_t> order,
                       std::vector<PlacedPiece>& placed) {
  uint64_t offset = 0;
  placed.clear();
  for (size_t i : order) {
    const uint64_t size = pieces[i].size;
    offset = (offset + size - 1) & ~(size - 1);  // sizes are validated powers of two
    placed.push_back({pieces[i], offset, i});
    offset += size;
    if (offset > kMaxDealSize) return UINT64_MAX;
  }
  return offset;
}

}  // namespace

Result<Placement> PlacePieces(std::span<const PieceInfo> pieces,
                              std::optional<uint64_t> deal_size) {
  if (pieces.empty()) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: no pieces to aggregate");
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    CAIRN_TRY(ValidatePaddedSize(pieces[i].size, PieceName(i)));
  }
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return pieces[a].size > pieces[b].size; });

  Placement placement;
  const uint64_t end = AssignOffsets(pieces, order, placement.pieces);

  auto fits = [&](uint64_t size) -> Result<void> {
    const uint64_t entries = MaxIndexEntriesInDeal(size);
    if (pieces.size() > entries) {
      return Err(ErrorCode::kInvalidArgument,
                 "aggregation: too many pieces for a " + std::to_string(size) +
                     "-byte deal: " + std::to_string(pieces.size()) + " > " +
                     std::to_string(entries) + " index entries");
    }
    if (end == UINT64_MAX) {
      return Err(ErrorCode::kInvalidArgument,
                 "aggregation: pieces do not fit: they need more than the largest deal (" +
                     std::to_string(kMaxDealSize) + " bytes)");
    }
    if (size <= entries * kEntrySize || end > IndexAreaStart(size)) {
      return Err(ErrorCode::kInvalidArgument,
                 "aggregation: pieces do not fit: " + std::to_string(end) +
                     " bytes of packed pieces + " + std::to_string(entries * kEntrySize) +
                     " bytes of index > " + std::to_string(size) + "-byte deal");
    }
    return Ok();
  };

  uint64_t size = 0;
  if (deal_size) {
    CAIRN_TRY(ValidatePaddedSize(*deal_size, "deal"));
    CAIRN_TRY(fits(*deal_size));
    size = *deal_size;
  } else {
    if (end > kMaxDealSize) {
      return Err(ErrorCode::kInvalidArgument, "aggregation: " + std::to_string(pieces.size()) +
                                                  " pieces do not fit in the largest deal (" +
                                                  std::to_string(kMaxDealSize) + " bytes)");
    }
    size = std::bit_ceil(std::max<uint64_t>(end, 256));
    while (true) {
      auto ok = fits(size);
      if (ok) break;
      if (size >= kMaxDealSize) return Err(ok.error());
      size *= 2;
    }
  }
  placement.deal_size = size;
  placement.max_index_entries = MaxIndexEntriesInDeal(size);
  placement.index_start = IndexAreaStart(size);
  return placement;
}

Result<Aggregate> Aggregate::Build(std::span<const PieceInfo> pieces,
                                   std::optional<uint64_t> deal_size) {
  Aggregate agg;
  agg.placement_ = CAIRN_TRY(PlacePieces(pieces, deal_size));
  const Placement& p = agg.placement_;
  agg.height_ = std::countr_zero(p.deal_size / 32);
  agg.levels_.resize(agg.height_ + 1);

  // Nodes waiting to be inserted at each level, as (index, node).
  std::vector<std::vector<std::pair<uint64_t, Node>>> pending(agg.height_ + 1);
  agg.entries_.reserve(p.pieces.size());
  const uint64_t first_entry_leaf = p.index_start / 32;
  for (size_t i = 0; i < p.pieces.size(); ++i) {
    const PlacedPiece& placed = p.pieces[i];
    const unsigned level = std::countr_zero(placed.piece.size / 32);
    pending[level].emplace_back(placed.offset / placed.piece.size, placed.piece.commitment);

    const SegmentDesc entry =
        SegmentDesc::Make(placed.piece.commitment, placed.offset, placed.piece.size);
    agg.entries_.push_back(entry);
    const auto bytes = entry.Serialize();
    Node first, second;
    std::memcpy(first.data(), bytes.data(), 32);
    std::memcpy(second.data(), bytes.data() + 32, 32);
    pending[0].emplace_back(first_entry_leaf + 2 * i, first);
    pending[0].emplace_back(first_entry_leaf + 2 * i + 1, second);
  }

  for (unsigned level = 0; level <= agg.height_; ++level) {
    auto& items = pending[level];
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    Level& out = agg.levels_[level];
    out.indices.reserve(items.size());
    out.nodes.reserve(items.size());
    for (const auto& [index, node] : items) {
      // Placement never overlaps pieces, the index area, or a piece and a parent computed from
      // nodes below it, so every position is filled at most once.
      CAIRN_CHECK(out.indices.empty() || out.indices.back() < index);
      out.indices.push_back(index);
      out.nodes.push_back(node);
    }
    if (level == agg.height_) break;
    const Node& zero = internal::ZeroRoot(level);
    for (size_t k = 0; k < out.indices.size(); ++k) {
      const uint64_t index = out.indices[k];
      Node parent;
      if ((index & 1) == 0) {
        if (k + 1 < out.indices.size() && out.indices[k + 1] == index + 1) {
          parent = internal::HashNodes(out.nodes[k], out.nodes[k + 1]);
          ++k;
        } else {
          parent = internal::HashNodes(out.nodes[k], zero);
        }
      } else {
        parent = internal::HashNodes(zero, out.nodes[k]);
      }
      pending[level + 1].emplace_back(index >> 1, parent);
    }
  }
  agg.root_ = agg.NodeAt(agg.height_, 0);
  return agg;
}

Node Aggregate::NodeAt(unsigned level, uint64_t index) const {
  CAIRN_CHECK(level <= height_);  // callers stay inside the tree
  const Level& l = levels_[level];
  auto it = std::lower_bound(l.indices.begin(), l.indices.end(), index);
  if (it != l.indices.end() && *it == index) return l.nodes[it - l.indices.begin()];
  return internal::ZeroRoot(level);
}

ProofData Aggregate::CollectProof(unsigned level, uint64_t index) const {
  ProofData proof;
  proof.index = index;
  proof.path.reserve(height_ - level);
  for (unsigned l = level; l < height_; ++l) {
    proof.path.push_back(NodeAt(l, index ^ 1));
    index >>= 1;
  }
  return proof;
}

Result<InclusionProof> Aggregate::ProveEntry(size_t i) const {
  if (i >= entries_.size()) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: entry " + std::to_string(i) +
                                                " out of range (" +
                                                std::to_string(entries_.size()) + " entries)");
  }
  const SegmentDesc& entry = entries_[i];
  InclusionProof proof;
  proof.subtree = CollectProof(std::countr_zero(entry.size / 32), entry.offset / entry.size);
  proof.index = CollectProof(1, placement_.index_start / kEntrySize + i);
  return proof;
}

Result<InclusionProof> Aggregate::Prove(const PieceInfo& piece) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].commitment == piece.commitment && entries_[i].size == piece.size) {
      return ProveEntry(i);
    }
  }
  return Err(ErrorCode::kNotFound,
             "aggregation: piece " + HexEncode(ByteSpan(piece.commitment.data(), 32)) +
                 " of size " + std::to_string(piece.size) + " is not in the aggregate");
}

Bytes Aggregate::IndexAreaPadded() const {
  Bytes out(placement_.max_index_entries * kEntrySize, 0);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const auto bytes = entries_[i].Serialize();
    std::memcpy(out.data() + i * kEntrySize, bytes.data(), kEntrySize);
  }
  return out;
}

Bytes Aggregate::IndexAreaUnpadded() const {
  const Bytes padded = IndexAreaPadded();  // max entries >= 4: a multiple of 128 bytes
  Bytes out(UnpaddedSize(padded.size()));
  internal::Fr32Unpad(padded, out);
  return out;
}

namespace {

Result<void> WriteZeros(ByteSink& sink, uint64_t count) {
  static const std::array<uint8_t, 64 * 1024> kZeros{};
  while (count > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(count, kZeros.size()));
    CAIRN_TRY(sink.Write(ByteSpan(kZeros.data(), n)));
    count -= n;
  }
  return Ok();
}

}  // namespace

Result<void> WriteAggregatePayload(const Aggregate& aggregate, std::span<ByteSource* const> sources,
                                   ByteSink& sink) {
  const Placement& p = aggregate.placement();
  if (sources.size() != p.pieces.size()) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: " + std::to_string(sources.size()) +
                                                " payload sources for " +
                                                std::to_string(p.pieces.size()) + " pieces");
  }
  Bytes buffer(256 * 1024);
  uint64_t position = 0;  // unpadded bytes written so far
  for (size_t i = 0; i < p.pieces.size(); ++i) {
    const std::string context = "aggregation: payload of placed piece " + std::to_string(i) + ": ";
    const uint64_t start = UnpaddedSize(p.pieces[i].offset);
    const uint64_t capacity = UnpaddedSize(p.pieces[i].piece.size);
    CAIRN_CHECK(start >= position);  // placement offsets increase and pieces do not overlap
    auto zeros = WriteZeros(sink, start - position);
    if (!zeros) return Err(zeros.error().WithContext(context));
    uint64_t written = 0;
    while (true) {
      auto n = sources[i]->Read(MutableByteSpan(buffer.data(), buffer.size()));
      if (!n) return Err(n.error().WithContext(context));
      if (*n == 0) break;
      if (*n > capacity - written) {
        return Err(ErrorCode::kInvalidArgument,
                   context + "more than the " + std::to_string(capacity) +
                       " bytes a piece of padded size " + std::to_string(p.pieces[i].piece.size) +
                       " holds");
      }
      auto w = sink.Write(ByteSpan(buffer.data(), *n));
      if (!w) return Err(w.error().WithContext(context));
      written += *n;
    }
    zeros = WriteZeros(sink, capacity - written);
    if (!zeros) return Err(zeros.error().WithContext(context));
    position = start + capacity;
  }
  CAIRN_TRY(WriteZeros(sink, UnpaddedSize(p.index_start) - position));
  const Bytes index = aggregate.IndexAreaUnpadded();
  CAIRN_TRY(sink.Write(index));
  return Ok();
}

}  // namespace cairn::filecoin::aggregation
