// The Blockstore contract (blockstore.hpp), run against every implementation.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "blockstore/internal/crc32c.hpp"
#include "blockstore/internal/test_support.hpp"
#include "blockstore/log_blockstore.hpp"
#include "blockstore/memory_blockstore.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {
namespace {

using multiformats::Cid;
using multiformats::Multihash;
namespace codec = multiformats::codec;
using testing::MakeBlock;

struct MemoryFactory {
  std::unique_ptr<Blockstore> Make() { return std::make_unique<MemoryBlockstore>(); }
};

struct LogFactory {
  testing::TempDir dir;
  std::unique_ptr<Blockstore> Make() {
    LogBlockstoreOptions options;
    options.segment_size = 64 * 1024;  // small, so the tests cross segment boundaries
    auto store = LogBlockstore::Open(dir.path() / "blocks", options);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return std::move(*store);
  }
};

template <typename F>
class BlockstoreContract : public ::testing::Test {
 protected:
  BlockstoreContract() : store_(factory_.Make()) {}
  F factory_;
  std::unique_ptr<Blockstore> store_;
};

using Implementations = ::testing::Types<MemoryFactory, LogFactory>;
TYPED_TEST_SUITE(BlockstoreContract, Implementations);

TYPED_TEST(BlockstoreContract, PutThenGetReturnsTheBytes) {
  auto b = MakeBlock(1, 5000);
  ASSERT_TRUE(this->store_->Put(b.cid, b.data));
  auto got = this->store_->Get(b.cid);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, b.data);
  EXPECT_EQ(*this->store_->Size(b.cid), 5000u);
  EXPECT_TRUE(*this->store_->Has(b.cid));
}

TYPED_TEST(BlockstoreContract, AbsentBlockIsNotFound) {
  auto b = MakeBlock(2, 10);
  EXPECT_EQ(this->store_->Get(b.cid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store_->Size(b.cid).error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(*this->store_->Has(b.cid));
}

TYPED_TEST(BlockstoreContract, EmptyBlockIsStored) {
  auto b = MakeBlock(3, 0);
  ASSERT_TRUE(this->store_->Put(b.cid, b.data));
  EXPECT_EQ(*this->store_->Get(b.cid), Bytes{});
  EXPECT_EQ(*this->store_->Size(b.cid), 0u);
}

TYPED_TEST(BlockstoreContract, SameMultihashUnderAnotherCodecIsTheSameBlock) {
  auto b = MakeBlock(4, 300);
  ASSERT_TRUE(this->store_->Put(b.cid, b.data));
  Cid v0 = *Cid::V0(b.cid.hash());
  Cid cbor = Cid::V1(codec::kDagCbor, b.cid.hash());
  EXPECT_EQ(*this->store_->Get(v0), b.data);
  EXPECT_TRUE(*this->store_->Has(cbor));
  ASSERT_TRUE(this->store_->Put(v0, b.data));  // already present: Ok, nothing new
  int count = 0;
  ASSERT_TRUE(this->store_->ForEach([&](const Cid&, uint64_t) { return ++count, true; }));
  EXPECT_EQ(count, 1);
  ASSERT_TRUE(this->store_->Delete(cbor));
  EXPECT_FALSE(*this->store_->Has(b.cid));
}

TYPED_TEST(BlockstoreContract, DeleteRemovesAndDeletingAbsentIsOk) {
  auto a = MakeBlock(5, 100), b = MakeBlock(6, 100);
  ASSERT_TRUE(this->store_->Put(a.cid, a.data));
  ASSERT_TRUE(this->store_->Put(b.cid, b.data));
  ASSERT_TRUE(this->store_->Delete(a.cid));
  EXPECT_EQ(this->store_->Get(a.cid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(*this->store_->Get(b.cid), b.data);
  EXPECT_TRUE(this->store_->Delete(a.cid));
  ASSERT_TRUE(this->store_->Put(a.cid, a.data));  // re-adding after a delete works
  EXPECT_EQ(*this->store_->Get(a.cid), a.data);
}

TYPED_TEST(BlockstoreContract, IdentityCidsAreAnsweredFromTheCidAndNeverStored) {
  Bytes inline_data = ToBytes("hello identity");
  Cid id = *Cid::Compute(1, codec::kRaw, codec::kIdentity, inline_data);
  EXPECT_TRUE(*this->store_->Has(id));
  EXPECT_EQ(*this->store_->Get(id), inline_data);
  EXPECT_EQ(*this->store_->Size(id), inline_data.size());
  ASSERT_TRUE(this->store_->Put(id, inline_data));
  EXPECT_EQ(this->store_->Put(id, ToBytes("other")).error().code(), ErrorCode::kInvalidArgument);
  bool listed = false;
  ASSERT_TRUE(this->store_->ForEach([&](const Cid&, uint64_t) { return listed = true, true; }));
  EXPECT_FALSE(listed);
  EXPECT_TRUE(this->store_->Delete(id));
  EXPECT_TRUE(*this->store_->Has(id));
}

TYPED_TEST(BlockstoreContract, HashesCairnCannotComputeAreRefused) {
  Bytes digest(32, 0xab);
  auto mh = Multihash::Make(0x1b, digest);  // keccak-256: parsed, not computed
  ASSERT_TRUE(mh) << mh.error().ToString();
  Cid cid = Cid::V1(codec::kRaw, *mh);
  EXPECT_EQ(this->store_->Put(cid, ToBytes("x")).error().code(), ErrorCode::kNotSupported);
  EXPECT_FALSE(*this->store_->Has(cid));
}

TYPED_TEST(BlockstoreContract, EveryComputableHashRoundTrips) {
  for (uint64_t code : {codec::kSha2_256, codec::kSha2_512, codec::kBlake2b256}) {
    auto b = MakeBlock(code, 777, code);
    ASSERT_TRUE(this->store_->Put(b.cid, b.data));
    EXPECT_EQ(*this->store_->Get(b.cid), b.data) << code;
  }
}

TYPED_TEST(BlockstoreContract, ForEachListsRawCidsWithSizesAndStopsEarly) {
  std::set<Cid> want;
  for (int i = 0; i < 40; ++i) {
    auto b = MakeBlock(100 + i, 3000 + i);
    ASSERT_TRUE(this->store_->Put(Cid::V1(codec::kDagPb, b.cid.hash()), b.data));
    want.insert(b.cid);  // listed as raw CIDv1
  }
  std::set<Cid> seen;
  ASSERT_TRUE(this->store_->ForEach([&](const Cid& c, uint64_t size) {
    EXPECT_EQ(size, *this->store_->Size(c));
    seen.insert(c);
    return true;
  }));
  EXPECT_EQ(seen, want);
  int calls = 0;
  ASSERT_TRUE(this->store_->ForEach([&](const Cid&, uint64_t) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
}

TYPED_TEST(BlockstoreContract, SyncSucceeds) {
  auto b = MakeBlock(7, 10);
  ASSERT_TRUE(this->store_->Put(b.cid, b.data));
  EXPECT_TRUE(this->store_->Sync());
}

TYPED_TEST(BlockstoreContract, ConcurrentPutGetDeleteKeepEveryReadCorrect) {
  constexpr int kThreads = 4, kPerThread = 150;
  std::vector<testing::Block> blocks;
  for (int i = 0; i < kThreads * kPerThread; ++i) blocks.push_back(MakeBlock(1000 + i, 100 + (i * 37) % 4000));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto& b = blocks[t * kPerThread + i];
        if (!this->store_->Put(b.cid, b.data)) ++wrong;
        // Read a block of another thread: absent or exactly right, never wrong bytes.
        const auto& other = blocks[((t + 1) % kThreads) * kPerThread + i];
        auto got = this->store_->Get(other.cid);
        if (got ? *got != other.data : got.error().code() != ErrorCode::kNotFound) ++wrong;
        if (i % 3 == 0 && !this->store_->Delete(b.cid)) ++wrong;
        if (i % 50 == 0 && !this->store_->Sync()) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    auto got = this->store_->Get(blocks[i].cid);
    if (i % kPerThread % 3 == 0) {
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
    } else {
      ASSERT_TRUE(got);
      EXPECT_EQ(*got, blocks[i].data);
    }
  }
}

TEST(MemoryBlockstore, CorruptedBytesReadAsCorruption) {
  MemoryBlockstore store;
  auto b = MakeBlock(8, 64);
  ASSERT_TRUE(store.Put(b.cid, b.data));
  ASSERT_TRUE(store.CorruptForTest(b.cid));
  EXPECT_EQ(store.Get(b.cid).error().code(), ErrorCode::kCorruption);
}

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(internal::Crc32c(0, AsBytes("123456789")), 0xE3069283u);
  // Extending in pieces equals one pass, across the 8- and 32-byte paths.
  Bytes data = testing::RandomBytes(9, 1000);
  uint32_t one = internal::Crc32c(0, data);
  uint32_t parts = internal::Crc32c(internal::Crc32c(0, ByteSpan(data).first(333)),
                                    ByteSpan(data).subspan(333));
  EXPECT_EQ(one, parts);
  EXPECT_EQ(internal::Crc32c(0, Bytes(32, 0)), 0x8A9136AAu);
}

}  // namespace
}  // namespace cairn::blockstore
