// A fixed pool of threads running submitted jobs, several at once, fairly across keys.
// For work that must not run on an I/O thread (STYLE.md: handlers never block): the HTTP layer
// defers the response and a pool job completes it.
//
// Scheduling: jobs are queued per key (an account, say), FIFO within a key; free threads take the
// next job from the keys in turn (round robin), so one key's backlog never delays another key's
// job by more than one job per key ahead of it. With more than one thread, a non-empty key runs at
// most `threads - 1` jobs at once, so one thread is always left for the other keys (a key's long
// jobs cannot hold every thread). Jobs submitted without a key share the empty key "" and are not
// capped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn {

class WorkerPool {
 public:
  // Starts `threads` threads (at least 1).
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` under the key "" (FIFO, uncapped). False (and `job` is not run) once Stop() has
  // begun. Thread-safe.
  bool Submit(std::function<void()> job);
  // Queues `job` under `key` (see the scheduling above). False once Stop() has begun.
  bool Submit(const std::string& key, std::function<void()> job);
  // Refuses new jobs, runs every job already queued, and joins the threads. Idempotent.
  void Stop();

 private:
  struct KeyQueue {
    std::deque<std::function<void()>> jobs;
    size_t running = 0;
  };
  void Loop();
  size_t CapFor(const std::string& key) const;
  // The next key (in ring order) with a queued job under its cap, or ring_.end().
  std::deque<std::string>::iterator NextRunnable();  // REQUIRES(mu_)

  const size_t thread_count_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, KeyQueue> queues_;  // GUARDED_BY(mu_)
  std::deque<std::string> ring_;            // keys with queued jobs, in turn; GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace cairn
