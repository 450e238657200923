// Group commit for a Database: writes submitted by many threads are gathered by one committer
// thread and run in one write transaction, so durability costs one commit (one fsync) per batch,
// not per write. The pins repository routes every write through one (creates, claims, status
// transitions, replaces, deletes).
//
// Contract:
// - Writes run in submission order, each inside its own SAVEPOINT: a write that returns an error
//   is rolled back alone and gets that error; the rest of the batch commits. A write must not
//   commit, roll back or open savepoints of its own, and must not call Submit/Write/Flush (it
//   runs on the committer thread).
// - `done` runs on the committer thread after the batch is durable (or failed): keep it short.
//   If the commit itself fails (disk full, I/O error), every write of the batch gets that error.
// - After the destructor starts, Submit answers Unavailable; queued writes are drained first.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "metadata/database.hpp"

namespace cairn::metadata {

struct GroupCommitterOptions {
  size_t max_batch = 2048;  // most writes in one transaction
};

// Monotonic counters, for /metrics and the benchmarks' "writes per fsync".
struct GroupCommitStats {
  uint64_t commits = 0;  // transactions committed (each one durable commit)
  uint64_t writes = 0;   // writes that committed
  uint64_t failed = 0;   // writes that returned an error or whose batch failed
};

class GroupCommitter {
 public:
  using WriteFn = std::function<Result<void>(SqlSession&)>;
  using DoneFn = std::function<void(Result<void>)>;

  // `db` must outlive the committer.
  explicit GroupCommitter(Database& db, GroupCommitterOptions options = {});
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `write`; `done` gets its outcome once durable (see the contract above).
  void Submit(WriteFn write, DoneFn done);
  // Submit and wait for the outcome.
  Result<void> Write(WriteFn write);
  // Returns once every write submitted before the call is durable and its `done` has run.
  Result<void> Flush();

  GroupCommitStats stats() const;

 private:
  struct Pending {
    WriteFn write;
    DoneFn done;
  };
  void Loop();
  void CommitBatch(std::vector<Pending>& batch);

  Database& db_;
  GroupCommitterOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> failed_{0};
  std::thread thread_;  // last: started after every member above exists
};

}  // namespace cairn::metadata
