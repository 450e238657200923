#include "blockstore/write_behind_blockstore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "blockstore/internal/test_support.hpp"
#include "blockstore/memory_blockstore.hpp"

namespace cairn::blockstore {
namespace {

using testing::Block;
using testing::MakeBlock;

std::shared_ptr<const Bytes> Shared(const Block& b) {
  return std::make_shared<const Bytes>(b.data);
}

// A memory store whose Put of a gated block waits until the gate opens (so a test can hold the
// writer in the middle of a write), and whose Put of a failing block fails.
class GatedStore final : public Blockstore {
 public:
  Result<void> Put(const Cid& cid, ByteSpan data) override {
    {
      std::unique_lock lock(mu);
      const std::string key = cid.ToString();
      if (gated.count(key)) {
        ++waiting;
        cv.notify_all();
        cv.wait(lock, [&] { return open; });
        --waiting;
      }
      ++puts;
      if (failing.count(key)) return Err(ErrorCode::kIoError, "gated: disk on fire");
    }
    return mem.Put(cid, data);
  }
  Result<Bytes> Get(const Cid& cid) override { return mem.Get(cid); }
  Result<bool> Has(const Cid& cid) override { return mem.Has(cid); }
  Result<uint64_t> Size(const Cid& cid) override { return mem.Size(cid); }
  Result<void> Delete(const Cid& cid) override {
    ++deletes;
    return mem.Delete(cid);
  }
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return mem.ForEach(fn);
  }
  Result<void> Sync() override { return Ok(); }

  void Gate(const Cid& cid) {
    std::lock_guard lock(mu);
    gated.insert(cid.ToString());
    open = false;
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  // Waits until a gated Put is held at the gate.
  void WaitHeld() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return waiting > 0; });
  }

  MemoryBlockstore mem;
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> gated, failing;  // GUARDED_BY(mu)
  bool open = true;                      // GUARDED_BY(mu)
  int waiting = 0;                       // GUARDED_BY(mu)
  int puts = 0;                          // GUARDED_BY(mu)
  std::atomic<int> deletes{0};
};

TEST(WriteBehindBlockstore, QueuedBlockIsReadableBeforeItIsWritten) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 1000);
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();  // the writer is inside Put, held at the gate
  EXPECT_FALSE(*base.mem.Has(a.cid));
  EXPECT_TRUE(*store.Has(a.cid));
  EXPECT_EQ(*store.Get(a.cid), a.data);
  EXPECT_EQ(**store.GetShared(a.cid), a.data);
  EXPECT_EQ(*store.Size(a.cid), 1000u);
  base.Open();
  store.Flush();
  EXPECT_TRUE(*base.mem.Has(a.cid));
  EXPECT_EQ(*store.Get(a.cid), a.data);
  const auto stats = store.Stats();
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_EQ(stats.written, 1u);
  EXPECT_EQ(stats.queue_blocks, 0u);
  EXPECT_EQ(stats.queue_bytes, 0u);
}

TEST(WriteBehindBlockstore, DeleteCancelsAQueuedWrite) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 100), b = MakeBlock(2, 100);
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();  // the writer holds a; b waits in the queue behind it
  ASSERT_TRUE(store.PutLater(b.cid, Shared(b)));
  ASSERT_TRUE(store.Delete(b.cid));
  EXPECT_FALSE(*store.Has(b.cid));
  base.Open();
  store.Flush();
  // Garbage collection deleted b: the queued write-back must not bring it back.
  EXPECT_FALSE(*base.mem.Has(b.cid));
  EXPECT_FALSE(*store.Has(b.cid));
  EXPECT_TRUE(*base.mem.Has(a.cid));
  EXPECT_EQ(store.Stats().cancelled, 1u);
}

TEST(WriteBehindBlockstore, DeleteWaitsForTheWriteInProgressThenDeletes) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 100);
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();  // the writer is inside the underlying Put of a
  auto deleted = std::async(std::launch::async, [&] { return store.Delete(a.cid); });
  EXPECT_EQ(deleted.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "Delete must wait for the write it would otherwise race with";
  EXPECT_EQ(base.deletes.load(), 0);
  base.Open();
  ASSERT_TRUE(deleted.get());
  // The write landed first and the delete after it: the block is gone for good.
  EXPECT_FALSE(*base.mem.Has(a.cid));
  EXPECT_FALSE(*store.Has(a.cid));
  store.Flush();
  EXPECT_FALSE(*base.mem.Has(a.cid));
}

TEST(WriteBehindBlockstore, PutOfAQueuedBlockWritesItNow) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 100), b = MakeBlock(2, 100);
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();
  ASSERT_TRUE(store.PutLater(b.cid, Shared(b)));
  // A pin stores b while its write-back is queued: when Put returns, b is in the store.
  ASSERT_TRUE(store.Put(b.cid, b.data));
  EXPECT_TRUE(*base.mem.Has(b.cid));
  EXPECT_EQ(store.Stats().cancelled, 1u);
  base.Open();
  store.Flush();
  EXPECT_TRUE(*base.mem.Has(b.cid));
}

TEST(WriteBehindBlockstore, PutOfABlockBeingWrittenWaitsAndReportsItsOwnFailure) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 100);
  base.Gate(a.cid);
  {
    std::lock_guard lock(base.mu);
    base.failing.insert(a.cid.ToString());
  }
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();
  auto put = std::async(std::launch::async, [&] { return store.Put(a.cid, a.data); });
  EXPECT_EQ(put.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  base.Open();
  // The background write failed; the synchronous Put tried again and got its own error.
  auto result = put.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kIoError);
}

TEST(WriteBehindBlockstore, AFailedWriteIsDroppedAndCounted) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 100);
  {
    std::lock_guard lock(base.mu);
    base.failing.insert(a.cid.ToString());
  }
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  store.Flush();
  EXPECT_FALSE(*store.Has(a.cid));
  EXPECT_EQ(store.Stats().failed, 1u);
  EXPECT_EQ(store.Stats().queue_blocks, 0u);
}

TEST(WriteBehindBlockstore, AFullQueueWritesOnTheCallersThread) {
  GatedStore base;
  WriteBehindBlockstore store(base, {.max_bytes = 150, .max_blocks = 8});
  const Block a = MakeBlock(1, 100), b = MakeBlock(2, 100);
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();  // a's 100 bytes stay queued until the gate opens
  ASSERT_TRUE(store.PutLater(b.cid, Shared(b)));
  EXPECT_TRUE(*base.mem.Has(b.cid)) << "over max_bytes: written before PutLater returned";
  const auto stats = store.Stats();
  EXPECT_EQ(stats.direct, 1u);
  EXPECT_EQ(stats.queue_bytes, 100u);
  base.Open();
}

TEST(WriteBehindBlockstore, DestructorWritesWhatIsQueued) {
  GatedStore base;
  std::vector<Block> blocks;
  for (int i = 0; i < 50; ++i) blocks.push_back(MakeBlock(i, 1000));
  {
    WriteBehindBlockstore store(base);
    base.Gate(blocks[0].cid);
    for (const auto& b : blocks) ASSERT_TRUE(store.PutLater(b.cid, Shared(b)));
    base.WaitHeld();
    base.Open();
  }
  for (const auto& b : blocks) EXPECT_TRUE(*base.mem.Has(b.cid));
}

TEST(WriteBehindBlockstore, ForEachListsQueuedAndStoredBlocksOnce) {
  GatedStore base;
  WriteBehindBlockstore store(base);
  const Block a = MakeBlock(1, 10), b = MakeBlock(2, 20), c = MakeBlock(3, 30);
  ASSERT_TRUE(store.Put(c.cid, c.data));
  base.Gate(a.cid);
  ASSERT_TRUE(store.PutLater(a.cid, Shared(a)));
  base.WaitHeld();
  ASSERT_TRUE(store.PutLater(b.cid, Shared(b)));
  std::map<std::string, uint64_t> seen;
  ASSERT_TRUE(store.ForEach([&](const Cid& cid, uint64_t size) {
    EXPECT_TRUE(seen.emplace(cid.ToString(), size).second) << "listed twice: " << cid.ToString();
    return true;
  }));
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[a.cid.ToString()], 10u);
  EXPECT_EQ(seen[b.cid.ToString()], 20u);
  EXPECT_EQ(seen[c.cid.ToString()], 30u);
  base.Open();
}

// Eviction and garbage collection delete blocks while reads queue write-backs of the same
// blocks. A Delete that follows a PutLater (on one thread) always wins, whatever the writer is
// doing at the time; readers never see wrong bytes.
TEST(WriteBehindBlockstore, DeleteAfterPutLaterAlwaysWinsUnderConcurrency) {
  MemoryBlockstore base;
  WriteBehindBlockstore store(base, {.batch_blocks = 4});
  std::vector<Block> blocks;
  for (int i = 0; i < 64; ++i) blocks.push_back(MakeBlock(100 + i, 512 + i));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done) {
      for (const auto& b : blocks) {
        auto got = store.Get(b.cid);
        if (got ? *got != b.data : got.error().code() != ErrorCode::kNotFound) ++bad;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = t; i < blocks.size(); i += 2) {
          ASSERT_TRUE(store.PutLater(blocks[i].cid, Shared(blocks[i])));
          if ((round + i) % 3 != 0) {
            ASSERT_TRUE(store.Delete(blocks[i].cid));
          }
        }
      }
      // Last word for every block of this thread: deleted.
      for (size_t i = t; i < blocks.size(); i += 2) ASSERT_TRUE(store.Delete(blocks[i].cid));
    });
  }
  for (auto& w : writers) w.join();
  store.Flush();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  for (const auto& b : blocks) {
    EXPECT_FALSE(*base.Has(b.cid)) << "a deleted block was written back: " << b.cid.ToString();
    EXPECT_FALSE(*store.Has(b.cid));
  }
}

}  // namespace
}  // namespace cairn::blockstore
