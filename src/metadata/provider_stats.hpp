// Per-provider deal statistics (docs/formats/metadata-schema.md "fil_provider_stats"): how many
// deals each storage provider was proposed, accepted, rejected, lost in each way, and brought to
// active, with the total time from proposal to active. The deal engine derives each provider's
// score from them (filecoin/deals/provider_score.hpp) and shows them in /healthz and /metrics.
//
// Events are counted in the same transaction as the deal row that records them (DealStore
// CreateDeal counts the proposal, UpdateDeal the event it is given), so a crash never counts an
// event whose deal change was lost, nor loses one whose change was kept.
//
// Thread-safe (the Database is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/database.hpp"

namespace cairn::metadata {

// One thing that happened to a deal, counted against its provider.
enum class ProviderEvent {
  kProposed,         // a proposal was written to be sent (every deal row)
  kAccepted,         // the provider accepted it (answer, or reconciled by status)
  kRejected,         // the provider answered Accepted: false
  kTimeout,          // the proposal got no answer (unreachable, deadline, garbage)
  kTransferFailed,   // the provider reported the deal failed before publishing (data transfer,
                     // CommP mismatch, its sealing pipeline)
  kNeverPublished,   // accepted but not published by its start epoch
  kNotActivated,     // published but never activated, gone from the market
  kMismatch,         // published with a proposal other than the one signed
  kSlashed,          // terminated on chain after activation
  kActive,           // activated (at the finalized tipset)
  kRetrievalFailed,  // an active deal the retrieval probe failed (schema version 10)
};
// The event's counter column: "proposals", "accepted", "rejected", "timeouts",
// "transfer_failures", "never_published", "not_activated", "mismatches", "slashed", "active",
// "retrieval_failures".
std::string_view ProviderEventColumn(ProviderEvent e);

struct ProviderStats {
  std::string provider;  // f0… as configured
  int64_t proposals = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t timeouts = 0;
  int64_t transfer_failures = 0;
  int64_t never_published = 0;
  int64_t not_activated = 0;
  int64_t mismatches = 0;
  int64_t slashed = 0;
  int64_t other_failures = 0;      // failed deals from before schema version 8 (cause not recorded)
  int64_t retrieval_failures = 0;  // active deals the retrieval probe failed
  int64_t active = 0;
  int64_t active_us_total = 0;  // sum over `active` deals of (activation − proposal) time, µs
  int64_t updated_us = 0;
};

// Adds one `event` for `provider` inside the caller's write transaction (creating the row);
// `active_after_us` (≥ 0) is added to active_us_total for kActive and ignored otherwise.
Result<void> AddProviderEvent(SqlSession& session, std::string_view provider, ProviderEvent event,
                              int64_t active_after_us, int64_t now_us);

class ProviderStatsStore {
 public:
  // `db` (migrated) must outlive the store.
  explicit ProviderStatsStore(Database& db);

  // Every provider with a row, by provider.
  Result<std::vector<ProviderStats>> All();
  // The provider's row; all zeros (provider set) when it has none.
  Result<ProviderStats> Get(std::string_view provider);
  // Adds one event in its own transaction (deal changes use DealStore, which counts in theirs).
  Result<void> Record(std::string_view provider, ProviderEvent event, int64_t active_after_us,
                      const Clock& clock);

 private:
  Database& db_;
};

}  // namespace cairn::metadata
