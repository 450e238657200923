// AggregateView against the reference it promises to equal: WriteAggregatePayload over the
// buffered CAR exports, for the whole payload and for ranges at every kind of boundary; the CommP
// of the whole view equals the aggregate commitment.
#include "filecoin/deals/aggregate_view.hpp"

#include <gtest/gtest.h>

#include <random>

#include "blockstore/memory_blockstore.hpp"
#include "car/car_writer.hpp"
#include "common/io.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "filecoin/piece/commp.hpp"
#include "unixfs/importer.hpp"

namespace cairn::filecoin::deals {
namespace {

using blockstore::MemoryBlockstore;

Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

struct Fixture {
  MemoryBlockstore store;
  std::vector<SegmentSource> segments;
  std::vector<Bytes> cars;  // input order
  std::optional<aggregation::Aggregate> aggregate;
  Bytes payload;  // reference bytes

  explicit Fixture(const std::vector<size_t>& sizes) {
    ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
    std::vector<aggregation::PieceInfo> pieces;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Bytes data = RandomBytes(sizes[i], i + 1);
      SpanSource source(data);
      ipld::StoreSink<blockstore::Blockstore> sink(store);
      unixfs::ImportOptions options;
      options.chunk_size = 1024;
      auto node = unixfs::ImportFile(source, options, sink);
      EXPECT_TRUE(node.has_value());
      auto piece = dealdata::ComputeCarPiece(node->cid, store, {.threads = 1});
      EXPECT_TRUE(piece.has_value());
      Bytes car;
      BytesSink car_sink(car);
      EXPECT_TRUE(car::ExportDag(node->cid, getter, car_sink).has_value());
      cars.push_back(car);
      pieces.push_back({piece->piece.root, piece->piece.padded_size()});
      segments.push_back({node->cid, {}, piece->car_size, pieces.back(), 0});
    }
    auto built = aggregation::Aggregate::Build(pieces);
    EXPECT_TRUE(built.has_value());
    aggregate = std::move(*built);
    for (const auto& placed : aggregate->placement().pieces) {
      segments[placed.input_index].offset = placed.offset;
    }
    std::vector<SpanSource> sources;
    for (const auto& placed : aggregate->placement().pieces) {
      sources.emplace_back(cars[placed.input_index]);
    }
    std::vector<ByteSource*> ptrs;
    for (auto& s : sources) ptrs.push_back(&s);
    BytesSink sink(payload);
    EXPECT_TRUE(aggregation::WriteAggregatePayload(*aggregate, ptrs, sink).has_value());
  }
};

Bytes Read(const AggregateView& view, MemoryBlockstore& store, uint64_t start, uint64_t length) {
  ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
  Bytes out;
  auto r = view.WriteRange(start, length, getter, [&](ByteSpan b) -> Result<void> {
    out.insert(out.end(), b.begin(), b.end());
    return Ok();
  });
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return out;
}

TEST(AggregateView, WholePayloadEqualsReferenceAndItsCommPIsTheAggregate) {
  Fixture f({3000, 700, 20000, 5});
  auto view = AggregateView::Make(f.segments, f.aggregate->deal_size(), f.aggregate->root());
  ASSERT_TRUE(view.has_value()) << view.error().ToString();
  ASSERT_EQ(view->payload_size(), f.payload.size());
  Bytes all = Read(*view, f.store, 0, view->payload_size());
  ASSERT_EQ(all, f.payload);
  auto commp = piece::ComputeCommP(all, {.threads = 1});
  ASSERT_TRUE(commp.has_value());
  EXPECT_EQ(commp->root, f.aggregate->root());
  EXPECT_EQ(commp->padded_size(), f.aggregate->deal_size());
}

TEST(AggregateView, RangesAtEveryBoundaryEqualTheReference) {
  Fixture f({3000, 700, 20000});
  auto view = AggregateView::Make(f.segments, f.aggregate->deal_size(), f.aggregate->root());
  ASSERT_TRUE(view.has_value());
  std::vector<uint64_t> points = {0, 1, view->payload_size() - 1, view->payload_size()};
  for (const auto& s : f.segments) {
    uint64_t base = aggregation::UnpaddedSize(s.offset);
    for (uint64_t p : {base, base + 1, base + s.car_size - 1, base + s.car_size,
                       base + s.car_size + 1, base + 100}) {
      points.push_back(p);
    }
  }
  points.push_back(aggregation::UnpaddedSize(f.aggregate->placement().index_start));
  for (uint64_t a : points) {
    for (uint64_t b : points) {
      if (a > b || b > view->payload_size()) continue;
      Bytes got = Read(*view, f.store, a, b - a);
      ASSERT_EQ(got, Bytes(f.payload.begin() + a, f.payload.begin() + b)) << a << ".." << b;
    }
  }
}

TEST(AggregateView, RefusesRecordsThatDisagree) {
  Fixture f({3000, 700});
  auto wrong_offset = f.segments;
  wrong_offset[0].offset += 128;
  auto bad = AggregateView::Make(wrong_offset, f.aggregate->deal_size(), f.aggregate->root());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorruption);
  aggregation::Node other = f.aggregate->root();
  other[0] ^= 1;
  EXPECT_EQ(AggregateView::Make(f.segments, f.aggregate->deal_size(), other).error().code(),
            ErrorCode::kCorruption);
  auto view = AggregateView::Make(f.segments, f.aggregate->deal_size(), f.aggregate->root());
  ipld::BlockGetterFor<blockstore::Blockstore> getter(f.store);
  auto sink = [](ByteSpan) -> Result<void> { return Ok(); };
  EXPECT_EQ(view->WriteRange(view->payload_size(), 1, getter, sink).error().code(),
            ErrorCode::kInvalidArgument);
  // A recorded size that is not what the DAG exports is caught, not served.
  auto wrong_size = f.segments;
  wrong_size[0].car_size -= 1;
  auto lying = AggregateView::Make(wrong_size, f.aggregate->deal_size(), f.aggregate->root());
  ASSERT_TRUE(lying.has_value());
  auto r = lying->WriteRange(0, lying->payload_size(), getter, sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
}

TEST(AggregateView, MissingBlockIsNotFoundNamingTheSegment) {
  Fixture f({3000});
  auto view = AggregateView::Make(f.segments, f.aggregate->deal_size(), f.aggregate->root());
  ASSERT_TRUE(f.store.Delete(f.segments[0].root).has_value());
  ipld::BlockGetterFor<blockstore::Blockstore> getter(f.store);
  auto r = view->WriteRange(0, f.segments[0].car_size, getter,
                            [](ByteSpan) -> Result<void> { return Ok(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find(f.segments[0].root.ToString()), std::string::npos);
}

}  // namespace
}  // namespace cairn::filecoin::deals
