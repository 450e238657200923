// The history of each pin (issue 11 §6; docs/formats/metadata-schema.md "events"): what happened
// to it, in order — created, pinned or failed, aggregated into a piece, each deal proposed,
// accepted, published, active (or rejected, failed, slashed, expired), read from cold — served
// by GET /pins/{requestid}/events.
//
// One table holds two kinds of rows, sharing one increasing id (the order and the paging cursor):
// - pin events (pin_requestid set): pinned, failed, read_from_cold. A pin's `created` event is
//   not stored: it is the pin row itself (its `created` time and CID), which the API puts first
//   (id 0), so POST /pins writes nothing more than the pin (measured: an events row per create
//   halved the group commit's durable creates per second);
// - aggregate events (aggregate_id set): aggregated and the deal transitions, written once per
//   aggregate, not once per pin: an aggregate of 10,000 small pins gets one row per transition.
//   A pin's history is its own rows plus the rows of the aggregate its segment is in and of the
//   aggregates it was in before a re-aggregation (fil_segment_history).
//
// Events are written in the transaction of the change they describe (the Append functions take
// the caller's SqlSession): a committed state change always has its event, a rolled-back one
// never does. Rows older than the retention (`events.retention_days`) are removed by Purge.
//
// Thread-safe (the Database is).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/database.hpp"

namespace cairn::metadata {

// Event kinds (the `type` of the API). `created` is derived from the pin row, never stored.
inline constexpr std::string_view kEventCreated = "created";
inline constexpr std::string_view kEventPinned = "pinned";
inline constexpr std::string_view kEventFailed = "failed";
inline constexpr std::string_view kEventAggregated = "aggregated";
inline constexpr std::string_view kEventReadFromCold = "read_from_cold";
// The hot tier gave up the pin's blocks (every deal active; the pin is served from Filecoin), and
// the pin became wholly hot again through reads.
inline constexpr std::string_view kEventEvicted = "evicted";
inline constexpr std::string_view kEventRewarmed = "rewarmed";
// A mostly-deleted aggregate was not renewed: its live pins left it to be packed into a new piece
// (their old placement stays in their receipt's history). An aggregate event.
inline constexpr std::string_view kEventReaggregated = "reaggregated";
// A new deal made because one nears its end (renewed) or a replica was lost (repaired); the
// deal_proposed event of that deal follows it.
inline constexpr std::string_view kEventRenewed = "renewed";
inline constexpr std::string_view kEventRepaired = "repaired";
// Deal transitions are "deal_" + the deal state's name (deal_proposing is written "deal_proposed").

using EventDetail = std::map<std::string, std::string>;

struct EventRecord {
  int64_t id = 0;  // increasing; the cursor
  std::string kind;
  EventDetail detail;
  int64_t created_us = 0;
};

// Appends an event of pin `requestid` inside the caller's write transaction.
Result<void> AppendPinEvent(SqlSession& s, std::string_view requestid, std::string_view kind,
                            const EventDetail& detail, int64_t now_us);
// Appends an event of every pin in aggregate `aggregate_id` inside the caller's transaction.
Result<void> AppendAggregateEvent(SqlSession& s, int64_t aggregate_id, std::string_view kind,
                                  const EventDetail& detail, int64_t now_us);

class EventStore {
 public:
  // `db` (migrated) and `clock` must outlive the store.
  EventStore(Database& db, const Clock& clock);

  // Appends an event of pin `requestid` in its own transaction (events with no state change
  // behind them, such as a read from cold).
  Result<void> AddPinEvent(std::string_view requestid, std::string_view kind,
                           const EventDetail& detail);
  // The events of pin `requestid` with an id greater than `after` (0: from the start), oldest
  // first, at most `limit`. An unknown pin has no events (the caller checks the pin exists and
  // belongs to the account). Corruption for a stored detail that is not a JSON object of strings.
  Result<std::vector<EventRecord>> PinEvents(std::string_view requestid, int64_t after,
                                             size_t limit);
  // Deletes events created before `before_us`; returns how many.
  Result<int64_t> Purge(int64_t before_us);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace cairn::metadata
