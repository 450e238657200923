// The Blockstore contract (blockstore.hpp), run against every implementation.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "blockstore/cached_blockstore.hpp"
#include "blockstore/internal/crc32c.hpp"
#include "blockstore/internal/test_support.hpp"
#include "blockstore/log_blockstore.hpp"
#include "blockstore/memory_blockstore.hpp"
#include "ipld/blocks.hpp"
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

// The cache in front of the persistent store, small enough that the tests evict from it.
struct CachedLogFactory {
  LogFactory log;
  std::unique_ptr<Blockstore> base;
  std::unique_ptr<Blockstore> Make() {
    base = log.Make();
    return std::make_unique<CachedBlockstore>(*base, 256 * 1024);
  }
};

template <typename F>
class BlockstoreContract : public ::testing::Test {
 protected:
  BlockstoreContract() : store_(factory_.Make()) {}
  F factory_;
  std::unique_ptr<Blockstore> store_;
};

using Implementations = ::testing::Types<MemoryFactory, LogFactory, CachedLogFactory>;
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
  for (int i = 0; i < kThreads * kPerThread; ++i)
    blocks.push_back(MakeBlock(1000 + i, 100 + (i * 37) % 4000));
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
      ASSERT_FALSE(got) << "deleted block " << i << " still readable";
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

TEST(BlockGetterFor, PromisesVerifiedBlocksOnlyOverABlockstore) {
  // Over a Blockstore the getter says its blocks are verified (car::ExportDag then trusts them),
  // and that holds: a damaged block reads as Corruption through it, never as wrong bytes.
  MemoryBlockstore store;
  auto b = MakeBlock(8, 64);
  ASSERT_TRUE(store.Put(b.cid, b.data));
  ASSERT_TRUE(store.CorruptForTest(b.cid));
  ipld::BlockGetterFor<Blockstore> getter(store);
  EXPECT_TRUE(getter.VerifiesBlocks());
  EXPECT_EQ(getter.Get(b.cid).error().code(), ErrorCode::kCorruption);
  // A store that promises nothing gives a getter that promises nothing.
  struct Plain {
    Result<Bytes> Get(const Cid&) { return Bytes{}; }
  } plain;
  EXPECT_FALSE(ipld::BlockGetterFor<Plain>(plain).VerifiesBlocks());
}

// A store that counts reads and can hold one Get until told to go on (for the delete race).
class CountingStore final : public Blockstore {
 public:
  Result<void> Put(const Cid& cid, ByteSpan data) override { return inner.Put(cid, data); }
  Result<Bytes> Get(const Cid& cid) override {
    ++gets;
    auto r = inner.Get(cid);
    if (hold_next_get.exchange(false)) {
      std::unique_lock lock(mu);
      reading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    return r;
  }
  Result<bool> Has(const Cid& cid) override { return inner.Has(cid); }
  Result<uint64_t> Size(const Cid& cid) override { return inner.Size(cid); }
  Result<void> Delete(const Cid& cid) override {
    if (hold_next_delete.exchange(false)) {
      std::unique_lock lock(mu);
      deleting = true;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    return inner.Delete(cid);
  }
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return inner.ForEach(fn);
  }
  Result<void> Sync() override { return inner.Sync(); }

  MemoryBlockstore inner;
  std::atomic<int> gets{0};
  std::atomic<bool> hold_next_get{false};
  std::atomic<bool> hold_next_delete{false};  // Delete waits (before deleting) for `released`
  bool deleting = false;                      // GUARDED_BY(mu)
  std::mutex mu;
  std::condition_variable cv;
  bool reading = false;   // GUARDED_BY(mu)
  bool released = false;  // GUARDED_BY(mu)
};

TEST(CachedBlockstore, RepeatedReadsComeFromMemoryAndPutDoesNotFillIt) {
  CountingStore base;
  CachedBlockstore cache(base, 1 << 20);
  auto b = MakeBlock(20, 4000);
  ASSERT_TRUE(cache.Put(b.cid, b.data));
  for (int i = 0; i < 5; ++i) {
    auto got = cache.Get(b.cid);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, b.data);
  }
  EXPECT_EQ(base.gets.load(), 1);  // the Put did not fill the cache; the first Get did
  EXPECT_EQ(cache.stats().hits, 4u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST(CachedBlockstore, StoredBytesThatFailVerificationAreNeverCached) {
  MemoryBlockstore base;
  CachedBlockstore cache(base, 1 << 20);
  auto b = MakeBlock(21, 100);
  ASSERT_TRUE(base.Put(b.cid, b.data));
  ASSERT_TRUE(base.CorruptForTest(b.cid));
  EXPECT_EQ(cache.Get(b.cid).error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(cache.Get(b.cid).error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(cache.stats().blocks, 0u);
}

TEST(CachedBlockstore, StaysWithinItsCapacityAndSkipsLargeBlocks) {
  CountingStore base;
  CachedBlockstore cache(base, 64 * 1024);
  std::vector<testing::Block> blocks;
  for (int i = 0; i < 40; ++i) {
    blocks.push_back(MakeBlock(100 + i, 4000));
    ASSERT_TRUE(cache.Put(blocks.back().cid, blocks.back().data));
    ASSERT_TRUE(cache.Get(blocks.back().cid));
    EXPECT_LE(cache.stats().bytes, 64u * 1024);
  }
  EXPECT_EQ(cache.stats().blocks, 16u);  // 16 x 4000 bytes fit in 64 KiB, 17 do not
  // The most recent blocks stayed; the oldest went.
  int before = base.gets.load();
  ASSERT_TRUE(cache.Get(blocks.back().cid));
  EXPECT_EQ(base.gets.load(), before);
  ASSERT_TRUE(cache.Get(blocks.front().cid));
  EXPECT_EQ(base.gets.load(), before + 1);
  auto big = MakeBlock(200, 8 * 1024 + 1);  // over an eighth of the capacity
  ASSERT_TRUE(cache.Put(big.cid, big.data));
  ASSERT_TRUE(cache.Get(big.cid));
  ASSERT_TRUE(cache.Get(big.cid));
  EXPECT_EQ(base.gets.load(), before + 3);
}

TEST(CachedBlockstore, ABlockReadWhileItIsDeletedIsNotServedAfterTheDelete) {
  CountingStore base;
  CachedBlockstore cache(base, 1 << 20);
  auto b = MakeBlock(22, 1000);
  ASSERT_TRUE(cache.Put(b.cid, b.data));
  base.hold_next_get = true;
  std::thread reader([&] {
    auto got = cache.Get(b.cid);  // reads the block, then waits before it can cache it
    EXPECT_TRUE(got);
  });
  {
    std::unique_lock lock(base.mu);
    base.cv.wait(lock, [&] { return base.reading; });
  }
  ASSERT_TRUE(cache.Delete(b.cid));
  {
    std::lock_guard lock(base.mu);
    base.released = true;
    base.cv.notify_all();
  }
  reader.join();
  EXPECT_EQ(cache.Get(b.cid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cache.stats().blocks, 0u);
}

// The read starts after the Delete began and finishes before the store has deleted the block
// (what CI's ASan run once caught in the concurrent contract test).
TEST(CachedBlockstore, ABlockReadBeforeTheStoreDeletedItIsNotCachedByADeleteInFlight) {
  CountingStore base;
  CachedBlockstore cache(base, 1 << 20);
  auto b = MakeBlock(24, 1000);
  ASSERT_TRUE(cache.Put(b.cid, b.data));
  base.hold_next_delete = true;
  std::thread deleter([&] { EXPECT_TRUE(cache.Delete(b.cid)); });
  {
    std::unique_lock lock(base.mu);
    base.cv.wait(lock, [&] { return base.deleting; });
  }
  auto got = cache.Get(b.cid);  // the store still has it: served, but not cached
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, b.data);
  {
    std::lock_guard lock(base.mu);
    base.released = true;
    base.cv.notify_all();
  }
  deleter.join();
  EXPECT_EQ(cache.Get(b.cid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(cache.stats().blocks, 0u);
}

TEST(CachedBlockstore, ZeroCapacityPassesEverythingThrough) {
  CountingStore base;
  CachedBlockstore cache(base, 0);
  auto b = MakeBlock(23, 10);
  ASSERT_TRUE(cache.Put(b.cid, b.data));
  ASSERT_TRUE(cache.Get(b.cid));
  ASSERT_TRUE(cache.Get(b.cid));
  EXPECT_EQ(base.gets.load(), 2);
}

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(internal::Crc32c(0, AsBytes("123456789")), 0xE3069283u);
  // Extending in pieces equals one pass, across the 8- and 32-byte paths.
  Bytes data = testing::RandomBytes(9, 1000);
  uint32_t one = internal::Crc32c(0, data);
  uint32_t parts =
      internal::Crc32c(internal::Crc32c(0, ByteSpan(data).first(333)), ByteSpan(data).subspan(333));
  EXPECT_EQ(one, parts);
  EXPECT_EQ(internal::Crc32c(0, Bytes(32, 0)), 0x8A9136AAu);
}

}  // namespace
}  // namespace cairn::blockstore
