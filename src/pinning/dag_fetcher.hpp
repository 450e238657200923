// Makes a whole DAG present in the block store: walks it from the root, reusing blocks already
// stored and fetching the missing ones from a fetch::BlockSource (which verifies each block
// against its CID before returning it), with bounded parallelism, a deadline, a size cap and
// cancellation. This is step 2 of "Life of a pin" (../shared/DESIGN.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "blockstore/blockstore.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "fetch/block_source.hpp"

namespace cairn::pinning {

struct DagFetchOptions {
  std::vector<std::string> origins;         // the pin's origins as given (for peer-to-peer sources)
  std::vector<std::string> extra_gateways;  // from the pin's origins
  size_t parallelism = 8;                   // blocks fetched at once
  int64_t deadline_micros = 0;              // on the clock's monotonic scale; 0 = none
  uint64_t max_dag_bytes = 0;               // 0 = unlimited
  // Called with each CID before the walk checks or stores its block (GC's in-use registration).
  std::function<void(const multiformats::Cid&)> on_visit;
};

struct DagFetchProgress {
  uint64_t blocks = 0;          // blocks present so far (stored before or fetched now)
  uint64_t bytes = 0;           // their total size
  uint64_t fetched_blocks = 0;  // of which fetched now
};

struct DagFetchResult {
  uint64_t blocks = 0;
  uint64_t dag_bytes = 0;  // sum of the sizes of all distinct blocks of the DAG
  uint64_t fetched_blocks = 0;
};

// Reports progress now and then (from worker threads; keep it cheap).
using ProgressFn = std::function<void(const DagFetchProgress&)>;

// Walks the DAG of `root`, fetching through one source.OpenSession() for the whole walk. Errors:
// the first block that could not be fetched (NotFound with the sources' reasons, Unavailable,
// Timeout), Timeout at the deadline, ResourceExhausted above max_dag_bytes, Cancelled when `cancel`
// becomes true, NotSupported for blocks whose codec has no link reader. Blocks fetched before an
// error stay stored (a retry reuses them).
Result<DagFetchResult> FetchDag(const multiformats::Cid& root, blockstore::Blockstore& blocks,
                                fetch::BlockSource& source, const Clock& clock,
                                const DagFetchOptions& options, const std::atomic<bool>& cancel,
                                const ProgressFn& progress = nullptr);

}  // namespace cairn::pinning
