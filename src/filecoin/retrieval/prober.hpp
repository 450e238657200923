// Retrieval probes (issue 11 §4): an active deal is only worth something if its provider still
// serves the bytes. The prober walks every active deal in UUID order, a few per pass (a cursor
// over the deals table: a pass costs O(deals_per_pass) whatever the number of pins), and for each
// reads one random block of the segment at a random offset of the deal's aggregate (two indexed
// reads: a pass does not load the aggregate's segments) from the provider's /piece by Range — the
// same request a cold read makes (cold_reader.hpp) — and checks it against the block's multihash
// from the segment's block index.
//
// - Bytes that do not hash to the block, or a wrong length or status (Corruption): the provider
//   lies or lost the data; the deal is failed at once.
// - Unreachable, too slow, 404 (Unavailable, Timeout, NotFound from the fetch): counted; after
//   `failures_to_replace` consecutive failed probes of the same deal it is failed. A good probe
//   clears the count (kept in memory: a restart forgives).
// - A provider whose retrieval endpoint cannot be found (none published, the chain or this node's
//   libp2p host failing, no transports protocol) is skipped: not its fault, or not known to be.
// - A pass in which every probe failed (at least two, none lied) counts nothing against anyone:
//   that is this node's network, not every provider at once.
//
// Failing a deal (DealStore::FailActiveDeal, only if it is still active, with its deal_failed
// event naming the probe) makes it not live: the deal engine's next pass repairs the aggregate at
// another provider (filecoin/deals/deal_engine.hpp "repair"). The on-chain deal is not touched.
//
// Not thread-safe: one thread runs passes (apps/cairn's cold tier); Stats() may be read from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "common/result.hpp"
#include "filecoin/retrieval/cold_reader.hpp"
#include "metadata/deals.hpp"

namespace cairn::filecoin::retrieval {

struct ProberOptions {
  size_t deals_per_pass = 16;
  int failures_to_replace = 3;
  std::chrono::milliseconds deadline{10000};  // per probe
  uint64_t max_block_size = 4u << 20;
};

// Counters since start, for /metrics.
struct ProbeStats {
  uint64_t probes = 0;    // blocks fetched and checked (or failed)
  uint64_t ok = 0;        // verified
  uint64_t failed = 0;    // unreachable, slow, 404
  uint64_t corrupt = 0;   // wrong bytes, length or status
  uint64_t replaced = 0;  // deals failed by the prober
};

class RetrievalProber {
 public:
  // Everything must outlive the prober. `seed` picks the sampled blocks.
  RetrievalProber(metadata::DealStore& deals, RetrievalEndpoints& endpoints,
                  PieceRangeFetcher& fetcher, ProberOptions options = {}, uint64_t seed = 0);

  // Probes the next `deals_per_pass` active deals after the cursor (wrapping around to the first
  // when it reaches the end), stopping early once `stopping` (when given) returns true. Errors:
  // the database's only (a provider's failure is a result).
  Result<void> Pass(const std::function<bool()>& stopping = {});
  ProbeStats Stats() const;

 private:
  enum class Outcome { kOk, kFailed, kCorrupt, kSkipped };
  // One probe of `deal`; `why` names what went wrong.
  Result<Outcome> Probe(const metadata::DealRecord& deal, std::string* why);
  Result<void> Record(const metadata::DealRecord& deal, Outcome outcome, const std::string& why);

  metadata::DealStore& deals_;
  RetrievalEndpoints& endpoints_;
  PieceRangeFetcher& fetcher_;
  const ProberOptions options_;
  std::mt19937_64 rng_;
  std::string cursor_;                   // the last UUID probed
  std::map<std::string, int> failures_;  // consecutive failed probes by deal UUID
  mutable std::mutex mu_;
  ProbeStats stats_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::filecoin::retrieval
