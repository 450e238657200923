#include "common/worker_pool.hpp"

#include <algorithm>

namespace cairn {

WorkerPool::WorkerPool(size_t threads) : thread_count_(std::max<size_t>(threads, 1)) {
  for (size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::Submit(std::function<void()> job) { return Submit(std::string(), std::move(job)); }

bool WorkerPool::Submit(const std::string& key, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    KeyQueue& q = queues_[key];
    if (q.jobs.empty()) ring_.push_back(key);
    q.jobs.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t WorkerPool::CapFor(const std::string& key) const {
  if (key.empty() || thread_count_ == 1) return thread_count_;
  return thread_count_ - 1;
}

std::deque<std::string>::iterator WorkerPool::NextRunnable() {
  return std::find_if(ring_.begin(), ring_.end(), [this](const std::string& key) {
    return queues_.at(key).running < CapFor(key);
  });
}

void WorkerPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock,
             [this] { return (stopping_ && ring_.empty()) || NextRunnable() != ring_.end(); });
    auto next = NextRunnable();
    if (next == ring_.end()) return;  // stopping, and nothing left to run
    std::string key = std::move(*next);
    ring_.erase(next);
    KeyQueue& q = queues_.at(key);
    auto job = std::move(q.jobs.front());
    q.jobs.pop_front();
    if (!q.jobs.empty()) ring_.push_back(key);  // its next job waits for the other keys' turn
    ++q.running;
    lock.unlock();
    job();
    lock.lock();
    KeyQueue& done = queues_.at(key);
    --done.running;
    if (done.running == 0 && done.jobs.empty()) queues_.erase(key);
    cv_.notify_all();  // a key at its cap may run again
  }
}

}  // namespace cairn
