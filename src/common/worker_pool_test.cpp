#include "common/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

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

}  // namespace
}  // namespace cairn
