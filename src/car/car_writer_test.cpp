#include "car/car_writer.hpp"

#include <gtest/gtest.h>

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
