#include "filecoin/deals/aggregate_view.hpp"

#include <algorithm>
#include <array>

#include "car/car_writer.hpp"
#include "common/io.hpp"

namespace cairn::filecoin::deals {

namespace {

using aggregation::UnpaddedSize;

// Writes the part of [from, to) (absolute payload offsets) that lies inside [start, end) as
// zeros, lent from one static block (never freed: its owner does nothing).
Result<void> Zeros(uint64_t from, uint64_t to, uint64_t start, uint64_t end, ByteSink& sink) {
  static const std::array<uint8_t, 256 * 1024> kZeros{};
  static const std::shared_ptr<const void> kOwner(kZeros.data(), [](const void*) {});
  uint64_t a = std::max(from, start);
  uint64_t b = std::min(to, end);
  while (a < b) {
    uint64_t n = std::min<uint64_t>(b - a, kZeros.size());
    CAIRN_TRY(sink.WriteShared(ByteSpan(kZeros.data(), n), kOwner));
    a += n;
  }
  return Ok();
}

// A ByteSink over an AggregateView::Sink function (copies: the function takes spans only).
class FunctionSink final : public ByteSink {
 public:
  explicit FunctionSink(const AggregateView::Sink& fn) : fn_(fn) {}
  Result<void> Write(ByteSpan data) override { return fn_(data); }

 private:
  const AggregateView::Sink& fn_;
};

// A sink for one segment's CAR export placed at `base`: passes on the bytes inside
// [start, end) and stops the export (`done`) once past `end`.
class RangeSink final : public ByteSink {
 public:
  RangeSink(uint64_t base, uint64_t start, uint64_t end, ByteSink& sink)
      : pos_(base), start_(start), end_(end), sink_(sink) {}

  Result<void> Write(ByteSpan data) override { return Pass(data, nullptr); }
  Result<void> WriteShared(ByteSpan data, const std::shared_ptr<const void>& owner) override {
    return Pass(data, &owner);
  }

  Result<void> Pass(ByteSpan data, const std::shared_ptr<const void>* owner) {
    uint64_t from = pos_;
    uint64_t to = pos_ + data.size();
    pos_ = to;
    uint64_t a = std::max(from, start_);
    uint64_t b = std::min(to, end_);
    if (a < b) {
      const ByteSpan part = data.subspan(a - from, b - a);
      CAIRN_TRY(owner ? sink_.WriteShared(part, *owner) : sink_.Write(part));
    }
    if (to >= end_) {
      done_ = true;
      return Err(ErrorCode::kCancelled, "aggregate view: range complete");
    }
    return Ok();
  }
  bool done() const { return done_; }
  uint64_t pos() const { return pos_; }

 private:
  uint64_t pos_;
  const uint64_t start_;
  const uint64_t end_;
  ByteSink& sink_;
  bool done_ = false;
};

}  // namespace

Result<AggregateView> AggregateView::Make(std::vector<SegmentSource> segments, uint64_t deal_size,
                                          const aggregation::Node& expected_root) {
  std::vector<aggregation::PieceInfo> pieces;
  pieces.reserve(segments.size());
  // Placement is largest first, ties in input order; the recorded order by offset reproduces it.
  std::stable_sort(
      segments.begin(), segments.end(),
      [](const SegmentSource& a, const SegmentSource& b) { return a.offset < b.offset; });
  for (const auto& s : segments) pieces.push_back(s.piece);
  auto aggregate = CAIRN_TRY(aggregation::Aggregate::Build(pieces, deal_size));
  std::vector<SegmentSource> ordered;
  for (const auto& placed : aggregate.placement().pieces) {
    const SegmentSource& s = segments[placed.input_index];
    if (placed.offset != s.offset) {
      return Err(ErrorCode::kCorruption, "aggregate view: segment " + s.root.ToString() +
                                             " is recorded at offset " + std::to_string(s.offset) +
                                             " but places at " + std::to_string(placed.offset));
    }
    ordered.push_back(s);
  }
  if (aggregate.root() != expected_root) {
    return Err(ErrorCode::kCorruption,
               "aggregate view: the segments' aggregate commitment differs from the recorded one");
  }
  Bytes index = aggregate.IndexAreaUnpadded();
  if (UnpaddedSize(aggregate.placement().index_start) + index.size() != UnpaddedSize(deal_size)) {
    return Err(ErrorCode::kInternal, "aggregate view: the index area does not end the payload");
  }
  return AggregateView(std::move(ordered), std::move(aggregate), std::move(index));
}

uint64_t AggregateView::payload_size() const { return UnpaddedSize(aggregate_.deal_size()); }

Result<void> AggregateView::WriteRange(uint64_t start, uint64_t length, ipld::BlockGetter& getter,
                                       const Sink& sink) const {
  FunctionSink adapter(sink);
  return WriteRange(start, length, getter, adapter);
}

Result<void> AggregateView::WriteRange(uint64_t start, uint64_t length, ipld::BlockGetter& getter,
                                       ByteSink& sink) const {
  const uint64_t total = payload_size();
  if (start > total || length > total - start) {
    return Err(ErrorCode::kInvalidArgument,
               "aggregate view: range " + std::to_string(start) + "+" + std::to_string(length) +
                   " exceeds the payload of " + std::to_string(total) + " bytes");
  }
  const uint64_t end = start + length;
  uint64_t cursor = 0;
  for (const auto& s : segments_) {
    if (cursor >= end) return Ok();
    const uint64_t seg_start = UnpaddedSize(s.offset);
    const uint64_t seg_end = seg_start + UnpaddedSize(s.piece.size);
    CAIRN_TRY(Zeros(cursor, seg_start, start, end, sink));
    const uint64_t car_end = seg_start + s.car_size;
    if (seg_start < end && car_end > start) {
      RangeSink range(seg_start, start, end, sink);
      auto exported = car::ExportDagSections(s.root, s.sections, getter, range);
      if (!exported && !range.done()) {
        return Err(
            exported.error().WithContext("aggregate view: segment " + s.root.ToString() + ": "));
      }
      if (exported && exported->bytes != s.car_size) {
        return Err(ErrorCode::kCorruption, "aggregate view: segment " + s.root.ToString() +
                                               " exports " + std::to_string(exported->bytes) +
                                               " bytes, recorded " + std::to_string(s.car_size));
      }
      if (range.done() && range.pos() > car_end) {
        return Err(ErrorCode::kCorruption, "aggregate view: segment " + s.root.ToString() +
                                               " exports more than its recorded " +
                                               std::to_string(s.car_size) + " bytes");
      }
    }
    CAIRN_TRY(Zeros(car_end, seg_end, start, end, sink));
    cursor = seg_end;
  }
  const uint64_t index_start = UnpaddedSize(aggregate_.placement().index_start);
  CAIRN_TRY(Zeros(cursor, index_start, start, end, sink));
  uint64_t a = std::max(index_start, start);
  uint64_t b = std::min(total, end);
  if (a < b) CAIRN_TRY(sink.Write(ByteSpan(index_.data() + (a - index_start), b - a)));
  return Ok();
}

}  // namespace cairn::filecoin::deals
