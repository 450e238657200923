// `cairn gc`: one round of upkeep (apps/cairn/maintenance.hpp) on a repo that is not being
// served — removes the blocks no pin of any account needs (queued, pinning and pinned pins keep
// theirs) and compacts the block store — then prints what it did. `cairn serve` does the same
// periodically (pinning.gc_interval_seconds).
#include <cstdio>

#include "apps/cairn/commands.hpp"
#include "apps/cairn/http_getter.hpp"
#include "apps/cairn/maintenance.hpp"
#include "common/clock.hpp"
#include "metadata/pins.hpp"

namespace cairn::app {
namespace {

Result<void> Gc(const GlobalOptions& options) {
  auto blocks = CAIRN_TRY(OpenRepoBlockstore(options));
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  const Clock& clock = SystemClock::Instance();
  metadata::PinStore pins(*db, clock);
  // Collection never fetches: the source is there because the service owns both duties.
  BeastHttpGetter http;
  fetch::GatewayBlockSource source(http, {});
  pinning::PinService service(pins, *blocks, source, clock);
  auto report = CAIRN_TRY(RunUpkeep(service, *blocks));
  CAIRN_TRY(blocks->Sync());
  std::printf(
      "kept %llu blocks; removed %llu blocks (%llu bytes); compacted %u segments, "
      "reclaimed %llu bytes\n",
      static_cast<unsigned long long>(report.gc.live_blocks),
      static_cast<unsigned long long>(report.gc.removed_blocks),
      static_cast<unsigned long long>(report.gc.removed_bytes),
      report.compaction.segments_compacted,
      static_cast<unsigned long long>(report.compaction.bytes_reclaimed));
  return Ok();
}

}  // namespace

void RegisterGcCommands(CLI::App& app, GlobalOptions& options) {
  auto* gc = app.add_subcommand(
      "gc", "Remove blocks no pin needs and compact the block store (repo must not be served)");
  gc->callback([&options] { Finish(Gc(options)); });
}

}  // namespace cairn::app
