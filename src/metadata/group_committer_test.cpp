#include "metadata/group_committer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "metadata/sqlite_database.hpp"

namespace cairn::metadata {
namespace {

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-gc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = SqliteDatabase::Open((dir_ / "db.sqlite").string());
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Write([](SqlSession& s) -> Result<void> {
      CAIRN_TRY(s.ExecScript("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"));
      return Ok();
    }));
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static GroupCommitter::WriteFn Insert(int64_t k) {
    return [k](SqlSession& s) -> Result<void> {
      std::array<SqlValue, 2> p = {k, std::string("v")};
      CAIRN_TRY(s.Exec("INSERT INTO t (k, v) VALUES (?, ?)", p));
      return Ok();
    };
  }
  int64_t Count() {
    auto rows = db_->ReadQuery("SELECT COUNT(*) FROM t", {});
    EXPECT_TRUE(rows);
    return (*rows)[0].Int(0);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(GroupCommitterTest, AFailingWriteIsRolledBackAloneAndTheBatchCommits) {
  GroupCommitter committer(*db_);
  // Held on the committer thread so the next writes queue up and share one batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  committer.Submit(
      [released](SqlSession&) -> Result<void> {
        released.wait();
        return Ok();
      },
      [](Result<void>) {});
  std::vector<std::promise<Result<void>>> outcomes(3);
  committer.Submit(Insert(1), [&](Result<void> r) { outcomes[0].set_value(r); });
  // Inserts a row, then fails: its row must not survive.
  committer.Submit(
      [](SqlSession& s) -> Result<void> {
        std::array<SqlValue, 2> p = {int64_t{2}, std::string("v")};
        CAIRN_TRY(s.Exec("INSERT INTO t (k, v) VALUES (?, ?)", p));
        return Err(ErrorCode::kNotFound, "no such thing");
      },
      [&](Result<void> r) { outcomes[1].set_value(r); });
  committer.Submit(Insert(1), [&](Result<void> r) { outcomes[2].set_value(r); });  // duplicate
  const uint64_t commits_before = committer.stats().commits;
  release.set_value();
  auto first = outcomes[0].get_future().get();
  auto second = outcomes[1].get_future().get();
  auto third = outcomes[2].get_future().get();
  EXPECT_TRUE(first);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message(), "no such thing");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Count(), 1);
  const GroupCommitStats stats = committer.stats();
  EXPECT_EQ(stats.commits - commits_before, 1u);  // the three shared one transaction
  EXPECT_EQ(stats.failed, 2u);
}

TEST_F(GroupCommitterTest, ConcurrentWritersShareCommits) {
  GroupCommitter committer(*db_);
  constexpr int kThreads = 16;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!committer.Write(Insert(t * kEach + i))) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(), kThreads * kEach);
  const GroupCommitStats stats = committer.stats();
  EXPECT_EQ(stats.writes, static_cast<uint64_t>(kThreads * kEach));
  // 16 writers waiting on each other's commits: batches form (not one commit per write).
  EXPECT_LT(stats.commits, stats.writes / 2) << stats.commits << " commits";
}

TEST_F(GroupCommitterTest, FlushWaitsForEarlierWritesAndShutdownDrains) {
  std::atomic<int> done{0};
  {
    GroupCommitter committer(*db_);
    for (int i = 0; i < 100; ++i) {
      committer.Submit(Insert(i), [&](Result<void> r) {
        EXPECT_TRUE(r);
        done.fetch_add(1);
      });
    }
    ASSERT_TRUE(committer.Flush());
    EXPECT_EQ(done.load(), 100);
    for (int i = 100; i < 150; ++i) committer.Submit(Insert(i), [&](Result<void>) { done++; });
  }  // the destructor drains the queue
  EXPECT_EQ(done.load(), 150);
  EXPECT_EQ(Count(), 150);
}

}  // namespace
}  // namespace cairn::metadata
