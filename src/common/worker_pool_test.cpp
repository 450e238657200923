#include "common/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace cairn {
namespace {

TEST(WorkerPool, RunsEveryJobAndStopDrainsTheQueue) {
  std::atomic<int> done{0};
  WorkerPool pool(2);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Submit([&done] { ++done; }));
  pool.Stop();
  EXPECT_EQ(done.load(), 1000);
  EXPECT_FALSE(pool.Submit([&done] { ++done; }));
  pool.Stop();  // idempotent
  EXPECT_EQ(done.load(), 1000);
}

TEST(WorkerPool, RunsJobsOnItsOwnThreadsConcurrently) {
  WorkerPool pool(2);
  std::promise<void> first_started, release;
  auto released = release.get_future().share();
  // `released` is copied into the job: the job may still be inside wait() when the test's locals
  // go away (the shared state outlives both copies).
  ASSERT_TRUE(pool.Submit([&first_started, released] {
    first_started.set_value();
    released.wait();  // holds one thread until the second job has run
  }));
  first_started.get_future().wait();
  std::promise<std::thread::id> second;
  ASSERT_TRUE(pool.Submit([&] { second.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(second.get_future().get(), std::this_thread::get_id());
  release.set_value();
  pool.Stop();  // the jobs are done before the promises they touch are destroyed
}

TEST(WorkerPool, KeysTakeTurns) {
  WorkerPool pool(1);
  std::promise<void> started, release;
  auto released = release.get_future().share();
  ASSERT_TRUE(pool.Submit("x", [&started, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  std::mutex mu;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    return [&mu, &order, name] {
      std::lock_guard lock(mu);
      order.push_back(name);
    };
  };
  ASSERT_TRUE(pool.Submit("a", record("a1")));
  ASSERT_TRUE(pool.Submit("a", record("a2")));
  ASSERT_TRUE(pool.Submit("a", record("a3")));
  ASSERT_TRUE(pool.Submit("b", record("b1")));
  release.set_value();
  pool.Stop();
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b1", "a2", "a3"}));
}

TEST(WorkerPool, OneKeyNeverHoldsEveryThread) {
  WorkerPool pool(2);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> a_started{0};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(pool.Submit("a", [&a_started, released] {
      ++a_started;
      released.wait();  // a long job of account a
    }));
  }
  std::promise<void> b_ran;
  ASSERT_TRUE(pool.Submit("b", [&b_ran] { b_ran.set_value(); }));
  // b runs while a's first job still holds its thread; a's second waits for it. (Without the
  // cap both threads would hold a's jobs and b would never run: the bound is only a backstop.)
  auto b_status = b_ran.get_future().wait_for(std::chrono::seconds(60));
  int a_started_before_release = a_started.load();
  release.set_value();
  EXPECT_EQ(b_status, std::future_status::ready);
  EXPECT_LE(a_started_before_release, 1);
  pool.Stop();
  EXPECT_EQ(a_started.load(), 2);
}

}  // namespace
}  // namespace cairn
