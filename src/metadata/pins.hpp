// The pins repository: pin requests as the Pinning Service API v1.0.0 models them
// (specs/ipfs/pinning-service-api.yaml: Pin, PinStatus, the `GET /pins` filters), stored per
// account (DESIGN.md "Life of a pin", "Storage"). Schema: docs/formats/metadata-schema.md.
//
// Decisions where the spec leaves room:
// - `created` is the service's wall clock in microseconds and globally unique (the spec's
//   pagination needs it): a pin gets max(now, newest created + 1 µs), computed inside the write
//   transaction, and a UNIQUE index enforces it.
// - The CID is kept twice: the text exactly as submitted (echoed back) and the normalized binary
//   CID (CIDv1 bytes: codec + multihash). The `cid` filter matches normalized CIDs, so `Qm…`
//   (v0), `bafy…` (v1 base32) and `k…`/`z…` (other bases) of the same content find the same pins;
//   a different codec with the same multihash is a different CID and does not match.
// - `name` matching: exact and partial are byte-wise and case-sensitive; iexact and ipartial fold
//   ASCII letters A–Z only (a stored `name_fold` column). Non-ASCII letters match only exactly
//   ("É" ≠ "é"), the same on every SQL engine.
// - `meta` filter: every given key must be present with exactly the given string value (AND).
//   Served from `pin_meta` (one row per key of a pin, kept by triggers): a page reads about
//   `limit` rows of the filter's rarest pair; a count with one pair sums per-1024 bucket
//   counters; a count with several pairs reads the rarest pair's rows in the range.
// - `before`/`after` are strict (created < before, created > after). Results are newest first.
// - An empty status set means any status (the API layer applies the spec's "pinned only when no
//   filter is given" default).
//
// Throughput: every write (create, claim, status update, replace, delete) goes through one
// GroupCommitter: concurrent writes share one transaction and one fsync, each in its own
// savepoint, so durability costs one sync per batch, not per write.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/database.hpp"
#include "metadata/group_committer.hpp"
#include "multiformats/cid.hpp"

namespace cairn::metadata {

enum class PinStatus { kQueued, kPinning, kPinned, kFailed };
std::string_view PinStatusName(PinStatus s);  // "queued", "pinning", "pinned", "failed"
Result<PinStatus> PinStatusFromName(std::string_view name);

enum class NameMatch { kExact, kIexact, kPartial, kIpartial };

using StringMap = std::map<std::string, std::string>;

// What a client submits (PSA `Pin`).
struct NewPin {
  std::string cid;  // as submitted; must parse as a CID
  std::optional<std::string> name;
  std::vector<std::string> origins;
  StringMap meta;
};

// A stored pin request (PSA `PinStatus` minus delegates, which the service adds).
struct PinRecord {
  std::string requestid;  // UUIDv4, random
  int64_t account_id = 0;
  std::string cid_text;   // exactly as submitted
  multiformats::Cid cid;  // normalized: CIDv1
  std::optional<std::string> name;
  std::vector<std::string> origins;
  StringMap meta;
  PinStatus status = PinStatus::kQueued;
  int64_t created_us = 0;  // globally unique
  int64_t updated_us = 0;
  StringMap info;  // PSA info, e.g. status_details
  std::optional<int64_t> dag_size;
};

// `GET /pins` filters. Every field is optional; all given filters must hold (AND).
struct PinFilter {
  std::vector<multiformats::Cid> cids;  // 0..10; any of them (matched normalized)
  std::optional<std::string> name;
  NameMatch match = NameMatch::kExact;
  std::vector<PinStatus> statuses;   // empty = any status
  std::optional<int64_t> before_us;  // created < before
  std::optional<int64_t> after_us;   // created > after
  StringMap meta;                    // every key equal (AND)
  int limit = 10;                    // List only: 1..1000
};

struct PinStoreOptions {
  // Most Create requests committed in one transaction.
  size_t max_batch = 2048;
  // Writes a pin's `pinned` and `failed` events (metadata/events.hpp) with the status change.
  // Off only to fill a database at a schema older than migration 9 (migration tests).
  bool record_events = true;
};

// Thread-safe. Owns a GroupCommitter (its thread is stopped by the destructor after draining).
class PinStore {
 public:
  // `db` (migrated) and `clock` must outlive the store.
  PinStore(Database& db, const Clock& clock, PinStoreOptions options = {});
  ~PinStore() = default;
  PinStore(const PinStore&) = delete;
  PinStore& operator=(const PinStore&) = delete;

  // Stores a new `queued` pin for the account and returns it once durable. InvalidArgument for a
  // CID that does not parse, a name over 255 bytes, more than 20 origins or 1000 meta keys;
  // NotFound for an unknown account.
  Result<PinRecord> Create(int64_t account_id, const NewPin& pin);
  // The same, calling `done` once durable or failed. `done` runs on the committer thread: keep it
  // short and never call Create() from it (that would wait on the thread running it).
  void CreateAsync(int64_t account_id, NewPin pin, std::function<void(Result<PinRecord>)> done);

  // Returns once every create and write queued before the call is durable and its callback has
  // run (callers that answer through an executor drain the queue before that executor goes).
  Result<void> Flush();

  // The account's pin. NotFound if absent or owned by another account (indistinguishable).
  Result<PinRecord> Get(int64_t account_id, std::string_view requestid);
  // Atomically removes the account's pin `requestid` and creates `pin` (new requestid, new
  // created, queued) in one transaction. NotFound as for Get; validation as for Create.
  Result<PinRecord> Replace(int64_t account_id, std::string_view requestid, const NewPin& pin);
  // Removes the account's pin. NotFound as for Get.
  Result<void> Delete(int64_t account_id, std::string_view requestid);
  // Sets status, info (replaced as a whole) and dag_size (kept when nullopt). NotFound if absent.
  // Durable on return; shares the group commit with creates.
  Result<void> UpdateStatus(std::string_view requestid, PinStatus status, const StringMap& info,
                            std::optional<int64_t> dag_size = std::nullopt);

  // Sets the given keys of the pin's info (others kept; an empty value removes the key), without
  // touching its status. Used by the cold tier to show deals (info.filecoin, info.deals…).
  // Nothing is written (updated_at stays) when the pin has these values already. NotFound if
  // absent.
  Result<void> MergeInfo(std::string_view requestid, const StringMap& keys);
  // MergeInfo for many pins in one write; pins that no longer exist are skipped.
  Result<void> MergeInfoMany(std::span<const std::string> requestids, const StringMap& keys);

  // The account's pins matching `filter`, newest first, at most filter.limit. InvalidArgument
  // for limit outside 1..1000 or more than 10 CIDs. Page with before_us = last created_us.
  Result<std::vector<PinRecord>> List(int64_t account_id, const PinFilter& filter);
  // How many of the account's pins match `filter` (every filter, before/after included;
  // limit ignored).
  Result<uint64_t> Count(int64_t account_id, const PinFilter& filter);
  // Pins of every account by status, indexed by PinStatus (from the counters: O(accounts)).
  Result<std::array<uint64_t, 4>> CountAllByStatus();

  // Worker queue: atomically moves up to `max` queued pins (oldest created first, any account)
  // to `pinning` and returns them.
  Result<std::vector<PinRecord>> ClaimQueued(size_t max);
  // Every `pinning` pin (any account), oldest created first: the claims a stopped or crashed
  // process left behind, for the workers to resume without showing users a step back to
  // `queued`.
  Result<std::vector<PinRecord>> ListPinning();
  // Distinct normalized CIDs of pins (any account) whose status is in `statuses`, ascending by
  // binary CID, after `after` (exclusive) when given, at most `limit`: the roots GC must keep.
  Result<std::vector<multiformats::Cid>> ListCids(std::span<const PinStatus> statuses,
                                                  const std::optional<multiformats::Cid>& after,
                                                  size_t limit);

  // Whether any pin (any account) of `cid` (matched normalized) has a status in `statuses`: the
  // routing endpoint's and the bitswap server's "is this pinned here?".
  Result<bool> HasCid(const multiformats::Cid& cid, std::span<const PinStatus> statuses);

  // Commits and writes of the group committer (for /metrics and the benchmarks).
  GroupCommitStats commit_stats() const { return committer_.stats(); }

  // Diagnostics: the engine's plan for List(account_id, filter) (SQLite: EXPLAIN QUERY PLAN
  // detail lines, one per line). NotSupported on other engines.
  Result<std::string> ExplainList(int64_t account_id, const PinFilter& filter);

 private:
  Database& db_;
  const Clock& clock_;
  const bool record_events_;
  GroupCommitter committer_;  // last: drained before the members above go
};

// ASCII-only case folding used by iexact/ipartial (A–Z → a–z; every other byte unchanged).
std::string FoldAscii(std::string_view s);

}  // namespace cairn::metadata
