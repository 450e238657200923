// LogBlockstore's durability contracts (log_blockstore.hpp) proven on MemEnv: torn and failed
// writes, failed syncs, full disks and power cuts at every write.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "blockstore/internal/test_support.hpp"
#include "blockstore/log_blockstore.hpp"
#include "common/mem_env.hpp"

namespace cairn::blockstore {
namespace {

using testing::Block;
using testing::MakeBlock;

constexpr const char* kDir = "/repo/blocks";

Result<std::unique_ptr<LogBlockstore>> OpenOn(MemEnv& env, uint64_t segment_size = 4096,
                                              uint64_t ballast = 0) {
  LogBlockstoreOptions options;
  options.env = &env;
  options.segment_size = segment_size;
  options.ballast_bytes = ballast;
  return LogBlockstore::Open(kDir, options);
}

TEST(LogBlockstoreOnEnv, AFailedAppendIsCutAndLaterAppendsContinue) {
  MemEnv env;
  auto store = *OpenOn(env, 1 << 20);
  const Block a = MakeBlock(1, 500), b = MakeBlock(2, 500), c = MakeBlock(3, 500);
  ASSERT_TRUE(store->Put(a.cid, a.data));
  env.FailWrite(1, ErrorCode::kIoError, 100);  // 100 bytes of b's record land, then EIO
  auto failed = store->Put(b.cid, b.data);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kIoError);
  EXPECT_NE(failed.error().message().find("blockstore: write /repo/blocks/"), std::string::npos)
      << failed.error().message();
  EXPECT_FALSE(*store->Has(b.cid));
  ASSERT_TRUE(store->Put(c.cid, c.data));  // the partial record was cut: appends go on
  ASSERT_TRUE(store->Sync());
  store.reset();
  auto reopened = *OpenOn(env, 1 << 20);
  EXPECT_TRUE(reopened->recovery().problems.empty());
  EXPECT_EQ(*reopened->Get(a.cid), a.data);
  EXPECT_EQ(*reopened->Get(c.cid), c.data);
  EXPECT_FALSE(*reopened->Has(b.cid));
}

TEST(LogBlockstoreOnEnv, WhenTheCutFailsTooAppendsAreRefusedUntilReopened) {
  MemEnv env;
  auto store = *OpenOn(env, 1 << 20);
  const Block a = MakeBlock(1, 500), b = MakeBlock(2, 500), c = MakeBlock(3, 500);
  ASSERT_TRUE(store->Put(a.cid, a.data));
  ASSERT_TRUE(store->Sync());
  env.FailWrite(1, ErrorCode::kIoError, 100);
  env.FailTruncate(1);
  ASSERT_FALSE(store->Put(b.cid, b.data));
  auto refused = store->Put(c.cid, c.data);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("reopen the store"), std::string::npos);
  EXPECT_FALSE(store->Sync());
  EXPECT_EQ(*store->Get(a.cid), a.data);  // reads still work
  store.reset();
  // Reopening cuts the torn record off the tail and accepts appends again.
  auto reopened = *OpenOn(env, 1 << 20);
  ASSERT_EQ(reopened->recovery().problems.size(), 1u);
  EXPECT_GT(reopened->recovery().truncated_bytes, 0u);
  EXPECT_EQ(*reopened->Get(a.cid), a.data);
  ASSERT_TRUE(reopened->Put(c.cid, c.data));
}

TEST(LogBlockstoreOnEnv, APowerCutKeepsWhatSyncAcknowledged) {
  MemEnv env;
  auto store = *OpenOn(env, 1 << 20);
  const Block a = MakeBlock(1, 700), b = MakeBlock(2, 700);
  ASSERT_TRUE(store->Put(a.cid, a.data));
  ASSERT_TRUE(store->Sync());
  ASSERT_TRUE(store->Put(b.cid, b.data));  // never synced
  env.Crash();
  store.reset();  // the dead process's files are gone; its destructor's sync fails harmlessly
  auto reopened = *OpenOn(env, 1 << 20);
  EXPECT_EQ(*reopened->Get(a.cid), a.data);
  EXPECT_FALSE(*reopened->Has(b.cid));
}

TEST(LogBlockstoreOnEnv, AFailedSyncIsReportedAndNotCountedAsDurable) {
  MemEnv env;
  auto store = *OpenOn(env, 1 << 20);
  const Block a = MakeBlock(1, 700), b = MakeBlock(2, 700);
  ASSERT_TRUE(store->Put(a.cid, a.data));
  env.FailSync(1);
  auto failed = store->Sync();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message().find("blockstore: sync /repo/blocks/"), std::string::npos);
  // The next Sync must sync again (a failed one acknowledges nothing).
  const uint64_t syncs = env.sync_calls();
  ASSERT_TRUE(store->Sync());
  EXPECT_EQ(env.sync_calls(), syncs + 1);
  env.Crash();
  store.reset();
  EXPECT_EQ(*(*OpenOn(env, 1 << 20))->Get(a.cid), a.data);
}

TEST(LogBlockstoreOnEnv, AFullDiskRefusesNewBlocksButDeletesStillRun) {
  MemEnv env;
  auto store = *OpenOn(env, 1 << 20, /*ballast=*/8192);
  std::vector<Block> stored;
  // Room for three 954-byte records (20-byte header, 34-byte multihash, 900 bytes) and 20 bytes:
  // not enough for a 54-byte tombstone.
  env.SetCapacity(env.used_bytes() + 3 * 954 + 20);
  for (int i = 0;; ++i) {
    Block blk = MakeBlock(static_cast<uint64_t>(i), 900);
    auto put = store->Put(blk.cid, blk.data);
    if (!put) {
      EXPECT_EQ(put.error().code(), ErrorCode::kStorageFull) << put.error().message();
      break;
    }
    stored.push_back(blk);
    ASSERT_LT(i, 10);
  }
  ASSERT_EQ(stored.size(), 3u);
  // A tombstone needs room too: the ballast gives it.
  ASSERT_TRUE(store->Delete(stored[0].cid));
  EXPECT_FALSE(*env.Exists("/repo/blocks/BALLAST"));
  for (size_t i = 1; i < stored.size(); ++i) EXPECT_EQ(*store->Get(stored[i].cid), stored[i].data);
}

// A power cut after every possible number of writes: the store always reopens, and every block
// whose Put and a later Sync both succeeded is there, intact. Small segments make the workload
// roll segments and write index files, so crashes land in those steps too.
TEST(LogBlockstoreOnEnv, ReopensAfterACrashAtEveryWrite) {
  int crashes = 0;
  for (uint64_t nth = 1;; ++nth) {
    MemEnv env;
    auto store = *OpenOn(env, 4096);
    env.FailWrite(nth, ErrorCode::kIoError, 37);
    std::vector<Block> pending, acked;
    bool fired = false;
    for (int i = 0; i < 40; ++i) {
      Block blk = MakeBlock(static_cast<uint64_t>(i) * 7919, 300 + static_cast<size_t>(i) * 13);
      if (store->Put(blk.cid, blk.data)) {
        pending.push_back(blk);
      } else {
        fired = true;
      }
      if (i % 5 == 4 && store->Sync()) {
        acked.insert(acked.end(), pending.begin(), pending.end());
        pending.clear();
      }
      if (fired) break;
    }
    if (!fired) break;  // the workload made fewer than nth writes: every step was covered
    ++crashes;
    env.Crash();
    store.reset();
    auto reopened = OpenOn(env, 4096);
    ASSERT_TRUE(reopened) << "crash at write " << nth << ": " << reopened.error().message();
    for (const Block& blk : acked) {
      auto got = (*reopened)->Get(blk.cid);
      ASSERT_TRUE(got) << "crash at write " << nth << ": " << got.error().message();
      EXPECT_EQ(*got, blk.data);
    }
    ASSERT_LT(nth, 10000u);
  }
  EXPECT_GT(crashes, 40);  // 40 records, plus segment headers and index files
}

}  // namespace
}  // namespace cairn::blockstore
