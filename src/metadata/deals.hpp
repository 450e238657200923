// The cold tier's records (DESIGN.md "Life of a pin" step 4; docs/formats/metadata-schema.md
// "fil_segments", "fil_aggregates", "fil_deals"): the data segment of each pinned DAG, the
// FRC-0058 aggregates the segments were packed into, and the storage deals made for each
// aggregate.
//
// The table layer knows nothing of Filecoin types: CIDs are bytes or text, amounts are decimal
// attoFIL strings, a signed proposal is its CBOR. The deal engine (filecoin/deals) gives them
// meaning.
//
// Crash safety rests on two rules the engine follows and this store makes cheap:
// - a deal row is created (state `proposing`) before its proposal leaves the process, so a
//   restarted process finds every deal a provider may know of and asks the provider about it by
//   DealUUID instead of proposing again;
// - an aggregate and its segments' placements are written in one transaction.
//
// Thread-safe (the Database is).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/database.hpp"
#include "metadata/provider_stats.hpp"

namespace cairn::metadata {

// Where a deal is. Live: proposing, accepted, published, active. Ended: the rest.
enum class DealState {
  kProposing,  // row written; the proposal may or may not have reached the provider
  kAccepted,   // the provider answered Accepted: true
  kPublished,  // on chain (StateMarketStorageDeal) with exactly the signed proposal
  kActive,     // activated (SectorStartEpoch set) at the finalized tipset
  kRejected,   // the provider answered Accepted: false (provider_message = its reason)
  kFailed,     // lost before activation (transfer, publish, missed start, mismatch…)
  kSlashed,    // terminated on chain
  kExpired,    // past its end epoch
};
std::string_view DealStateName(DealState s);
Result<DealState> DealStateFromName(std::string_view name);
bool DealStateIsLive(DealState s);

// A pinned pin that has no segment yet.
struct UnsegmentedPin {
  std::string requestid;
  Bytes cid;              // normalized binary CID (CIDv1)
  int64_t queued_at = 0;  // its place in the queue (fil_unsegmented.created)
};

// A place in the queue of unsegmented pins: strictly after the pin read last.
struct UnsegmentedCursor {
  int64_t queued_at = 0;
  std::string requestid;
};

struct SegmentRecord {
  int64_t id = 0;
  std::string pin_requestid;
  Bytes root_cid;            // binary CID of the DAG root (the CAR's only root)
  uint64_t car_size = 0;     // bytes of the CARv1 export
  Bytes comm_p;              // 32-byte piece commitment of the CAR bytes
  uint64_t padded_size = 0;  // padded piece size of the segment
  std::optional<int64_t> aggregate_id;
  uint64_t piece_offset = 0;  // padded offset in the aggregate (when aggregated)
  int64_t created_us = 0;
  // Which CAR shard of the pin's DAG this segment is (docs/formats/car-shards.md): shard `shard`
  // of `shards` (0 of 1 when the DAG's export fits one piece), holding the export's sections from
  // index `first_section`, `sections` of them (nullopt: through the end of the export, as for
  // segments recorded before shards existed). Every shard of a pin is recorded in one transaction.
  uint32_t shard = 0;
  uint32_t shards = 1;
  uint64_t first_section = 0;
  std::optional<uint64_t> sections;
  // Read with the segment by UnaggregatedSegments and Segments (AddSegment ignores them): whether
  // its pin still exists, and the pin's per-pin Filecoin policy, the `filecoin.replicas`,
  // `filecoin.duration_days` and `filecoin.providers` keys of its meta that are present
  // (filecoin/deals/pin_policy.hpp gives them meaning).
  bool pin_exists = false;
  std::map<std::string, std::string> pin_policy;
  // The policy of the pin's account (AccountStore::Policy), when the pin exists.
  std::map<std::string, std::string> account_policy;
};

// Where one block of a segment's DAG sits in the segment's CARv1 export: the block's bytes (what
// its CID hashes), not its section header. One row of the block index (fil_segment_blocks).
struct SegmentBlock {
  Bytes multihash;      // the block's multihash (code, length, digest): the lookup key
  uint64_t offset = 0;  // first byte of the block's bytes in the CAR
  uint64_t length = 0;  // the block's size
};

// A place the cold tier can read a block from: a segment that holds it, in an aggregate.
// (Also a placement the segment had before a re-aggregation, while that aggregate's deals last.)
struct ColdLocation {
  int64_t segment_id = 0;
  std::string pin_requestid;  // the segment's pin (it may since have been deleted)
  bool pin_exists = false;    // whether it still exists
  int64_t aggregate_id = 0;
  std::string piece_cid;      // v1 piece CID of the aggregate
  uint64_t piece_offset = 0;  // padded offset of the segment in the aggregate
  uint64_t block_offset = 0;  // the block's bytes in the segment's CAR
  uint64_t block_length = 0;
  std::vector<std::string> providers;  // providers with an `active` deal for the aggregate
};

struct AggregateRecord {
  int64_t id = 0;
  std::string piece_cid;      // v1 piece CID (baga…) of the aggregate
  uint64_t padded_size = 0;   // the deal's PieceSize
  uint64_t payload_size = 0;  // unpadded bytes = Transfer.Size
  int64_t created_us = 0;
  // Set when the aggregate was re-aggregated (Reaggregate): it gets no new deal; its live pins
  // are in newer aggregates.
  std::optional<int64_t> superseded_us;
  // Moves (by trigger) whenever a pin of one of its segments, now or in its history, is deleted
  // or has its meta changed: what is derived from its segments (policy, live bytes) is stale.
  int64_t pins_changed = 0;
  // What the deal engine last wrote into the info of all its live pins (SetAggregateShown).
  std::string shown;
};

// What an aggregate's segments (now in it and moved out) amount to for its pins, computed in the
// database (AggregateLiveness).
struct AggregateLiveness {
  uint64_t live_bytes = 0;  // CAR bytes of the segments whose pin exists
  uint64_t all_bytes = 0;   // CAR bytes of all its segments
  // One segment whose pin exists (with pin_exists and pin_policy); none when every pin is gone.
  std::optional<SegmentRecord> live_sample;
};

// A placement a segment had before a re-aggregation moved it (fil_segment_history).
struct PastPlacement {
  int64_t aggregate_id = 0;
  uint64_t piece_offset = 0;  // padded offset of the segment in that aggregate
  int64_t superseded_us = 0;
};

struct DealRecord {
  std::string uuid;  // DealUUID, canonical 8-4-4-4-12 lowercase hex
  int64_t aggregate_id = 0;
  std::string provider;  // f0… (as configured)
  DealState state = DealState::kProposing;
  Bytes signed_proposal;  // ClientDealProposal CBOR, exactly what was sent
  std::string proposal_cid;
  std::string price_per_epoch;      // attoFIL, decimal
  std::string provider_collateral;  // attoFIL, decimal
  std::string client_collateral;    // attoFIL, decimal
  int64_t start_epoch = 0;
  int64_t end_epoch = 0;
  std::optional<int64_t> deal_id;  // on-chain deal ID once published
  std::string publish_cid;
  Bytes token_hash;  // SHA-256 of the per-deal data token (docs/formats/piece-serving.md)
  std::string provider_message;  // the provider's answer, verbatim
  std::string last_error;
  int64_t created_us = 0;
  int64_t updated_us = 0;
  // Not stored; read by CreateDeal only: why the deal is made — "" (the aggregate's first
  // deals), "renewal" (a deal nears its end) or "repair" (a replica was lost). A renewal or repair
  // also writes the aggregate's `renewed` / `repaired` event (metadata/events.hpp).
  std::string purpose;
};

class DealStore {
 public:
  // `db` (migrated) and `clock` must outlive the store.
  DealStore(Database& db, const Clock& clock);

  // Pinned pins (any account) without a segment, in queue order (oldest first; a pin whose
  // segment failed is queued again at its retry time, DeferSegment), at most `limit`; with
  // `due_by_us`, only those queued at or before it. One indexed read of fil_unsegmented, whatever
  // the number of pins.
  // With `after`, only the pins queued after that one (queue order is (queued_at, requestid)): a
  // caller still writing the segments of the pins it read last reads on past them.
  Result<std::vector<UnsegmentedPin>> UnsegmentedPins(
      size_t limit, std::optional<int64_t> due_by_us = std::nullopt,
      const std::optional<UnsegmentedCursor>& after = std::nullopt);
  // A pin whose segment could not be made: queued again at `retry_at_us` (the pins due before it
  // go first, so that failing pins never hold the queue's head) and its info.filecoin set to
  // "segment failed: <reason>", in one transaction. No-op for a pin no longer queued.
  Result<void> DeferSegment(std::string_view requestid, int64_t retry_at_us,
                            const std::string& reason);
  // Records a segment of a pin (one shard) and its block index (`blocks`, from the same CAR
  // export), in one transaction: a segment is never without its index. With shard 0, the pin's
  // info.hot becomes "cached" and info.filecoin "aggregating". AlreadyExists when the pin has that
  // shard (and nothing is written). Returns its id.
  Result<int64_t> AddSegment(const SegmentRecord& segment,
                             std::span<const SegmentBlock> blocks = {});
  // AddSegment for many segments in one transaction (one sync for all), every shard of a pin
  // among them: the segments of a pin that had a segment before the call are skipped. Returns
  // how many were added.
  struct NewSegment {
    SegmentRecord segment;
    std::vector<SegmentBlock> blocks;
  };
  Result<size_t> AddSegments(std::span<const NewSegment> segments);
  // The block index of a segment, in CAR order.
  Result<std::vector<SegmentBlock>> SegmentBlocks(int64_t segment_id);
  // The block at position `pick` modulo the segment's block count, in offset order, without
  // loading the index (a count, then one row); nullopt when the segment has no index.
  Result<std::optional<SegmentBlock>> SegmentBlockAt(int64_t segment_id, uint64_t pick);
  // Where the block with `multihash` can be read from the cold tier: every aggregated segment
  // whose index holds it (oldest segment first, at most `limit`), each with the providers of
  // its aggregate's active deals (oldest deal first; possibly none). Empty when no aggregated
  // segment holds the block.
  Result<std::vector<ColdLocation>> ColdLocations(ByteSpan multihash, size_t limit = 8);
  // Segments not in an aggregate yet, oldest first, at most `limit` (with pin_exists and
  // pin_policy).
  Result<std::vector<SegmentRecord>> UnaggregatedSegments(size_t limit);
  // Creates the aggregate and places the segments in it (ids and padded offsets), in one
  // transaction, with its `aggregated` event (metadata/events.hpp). AlreadyExists for a piece CID
  // already recorded; InvalidArgument (and no change) when a segment does not exist or is already
  // aggregated. Returns the aggregate's id.
  Result<int64_t> CreateAggregate(const AggregateRecord& aggregate,
                                  std::span<const std::pair<int64_t, uint64_t>> placements);
  // NotFound when absent.
  Result<AggregateRecord> GetAggregate(int64_t id);
  // Every aggregate, oldest first.
  Result<std::vector<AggregateRecord>> Aggregates();
  // The aggregate's segments, by increasing offset (with pin_exists and pin_policy): those in it
  // now and those a re-aggregation moved out (with this aggregate's id and their offset in it),
  // so that its bytes and proofs can always be rebuilt.
  Result<std::vector<SegmentRecord>> Segments(int64_t aggregate_id);
  // The segment placed at or before padded offset `offset` of the aggregate (the one whose bytes
  // hold it, or the last one before padding), now in it or moved out by a re-aggregation (with
  // this aggregate's id and offset), with pin_exists and pin_policy; nullopt when the aggregate
  // has none. Two indexed reads, whatever the aggregate's size (the retrieval probe's sample).
  Result<std::optional<SegmentRecord>> SegmentAtOffset(int64_t aggregate_id, uint64_t offset);
  // Live and total bytes of the aggregate's segments (now and moved out) and one live segment,
  // without loading them: one aggregate query and one indexed read.
  Result<AggregateLiveness> LivenessOf(int64_t aggregate_id);
  // Records what the deal engine wrote into the info of every live pin of the aggregate.
  Result<void> SetAggregateShown(int64_t aggregate_id, const std::string& shown);
  // The segments of a pin (its CAR shards), by shard; empty when it has none.
  Result<std::vector<SegmentRecord>> SegmentsOfPin(std::string_view requestid);
  // Re-aggregation of a mostly-deleted aggregate, in one transaction: every segment of it whose
  // pin exists leaves it (back to unaggregated: the engine packs it into a new piece), its old
  // placement recorded in fil_segment_history; the aggregate is marked superseded, with its
  // `reaggregated` event (detail: segments moved). Returns how many segments moved. The
  // aggregate's deals run on; its deleted pins' segments stay in it.
  Result<size_t> Reaggregate(int64_t aggregate_id);
  // The placements a segment had before, oldest first.
  Result<std::vector<PastPlacement>> PastPlacements(int64_t segment_id);

  // ---- The hot tier as a cache (pinning/hot_cache.hpp) ----
  // Ids of the segments whose index holds the block with `multihash`, aggregated or not.
  Result<std::vector<int64_t>> SegmentsHolding(ByteSpan multihash);
  // Segments with an id greater than `after` whose pin exists, by id, at most `limit`, with
  // whether each is evicted (the hot cache's order is loaded from them at start).
  struct SegmentHotState {
    int64_t segment_id = 0;
    bool evicted = false;
  };
  Result<std::vector<SegmentHotState>> SegmentsAfter(int64_t after, size_t limit);
  // What decides whether a segment's pin may lose its hot blocks (issue 11 §2).
  struct EvictionFacts {
    int64_t segment_id = 0;
    std::string pin_requestid;
    bool pin_exists = false;
    bool pinned = false;  // the pin's status is `pinned`
    int64_t account_id = 0;
    std::string hot_meta;  // the pin's meta `hot` ("" when absent)
    // The pin's meta `filecoin.replicas`, else its account policy's ("" when neither has one).
    std::string replicas_meta;
    // Distinct providers with an active deal for its aggregate, the fewest over every shard of
    // its pin (0: none, or a shard not aggregated yet): a shard leaves only when its whole pin is
    // safe.
    int active_deals = 0;
    bool evicted = false;
  };
  // The facts of each segment of `segment_ids` that exists (in no particular order).
  Result<std::vector<EvictionFacts>> EvictionFactsOf(std::span<const int64_t> segment_ids);
  // Records that the segment's pin lost its hot blocks (those of this shard): evicted_at set, the
  // pin's info.hot = "cold-only" and its `evicted` event (detail: blocks, bytes), in one
  // transaction. A segment already evicted (blocks re-warmed by reads and evicted again) keeps its
  // first evicted_at.
  Result<void> MarkEvicted(int64_t segment_id, uint64_t blocks, uint64_t bytes);
  // Records that every block of an evicted segment is hot again: evicted_at cleared, and, when no
  // other shard of its pin is evicted, info.hot = "cached" and the pin's `rewarmed` event, in one
  // transaction. No-op (false) unless evicted.
  Result<bool> MarkCached(int64_t segment_id);
  // Calls `fn(multihash)` for every block of every segment whose pin exists and has an evicted
  // segment, the pin's other shards included (garbage collection keeps these blocks when they
  // are hot: the pin's DAG cannot be walked through blocks that are not hot).
  Result<void> ForEachEvictedBlock(const std::function<void(ByteSpan)>& fn);
  // Per account (id): pins whose segment is evicted, and the CAR bytes of those segments.
  struct ColdOnlyUsage {
    int64_t account_id = 0;
    uint64_t pins = 0;
    uint64_t bytes = 0;
  };
  Result<std::vector<ColdOnlyUsage>> ColdOnlyByAccount();

  // Writes a new deal (created/updated times set here), counts a proposal for its provider
  // (metadata/provider_stats.hpp) and writes its aggregate's `deal_proposed` event, in one
  // transaction. AlreadyExists for a known UUID.
  Result<void> CreateDeal(const DealRecord& deal);
  // Replaces the mutable fields of the deal (state, deal_id, publish_cid, provider_message,
  // last_error; updated time set here), with its aggregate's `deal_<state>` event when the state
  // changed, and, when `event` is given, counts it for the deal's provider, all in the same
  // transaction (kActive adds now − deal.created_us as the time to active). NotFound for an
  // unknown UUID.
  Result<void> UpdateDeal(const DealRecord& deal,
                          std::optional<ProviderEvent> event = std::nullopt);
  // NotFound when absent.
  Result<DealRecord> GetDeal(std::string_view uuid);
  // Deals whose state is one of `states`, oldest first.
  Result<std::vector<DealRecord>> DealsInStates(std::span<const DealState> states);
  // Deals of an aggregate, oldest first.
  Result<std::vector<DealRecord>> DealsOfAggregate(int64_t aggregate_id);
  // Every deal, grouped by aggregate id (each group in DealsOfAggregate's order): one read for a
  // pass over all aggregates instead of one per aggregate.
  Result<std::map<int64_t, std::vector<DealRecord>>> DealsByAggregate();
  // What the cold tier holds: `payload` = CAR bytes of the segments whose aggregate has at least
  // one active deal (each pin's data counted once), `stored` = padded piece bytes summed over
  // active deals (what providers store and are paid for, replicas included).
  struct ColdBytes {
    uint64_t payload = 0;
    uint64_t stored = 0;
  };
  Result<ColdBytes> ColdBytesHeld();
  // Active deals whose UUID sorts after `after_uuid` ("" = from the first), by UUID, at most
  // `limit`: a cursor over every active deal that costs O(limit) per call (the retrieval probe).
  Result<std::vector<DealRecord>> ActiveDealsAfter(std::string_view after_uuid, size_t limit);
  // Moves the deal to `failed` with `error` as last_error, and its `deal_failed` event, only if
  // it is still `active` (the deal engine may have moved it meanwhile), counting a
  // retrieval_failures event for its provider in the same transaction. Returns whether it did.
  // NotFound for an unknown UUID.
  Result<bool> FailActiveDeal(std::string_view uuid, const std::string& error);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace cairn::metadata
