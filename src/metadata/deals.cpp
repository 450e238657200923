#include "metadata/deals.hpp"

#include <array>
#include <utility>

#include "metadata/events.hpp"
#include "metadata/internal/json_map.hpp"

namespace cairn::metadata {

namespace {

constexpr std::array<std::string_view, 8> kDealStateNames = {
    "proposing", "accepted", "published", "active", "rejected", "failed", "slashed", "expired"};

constexpr std::string_view kSegmentColumns =
    "id, pin_requestid, root_cid, car_size, comm_p, padded_size, aggregate_id, piece_offset, "
    "created_at, shard, shards, first_section, sections";

// The segment's columns, then whether its pin exists and the pin's policy keys (absent → NULL).
#define CAIRN_POLICY_COLUMNS                               \
  "json_extract(p.meta, '$.\"filecoin.replicas\"'), "      \
  "json_extract(p.meta, '$.\"filecoin.duration_days\"'), " \
  "json_extract(p.meta, '$.\"filecoin.providers\"'), "     \
  "(SELECT a.policy FROM accounts a WHERE a.id = p.account_id)"
// Which CAR shard of its pin's DAG the segment `s` is (docs/formats/car-shards.md).
#define CAIRN_SHARD_COLUMNS "s.shard, s.shards, s.first_section, s.sections, "
constexpr std::string_view kShardColumns = CAIRN_SHARD_COLUMNS;
// The per-pin policy keys of the pin `p` (kPolicyKeys, in order), then its account's policy.
constexpr std::string_view kPolicyColumns = CAIRN_POLICY_COLUMNS;
constexpr std::string_view kSegmentWithPolicy =
    "SELECT s.id, s.pin_requestid, s.root_cid, s.car_size, s.comm_p, s.padded_size, "
    "s.aggregate_id, s.piece_offset, s.created_at, " CAIRN_SHARD_COLUMNS
    "p.requestid IS NOT NULL, " CAIRN_POLICY_COLUMNS
    " FROM fil_segments s LEFT JOIN pins p ON p.requestid = s.pin_requestid ";
// The same columns for the placements segments had in aggregates they were moved out of (with
// that aggregate's id and offset).
constexpr std::string_view kHistoryWithPolicy =
    "SELECT s.id, s.pin_requestid, s.root_cid, s.car_size, s.comm_p, s.padded_size, "
    "h.aggregate_id, h.piece_offset, s.created_at, " CAIRN_SHARD_COLUMNS
    "p.requestid IS NOT NULL, " CAIRN_POLICY_COLUMNS
    " FROM fil_segment_history h JOIN fil_segments s ON s.id = h.segment_id "
    "LEFT JOIN pins p ON p.requestid = s.pin_requestid ";
#undef CAIRN_POLICY_COLUMNS
#undef CAIRN_SHARD_COLUMNS
constexpr std::array<std::string_view, 3> kPolicyKeys = {
    "filecoin.replicas", "filecoin.duration_days", "filecoin.providers"};

constexpr std::string_view kAggregateColumns =
    "id, piece_cid, padded_size, payload_size, created_at, superseded_at, pins_changed, shown";

constexpr std::string_view kDealColumns =
    "uuid, aggregate_id, provider, state, signed_proposal, proposal_cid, price_per_epoch, "
    "provider_collateral, client_collateral, start_epoch, end_epoch, deal_id, publish_cid, "
    "token_hash, provider_message, last_error, created_at, updated_at";

SegmentRecord SegmentFromRow(const SqlRow& row) {
  SegmentRecord s;
  s.id = row.Int(0);
  s.pin_requestid = row.Text(1);
  s.root_cid = row.Blob(2);
  s.car_size = static_cast<uint64_t>(row.Int(3));
  s.comm_p = row.Blob(4);
  s.padded_size = static_cast<uint64_t>(row.Int(5));
  if (!row.IsNull(6)) s.aggregate_id = row.Int(6);
  s.piece_offset = static_cast<uint64_t>(row.Int(7));
  s.created_us = row.Int(8);
  s.shard = static_cast<uint32_t>(row.Int(9));
  s.shards = static_cast<uint32_t>(row.Int(10));
  s.first_section = static_cast<uint64_t>(row.Int(11));
  if (!row.IsNull(12)) s.sections = static_cast<uint64_t>(row.Int(12));
  return s;
}

Result<SegmentRecord> SegmentWithPolicyFromRow(const SqlRow& row) {
  SegmentRecord s = SegmentFromRow(row);
  s.pin_exists = row.Int(13) != 0;
  for (size_t i = 0; i < kPolicyKeys.size(); ++i) {
    if (!row.IsNull(14 + i)) s.pin_policy[std::string(kPolicyKeys[i])] = row.Text(14 + i);
  }
  constexpr size_t kAccountPolicy = 14 + kPolicyKeys.size();
  if (!row.IsNull(kAccountPolicy)) {
    s.account_policy = CAIRN_TRY(internal::DecodeMap(row.Text(kAccountPolicy), "account policy"));
  }
  return s;
}

AggregateRecord AggregateFromRow(const SqlRow& row) {
  AggregateRecord a;
  a.id = row.Int(0);
  a.piece_cid = row.Text(1);
  a.padded_size = static_cast<uint64_t>(row.Int(2));
  a.payload_size = static_cast<uint64_t>(row.Int(3));
  a.created_us = row.Int(4);
  if (!row.IsNull(5)) a.superseded_us = row.Int(5);
  a.pins_changed = row.Int(6);
  a.shown = row.Text(7);
  return a;
}

Result<DealRecord> DealFromRow(const SqlRow& row) {
  DealRecord d;
  d.uuid = row.Text(0);
  d.aggregate_id = row.Int(1);
  d.provider = row.Text(2);
  d.state = CAIRN_TRY(DealStateFromName(row.Text(3)));
  d.signed_proposal = row.Blob(4);
  d.proposal_cid = row.Text(5);
  d.price_per_epoch = row.Text(6);
  d.provider_collateral = row.Text(7);
  d.client_collateral = row.Text(8);
  d.start_epoch = row.Int(9);
  d.end_epoch = row.Int(10);
  if (!row.IsNull(11)) d.deal_id = row.Int(11);
  d.publish_cid = row.Text(12);
  d.token_hash = row.Blob(13);
  d.provider_message = row.Text(14);
  d.last_error = row.Text(15);
  d.created_us = row.Int(16);
  d.updated_us = row.Int(17);
  return d;
}

Result<std::vector<DealRecord>> DealsFromRows(const std::vector<SqlRow>& rows) {
  std::vector<DealRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(CAIRN_TRY(DealFromRow(row)));
  return out;
}

// The event of a deal entering `state`: deal_proposed for a new deal, deal_<state> otherwise.
std::string DealEventKind(DealState state) {
  if (state == DealState::kProposing) return "deal_proposed";
  return "deal_" + std::string(kDealStateNames[static_cast<size_t>(state)]);
}

EventDetail DealEventDetail(const DealRecord& d) {
  EventDetail detail = {{"deal", d.uuid}, {"provider", d.provider}};
  if (d.deal_id) detail["deal_id"] = std::to_string(*d.deal_id);
  if (!d.last_error.empty() && !DealStateIsLive(d.state)) detail["error"] = d.last_error;
  return detail;
}

}  // namespace

std::string_view DealStateName(DealState s) { return kDealStateNames[static_cast<size_t>(s)]; }

Result<DealState> DealStateFromName(std::string_view name) {
  for (size_t i = 0; i < kDealStateNames.size(); ++i) {
    if (kDealStateNames[i] == name) return static_cast<DealState>(i);
  }
  return Err(ErrorCode::kCorruption, "metadata: unknown deal state '" + std::string(name) + "'");
}

bool DealStateIsLive(DealState s) {
  return s == DealState::kProposing || s == DealState::kAccepted || s == DealState::kPublished ||
         s == DealState::kActive;
}

DealStore::DealStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

Result<std::vector<UnsegmentedPin>> DealStore::UnsegmentedPins(
    size_t limit, std::optional<int64_t> due_by_us, const std::optional<UnsegmentedCursor>& after) {
  std::array<SqlValue, 4> params = {
      due_by_us.value_or(INT64_MAX), after ? after->queued_at : INT64_MIN,
      after ? after->requestid : std::string(), static_cast<int64_t>(limit)};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      // CROSS JOIN: the queue is the outer loop (otherwise SQLite may walk every pinned pin by
      // its (status, created) index, which is what the queue is for).
      "SELECT p.requestid, p.cid, q.created FROM fil_unsegmented q CROSS JOIN pins p "
      "ON p.requestid = q.requestid WHERE q.created <= ?1 AND q.created >= ?2 "
      "AND (q.created, q.requestid) > (?2, ?3) AND p.status = 'pinned' "
      "ORDER BY q.created, q.requestid LIMIT ?4",
      params));
  std::vector<UnsegmentedPin> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back({row.Text(0), row.Blob(1), row.Int(2)});
  return out;
}

Result<void> DealStore::DeferSegment(std::string_view requestid, int64_t retry_at_us,
                                     const std::string& reason) {
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> queue = {retry_at_us, std::string(requestid)};
    if (CAIRN_TRY(s.Exec("UPDATE fil_unsegmented SET created = ? WHERE requestid = ?", queue)) ==
        0) {
      return Ok();
    }
    std::array<SqlValue, 2> info = {"segment failed: " + reason, std::string(requestid)};
    CAIRN_TRY(
        s.Exec("UPDATE pins SET info = json_set(info, '$.filecoin', ?) WHERE requestid = ?", info));
    return Ok();
  });
}

namespace {

// Inserts one segment (a shard of its pin) and its block index; returns its id.
Result<int64_t> InsertSegment(SqlSession& s, const SegmentRecord& seg,
                              std::span<const SegmentBlock> blocks, int64_t now) {
  std::array<SqlValue, 10> params = {
      seg.pin_requestid,
      static_cast<int64_t>(seg.shard),
      static_cast<int64_t>(seg.shards),
      static_cast<int64_t>(seg.first_section),
      seg.sections ? SqlValue(static_cast<int64_t>(*seg.sections)) : SqlValue(),
      seg.root_cid,
      static_cast<int64_t>(seg.car_size),
      seg.comm_p,
      static_cast<int64_t>(seg.padded_size),
      now};
  auto r = s.Query(
      "INSERT INTO fil_segments (pin_requestid, shard, shards, first_section, sections, root_cid, "
      "car_size, comm_p, padded_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "RETURNING id",
      params);
  if (!r || r->size() != 1) {
    return Err(r ? Error(ErrorCode::kInternal, "metadata: segment insert returned no id")
                 : r.error().WithContext("metadata: segment " + std::to_string(seg.shard) +
                                         " of pin '" + seg.pin_requestid + "': "));
  }
  const int64_t id = r->at(0).Int(0);
  if (seg.shard == 0) {
    // A new segment waits for its aggregate; one write of the pin's row for both keys.
    std::array<SqlValue, 1> pin = {seg.pin_requestid};
    CAIRN_TRY(
        s.Exec("UPDATE pins SET info = json_set(info, '$.hot', 'cached', '$.filecoin', "
               "'aggregating') WHERE requestid = ?",
               pin));
  }
  for (const auto& b : blocks) {
    std::array<SqlValue, 4> row = {b.multihash, id, static_cast<int64_t>(b.offset),
                                   static_cast<int64_t>(b.length)};
    // A block repeated in one DAG is written once by the export; OR IGNORE keeps a caller's
    // repeated row from failing the segment.
    CAIRN_TRY(s.Exec(
        "INSERT OR IGNORE INTO fil_segment_blocks (multihash, segment_id, data_offset, length) "
        "VALUES (?, ?, ?, ?)",
        row));
  }
  return id;
}

}  // namespace

Result<int64_t> DealStore::AddSegment(const SegmentRecord& seg,
                                      std::span<const SegmentBlock> blocks) {
  int64_t id = 0;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    id = CAIRN_TRY(InsertSegment(s, seg, blocks, clock_.WallMicros()));
    return Ok();
  }));
  return id;
}

Result<size_t> DealStore::AddSegments(std::span<const NewSegment> segments) {
  size_t added = 0;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    added = 0;
    const int64_t now = clock_.WallMicros();
    std::map<std::string, bool> skip;  // per pin: it had a segment before this call
    for (const auto& n : segments) {
      auto [it, first] = skip.try_emplace(n.segment.pin_requestid, false);
      if (first) {
        std::array<SqlValue, 1> key = {n.segment.pin_requestid};
        it->second =
            !CAIRN_TRY(s.Query("SELECT 1 FROM fil_segments WHERE pin_requestid = ? LIMIT 1", key))
                 .empty();
      }
      if (it->second) continue;
      CAIRN_TRY(InsertSegment(s, n.segment, n.blocks, now));
      ++added;
    }
    return Ok();
  }));
  return added;
}

Result<std::vector<SegmentBlock>> DealStore::SegmentBlocks(int64_t segment_id) {
  std::array<SqlValue, 1> params = {segment_id};
  auto rows =
      CAIRN_TRY(db_.ReadQuery("SELECT multihash, data_offset, length FROM fil_segment_blocks "
                              "WHERE segment_id = ? ORDER BY data_offset",
                              params));
  std::vector<SegmentBlock> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(
        {row.Blob(0), static_cast<uint64_t>(row.Int(1)), static_cast<uint64_t>(row.Int(2))});
  }
  return out;
}

Result<std::optional<SegmentBlock>> DealStore::SegmentBlockAt(int64_t segment_id, uint64_t pick) {
  std::optional<SegmentBlock> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> key = {segment_id};
    auto count =
        CAIRN_TRY(s.Query("SELECT COUNT(*) FROM fil_segment_blocks WHERE segment_id = ?", key));
    const int64_t n = count.at(0).Int(0);
    if (n <= 0) return Ok();
    std::array<SqlValue, 2> params = {segment_id,
                                      static_cast<int64_t>(pick % static_cast<uint64_t>(n))};
    auto rows =
        CAIRN_TRY(s.Query("SELECT multihash, data_offset, length FROM fil_segment_blocks "
                          "WHERE segment_id = ? ORDER BY data_offset LIMIT 1 OFFSET ?",
                          params));
    if (rows.empty()) return Ok();
    out = SegmentBlock{rows[0].Blob(0), static_cast<uint64_t>(rows[0].Int(1)),
                       static_cast<uint64_t>(rows[0].Int(2))};
    return Ok();
  }));
  return out;
}

Result<std::vector<ColdLocation>> DealStore::ColdLocations(ByteSpan multihash, size_t limit) {
  std::vector<ColdLocation> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {Bytes(multihash.begin(), multihash.end()),
                                      static_cast<int64_t>(limit)};
    // Where the segments are now, then where they were before a re-aggregation (the old
    // aggregate's deals still run: the bytes are there until they end).
    auto rows = CAIRN_TRY(s.Query(
        "SELECT * FROM ("
        "SELECT b.segment_id, s.pin_requestid, s.aggregate_id, a.piece_cid, s.piece_offset, "
        "b.data_offset, b.length, "
        "EXISTS (SELECT 1 FROM pins p WHERE p.requestid = s.pin_requestid) "
        "FROM fil_segment_blocks b "
        "JOIN fil_segments s ON s.id = b.segment_id "
        "JOIN fil_aggregates a ON a.id = s.aggregate_id "
        "WHERE b.multihash = ?1 "
        "UNION ALL "
        "SELECT b.segment_id, s.pin_requestid, h.aggregate_id, a.piece_cid, h.piece_offset, "
        "b.data_offset, b.length, "
        "EXISTS (SELECT 1 FROM pins p WHERE p.requestid = s.pin_requestid) "
        "FROM fil_segment_blocks b "
        "JOIN fil_segments s ON s.id = b.segment_id "
        "JOIN fil_segment_history h ON h.segment_id = s.id "
        "JOIN fil_aggregates a ON a.id = h.aggregate_id "
        "WHERE b.multihash = ?1) ORDER BY 1, 3 LIMIT ?2",
        params));
    for (const auto& row : rows) {
      ColdLocation l;
      l.segment_id = row.Int(0);
      l.pin_requestid = row.Text(1);
      l.aggregate_id = row.Int(2);
      l.piece_cid = row.Text(3);
      l.piece_offset = static_cast<uint64_t>(row.Int(4));
      l.block_offset = static_cast<uint64_t>(row.Int(5));
      l.block_length = static_cast<uint64_t>(row.Int(6));
      l.pin_exists = row.Int(7) != 0;
      std::array<SqlValue, 1> agg = {l.aggregate_id};
      auto deals = CAIRN_TRY(
          s.Query("SELECT provider FROM fil_deals WHERE aggregate_id = ? AND state = 'active' "
                  "ORDER BY created_at, uuid",
                  agg));
      for (const auto& d : deals) l.providers.push_back(d.Text(0));
      out.push_back(std::move(l));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<SegmentRecord>> DealStore::UnaggregatedSegments(size_t limit) {
  std::array<SqlValue, 1> params = {static_cast<int64_t>(limit)};
  auto rows = CAIRN_TRY(db_.ReadQuery(std::string(kSegmentWithPolicy) +
                                          "WHERE s.aggregate_id IS NULL "
                                          "ORDER BY s.created_at, s.id LIMIT ?",
                                      params));
  std::vector<SegmentRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(CAIRN_TRY(SegmentWithPolicyFromRow(row)));
  return out;
}

Result<int64_t> DealStore::CreateAggregate(
    const AggregateRecord& agg, std::span<const std::pair<int64_t, uint64_t>> placements) {
  int64_t id = 0;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 4> params = {agg.piece_cid, static_cast<int64_t>(agg.padded_size),
                                      static_cast<int64_t>(agg.payload_size), clock_.WallMicros()};
    auto inserted = s.Exec(
        "INSERT INTO fil_aggregates (piece_cid, padded_size, payload_size, created_at) "
        "VALUES (?, ?, ?, ?)",
        params);
    if (!inserted) {
      return Err(inserted.error().WithContext("metadata: aggregate " + agg.piece_cid + ": "));
    }
    std::array<SqlValue, 1> key = {agg.piece_cid};
    auto rows = CAIRN_TRY(s.Query("SELECT id FROM fil_aggregates WHERE piece_cid = ?", key));
    id = rows.at(0).Int(0);
    for (const auto& [segment_id, offset] : placements) {
      std::array<SqlValue, 3> p = {id, static_cast<int64_t>(offset), segment_id};
      int64_t changed =
          CAIRN_TRY(s.Exec("UPDATE fil_segments SET aggregate_id = ?, piece_offset = ? "
                           "WHERE id = ? AND aggregate_id IS NULL",
                           p));
      if (changed != 1) {
        return Err(ErrorCode::kInvalidArgument,
                   "metadata: segment " + std::to_string(segment_id) +
                       " does not exist or is already in an aggregate");
      }
    }
    return AppendAggregateEvent(s, id, kEventAggregated,
                                {{"piece_cid", agg.piece_cid},
                                 {"padded_size", std::to_string(agg.padded_size)},
                                 {"segments", std::to_string(placements.size())}},
                                clock_.WallMicros());
  }));
  return id;
}

Result<AggregateRecord> DealStore::GetAggregate(int64_t id) {
  std::array<SqlValue, 1> params = {id};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT " + std::string(kAggregateColumns) + " FROM fil_aggregates WHERE id = ?", params));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound, "metadata: no aggregate " + std::to_string(id));
  }
  return AggregateFromRow(rows[0]);
}

Result<std::vector<AggregateRecord>> DealStore::Aggregates() {
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT " + std::string(kAggregateColumns) + " FROM fil_aggregates ORDER BY id", {}));
  std::vector<AggregateRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(AggregateFromRow(row));
  return out;
}

Result<std::vector<SegmentRecord>> DealStore::Segments(int64_t aggregate_id) {
  std::array<SqlValue, 1> params = {aggregate_id};
  // The segments in it now, and those a re-aggregation moved out (at the offset they had in it):
  // the aggregate's bytes and proofs are made of all of them.
  auto rows = CAIRN_TRY(db_.ReadQuery(std::string(kSegmentWithPolicy) +
                                          "WHERE s.aggregate_id = ?1 "
                                          "UNION ALL " +
                                          std::string(kHistoryWithPolicy) +
                                          "WHERE h.aggregate_id = ?1 "
                                          "ORDER BY 8",
                                      params));
  std::vector<SegmentRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(CAIRN_TRY(SegmentWithPolicyFromRow(row)));
  return out;
}

Result<std::optional<SegmentRecord>> DealStore::SegmentAtOffset(int64_t aggregate_id,
                                                                uint64_t offset) {
  std::array<SqlValue, 2> params = {aggregate_id, static_cast<int64_t>(offset)};
  // Each side reads one entry of its (aggregate_id, piece_offset) index.
  auto rows = CAIRN_TRY(db_.ReadQuery("SELECT * FROM (" + std::string(kSegmentWithPolicy) +
                                          "WHERE s.aggregate_id = ?1 AND s.piece_offset <= ?2 "
                                          "ORDER BY s.piece_offset DESC LIMIT 1) "
                                          "UNION ALL SELECT * FROM (" +
                                          std::string(kHistoryWithPolicy) +
                                          "WHERE h.aggregate_id = ?1 AND h.piece_offset <= ?2 "
                                          "ORDER BY h.piece_offset DESC LIMIT 1)",
                                      params));
  std::optional<SegmentRecord> best;
  for (const auto& row : rows) {
    SegmentRecord s = CAIRN_TRY(SegmentWithPolicyFromRow(row));
    if (!best || s.piece_offset > best->piece_offset) best = std::move(s);
  }
  return best;
}

Result<AggregateLiveness> DealStore::LivenessOf(int64_t aggregate_id) {
  AggregateLiveness out;
  std::array<SqlValue, 1> params = {aggregate_id};
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    out = {};
    auto sums = CAIRN_TRY(
        s.Query("SELECT live_bytes, all_bytes FROM fil_aggregates WHERE id = ?1", params));
    if (sums.empty()) return Ok();
    out.live_bytes = static_cast<uint64_t>(sums[0].Int(0));
    out.all_bytes = static_cast<uint64_t>(sums[0].Int(1));
    // Segments first (CROSS JOIN keeps that order): the aggregate's, then their pins.
    auto live = CAIRN_TRY(s.Query(
        "SELECT * FROM (SELECT s.id, s.pin_requestid, s.root_cid, s.car_size, s.comm_p, "
        "s.padded_size, s.aggregate_id, s.piece_offset, s.created_at, " +
            std::string(kShardColumns) + "1, " + std::string(kPolicyColumns) +
            " FROM fil_segments s CROSS JOIN pins p ON p.requestid = s.pin_requestid "
            "WHERE s.aggregate_id = ?1 LIMIT 1) "
            "UNION ALL SELECT * FROM (SELECT s.id, s.pin_requestid, s.root_cid, s.car_size, "
            "s.comm_p, s.padded_size, h.aggregate_id, h.piece_offset, s.created_at, " +
            std::string(kShardColumns) + "1, " + std::string(kPolicyColumns) +
            " FROM fil_segment_history h CROSS JOIN fil_segments s ON s.id = h.segment_id "
            "CROSS JOIN pins p ON p.requestid = s.pin_requestid "
            "WHERE h.aggregate_id = ?1 LIMIT 1) LIMIT 1",
        params));
    if (!live.empty()) out.live_sample = CAIRN_TRY(SegmentWithPolicyFromRow(live[0]));
    return Ok();
  }));
  return out;
}

Result<void> DealStore::SetAggregateShown(int64_t aggregate_id, const std::string& shown) {
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {shown, aggregate_id};
    CAIRN_TRY(s.Exec("UPDATE fil_aggregates SET shown = ? WHERE id = ?", params));
    return Ok();
  });
}

Result<std::vector<SegmentRecord>> DealStore::SegmentsOfPin(std::string_view requestid) {
  std::array<SqlValue, 1> params = {std::string(requestid)};
  auto rows =
      CAIRN_TRY(db_.ReadQuery("SELECT " + std::string(kSegmentColumns) +
                                  " FROM fil_segments WHERE pin_requestid = ? ORDER BY shard",
                              params));
  std::vector<SegmentRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(SegmentFromRow(row));
  return out;
}

Result<size_t> DealStore::Reaggregate(int64_t aggregate_id) {
  size_t moved = 0;
  const int64_t now = clock_.WallMicros();
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    moved = 0;
    std::array<SqlValue, 1> key = {aggregate_id};
    auto agg = CAIRN_TRY(s.Query("SELECT superseded_at FROM fil_aggregates WHERE id = ?", key));
    if (agg.empty()) {
      return Err(ErrorCode::kNotFound, "metadata: no aggregate " + std::to_string(aggregate_id));
    }
    if (!agg[0].IsNull(0)) return Ok();  // done already
    std::array<SqlValue, 2> history = {now, aggregate_id};
    CAIRN_TRY(s.Exec(
        "INSERT INTO fil_segment_history (segment_id, aggregate_id, piece_offset, superseded_at) "
        "SELECT s.id, s.aggregate_id, s.piece_offset, ? FROM fil_segments s "
        "WHERE s.aggregate_id = ? "
        "AND EXISTS (SELECT 1 FROM pins p WHERE p.requestid = s.pin_requestid)",
        history));
    moved = static_cast<size_t>(CAIRN_TRY(
        s.Exec("UPDATE fil_segments SET aggregate_id = NULL, piece_offset = NULL "
               "WHERE aggregate_id = ? "
               "AND EXISTS (SELECT 1 FROM pins p WHERE p.requestid = fil_segments.pin_requestid)",
               key)));
    std::array<SqlValue, 2> mark = {now, aggregate_id};
    CAIRN_TRY(s.Exec("UPDATE fil_aggregates SET superseded_at = ? WHERE id = ?", mark));
    return AppendAggregateEvent(s, aggregate_id, kEventReaggregated,
                                {{"segments", std::to_string(moved)}}, now);
  }));
  return moved;
}

Result<std::vector<PastPlacement>> DealStore::PastPlacements(int64_t segment_id) {
  std::array<SqlValue, 1> params = {segment_id};
  auto rows = CAIRN_TRY(
      db_.ReadQuery("SELECT aggregate_id, piece_offset, superseded_at FROM fil_segment_history "
                    "WHERE segment_id = ? ORDER BY superseded_at, aggregate_id",
                    params));
  std::vector<PastPlacement> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back({row.Int(0), static_cast<uint64_t>(row.Int(1)), row.Int(2)});
  }
  return out;
}

Result<void> DealStore::CreateDeal(const DealRecord& d) {
  int64_t now = clock_.WallMicros();
  std::array<SqlValue, 18> params = {d.uuid,
                                     d.aggregate_id,
                                     d.provider,
                                     std::string(DealStateName(d.state)),
                                     d.signed_proposal,
                                     d.proposal_cid,
                                     d.price_per_epoch,
                                     d.provider_collateral,
                                     d.client_collateral,
                                     d.start_epoch,
                                     d.end_epoch,
                                     d.deal_id ? SqlValue(*d.deal_id) : SqlValue(nullptr),
                                     d.publish_cid,
                                     d.token_hash,
                                     d.provider_message,
                                     d.last_error,
                                     now,
                                     now};
  return db_.Write([&](SqlSession& s) -> Result<void> {
    auto r = s.Exec("INSERT INTO fil_deals (" + std::string(kDealColumns) +
                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params);
    if (!r) return Err(r.error().WithContext("metadata: deal " + d.uuid + ": "));
    CAIRN_TRY(AddProviderEvent(s, d.provider, ProviderEvent::kProposed, 0, now));
    if (d.purpose == "renewal" || d.purpose == "repair") {
      CAIRN_TRY(AppendAggregateEvent(s, d.aggregate_id,
                                     d.purpose == "renewal" ? kEventRenewed : kEventRepaired,
                                     DealEventDetail(d), now));
    }
    return AppendAggregateEvent(s, d.aggregate_id, DealEventKind(d.state), DealEventDetail(d), now);
  });
}

Result<void> DealStore::UpdateDeal(const DealRecord& d, std::optional<ProviderEvent> event) {
  const int64_t now = clock_.WallMicros();
  std::array<SqlValue, 7> params = {std::string(DealStateName(d.state)),
                                    d.deal_id ? SqlValue(*d.deal_id) : SqlValue(nullptr),
                                    d.publish_cid,
                                    d.provider_message,
                                    d.last_error,
                                    now,
                                    d.uuid};
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> key = {d.uuid};
    auto before =
        CAIRN_TRY(s.Query("SELECT state, aggregate_id FROM fil_deals WHERE uuid = ?", key));
    if (before.empty()) return Err(ErrorCode::kNotFound, "metadata: no deal " + d.uuid);
    int64_t changed =
        CAIRN_TRY(s.Exec("UPDATE fil_deals SET state = ?, deal_id = ?, publish_cid = ?, "
                         "provider_message = ?, last_error = ?, updated_at = ? WHERE uuid = ?",
                         params));
    if (changed == 0) return Err(ErrorCode::kNotFound, "metadata: no deal " + d.uuid);
    if (event) CAIRN_TRY(AddProviderEvent(s, d.provider, *event, now - d.created_us, now));
    if (before[0].Text(0) == DealStateName(d.state)) return Ok();
    return AppendAggregateEvent(s, before[0].Int(1), DealEventKind(d.state), DealEventDetail(d),
                                now);
  });
}

Result<DealRecord> DealStore::GetDeal(std::string_view uuid) {
  std::array<SqlValue, 1> params = {std::string(uuid)};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT " + std::string(kDealColumns) + " FROM fil_deals WHERE uuid = ?", params));
  if (rows.empty()) return Err(ErrorCode::kNotFound, "metadata: no deal " + std::string(uuid));
  return DealFromRow(rows[0]);
}

Result<std::vector<DealRecord>> DealStore::DealsInStates(std::span<const DealState> states) {
  if (states.empty()) return std::vector<DealRecord>{};
  std::string sql = "SELECT " + std::string(kDealColumns) + " FROM fil_deals WHERE state IN (";
  std::vector<SqlValue> params;
  for (size_t i = 0; i < states.size(); ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(std::string(DealStateName(states[i])));
  }
  sql += ") ORDER BY created_at, uuid";
  auto rows = CAIRN_TRY(db_.ReadQuery(sql, params));
  return DealsFromRows(rows);
}

Result<std::vector<DealRecord>> DealStore::DealsOfAggregate(int64_t aggregate_id) {
  std::array<SqlValue, 1> params = {aggregate_id};
  auto rows = CAIRN_TRY(db_.ReadQuery("SELECT " + std::string(kDealColumns) +
                                          " FROM fil_deals WHERE aggregate_id = ? "
                                          "ORDER BY created_at, uuid",
                                      params));
  return DealsFromRows(rows);
}

Result<std::map<int64_t, std::vector<DealRecord>>> DealStore::DealsByAggregate() {
  auto rows = CAIRN_TRY(db_.ReadQuery("SELECT " + std::string(kDealColumns) +
                                          " FROM fil_deals ORDER BY aggregate_id, created_at, uuid",
                                      {}));
  std::map<int64_t, std::vector<DealRecord>> out;
  for (auto& d : CAIRN_TRY(DealsFromRows(rows))) {
    const int64_t id = d.aggregate_id;
    out[id].push_back(std::move(d));
  }
  return out;
}

Result<std::vector<DealRecord>> DealStore::ActiveDealsAfter(std::string_view after_uuid,
                                                            size_t limit) {
  std::array<SqlValue, 3> params = {std::string(DealStateName(DealState::kActive)),
                                    std::string(after_uuid), static_cast<int64_t>(limit)};
  auto rows = CAIRN_TRY(db_.ReadQuery("SELECT " + std::string(kDealColumns) +
                                          " FROM fil_deals WHERE state = ? AND uuid > ? "
                                          "ORDER BY uuid LIMIT ?",
                                      params));
  return DealsFromRows(rows);
}

Result<bool> DealStore::FailActiveDeal(std::string_view uuid, const std::string& error) {
  const int64_t now = clock_.WallMicros();
  bool failed = false;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> key = {std::string(uuid)};
    auto rows = CAIRN_TRY(
        s.Query("SELECT " + std::string(kDealColumns) + " FROM fil_deals WHERE uuid = ?", key));
    if (rows.empty()) return Err(ErrorCode::kNotFound, "metadata: no deal " + std::string(uuid));
    DealRecord d = CAIRN_TRY(DealFromRow(rows[0]));
    if (d.state != DealState::kActive) return Ok();
    d.state = DealState::kFailed;
    d.last_error = error;
    std::array<SqlValue, 4> params = {std::string(DealStateName(d.state)), d.last_error, now,
                                      d.uuid};
    CAIRN_TRY(s.Exec(
        "UPDATE fil_deals SET state = ?, last_error = ?, updated_at = ? WHERE uuid = ?", params));
    CAIRN_TRY(AddProviderEvent(s, d.provider, ProviderEvent::kRetrievalFailed, 0, now));
    CAIRN_TRY(
        AppendAggregateEvent(s, d.aggregate_id, DealEventKind(d.state), DealEventDetail(d), now));
    failed = true;
    return Ok();
  }));
  return failed;
}

Result<DealStore::ColdBytes> DealStore::ColdBytesHeld() {
  ColdBytes out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    auto payload = CAIRN_TRY(
        s.Query("SELECT COALESCE(SUM(car_size), 0) FROM fil_segments WHERE aggregate_id IN "
                "(SELECT aggregate_id FROM fil_deals WHERE state = 'active')"));
    auto stored = CAIRN_TRY(
        s.Query("SELECT COALESCE(SUM(a.padded_size), 0) FROM fil_deals d JOIN fil_aggregates a "
                "ON a.id = d.aggregate_id WHERE d.state = 'active'"));
    out.payload = static_cast<uint64_t>(payload.at(0).Int(0));
    out.stored = static_cast<uint64_t>(stored.at(0).Int(0));
    return Ok();
  }));
  return out;
}

// ---- The hot tier as a cache ----------------------------------------------------------------

Result<std::vector<int64_t>> DealStore::SegmentsHolding(ByteSpan multihash) {
  std::array<SqlValue, 1> params = {Bytes(multihash.begin(), multihash.end())};
  auto rows = CAIRN_TRY(
      db_.ReadQuery("SELECT segment_id FROM fil_segment_blocks WHERE multihash = ?", params));
  std::vector<int64_t> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(row.Int(0));
  return out;
}

Result<std::vector<DealStore::SegmentHotState>> DealStore::SegmentsAfter(int64_t after,
                                                                         size_t limit) {
  std::array<SqlValue, 2> params = {after, static_cast<int64_t>(limit)};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT s.id, s.evicted_at IS NOT NULL FROM fil_segments s "
      "JOIN pins p ON p.requestid = s.pin_requestid WHERE s.id > ? ORDER BY s.id LIMIT ?",
      params));
  std::vector<SegmentHotState> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back({row.Int(0), row.Int(1) != 0});
  return out;
}

Result<std::vector<DealStore::EvictionFacts>> DealStore::EvictionFactsOf(
    std::span<const int64_t> segment_ids) {
  std::vector<EvictionFacts> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    out.clear();
    for (int64_t id : segment_ids) {
      std::array<SqlValue, 1> key = {id};
      auto rows = CAIRN_TRY(s.Query(
          "SELECT s.id, s.pin_requestid, p.requestid IS NOT NULL, COALESCE(p.status, ''), "
          "COALESCE(p.account_id, 0), json_extract(p.meta, '$.hot'), "
          "COALESCE(json_extract(p.meta, '$.\"filecoin.replicas\"'), "
          "(SELECT json_extract(a.policy, '$.\"filecoin.replicas\"') FROM accounts a "
          " WHERE a.id = p.account_id)), "
          // The fewest over the pin's shards: a pin is as safe as its least safe shard.
          "(SELECT MIN((SELECT COUNT(DISTINCT d.provider) FROM fil_deals d "
          "             WHERE d.aggregate_id = o.aggregate_id AND d.state = 'active')) "
          " FROM fil_segments o WHERE o.pin_requestid = s.pin_requestid), "
          "s.evicted_at IS NOT NULL "
          "FROM fil_segments s LEFT JOIN pins p ON p.requestid = s.pin_requestid WHERE s.id = ?",
          key));
      if (rows.empty()) continue;
      const SqlRow& row = rows[0];
      EvictionFacts f;
      f.segment_id = row.Int(0);
      f.pin_requestid = row.Text(1);
      f.pin_exists = row.Int(2) != 0;
      f.pinned = row.Text(3) == "pinned";
      f.account_id = row.Int(4);
      if (!row.IsNull(5)) f.hot_meta = row.Text(5);
      if (!row.IsNull(6)) f.replicas_meta = row.Text(6);
      f.active_deals = static_cast<int>(row.Int(7));
      f.evicted = row.Int(8) != 0;
      out.push_back(std::move(f));
    }
    return Ok();
  }));
  return out;
}

Result<void> DealStore::MarkEvicted(int64_t segment_id, uint64_t blocks, uint64_t bytes) {
  const int64_t now = clock_.WallMicros();
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> key = {segment_id};
    auto rows = CAIRN_TRY(s.Query("SELECT pin_requestid FROM fil_segments WHERE id = ?", key));
    if (rows.empty()) {
      return Err(ErrorCode::kNotFound, "metadata: no segment " + std::to_string(segment_id));
    }
    const std::string pin = rows[0].Text(0);
    std::array<SqlValue, 2> mark = {now, segment_id};
    CAIRN_TRY(
        s.Exec("UPDATE fil_segments SET evicted_at = COALESCE(evicted_at, ?) WHERE id = ?", mark));
    std::array<SqlValue, 1> pin_key = {pin};
    CAIRN_TRY(
        s.Exec("UPDATE pins SET info = json_set(info, '$.hot', 'cold-only') WHERE requestid = ?",
               pin_key));
    return AppendPinEvent(s, pin, kEventEvicted,
                          {{"blocks", std::to_string(blocks)}, {"bytes", std::to_string(bytes)}},
                          now);
  });
}

Result<bool> DealStore::MarkCached(int64_t segment_id) {
  const int64_t now = clock_.WallMicros();
  bool changed = false;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    changed = false;
    std::array<SqlValue, 1> key = {segment_id};
    auto rows = CAIRN_TRY(s.Query(
        "SELECT pin_requestid FROM fil_segments WHERE id = ? AND evicted_at IS NOT NULL", key));
    if (rows.empty()) return Ok();
    const std::string pin = rows[0].Text(0);
    CAIRN_TRY(s.Exec("UPDATE fil_segments SET evicted_at = NULL WHERE id = ?", key));
    changed = true;
    // The pin is cached again once none of its shards is evicted.
    std::array<SqlValue, 1> pin_key = {pin};
    if (!CAIRN_TRY(s.Query("SELECT 1 FROM fil_segments WHERE pin_requestid = ? "
                           "AND evicted_at IS NOT NULL LIMIT 1",
                           pin_key))
             .empty()) {
      return Ok();
    }
    CAIRN_TRY(s.Exec("UPDATE pins SET info = json_set(info, '$.hot', 'cached') WHERE requestid = ?",
                     pin_key));
    return AppendPinEvent(s, pin, kEventRewarmed, {}, now);
  }));
  return changed;
}

Result<void> DealStore::ForEachEvictedBlock(const std::function<void(ByteSpan)>& fn) {
  // A page of evicted segments at a time, then each one's blocks through the segment index:
  // memory stays bounded by the largest segment, not by everything evicted.
  int64_t after = 0;
  for (;;) {
    std::array<SqlValue, 1> page = {after};
    auto segments = CAIRN_TRY(db_.ReadQuery(
        // Every shard of a pin with an evicted shard: the pin's DAG cannot be walked from its
        // root through an evicted shard to the blocks of its shards still hot.
        "SELECT s.id FROM fil_segments s JOIN pins p ON p.requestid = s.pin_requestid "
        "WHERE s.pin_requestid IN (SELECT e.pin_requestid FROM fil_segments e "
        "                          WHERE e.evicted_at IS NOT NULL) "
        "AND s.id > ? ORDER BY s.id LIMIT 256",
        page));
    if (segments.empty()) return Ok();
    for (const auto& seg : segments) {
      after = seg.Int(0);
      std::array<SqlValue, 1> key = {after};
      auto blocks = CAIRN_TRY(
          db_.ReadQuery("SELECT multihash FROM fil_segment_blocks WHERE segment_id = ?", key));
      for (const auto& row : blocks) {
        const Bytes mh = row.Blob(0);
        fn(mh);
      }
    }
  }
}

Result<std::vector<DealStore::ColdOnlyUsage>> DealStore::ColdOnlyByAccount() {
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT p.account_id, COUNT(DISTINCT s.pin_requestid), COALESCE(SUM(s.car_size), 0) "
      "FROM fil_segments s "
      "JOIN pins p ON p.requestid = s.pin_requestid WHERE s.evicted_at IS NOT NULL "
      "GROUP BY p.account_id ORDER BY p.account_id",
      {}));
  std::vector<ColdOnlyUsage> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(
        {row.Int(0), static_cast<uint64_t>(row.Int(1)), static_cast<uint64_t>(row.Int(2))});
  }
  return out;
}

}  // namespace cairn::metadata
