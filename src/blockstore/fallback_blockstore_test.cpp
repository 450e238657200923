#include "blockstore/fallback_blockstore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "blockstore/memory_blockstore.hpp"

namespace cairn::blockstore {
namespace {

Cid RawCid(const std::string& text) { return *Cid::Compute(1, 0x55, 0x12, AsBytes(text)); }

// A fallback that answers from a map (bytes as given: possibly wrong) and counts reads. Its
// GetMany records each batch and, while `gate` is closed, waits before answering.
class MapFallback final : public ipld::BlockGetter {
 public:
  Result<Bytes> Get(const Cid& cid) override {
    ++gets;
    return Lookup(cid);
  }
  void GetMany(std::span<const Cid> cids, const EachBlock& each) override {
    {
      std::unique_lock lock(mu);
      batches.emplace_back(cids.begin(), cids.end());
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
    }
    for (const Cid& cid : cids) each(cid, Lookup(cid));
    std::lock_guard lock(mu);
    ++batches_done;
    cv.notify_all();
  }
  Result<Bytes> Lookup(const Cid& cid) const {
    auto it = blocks.find(cid);
    if (it == blocks.end()) return Err(ErrorCode::kNotFound, "fallback: absent");
    return it->second;
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  void WaitBatches(size_t started, size_t done) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return batches.size() >= started && batches_done >= done; });
  }
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  std::vector<std::vector<Cid>> batches;
  size_t batches_done = 0;
  Result<uint64_t> Size(const Cid& cid) override {
    ++sizes;
    auto it = blocks.find(cid);
    if (it == blocks.end()) return Err(ErrorCode::kNotFound, "fallback: absent");
    return it->second.size();
  }
  bool VerifiesBlocks() const override { return verifies; }
  std::map<Cid, Bytes> blocks;
  bool verifies = false;  // claims to verify what it returns
  std::atomic<int> gets = 0;
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

// A fallback that verifies its blocks itself (the cold reader) is not hashed a second time: what
// it returns is taken as it is.
TEST(FallbackBlockstore, AFallbackThatVerifiesItselfIsNotHashedAgain) {
  MemoryBlockstore hot;
  MapFallback cold;
  cold.verifies = true;
  FallbackBlockstore store(hot, cold);
  const Cid c = RawCid("right");
  cold.blocks[c] = ToBytes("taken as verified");
  auto got = store.Get(c);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, ToBytes("taken as verified"));
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

TEST(FallbackBlockstore, PrefetchFetchesWhatTheHotStoreLacksAsOneBatchAndReadsTakeIt) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid h = RawCid("hot"), c1 = RawCid("c1"), c2 = RawCid("c2"), c3 = RawCid("c3");
  ASSERT_TRUE(hot.Put(h, AsBytes("hot")));
  for (const Cid& c : {c1, c2, c3})
    cold.blocks[c] = ToBytes(c == c1 ? "c1" : c == c2 ? "c2" : "c3");
  const std::vector<Cid> hint = {h, c1, c2, c3};
  store.Prefetch(hint);
  cold.WaitBatches(1, 1);
  ASSERT_EQ(cold.batches.size(), 1u);
  EXPECT_EQ(cold.batches[0], (std::vector<Cid>{c1, c2, c3}));  // the hot block is not fetched
  EXPECT_TRUE(*hot.Has(c2));                                   // written back as it came
  // Hinting again what is ready (or hot) fetches nothing more.
  store.Prefetch(hint);
  EXPECT_EQ(*store.Get(c1), ToBytes("c1"));
  EXPECT_EQ(**store.GetShared(c2), ToBytes("c2"));
  EXPECT_EQ(*store.Get(c3), ToBytes("c3"));
  EXPECT_EQ(*store.Get(h), ToBytes("hot"));
  EXPECT_EQ(cold.gets, 0);  // every read was the prefetch's
  EXPECT_EQ(cold.batches.size(), 1u);
  auto stats = store.Stats();
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_EQ(stats.blocks, 3u);
  EXPECT_EQ(stats.waited, 3u);
  // A ready copy is taken once: the next read is the hot store's.
  EXPECT_EQ(*store.Get(c1), ToBytes("c1"));
  EXPECT_EQ(store.Stats().waited, 3u);
}

TEST(FallbackBlockstore, AReadOfABlockBeingPrefetchedWaitsForThatFetch) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid c = RawCid("slow");
  cold.blocks[c] = ToBytes("slow");
  cold.open = false;
  const std::vector<Cid> hint = {c};
  store.Prefetch(hint);
  cold.WaitBatches(1, 0);  // the batch is running, held at the gate
  Result<Bytes> got = Err(ErrorCode::kInternal, "not read");
  std::thread reader([&] { got = store.Get(c); });
  while (store.Stats().waited == 0) std::this_thread::yield();
  cold.Open();
  reader.join();
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, ToBytes("slow"));
  EXPECT_EQ(cold.gets, 0);  // the read did not fetch it a second time
}

TEST(FallbackBlockstore, APrefetchedLieIsCorruptionToItsReaderAndIsNotStored) {
  MemoryBlockstore hot;
  MapFallback cold;
  FallbackBlockstore store(hot, cold);
  const Cid c = RawCid("right"), absent = RawCid("absent");
  cold.blocks[c] = ToBytes("wrong");
  const std::vector<Cid> hint = {c, absent};
  store.Prefetch(hint);
  cold.WaitBatches(1, 1);
  auto got = store.Get(c);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(*hot.Has(c));
  EXPECT_EQ(store.Get(absent).error().code(), ErrorCode::kNotFound);  // the fallback's answer
  EXPECT_EQ(cold.gets, 0);
}

TEST(FallbackBlockstore, ReadyCopiesAreBoundedAndDeleteDropsThem) {
  MemoryBlockstore hot;
  MapFallback cold;
  // Room for two 4-byte blocks: the oldest of three is dropped (it is in the hot store too).
  FallbackBlockstore store(hot, cold, {.max_ready_bytes = 8});
  const Cid a = RawCid("aaaa"), b = RawCid("bbbb"), c = RawCid("cccc");
  cold.blocks[a] = ToBytes("aaaa");
  cold.blocks[b] = ToBytes("bbbb");
  cold.blocks[c] = ToBytes("cccc");
  const std::vector<Cid> hint = {a, b, c};
  store.Prefetch(hint);
  cold.WaitBatches(1, 1);
  // b's ready copy is dropped with the block: its next read goes to the fallback.
  ASSERT_TRUE(store.Delete(b));
  EXPECT_EQ(*store.Get(a), ToBytes("aaaa"));  // from the hot store (its copy made room)
  EXPECT_EQ(*store.Get(c), ToBytes("cccc"));  // ready
  EXPECT_EQ(store.Stats().waited, 1u);
  EXPECT_EQ(cold.gets, 0);
  EXPECT_EQ(*store.Get(b), ToBytes("bbbb"));
  EXPECT_EQ(cold.gets, 1);
}

TEST(FallbackBlockstore, HintsBeyondTheQueueAreDroppedAndClosingSettlesQueuedOnes) {
  MemoryBlockstore hot;
  MapFallback cold;
  Result<Bytes> queued_read = Err(ErrorCode::kInternal, "not read");
  std::thread reader;
  {
    FallbackBlockstore store(hot, cold, {.prefetch_threads = 1, .max_queued_batches = 1});
    const Cid a = RawCid("a"), b = RawCid("b"), c = RawCid("c");
    for (const Cid& x : {a, b, c})
      cold.blocks[x] = Bytes{static_cast<uint8_t>(x == a ? 'a' : x == b ? 'b' : 'c')};
    cold.open = false;
    const std::vector<Cid> first = {a}, second = {b}, third = {c};
    store.Prefetch(first);
    cold.WaitBatches(1, 0);  // running, held
    store.Prefetch(second);  // queued
    store.Prefetch(third);   // the queue is full: dropped
    EXPECT_EQ(store.Stats().dropped, 1u);
    reader = std::thread([&] { queued_read = store.Get(b); });
    while (store.Stats().waited == 0) std::this_thread::yield();
    // Closing the store: the running batch finishes once the gate opens, the queued one is
    // settled without fetching, and its waiting reader is told why.
    std::thread opener([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cold.Open();
    });
    opener.join();
    reader.join();
  }
  // The reader of the queued block was answered, never left waiting: with the block when the
  // batch ran before the store closed, with Unavailable when the close settled it.
  if (queued_read) {
    EXPECT_EQ(*queued_read, Bytes{'b'});
  } else {
    EXPECT_EQ(queued_read.error().code(), ErrorCode::kUnavailable)
        << queued_read.error().ToString();
  }
  EXPECT_LE(cold.batches.size(), 2u);  // the dropped hint was never fetched
}

}  // namespace
}  // namespace cairn::blockstore
