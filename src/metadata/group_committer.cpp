// Group commit (contract in group_committer.hpp).
#include "metadata/group_committer.hpp"

#include <future>

namespace cairn::metadata {

GroupCommitter::GroupCommitter(Database& db, GroupCommitterOptions options)
    : db_(db), options_(options) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  thread_ = std::thread([this] { Loop(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupCommitter::Submit(WriteFn write, DoneFn done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(write), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Err(ErrorCode::kUnavailable, "metadata: the database writer is shutting down"));
}

Result<void> GroupCommitter::Write(WriteFn write) {
  std::promise<Result<void>> promise;
  auto future = promise.get_future();
  Submit(std::move(write), [&promise](Result<void> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<void> GroupCommitter::Flush() {
  // Writes run in order: when this empty one is through, everything before it is.
  return Write([](SqlSession&) -> Result<void> { return Ok(); });
}

GroupCommitStats GroupCommitter::stats() const {
  return GroupCommitStats{commits_.load(std::memory_order_relaxed),
                          writes_.load(std::memory_order_relaxed),
                          failed_.load(std::memory_order_relaxed)};
}

void GroupCommitter::Loop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void GroupCommitter::CommitBatch(std::vector<Pending>& batch) {
  // outcomes[i]: the write's own result inside the transaction. Recomputed if the engine retries
  // the transaction (Database::Write may run `fn` again after a busy error).
  std::vector<Result<void>> outcomes;
  auto committed = db_.Write([&](SqlSession& s) -> Result<void> {
    outcomes.clear();
    outcomes.reserve(batch.size());
    for (Pending& p : batch) {
      CAIRN_TRY(s.Exec("SAVEPOINT cairn_write"));
      Result<void> r = p.write(s);
      if (r) {
        CAIRN_TRY(s.Exec("RELEASE cairn_write"));
      } else {
        CAIRN_TRY(s.Exec("ROLLBACK TO cairn_write"));
        CAIRN_TRY(s.Exec("RELEASE cairn_write"));
      }
      outcomes.push_back(std::move(r));
    }
    return Ok();
  });
  if (!committed) {
    failed_.fetch_add(batch.size(), std::memory_order_relaxed);
    for (Pending& p : batch) p.done(Err(committed.error()));
    return;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < batch.size(); ++i) {
    (outcomes[i] ? writes_ : failed_).fetch_add(1, std::memory_order_relaxed);
    batch[i].done(std::move(outcomes[i]));
  }
}

}  // namespace cairn::metadata
