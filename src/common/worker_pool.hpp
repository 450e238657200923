// A fixed pool of threads running submitted jobs in submission order (FIFO, several at once).
// For work that must not run on an I/O thread (STYLE.md: handlers never block): the HTTP layer
// defers the response and a pool job completes it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
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

  // Queues `job`. False (and `job` is not run) once Stop() has begun. Thread-safe.
  bool Submit(std::function<void()> job);
  // Refuses new jobs, runs every job already queued, and joins the threads. Idempotent.
  void Stop();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace cairn
