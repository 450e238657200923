// Upkeep of a repo's hot store: garbage collection of blocks no pin of any account needs
// (pinning::PinService::CollectGarbage, safe beside pinning), then compaction of the log block
// store's segments whose live share fell below half (reclaims the disk space of what was
// collected). `cairn serve` runs it every pinning.gc_interval_seconds on its own thread;
// `cairn gc` runs it once on a repo that is not being served.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "blockstore/log_blockstore.hpp"
#include "common/result.hpp"
#include "pinning/pin_service.hpp"

namespace cairn::app {

struct UpkeepReport {
  pinning::GcResult gc;
  blockstore::CompactionStats compaction;
};

// One round: collect, then compact. Errors name the step that failed.
Result<UpkeepReport> RunUpkeep(pinning::PinService& pins, blockstore::LogBlockstore& blocks);

// Runs RunUpkeep every `interval` (first run one interval after Start) until Stop, then `also`
// when given (upkeep on the same schedule: the pin events' retention). Each round is logged
// (event "upkeep.done" or "upkeep.failed").
class PeriodicUpkeep {
 public:
  PeriodicUpkeep(pinning::PinService& pins, blockstore::LogBlockstore& blocks,
                 std::chrono::seconds interval, std::function<void()> also = {});
  ~PeriodicUpkeep();  // Stop()
  void Start();
  // Waits for a round in progress to finish. Idempotent.
  void Stop();
  uint64_t rounds() const { return rounds_.load(); }

 private:
  void Loop();

  pinning::PinService& pins_;
  blockstore::LogBlockstore& blocks_;
  std::chrono::seconds interval_;
  std::function<void()> also_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> rounds_{0};
  std::thread thread_;
};

}  // namespace cairn::app
