#include "car/car_writer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "car/car_reader.hpp"
#include "car/car_test_util.hpp"

namespace cairn::car {
namespace {

using testing::Block;
using testing::Cbor;
using testing::MapGetter;
using testing::Pb;
using testing::Raw;

std::vector<Cid> CidsIn(ByteSpan car, std::vector<Cid>* roots = nullptr) {
  SpanSource src(car);
  auto reader = CarReader::Open(src);
  EXPECT_TRUE(reader.has_value()) << reader.error().ToString();
  if (!reader) return {};
  if (roots) *roots = (*reader)->roots();
  std::vector<Cid> out;
  while (true) {
    auto b = (*reader)->Next();
    EXPECT_TRUE(b.has_value()) << b.error().ToString();
    if (!b || !*b) break;
    out.push_back((*b)->cid);
  }
  return out;
}

TEST(CarWriter, WritesHeaderThenSections) {
  auto a = Raw("a");
  Bytes out;
  BytesSink sink(out);
  auto w = CarWriter::Create(sink, {a.cid});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->Put(a.cid, a.data).has_value());
  Bytes expected;
  const Bytes header = EncodeCarV1Header({a.cid});
  expected.push_back(static_cast<uint8_t>(header.size()));
  expected.insert(expected.end(), header.begin(), header.end());
  AppendSection(expected, a.cid, a.data);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(w->size(), out.size());
}

TEST(CarV2Writer, HeaderDescribesPayloadAndIndex) {
  auto a = Raw("a"), b = Raw(std::string(10000, 'b'));
  Bytes out;
  BytesSink sink(out);
  auto w = CarV2Writer::Create(sink, {a.cid});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->Put(a.cid, a.data).has_value());
  ASSERT_TRUE(w->Put(b.cid, b.data).has_value());
  ASSERT_TRUE(w->Finish().has_value());
  EXPECT_FALSE(w->Put(a.cid, a.data).has_value());
  ASSERT_TRUE(std::equal(kCarV2Pragma.begin(), kCarV2Pragma.end(), out.begin()));
  auto h = CarV2Header::Decode(ByteSpan(out).subspan(11, 40));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->data_offset, 51u);
  EXPECT_EQ(h->index_offset, h->data_offset + h->data_size);
  EXPECT_FALSE(h->fully_indexed());
  auto idx = DecodeCarIndex(ByteSpan(out).subspan(h->index_offset));
  ASSERT_TRUE(idx.has_value()) << idx.error().ToString();
  EXPECT_EQ(idx->entries.size(), 2u);
  EXPECT_EQ(CidsIn(out), (std::vector<Cid>{a.cid, b.cid}));
}

TEST(ExportDag, DepthFirstPreOrderEachBlockOnce) {
  // root(pb) -> [x(pb), c(cbor), leaf1]; x -> [leaf1, leaf2]; c -> [x, leaf3].
  auto leaf1 = Raw("leaf1"), leaf2 = Raw("leaf2"), leaf3 = Raw("leaf3");
  auto x = Pb({leaf1.cid, leaf2.cid}, "x");
  auto c = Cbor({x.cid, leaf3.cid}, 1);
  auto root = Pb({x.cid, c.cid, leaf1.cid}, "root");
  MapGetter getter;
  for (const auto& b : {leaf1, leaf2, leaf3, x, c, root}) getter.Add(b);
  Bytes out;
  BytesSink sink(out);
  auto stats = ExportDag(root.cid, getter, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  std::vector<Cid> roots;
  EXPECT_EQ(CidsIn(out, &roots),
            (std::vector<Cid>{root.cid, x.cid, leaf1.cid, leaf2.cid, c.cid, leaf3.cid}));
  EXPECT_EQ(roots, std::vector<Cid>{root.cid});
  EXPECT_EQ(stats->blocks, 6u);
  EXPECT_EQ(stats->bytes, out.size());
  EXPECT_EQ(getter.gets, 6);  // repeats are not fetched again
}

TEST(ExportDag, ReportsWhereEachBlockSitsInTheCar) {
  auto leaf1 = Raw("leaf1"), big = Raw(std::string(9000, 'z'));
  auto root = Pb({leaf1.cid, big.cid, leaf1.cid}, "root");
  MapGetter getter;
  for (const auto& b : {leaf1, big, root}) getter.Add(b);
  Bytes out;
  BytesSink sink(out);
  std::vector<std::tuple<Cid, uint64_t, uint64_t>> placed;
  auto stats = ExportDag(root.cid, getter, sink, [&](const Cid& c, uint64_t off, uint64_t len) {
    placed.emplace_back(c, off, len);
    return Ok();
  });
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  ASSERT_EQ(placed.size(), 3u);  // each block once, in CAR order
  const std::vector<const Block*> blocks = {&root, &leaf1, &big};
  for (size_t i = 0; i < placed.size(); ++i) {
    const auto& [cid, off, len] = placed[i];
    EXPECT_EQ(cid, blocks[i]->cid);
    ASSERT_LE(off + len, out.size());
    EXPECT_EQ(Bytes(out.begin() + static_cast<std::ptrdiff_t>(off),
                    out.begin() + static_cast<std::ptrdiff_t>(off + len)),
              blocks[i]->data);
  }
  // An observer's error stops the export.
  Bytes again;
  BytesSink sink2(again);
  auto stopped = ExportDag(root.cid, getter, sink2, [](const Cid&, uint64_t, uint64_t) {
    return Result<void>(Err(ErrorCode::kIoError, "observer failed"));
  });
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code(), ErrorCode::kIoError);
}

// A DAG of many blocks of mixed sizes and codecs, with a repeated block and an identity link:
// what sharding must cut without changing a byte.
struct ShardDag {
  std::vector<Block> blocks;
  Cid root;
};
ShardDag MakeShardDag() {
  ShardDag d;
  std::vector<Cid> top;
  for (int i = 0; i < 6; ++i) {
    std::vector<Cid> kids;
    for (int j = 0; j < 5; ++j) {
      d.blocks.push_back(Raw(std::string(static_cast<size_t>(300 + 97 * (i * 5 + j)),
                                         static_cast<char>('a' + (i + j) % 26))));
      kids.push_back(d.blocks.back().cid);
    }
    kids.push_back(d.blocks.front().cid);  // repeated: written once
    d.blocks.push_back(i % 2 ? Pb(kids, "node" + std::to_string(i)) : Cbor(kids, i));
    top.push_back(d.blocks.back().cid);
  }
  d.blocks.push_back(Pb(top, "root"));
  d.root = d.blocks.back().cid;
  return d;
}

class CollectingShards final : public ShardSinks {
 public:
  Result<ByteSink*> Begin(size_t shard) override {
    EXPECT_EQ(shard, cars.size());
    cars.emplace_back();
    sinks.push_back(std::make_unique<BytesSink>(cars.back()));
    return sinks.back().get();
  }
  Result<void> End(size_t shard, const ShardInfo& info) override {
    EXPECT_EQ(shard, ended.size());
    ended.push_back(info);
    return Ok();
  }
  std::deque<Bytes> cars;
  std::vector<std::unique_ptr<BytesSink>> sinks;
  std::vector<ShardInfo> ended;
};

TEST(ExportDagSections, ARangeIsThoseSectionsOfTheWholeExport) {
  auto dag = MakeShardDag();
  MapGetter getter;
  for (const auto& b : dag.blocks) getter.Add(b);
  Bytes whole;
  BytesSink whole_sink(whole);
  ASSERT_TRUE(ExportDag(dag.root, getter, whole_sink).has_value());
  const std::vector<Cid> all = CidsIn(whole);
  ASSERT_EQ(all.size(), 37u);
  for (const auto& [first, count] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 37}, {0, 1}, {5, 9}, {30, 100}, {36, 1}, {37, 5}}) {
    Bytes part;
    BytesSink sink(part);
    getter.gets = 0;
    auto stats = ExportDagSections(dag.root, {first, count}, getter, sink);
    ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
    std::vector<Cid> roots;
    const std::vector<Cid> got = CidsIn(part, &roots);
    EXPECT_EQ(roots, std::vector<Cid>{dag.root});
    const size_t lo = std::min<size_t>(first, all.size());
    const size_t hi = std::min<size_t>(first + count, all.size());
    EXPECT_EQ(got, std::vector<Cid>(all.begin() + static_cast<long>(lo),
                                    all.begin() + static_cast<long>(hi)))
        << first << "+" << count;
    EXPECT_EQ(stats->blocks, hi - lo);
    EXPECT_EQ(stats->bytes, part.size());
    // Raw blocks before the range are not read; nothing after it is.
    if (first == 30) {
      EXPECT_LT(getter.gets, 37);
    }
  }
  Bytes full;
  BytesSink full_sink(full);
  ASSERT_TRUE(ExportDagSections(dag.root, {}, getter, full_sink).has_value());
  EXPECT_EQ(full, whole);
}

TEST(ExportDagShards, ShardsAreConsecutiveRangesOfTheExportWithinTheLimit) {
  auto dag = MakeShardDag();
  MapGetter getter;
  for (const auto& b : dag.blocks) getter.Add(b);
  Bytes whole;
  BytesSink whole_sink(whole);
  ASSERT_TRUE(ExportDag(dag.root, getter, whole_sink).has_value());
  for (uint64_t limit : {uint64_t{4000}, uint64_t{9000}, uint64_t{whole.size()}}) {
    CollectingShards sinks;
    std::vector<std::tuple<size_t, Cid, uint64_t, uint64_t>> placed;
    auto shards = ExportDagShards(dag.root, limit, getter, sinks,
                                  [&](size_t k, const Cid& c, uint64_t off, uint64_t len) {
                                    placed.emplace_back(k, c, off, len);
                                    return Ok();
                                  });
    ASSERT_TRUE(shards.has_value()) << shards.error().ToString();
    ASSERT_EQ(shards->size(), sinks.cars.size());
    EXPECT_EQ(sinks.ended.size(), shards->size());
    if (limit == whole.size()) {
      ASSERT_EQ(shards->size(), 1u);
      EXPECT_EQ(sinks.cars[0], whole);  // one shard: the export itself
    } else {
      EXPECT_GT(shards->size(), 1u);
    }
    uint64_t next = 0;
    for (size_t k = 0; k < shards->size(); ++k) {
      const ShardInfo& info = (*shards)[k];
      EXPECT_EQ(info.first_section, next);
      EXPECT_GT(info.sections, 0u);
      next += info.sections;
      EXPECT_LE(info.bytes, limit);
      EXPECT_EQ(info.bytes, sinks.cars[k].size());
      // Greedy: the next shard's first section would not have fitted.
      Bytes alone;
      BytesSink sink(alone);
      ASSERT_TRUE(ExportDagSections(dag.root, {info.first_section, info.sections}, getter, sink)
                      .has_value());
      EXPECT_EQ(alone, sinks.cars[k]);
      if (k + 1 < shards->size()) {
        Bytes longer;
        BytesSink longer_sink(longer);
        ASSERT_TRUE(ExportDagSections(dag.root, {info.first_section, info.sections + 1}, getter,
                                      longer_sink)
                        .has_value());
        EXPECT_GT(longer.size(), limit);
      }
    }
    EXPECT_EQ(next, 37u);
    // Every block reported once, where its bytes are in its shard.
    ASSERT_EQ(placed.size(), 37u);
    for (const auto& [k, cid, off, len] : placed) {
      const Bytes& car = sinks.cars[k];
      ASSERT_LE(off + len, car.size());
      Bytes bytes(car.begin() + static_cast<long>(off), car.begin() + static_cast<long>(off + len));
      EXPECT_TRUE(cid.hash().Verify(bytes).has_value());
    }
  }
}

TEST(ExportDagShards, ABlockLargerThanAShardIsRefusedNamingIt) {
  auto big = Raw(std::string(5000, 'q'));
  auto root = Pb({big.cid}, "root");
  MapGetter getter;
  getter.Add(big);
  getter.Add(root);
  CollectingShards sinks;
  auto r = ExportDagShards(root.cid, 4096, getter, sinks);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find(big.cid.ToString()), std::string::npos);
  CollectingShards tiny;
  auto header = ExportDagShards(root.cid, 10, getter, tiny);
  ASSERT_FALSE(header.has_value());
  EXPECT_EQ(header.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ExportDag, SkipsIdentityBlocksButFollowsTheirLinks) {
  auto leaf = Raw("leaf");
  auto inline_node = Cbor({leaf.cid}, 7);
  Cid id_cid =
      *Cid::Compute(1, testing::codec::kDagCbor, testing::codec::kIdentity, inline_node.data);
  auto id_raw =
      testing::MakeBlock(testing::codec::kRaw, ToBytes("tiny"), testing::codec::kIdentity);
  auto root = Cbor({id_cid, id_raw.cid}, 0);
  MapGetter getter;
  getter.Add(root);
  getter.Add(leaf);
  Bytes out;
  BytesSink sink(out);
  auto stats = ExportDag(root.cid, getter, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(CidsIn(out), (std::vector<Cid>{root.cid, leaf.cid}));
}

TEST(ExportDag, MissingBlockIsNotFoundNamingTheCid) {
  auto leaf = Raw("leaf");
  auto root = Pb({leaf.cid}, "r");
  MapGetter getter;
  getter.Add(root);
  Bytes out;
  BytesSink sink(out);
  auto r = ExportDag(root.cid, getter, sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find(leaf.cid.ToString()), std::string::npos);
}

TEST(ExportDag, CorruptBlockFromGetterIsRejected) {
  auto leaf = Raw("leaf");
  MapGetter getter;
  getter.blocks_[leaf.cid] = ToBytes("not leaf");
  Bytes out;
  BytesSink sink(out);
  auto r = ExportDag(leaf.cid, getter, sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
}

// Says its blocks were checked against their CIDs already, as the block store's are.
class VouchingGetter final : public ipld::BlockGetter {
 public:
  explicit VouchingGetter(MapGetter& inner) : inner_(inner) {}
  Result<Bytes> Get(const Cid& cid) override { return inner_.Get(cid); }
  bool VerifiesBlocks() const override { return true; }

 private:
  MapGetter& inner_;
};

TEST(ExportDag, DoesNotHashAgainWhatTheGetterVerified) {
  // A block the getter vouches for is written as given, unhashed (so only a getter that verifies,
  // like the block store, may say so); the same bytes from a getter that does not are refused.
  auto leaf = Raw("leaf");
  MapGetter map;
  map.blocks_[leaf.cid] = ToBytes("not leaf");
  VouchingGetter vouching(map);
  Bytes out;
  BytesSink sink(out);
  auto r = ExportDag(leaf.cid, vouching, sink);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->blocks, 1u);
  Bytes refused;
  BytesSink refused_sink(refused);
  EXPECT_FALSE(ExportDag(leaf.cid, map, refused_sink).has_value());
}

TEST(ExportDag, UnknownCodecIsNotSupported) {
  auto json = testing::MakeBlock(testing::codec::kDagJson, ToBytes("{}"));
  MapGetter getter;
  getter.Add(json);
  Bytes out;
  BytesSink sink(out);
  auto r = ExportDag(json.cid, getter, sink);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotSupported);
}

}  // namespace
}  // namespace cairn::car
