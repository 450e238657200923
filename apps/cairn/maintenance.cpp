#include "apps/cairn/maintenance.hpp"

#include "common/log.hpp"

namespace cairn::app {

Result<UpkeepReport> RunUpkeep(pinning::PinService& pins, blockstore::LogBlockstore& blocks) {
  UpkeepReport report;
  auto gc = pins.CollectGarbage();
  if (!gc) return Err(gc.error().WithContext("upkeep: garbage collection: "));
  report.gc = *gc;
  auto compaction = blocks.Compact();
  if (!compaction) return Err(compaction.error().WithContext("upkeep: compaction: "));
  report.compaction = *compaction;
  return report;
}

PeriodicUpkeep::PeriodicUpkeep(pinning::PinService& pins, blockstore::LogBlockstore& blocks,
                               std::chrono::seconds interval, std::function<void()> also)
    : pins_(pins), blocks_(blocks), interval_(interval), also_(std::move(also)) {}

PeriodicUpkeep::~PeriodicUpkeep() { Stop(); }

void PeriodicUpkeep::Start() {
  if (interval_.count() <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicUpkeep::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicUpkeep::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    auto report = RunUpkeep(pins_, blocks_);
    if (also_) also_();
    ++rounds_;
    if (!report) {
      log::Error("upkeep.failed", {{"error", report.error().ToString()}});
      continue;
    }
    log::Info("upkeep.done",
              {{"live_blocks", report->gc.live_blocks},
               {"removed_blocks", report->gc.removed_blocks},
               {"removed_bytes", report->gc.removed_bytes},
               {"segments_compacted", uint64_t{report->compaction.segments_compacted}},
               {"bytes_reclaimed", report->compaction.bytes_reclaimed}});
  }
}

}  // namespace cairn::app
