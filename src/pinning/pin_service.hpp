// The pin lifecycle (../shared/DESIGN.md "Life of a pin", steps 1–3): queued → pinning →
// pinned | failed, run by a bounded pool of workers over the metadata layer's queue.
//
// - Workers claim queued pins (oldest first) and make their DAG present (FetchDag): blocks
//   already stored are reused, missing ones fetched from gateways and the pin's HTTP origins,
//   each verified before it is stored. `info.status_details` shows progress or the reason for
//   failure; `info.dag_size` (and the pin's dag_size) the DAG's size once pinned.
// - Retries: a fetch that fails for a retryable reason (not found yet, source unavailable, timed
//   out) is tried again with exponential backoff until the pin's deadline (created + find
//   deadline; the last retry is at the deadline, so a pin never fails before it), then the pin
//   fails with the last reason. Retries wait in an in-memory schedule, not
//   in a worker, so they never starve fresh pins.
// - Restarts: pins left `pinning` by a stop or a crash are resumed at Start() without going back
//   to `queued`; blocks already fetched are reused.
// - Deleting a pin that is being fetched cancels its fetch (Cancel()).
// - Garbage collection (CollectGarbage) removes blocks no pin of any account needs; it runs
//   safely beside pinning (see the method's contract).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "blockstore/blockstore.hpp"
#include "blockstore/leases.hpp"
#include "common/clock.hpp"
#include "fetch/block_source.hpp"
#include "metadata/pins.hpp"
#include "pinning/dag_fetcher.hpp"

namespace cairn::pinning {

struct PinServiceOptions {
  size_t workers = 4;                          // pins fetched at once
  size_t fetch_parallelism = 8;                // blocks fetched at once per pin
  int64_t find_deadline_us = 10 * 60'000'000;  // a pin fails when not complete by created + this
  int64_t retry_initial_us = 2'000'000;        // first retry delay; doubles up to retry_max_us
  int64_t retry_max_us = 60'000'000;
  uint64_t max_dag_bytes = 0;          // 0 = unlimited
  int64_t poll_interval_us = 200'000;  // how often idle workers look for queued pins
  // Called on a worker thread after a pin is recorded `pinned` (the DHT provides its root then);
  // must be quick and thread-safe. Empty: nothing is called.
  std::function<void(const multiformats::Cid&)> on_pinned;
  // Blocks garbage collection keeps besides those the pins reach through present blocks: calls
  // its argument with each multihash (the blocks of pins evicted from the hot tier, which reads
  // brought back: their DAG cannot be walked through the blocks no longer hot). Empty: none.
  std::function<Result<void>(const std::function<void(ByteSpan)>&)> also_live;
};

struct PinServiceStats {
  std::atomic<uint64_t> pinned{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> blocks_fetched{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> gc_runs{0};
  std::atomic<uint64_t> gc_blocks_removed{0};
};

struct GcResult {
  uint64_t live_blocks = 0;
  uint64_t removed_blocks = 0;
  uint64_t removed_bytes = 0;
};

class PinService {
 public:
  // Everything passed must outlive the service.
  PinService(metadata::PinStore& pins, blockstore::Blockstore& blocks, fetch::BlockSource& source,
             const Clock& clock, PinServiceOptions options = {});
  ~PinService();  // Stop()

  // Resumes pins a previous run left in `pinning` (their status stays `pinning`) and starts the
  // workers.
  Result<void> Start();
  // Stops the workers (in-flight fetches are cancelled; their pins stay `pinning` and are
  // resumed by the next Start()). Idempotent.
  void Stop();

  // Wakes a worker (call after creating a pin so it starts without waiting for the poll).
  void Notify();
  // Cancels the fetch of `requestid` if one is running or scheduled for retry (the pin was
  // deleted or replaced).
  void Cancel(const std::string& requestid);

  // Mark and sweep: walks the DAG of every pin (queued, pinning, pinned; any account) through the
  // blocks present, then deletes every other block unless it is held by a lease (see
  // blockstore/leases.hpp). Safe beside pinning and uploads: a worker holds every block of its
  // pin's DAG in a lease before it checks or stores it, uploads hold what they store until their
  // pins commit, and the sweep checks and deletes under the leases' lock, so a block is either
  // seen as held or deleted before its writer looks (and then stored again).
  // One collection at a time: a second concurrent call returns Unavailable.
  Result<GcResult> CollectGarbage();
  // Runs `fn` as a collection would run: never beside garbage collection or another RunExclusive
  // (Unavailable then, and `fn` does not run), with the leases in collection mode, so that
  // deleting through leases().DeleteUnlessHeld honours every lease (the hot cache's eviction).
  Result<void> RunExclusive(const std::function<Result<void>()>& fn);

  // The leases garbage collection honours: writers that store blocks for pins that do not reach
  // them yet (uploads, imports) hold them here until the pin commits or the request fails.
  blockstore::BlockLeases& leases() { return leases_; }

  const PinServiceStats& stats() const { return stats_; }
  // Queued pins known to the service, for /metrics (pins waiting for a worker or a retry).
  size_t retry_backlog() const;

 private:
  struct Retry {
    metadata::PinRecord pin;
    int64_t due_us;
    int64_t delay_us;
    std::string last_error;
  };
  void WorkerLoop();
  // Writes progress (`pinning` with status_details); a failure is logged, never fatal.
  void WriteProgress(const std::string& requestid, const metadata::StringMap& info);
  // Writes a final status (pinned, failed). When the write fails the failure is logged and the pin
  // goes back into the retry schedule (it would otherwise stay `pinning` with no worker); returns
  // false then. A pin deleted meanwhile counts as written.
  bool WriteOutcome(metadata::PinRecord& pin, metadata::PinStatus status,
                    const metadata::StringMap& info, std::optional<int64_t> dag_size);
  // Fetches `pin`'s DAG once and records the outcome. `last_error` is the previous attempt's
  // failure (a retry), named in the reason if the deadline has passed by now.
  void Process(metadata::PinRecord pin, int64_t retry_delay_us, const std::string& last_error = "");
  // The fetch of one attempt: origins (and the gateways they name), parallelism, the deadline
  // `remaining_us` from now, and every visited block held by `lease`.
  DagFetchOptions FetchOptionsFor(const metadata::PinRecord& pin, int64_t remaining_us,
                                  blockstore::BlockLeases::Lease& lease) const;
  // Writes `pinned` with the DAG's size (or reschedules when the write fails).
  void RecordPinned(metadata::PinRecord& pin, const DagFetchResult& result);
  // Schedules a retry while the error is retryable and the find deadline has not passed, else
  // writes `failed` with the error's message.
  void RecordFailure(metadata::PinRecord pin, const Error& error, int64_t retry_delay_us);

  metadata::PinStore& pins_;
  blockstore::Blockstore& blocks_;
  fetch::BlockSource& source_;
  const Clock& clock_;
  const PinServiceOptions options_;
  PinServiceStats stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;                                              // GUARDED_BY(mu_)
  bool wake_ = false;                                                 // GUARDED_BY(mu_)
  std::vector<Retry> retries_;                                        // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> active_;  // GUARDED_BY(mu_)
  std::set<std::string> cancelled_;                                   // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;

  // The mark and sweep of CollectGarbage, inside RunExclusive.
  Result<GcResult> Collect();

  blockstore::BlockLeases leases_;
  std::mutex gc_mu_;
  bool gc_running_ = false;  // GUARDED_BY(gc_mu_)
};

}  // namespace cairn::pinning
