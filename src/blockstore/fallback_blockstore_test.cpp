#include "blockstore/fallback_blockstore.hpp"

#include <gtest/gtest.h>

#include <map>

#include "blockstore/memory_blockstore.hpp"

namespace cairn::blockstore {
namespace {

Cid RawCid(const std::string& text) { return *Cid::Compute(1, 0x55, 0x12, AsBytes(text)); }

// A fallback that answers from a map (bytes as given: possibly wrong) and counts reads.
class MapFallback final : public ipld::BlockGetter {
 public:
  Result<Bytes> Get(const Cid& cid) override {
    ++gets;
    auto it = blocks.find(cid);
    if (it == blocks.end()) return Err(ErrorCode::kNotFound, "fallback: absent");
    return it->second;
  }
  Result<uint64_t> Size(const Cid& cid) override {
    ++sizes;
    auto it = blocks.find(cid);
    if (it == blocks.end()) return Err(ErrorCode::kNotFound, "fallback: absent");
    return it->second.size();
  }
  std::map<Cid, Bytes> blocks;
  int gets = 0;
  int sizes = 0;
};

TEST(FallbackBlockstore, HotFirstThenColdAndTheColdBlockIsRewarmed) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid h = RawCid("hot"), c = RawCid("cold");
  ASSERT_TRUE(hot.Put(h, AsBytes("hot")));
  cold.blocks[c] = ToBytes("cold");

  EXPECT_EQ(*store.Get(h), ToBytes("hot"));
  EXPECT_EQ(cold.gets, 0);  // a hot hit never asks the fallback
  EXPECT_TRUE(*store.Has(c));
  EXPECT_EQ(*store.Size(c), 4u);
  EXPECT_EQ(cold.gets, 0);  // presence and size come from the fallback's index
  EXPECT_FALSE(*hot.Has(c));

  auto got = store.GetShared(c);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(**got, ToBytes("cold"));
  EXPECT_EQ(cold.gets, 1);
  EXPECT_TRUE(*hot.Has(c));  // re-warmed
  EXPECT_EQ(*store.Get(c), ToBytes("cold"));
  EXPECT_EQ(cold.gets, 1);  // the second read is hot

  const Cid absent = RawCid("absent");
  EXPECT_FALSE(*store.Has(absent));
  EXPECT_EQ(store.Get(absent).error().code(), ErrorCode::kNotFound);
}

TEST(FallbackBlockstore, WrongBytesFromTheFallbackAreNeitherServedNorStored) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid c = RawCid("right");
  cold.blocks[c] = ToBytes("wrong");
  auto got = store.Get(c);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(got.error().message().find(c.ToString()), std::string::npos);
  EXPECT_FALSE(*hot.Has(c));
}

TEST(FallbackBlockstore, WritesAndListingsAreTheHotStoresAlone) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid a = RawCid("a"), c = RawCid("c");
  cold.blocks[c] = ToBytes("c");
  ASSERT_TRUE(store.Put(a, AsBytes("a")));
  EXPECT_TRUE(*hot.Has(a));
  int listed = 0;
  ASSERT_TRUE(store.ForEach([&](const Cid&, uint64_t) {
    ++listed;
    return true;
  }));
  EXPECT_EQ(listed, 1);  // the cold block is not listed
  ASSERT_TRUE(store.Delete(a));
  EXPECT_FALSE(*hot.Has(a));
}

}  // namespace
}  // namespace cairn::blockstore
