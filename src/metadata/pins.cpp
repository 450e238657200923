#include "metadata/pins.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <future>
#include <limits>

#include "metadata/events.hpp"
#include "metadata/internal/ids.hpp"
#include "metadata/internal/json_map.hpp"

namespace cairn::metadata {

namespace json = boost::json;
using internal::DecodeMap;
using internal::EncodeMap;
using multiformats::Cid;

namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxOrigins = 20;
constexpr size_t kMaxMetaKeys = 1000;
constexpr size_t kMaxFilterCids = 10;
constexpr int kMaxLimit = 1000;

constexpr std::string_view kPinColumns =
    "requestid, account_id, cid_text, cid, name, origins, meta, status, created, updated_at, "
    "info, dag_size";

std::string EncodeStrings(const std::vector<std::string>& list) {
  json::array a;
  for (const std::string& s : list) a.emplace_back(s);
  return json::serialize(a);
}

Result<std::vector<std::string>> DecodeStrings(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) {
    return Err(ErrorCode::kCorruption,
               "metadata: stored " + std::string(what) + " is not a JSON array");
  }
  std::vector<std::string> out;
  for (const json::value& e : v.as_array()) {
    if (!e.is_string()) {
      return Err(ErrorCode::kCorruption,
                 "metadata: stored " + std::string(what) + " has a non-string");
    }
    out.emplace_back(e.as_string());
  }
  return out;
}

Result<PinRecord> PinFromRow(const SqlRow& row) {
  PinRecord p;
  p.requestid = row.Text(0);
  p.account_id = row.Int(1);
  p.cid_text = row.Text(2);
  auto cid = Cid::FromBytes(row.Blob(3));
  if (!cid) {
    return Err(ErrorCode::kCorruption, "metadata: pin " + p.requestid + " has a bad stored CID");
  }
  p.cid = *cid;
  if (!row.IsNull(4)) p.name = row.Text(4);
  p.origins = CAIRN_TRY(DecodeStrings(row.Text(5), "origins"));
  p.meta = CAIRN_TRY(DecodeMap(row.Text(6), "meta"));
  auto status = PinStatusFromName(row.Text(7));
  if (!status) {
    return Err(ErrorCode::kCorruption, "metadata: pin " + p.requestid + " has a bad status");
  }
  p.status = *status;
  p.created_us = row.Int(8);
  p.updated_us = row.Int(9);
  p.info = CAIRN_TRY(DecodeMap(row.Text(10), "info"));
  if (!row.IsNull(11)) p.dag_size = row.Int(11);
  return p;
}

Result<Cid> ValidateNewPin(const NewPin& pin) {
  auto cid = Cid::Parse(pin.cid);
  if (!cid) {
    return Err(ErrorCode::kInvalidArgument,
               "metadata: pin cid '" + pin.cid + "' is invalid: " + cid.error().message());
  }
  if (pin.name && pin.name->size() > kMaxNameBytes) {
    return Err(ErrorCode::kInvalidArgument, "metadata: pin name is longer than 255 bytes");
  }
  if (pin.origins.size() > kMaxOrigins) {
    return Err(ErrorCode::kInvalidArgument, "metadata: pin has more than 20 origins");
  }
  if (pin.meta.size() > kMaxMetaKeys) {
    return Err(ErrorCode::kInvalidArgument, "metadata: pin meta has more than 1000 keys");
  }
  return cid->ToV1();
}

// The smallest `created` a new pin may take: now, or one past the newest pin if the clock has
// not moved past it (same microsecond, clock stepped back). Runs inside the write transaction,
// which serializes it against every other writer.
Result<int64_t> NextCreated(SqlSession& s, int64_t now) {
  auto rows = CAIRN_TRY(s.Query("SELECT MAX(created) FROM pins"));
  if (rows.empty() || rows[0].IsNull(0)) return now;
  return std::max(now, rows[0].Int(0) + 1);
}

Result<void> InsertPin(SqlSession& s, const PinRecord& p) {
  std::array<SqlValue, 13> params = {
      p.requestid,
      p.account_id,
      p.cid_text,
      p.cid.ToBytes(),
      p.name ? SqlValue(*p.name) : SqlValue(nullptr),
      p.name ? SqlValue(FoldAscii(*p.name)) : SqlValue(nullptr),
      EncodeStrings(p.origins),
      EncodeMap(p.meta),
      std::string(PinStatusName(p.status)),
      p.created_us,
      p.updated_us,
      EncodeMap(p.info),
      p.dag_size ? SqlValue(*p.dag_size) : SqlValue(nullptr),
  };
  auto r = s.Exec(
      "INSERT INTO pins (requestid, account_id, cid_text, cid, name, name_fold, origins, meta, "
      "status, created, updated_at, info, dag_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params);
  if (!r) {
    if (r.error().code() == ErrorCode::kInvalidArgument) {
      // The only foreign key is the account.
      return Err(ErrorCode::kNotFound,
                 "metadata: no account with id " + std::to_string(p.account_id));
    }
    return Err(r.error());
  }
  return Ok();
}

PinRecord NewRecord(int64_t account_id, const NewPin& pin, const Cid& cid, int64_t created,
                    int64_t now) {
  PinRecord p;
  p.requestid = internal::NewUuidV4();
  p.account_id = account_id;
  p.cid_text = pin.cid;
  p.cid = cid;
  p.name = pin.name;
  p.origins = pin.origins;
  p.meta = pin.meta;
  p.status = PinStatus::kQueued;
  p.created_us = created;
  p.updated_us = now;
  return p;
}

// WHERE conditions (or a whole statement) and their parameters.
struct Query {
  std::string where;
  std::vector<SqlValue> params;
};

constexpr std::array<PinStatus, 4> kAllStatuses = {PinStatus::kQueued, PinStatus::kPinning,
                                                   PinStatus::kPinned, PinStatus::kFailed};

std::vector<PinStatus> UniqueStatuses(const std::vector<PinStatus>& in) {
  std::vector<PinStatus> out = in;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// `kPinColumns` with each column qualified by `table`.
std::string QualifiedPinColumns(std::string_view table) {
  std::string out;
  std::string_view cols = kPinColumns;
  while (!cols.empty()) {
    size_t comma = cols.find(',');
    std::string_view col = cols.substr(0, comma);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    out += (out.empty() ? "" : ", ") + std::string(table) + "." + std::string(col);
    cols = comma == std::string_view::npos ? std::string_view() : cols.substr(comma + 1);
  }
  return out;
}

// The name condition on the pins row whose columns are prefixed by `p` ("" or "p.").
void AddNameCondition(SqlDialect dialect, const PinFilter& f, std::string_view p, Query& q) {
  if (!f.name) return;
  const std::string name = std::string(p) + "name";
  const std::string name_fold = std::string(p) + "name_fold";
  switch (f.match) {
    case NameMatch::kExact:
      q.where += " AND " + name + " = ?";
      q.params.emplace_back(*f.name);
      break;
    case NameMatch::kIexact:
      q.where += " AND " + name_fold + " = ?";
      q.params.emplace_back(FoldAscii(*f.name));
      break;
    case NameMatch::kPartial:
      q.where += " AND " + name + " IS NOT NULL AND " + SqlContains(dialect, name, "?");
      q.params.emplace_back(*f.name);
      break;
    case NameMatch::kIpartial:
      q.where += " AND " + name_fold + " IS NOT NULL AND " + SqlContains(dialect, name_fold, "?");
      q.params.emplace_back(FoldAscii(*f.name));
      break;
  }
}

// An SQL condition true when the pin whose (account_id, status, created) are the columns of
// `row` ("pins" or the alias of a pin_meta row) has the meta pair given by the next two `?`
// (key, value): one primary-key lookup in pin_meta.
std::string MetaPairHolds(std::string_view row) {
  const std::string r(row);
  return "EXISTS (SELECT 1 FROM pin_meta AS mk WHERE mk.account_id = " + r +
         ".account_id AND mk.key = ? AND mk.value = ? AND mk.status = " + r +
         ".status AND mk.created = " + r + ".created)";
}

Result<void> ValidateFilter(const PinFilter& f) {
  if (f.cids.size() > kMaxFilterCids) {
    return Err(ErrorCode::kInvalidArgument, "metadata: at most 10 CIDs per filter");
  }
  return Ok();
}

// Whether List and Count walk pin_meta (the rows of one of the filter's meta pairs, newest
// first) rather than the pins indexes. A CID filter (pins of at most 10 CIDs) and an exact name
// (pins_account_name_created) are served from pins, checking the meta pairs by lookups.
bool DrivenByMeta(const PinFilter& f) {
  return !f.meta.empty() && f.cids.empty() && !(f.name && f.match == NameMatch::kExact);
}

using MetaPair = std::pair<std::string, std::string>;

// The meta pair to walk: the one with the fewest pin_meta_buckets rows (≈ its pins / 1024; a
// count stops at the best so far, so this reads at most that many rows per pair). nullopt when a
// pair has never been stored for the account: nothing matches.
Result<std::optional<MetaPair>> ChooseMetaDriver(SqlSession& s, int64_t account_id,
                                                 const StringMap& meta) {
  if (meta.size() == 1) return std::optional<MetaPair>(*meta.begin());
  std::optional<MetaPair> best;
  int64_t best_buckets = 0;
  for (const auto& [key, value] : meta) {
    std::vector<SqlValue> p = {account_id, key, value};
    std::string sql =
        "SELECT COUNT(*) FROM pin_meta_buckets WHERE account_id = ? AND key = ? AND value = ?";
    if (best) {
      sql =
          "SELECT COUNT(*) FROM (SELECT 1 FROM pin_meta_buckets WHERE account_id = ? AND "
          "key = ? AND value = ? LIMIT ?) AS b";
      p.emplace_back(best_buckets);
    }
    auto rows = CAIRN_TRY(s.Query(sql, p));
    const int64_t buckets = rows.at(0).Int(0);
    if (buckets == 0) return std::optional<MetaPair>();
    if (!best || buckets < best_buckets) {
      best = MetaPair(key, value);
      best_buckets = buckets;
    }
  }
  return best;
}

// WHERE conditions on pins for List and Count served from pins, without the status condition.
Query PinsConditions(SqlDialect dialect, int64_t account_id, const PinFilter& f) {
  Query q;
  q.where = "account_id = ?";
  q.params.emplace_back(account_id);
  if (!f.cids.empty()) {
    q.where += " AND cid IN (";
    for (size_t i = 0; i < f.cids.size(); ++i) {
      q.where += i ? ", ?" : "?";
      q.params.emplace_back(f.cids[i].ToV1().ToBytes());
    }
    q.where += ")";
  }
  AddNameCondition(dialect, f, "", q);
  if (f.before_us) {
    q.where += " AND created < ?";
    q.params.emplace_back(*f.before_us);
  }
  if (f.after_us) {
    q.where += " AND created > ?";
    q.params.emplace_back(*f.after_us);
  }
  for (const auto& [k, v] : f.meta) {
    q.where += " AND " + MetaPairHolds("pins");
    q.params.emplace_back(k);
    q.params.emplace_back(v);
  }
  return q;
}

// WHERE conditions on the pin_meta rows `m` of the driving pair for List and Count served from
// pin_meta, without the status and name conditions (the name needs the pin: see callers).
Query MetaConditions(int64_t account_id, const PinFilter& f, const MetaPair& driver) {
  Query q;
  q.where = "m.account_id = ? AND m.key = ? AND m.value = ?";
  q.params = {account_id, driver.first, driver.second};
  if (f.before_us) {
    q.where += " AND m.created < ?";
    q.params.emplace_back(*f.before_us);
  }
  if (f.after_us) {
    q.where += " AND m.created > ?";
    q.params.emplace_back(*f.after_us);
  }
  for (const auto& [k, v] : f.meta) {
    if (k == driver.first) continue;  // a map: the driver's key appears once
    q.where += " AND " + MetaPairHolds("m");
    q.params.emplace_back(k);
    q.params.emplace_back(v);
  }
  return q;
}

// Wraps per-status branches (each newest first and limited) into one statement: a UNION ALL of
// the branches, merged newest first and limited again. Every branch reads at most `limit` index
// entries that match, where one `status IN (...)` scan would either sort every match or walk
// past rows of other statuses.
Query MergeStatusBranches(const std::vector<Query>& branches, int limit) {
  if (branches.size() == 1) return branches[0];
  Query q;
  q.where = "SELECT " + std::string(kPinColumns) + " FROM (";
  for (size_t i = 0; i < branches.size(); ++i) {
    if (i) q.where += " UNION ALL ";
    q.where += "SELECT * FROM (" + branches[i].where + ") AS s" + std::to_string(i);
    q.params.insert(q.params.end(), branches[i].params.begin(), branches[i].params.end());
  }
  q.where += ") AS merged ORDER BY created DESC LIMIT ?";
  q.params.emplace_back(static_cast<int64_t>(limit));
  return q;
}

// The List statement when served from pins: one branch per status (or one without a status
// condition), each a newest-first range scan of the matching pins index.
Query PinsListQuery(SqlDialect dialect, int64_t account_id, const PinFilter& f) {
  Query base = PinsConditions(dialect, account_id, f);
  // With a CID filter the matches are few (pins of at most 10 CIDs in one account): find them
  // through pins_account_cid_created and sort them. The unary plus stops the planner from
  // walking the account's whole created index instead just because it is already in order.
  const std::string order = f.cids.empty() ? " ORDER BY created DESC" : " ORDER BY +created DESC";
  std::vector<PinStatus> statuses = UniqueStatuses(f.statuses);
  std::vector<Query> branches;
  auto branch = [&](std::optional<PinStatus> status) {
    Query q;
    q.where = "SELECT " + std::string(kPinColumns) + " FROM pins WHERE " + base.where;
    q.params = base.params;
    if (status) {
      q.where += " AND status = ?";
      q.params.emplace_back(std::string(PinStatusName(*status)));
    }
    q.where += order + " LIMIT ?";
    q.params.emplace_back(static_cast<int64_t>(f.limit));
    branches.push_back(std::move(q));
  };
  if (statuses.empty()) branch(std::nullopt);
  for (PinStatus s : statuses) branch(s);
  return MergeStatusBranches(branches, f.limit);
}

// The List statement when served from pin_meta: one branch per status (all four when none is
// given), each a newest-first range scan of pin_meta's primary key (account_id, key, value,
// status, created) for the driving pair, joined to its pins through the unique `created`. The
// CROSS JOIN fixes the join order in SQLite (pin_meta outside); elsewhere it is a plain join.
Query MetaListQuery(SqlDialect dialect, int64_t account_id, const PinFilter& f,
                    const MetaPair& driver) {
  Query base = MetaConditions(account_id, f, driver);
  std::vector<PinStatus> statuses = UniqueStatuses(f.statuses);
  if (statuses.empty()) statuses.assign(kAllStatuses.begin(), kAllStatuses.end());
  const std::string cols = QualifiedPinColumns("p");
  std::vector<Query> branches;
  for (PinStatus s : statuses) {
    Query q;
    q.where = "SELECT " + cols + " FROM pin_meta AS m CROSS JOIN pins AS p WHERE " + base.where +
              " AND m.status = ? AND p.created = m.created";
    q.params = base.params;
    q.params.emplace_back(std::string(PinStatusName(s)));
    AddNameCondition(dialect, f, "p.", q);
    q.where += " ORDER BY m.created DESC LIMIT ?";
    q.params.emplace_back(static_cast<int64_t>(f.limit));
    branches.push_back(std::move(q));
  }
  return MergeStatusBranches(branches, f.limit);
}

// The List statement, or nullopt when nothing can match. Runs inside `s`'s snapshot (the meta
// driver is chosen from its counters).
Result<std::optional<Query>> ListQuery(SqlSession& s, SqlDialect dialect, int64_t account_id,
                                       const PinFilter& f) {
  if (!DrivenByMeta(f)) return std::optional<Query>(PinsListQuery(dialect, account_id, f));
  auto driver = CAIRN_TRY(ChooseMetaDriver(s, account_id, f.meta));
  if (!driver) return std::optional<Query>();
  return std::optional<Query>(MetaListQuery(dialect, account_id, f, *driver));
}

Result<void> ValidateListFilter(const PinFilter& f) {
  if (f.limit < 1 || f.limit > kMaxLimit) {
    return Err(ErrorCode::kInvalidArgument,
               "metadata: limit must be 1 to 1000, got " + std::to_string(f.limit));
  }
  return ValidateFilter(f);
}

// What CountCreatedRange counts: the rows of `rows` narrowed by `key` (with `key_params`), with
// their per-1024-row counters in `buckets` narrowed by the same condition. `rows` has `status`
// and `created` columns and an index on (key columns, status, created) or (key columns,
// created).
struct CountScope {
  std::string_view buckets;
  std::string_view rows;
  std::string key;
  std::vector<SqlValue> key_params;
};

// Counts the rows of `scope` with after < created < before and a status in `statuses` (any
// when empty) in `s`'s snapshot: the buckets wholly inside the range are summed; the rows of the
// (at most two) buckets the range boundaries fall into are counted from the index. A bucket
// takes at most 1024 new rows, so a count reads at most one bucket row per 1024 rows plus
// 2 × 1024 index entries.
Result<uint64_t> CountCreatedRange(SqlSession& s, const CountScope& scope,
                                   const std::vector<PinStatus>& statuses,
                                   std::optional<int64_t> after_us,
                                   std::optional<int64_t> before_us) {
  // The range as [lo, hi).
  std::optional<int64_t> lo;
  if (after_us) {
    if (*after_us == std::numeric_limits<int64_t>::max()) return uint64_t{0};
    lo = *after_us + 1;
  }
  const std::optional<int64_t> hi = before_us;
  if (lo && hi && *lo >= *hi) return uint64_t{0};
  // What to add up: the status columns of the buckets, or the status condition on the rows.
  std::string columns;
  std::string status_condition;
  std::vector<SqlValue> status_params;
  for (PinStatus st : statuses) {
    columns += std::string(columns.empty() ? "" : " + ") + std::string(PinStatusName(st));
    status_condition += status_params.empty() ? " AND status IN (?" : ", ?";
    status_params.emplace_back(std::string(PinStatusName(st)));
  }
  if (statuses.empty()) columns = "queued + pinning + pinned + failed";
  if (!status_params.empty()) status_condition += ")";
  const std::string buckets(scope.buckets);
  const std::string where = " WHERE " + scope.key;
  auto with_key = [&](std::initializer_list<SqlValue> more) {
    std::vector<SqlValue> p = scope.key_params;
    p.insert(p.end(), more.begin(), more.end());
    return p;
  };

  // Rows with from <= created < to (both bounds given), counted one by one.
  auto scan = [&](int64_t from, int64_t to) -> Result<uint64_t> {
    std::vector<SqlValue> p = with_key({from, to});
    p.insert(p.end(), status_params.begin(), status_params.end());
    auto rows = CAIRN_TRY(s.Query("SELECT COUNT(*) FROM " + std::string(scope.rows) + where +
                                      " AND created >= ? AND created < ?" + status_condition,
                                  p));
    return static_cast<uint64_t>(rows.at(0).Int(0));
  };
  // The start of the bucket holding `created` values just below `bound` (`strict`) or at it.
  auto bucket_of = [&](int64_t bound, bool strict) -> Result<std::optional<int64_t>> {
    auto rows = CAIRN_TRY(s.Query("SELECT MAX(start) FROM " + buckets + where +
                                      (strict ? " AND start < ?" : " AND start <= ?"),
                                  with_key({bound})));
    if (rows.empty() || rows[0].IsNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(rows[0].Int(0));
  };
  // Every row lies in the bucket with the greatest start <= its created, so no row lies below
  // the first bucket's start.
  std::optional<int64_t> top;  // bucket holding hi - 1; its rows below hi are scanned
  if (hi) {
    top = CAIRN_TRY(bucket_of(*hi, true));
    if (!top) return uint64_t{0};  // no row below hi
  }
  std::optional<int64_t> bottom;  // bucket holding lo; its rows from lo on are scanned
  if (lo) bottom = CAIRN_TRY(bucket_of(*lo, false));
  if (top && bottom && *top == *bottom) return scan(*lo, *hi);
  // Whole buckets strictly between bottom and top.
  std::string sql = "SELECT COALESCE(SUM(" + columns + "), 0) FROM " + buckets + where;
  std::vector<SqlValue> p = scope.key_params;
  if (bottom) {
    sql += " AND start > ?";
    p.emplace_back(*bottom);
  } else if (lo) {
    sql += " AND start >= ?";  // lo is below every bucket: whole buckets from lo on
    p.emplace_back(*lo);
  }
  if (top) {
    sql += " AND start < ?";
    p.emplace_back(*top);
  }
  auto rows = CAIRN_TRY(s.Query(sql, p));
  uint64_t count = static_cast<uint64_t>(rows.at(0).Int(0));
  if (bottom) {
    // The rest of the bottom bucket: up to the next bucket's start (there is one: top or
    // another bucket above bottom, else bottom would be the last and hold hi - 1).
    auto next = CAIRN_TRY(s.Query("SELECT MIN(start) FROM " + buckets + where + " AND start > ?",
                                  with_key({*bottom})));
    int64_t end =
        next.empty() || next[0].IsNull(0) ? std::numeric_limits<int64_t>::max() : next[0].Int(0);
    if (hi) end = std::min(end, *hi);
    count += CAIRN_TRY(scan(*lo, end));
  }
  if (top) count += CAIRN_TRY(scan(*top, *hi));
  return count;
}

// Appends ` AND <column> IN (?, ...)` for `statuses` (nothing when empty).
void AddStatusIn(const std::vector<PinStatus>& statuses, std::string_view column, Query& q) {
  for (size_t i = 0; i < statuses.size(); ++i) {
    q.where += (i ? ", ?" : " AND " + std::string(column) + " IN (?");
    q.params.emplace_back(std::string(PinStatusName(statuses[i])));
  }
  if (!statuses.empty()) q.where += ")";
}

Result<uint64_t> CountOne(SqlSession& s, const Query& q) {
  auto rows = CAIRN_TRY(s.Query(q.where, q.params));
  return rows.empty() ? uint64_t{0} : static_cast<uint64_t>(rows[0].Int(0));
}

// Count of the pins matching `f` in `s`'s snapshot.
Result<uint64_t> CountIn(SqlSession& s, SqlDialect dialect, int64_t account_id,
                         const PinFilter& f) {
  const std::vector<PinStatus> statuses = UniqueStatuses(f.statuses);
  if (f.cids.empty() && !f.name && f.meta.empty()) {
    if (!f.before_us && !f.after_us) {
      // Only account and status: the trigger-maintained counters (migration 3).
      Query q{"SELECT COALESCE(SUM(n), 0) FROM pin_counts WHERE account_id = ?", {account_id}};
      AddStatusIn(statuses, "status", q);
      return CountOne(s, q);
    }
    // Account, status and a created range: the bucket counters (migration 4).
    return CountCreatedRange(s, CountScope{"pin_buckets", "pins", "account_id = ?", {account_id}},
                             statuses, f.after_us, f.before_us);
  }
  if (!DrivenByMeta(f)) {
    Query q = PinsConditions(dialect, account_id, f);
    q.where = "SELECT COUNT(*) FROM pins WHERE " + q.where;
    AddStatusIn(statuses, "status", q);
    return CountOne(s, q);
  }
  auto driver = CAIRN_TRY(ChooseMetaDriver(s, account_id, f.meta));
  if (!driver) return uint64_t{0};
  // pin_meta's key leads with the status: name every status so the created range stays a range
  // of the index.
  const std::vector<PinStatus> any_status =
      statuses.empty() ? std::vector<PinStatus>(kAllStatuses.begin(), kAllStatuses.end())
                       : statuses;
  if (f.meta.size() == 1 && !f.name) {
    // One pair, status and a created range: the pair's bucket counters (migration 6).
    return CountCreatedRange(s,
                             CountScope{"pin_meta_buckets",
                                        "pin_meta",
                                        "account_id = ? AND key = ? AND value = ?",
                                        {account_id, driver->first, driver->second}},
                             any_status, f.after_us, f.before_us);
  }
  // Several pairs (or a name): every row of the driving pair in the range, checked.
  Query q = MetaConditions(account_id, f, *driver);
  q.where = "SELECT COUNT(*) FROM pin_meta AS m" +
            std::string(f.name ? " CROSS JOIN pins AS p" : "") + " WHERE " + q.where;
  AddStatusIn(any_status, "m.status", q);
  if (f.name) {
    q.where += " AND p.created = m.created";
    AddNameCondition(dialect, f, "p.", q);
  }
  return CountOne(s, q);
}

}  // namespace

std::string_view PinStatusName(PinStatus s) {
  switch (s) {
    case PinStatus::kQueued:
      return "queued";
    case PinStatus::kPinning:
      return "pinning";
    case PinStatus::kPinned:
      return "pinned";
    case PinStatus::kFailed:
      return "failed";
  }
  return "?";
}

Result<PinStatus> PinStatusFromName(std::string_view name) {
  for (PinStatus s :
       {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned, PinStatus::kFailed}) {
    if (name == PinStatusName(s)) return s;
  }
  return Err(ErrorCode::kInvalidArgument,
             "metadata: unknown pin status '" + std::string(name) + "'");
}

std::string FoldAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

PinStore::PinStore(Database& db, const Clock& clock, PinStoreOptions options)
    : db_(db),
      clock_(clock),
      record_events_(options.record_events),
      committer_(db, GroupCommitterOptions{options.max_batch}) {}

void PinStore::CreateAsync(int64_t account_id, NewPin pin,
                           std::function<void(Result<PinRecord>)> done) {
  auto cid = ValidateNewPin(pin);
  if (!cid) {
    done(Err(cid.error()));
    return;
  }
  auto record = std::make_shared<PinRecord>();
  committer_.Submit(
      [this, account_id, pin = std::move(pin), cid = *cid, record](SqlSession& s) -> Result<void> {
        const int64_t now = clock_.WallMicros();
        const int64_t created = CAIRN_TRY(NextCreated(s, now));
        *record = NewRecord(account_id, pin, cid, created, now);
        return InsertPin(s, *record);
      },
      [record, done = std::move(done)](Result<void> r) {
        if (r) {
          done(std::move(*record));
        } else {
          done(Err(r.error()));
        }
      });
}

Result<void> PinStore::Flush() { return committer_.Flush(); }

Result<PinRecord> PinStore::Create(int64_t account_id, const NewPin& pin) {
  std::promise<Result<PinRecord>> promise;
  auto future = promise.get_future();
  CreateAsync(account_id, pin,
              [&promise](Result<PinRecord> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<PinRecord> PinStore::Get(int64_t account_id, std::string_view requestid) {
  static const std::string kSql =
      "SELECT " + std::string(kPinColumns) + " FROM pins WHERE requestid = ? AND account_id = ?";
  std::array<SqlValue, 2> params = {std::string(requestid), account_id};
  std::vector<SqlRow> rows = CAIRN_TRY(db_.ReadQuery(kSql, params));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound,
               "metadata: no pin with requestid '" + std::string(requestid) + "'");
  }
  return PinFromRow(rows[0]);
}

Result<PinRecord> PinStore::Replace(int64_t account_id, std::string_view requestid,
                                    const NewPin& pin) {
  Cid cid = CAIRN_TRY(ValidateNewPin(pin));
  PinRecord record;
  CAIRN_TRY(committer_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {std::string(requestid), account_id};
    int64_t removed =
        CAIRN_TRY(s.Exec("DELETE FROM pins WHERE requestid = ? AND account_id = ?", params));
    if (removed == 0) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no pin with requestid '" + std::string(requestid) + "'");
    }
    int64_t now = clock_.WallMicros();
    int64_t created = CAIRN_TRY(NextCreated(s, now));
    record = NewRecord(account_id, pin, cid, created, now);
    return InsertPin(s, record);
  }));
  return record;
}

Result<void> PinStore::Delete(int64_t account_id, std::string_view requestid) {
  return committer_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {std::string(requestid), account_id};
    int64_t removed =
        CAIRN_TRY(s.Exec("DELETE FROM pins WHERE requestid = ? AND account_id = ?", params));
    if (removed == 0) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no pin with requestid '" + std::string(requestid) + "'");
    }
    return Ok();
  });
}

Result<void> PinStore::UpdateStatus(std::string_view requestid, PinStatus status,
                                    const StringMap& info, std::optional<int64_t> dag_size) {
  int64_t now = clock_.WallMicros();
  return committer_.Write([&](SqlSession& s) -> Result<void> {
    if (record_events_ && (status == PinStatus::kPinned || status == PinStatus::kFailed)) {
      // The event of a pin reaching an end state, once (a repeated update writes none).
      std::array<SqlValue, 2> key = {std::string(requestid), std::string(PinStatusName(status))};
      auto rows = CAIRN_TRY(s.Query("SELECT 1 FROM pins WHERE requestid = ? AND status <> ?", key));
      if (!rows.empty()) {
        EventDetail detail;
        if (dag_size) detail["dag_size"] = std::to_string(*dag_size);
        if (auto it = info.find("status_details"); it != info.end()) detail["details"] = it->second;
        CAIRN_TRY(AppendPinEvent(
            s, requestid, status == PinStatus::kPinned ? kEventPinned : kEventFailed, detail, now));
      }
    }
    std::array<SqlValue, 5> params = {std::string(PinStatusName(status)), EncodeMap(info), now,
                                      dag_size ? SqlValue(*dag_size) : SqlValue(nullptr),
                                      std::string(requestid)};
    int64_t changed =
        CAIRN_TRY(s.Exec("UPDATE pins SET status = ?, info = ?, updated_at = ?, "
                         "dag_size = COALESCE(?, dag_size) WHERE requestid = ?",
                         params));
    if (changed == 0) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no pin with requestid '" + std::string(requestid) + "'");
    }
    return Ok();
  });
}

namespace {

// Merges `keys` into the stored info of pin `requestid` (an empty value removes the key); writes
// only when that changes it. False when there is no such pin.
Result<bool> MergeInfoIn(SqlSession& s, const std::string& requestid, const StringMap& keys,
                         int64_t now) {
  std::array<SqlValue, 1> key = {requestid};
  auto rows = CAIRN_TRY(s.Query("SELECT info FROM pins WHERE requestid = ?", key));
  if (rows.empty()) return false;
  StringMap info = CAIRN_TRY(DecodeMap(rows[0].Text(0), "info"));
  const StringMap before = info;
  for (const auto& [k, v] : keys) {
    if (v.empty()) {
      info.erase(k);
    } else {
      info[k] = v;
    }
  }
  if (info == before) return true;  // nothing to change: no write, updated_at stays
  std::array<SqlValue, 3> params = {EncodeMap(info), now, requestid};
  CAIRN_TRY(s.Exec("UPDATE pins SET info = ?, updated_at = ? WHERE requestid = ?", params));
  return true;
}

}  // namespace

Result<void> PinStore::MergeInfo(std::string_view requestid, const StringMap& keys) {
  int64_t now = clock_.WallMicros();
  return committer_.Write([&](SqlSession& s) -> Result<void> {
    if (!CAIRN_TRY(MergeInfoIn(s, std::string(requestid), keys, now))) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no pin with requestid '" + std::string(requestid) + "'");
    }
    return Ok();
  });
}

Result<void> PinStore::MergeInfoMany(std::span<const std::string> requestids,
                                     const StringMap& keys) {
  if (requestids.empty()) return Ok();
  int64_t now = clock_.WallMicros();
  return committer_.Write([&](SqlSession& s) -> Result<void> {
    for (const auto& id : requestids) CAIRN_TRY(MergeInfoIn(s, id, keys, now));
    return Ok();
  });
}

Result<std::vector<PinRecord>> PinStore::List(int64_t account_id, const PinFilter& filter) {
  CAIRN_TRY(ValidateListFilter(filter));
  std::vector<PinRecord> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    out.clear();
    auto q = CAIRN_TRY(ListQuery(s, db_.dialect(), account_id, filter));
    if (!q) return Ok();
    auto rows = CAIRN_TRY(s.Query(q->where, q->params));
    out.reserve(rows.size());
    for (const SqlRow& row : rows) out.push_back(CAIRN_TRY(PinFromRow(row)));
    return Ok();
  }));
  return out;
}

Result<std::array<uint64_t, 4>> PinStore::CountAllByStatus() {
  std::array<uint64_t, 4> counts{};
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT status, SUM(n) FROM pin_counts GROUP BY status", {}));
    for (const SqlRow& row : rows) {
      auto status = CAIRN_TRY(PinStatusFromName(row.Text(0)));
      counts[static_cast<size_t>(status)] = static_cast<uint64_t>(row.Int(1));
    }
    return Ok();
  }));
  return counts;
}

Result<uint64_t> PinStore::Count(int64_t account_id, const PinFilter& filter) {
  CAIRN_TRY(ValidateFilter(filter));
  uint64_t count = 0;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    count = CAIRN_TRY(CountIn(s, db_.dialect(), account_id, filter));
    return Ok();
  }));
  return count;
}

Result<std::vector<PinRecord>> PinStore::ClaimQueued(size_t max) {
  std::vector<PinRecord> out;
  if (max == 0) return out;
  int64_t now = clock_.WallMicros();
  CAIRN_TRY(committer_.Write([&](SqlSession& s) -> Result<void> {
    out.clear();
    std::array<SqlValue, 1> params = {static_cast<int64_t>(max)};
    auto rows = CAIRN_TRY(s.Query("SELECT " + std::string(kPinColumns) +
                                      " FROM pins WHERE status = 'queued' ORDER BY created LIMIT ?",
                                  params));
    for (const SqlRow& row : rows) {
      PinRecord p = CAIRN_TRY(PinFromRow(row));
      std::array<SqlValue, 2> upd = {now, p.requestid};
      CAIRN_TRY(
          s.Exec("UPDATE pins SET status = 'pinning', updated_at = ? WHERE requestid = ?", upd));
      p.status = PinStatus::kPinning;
      p.updated_us = now;
      out.push_back(std::move(p));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<PinRecord>> PinStore::ListPinning() {
  std::vector<PinRecord> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    out.clear();
    auto rows = CAIRN_TRY(s.Query("SELECT " + std::string(kPinColumns) +
                                      " FROM pins WHERE status = 'pinning' ORDER BY created",
                                  {}));
    for (const SqlRow& row : rows) out.push_back(CAIRN_TRY(PinFromRow(row)));
    return Ok();
  }));
  return out;
}

Result<std::vector<Cid>> PinStore::ListCids(std::span<const PinStatus> statuses,
                                            const std::optional<Cid>& after, size_t limit) {
  std::vector<Cid> out;
  std::vector<PinStatus> unique = UniqueStatuses({statuses.begin(), statuses.end()});
  if (unique.empty() || limit == 0) return out;
  std::string sql = "SELECT DISTINCT cid FROM pins WHERE status IN (";
  std::vector<SqlValue> params;
  for (size_t i = 0; i < unique.size(); ++i) {
    sql += i ? ", ?" : "?";
    params.emplace_back(std::string(PinStatusName(unique[i])));
  }
  sql += ")";
  if (after) {
    sql += " AND cid > ?";
    params.emplace_back(after->ToV1().ToBytes());
  }
  sql += " ORDER BY cid LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit));
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query(sql, params));
    for (const SqlRow& row : rows) {
      auto cid = Cid::FromBytes(row.Blob(0));
      if (!cid) return Err(ErrorCode::kCorruption, "metadata: a pin has a bad stored CID");
      out.push_back(*cid);
    }
    return Ok();
  }));
  return out;
}

Result<bool> PinStore::HasCid(const Cid& cid, std::span<const PinStatus> statuses) {
  std::vector<PinStatus> unique = UniqueStatuses({statuses.begin(), statuses.end()});
  if (unique.empty()) return false;
  std::string sql = "SELECT 1 FROM pins WHERE cid = ? AND status IN (";
  std::vector<SqlValue> params;
  params.emplace_back(cid.ToV1().ToBytes());
  for (size_t i = 0; i < unique.size(); ++i) {
    sql += i ? ", ?" : "?";
    params.emplace_back(std::string(PinStatusName(unique[i])));
  }
  sql += ") LIMIT 1";
  bool found = false;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query(sql, params));
    found = !rows.empty();
    return Ok();
  }));
  return found;
}

Result<std::string> PinStore::ExplainList(int64_t account_id, const PinFilter& filter) {
  if (db_.dialect() != SqlDialect::kSqlite) {
    return Err(ErrorCode::kNotSupported, "metadata: query plans are only shown for SQLite");
  }
  CAIRN_TRY(ValidateListFilter(filter));
  std::string plan;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    plan.clear();
    auto q = CAIRN_TRY(ListQuery(s, db_.dialect(), account_id, filter));
    if (!q) {
      plan = "NO ROWS (a meta pair the account never had)\n";
      return Ok();
    }
    auto rows = CAIRN_TRY(s.Query("EXPLAIN QUERY PLAN " + q->where, q->params));
    for (const SqlRow& row : rows) plan += row.Text(3) + "\n";
    return Ok();
  }));
  return plan;
}

namespace internal {

std::string EncodeMap(const StringMap& map) {
  json::object o;
  for (const auto& [k, v] : map) o[k] = v;
  return json::serialize(o);
}

Result<StringMap> DecodeMap(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return Err(ErrorCode::kCorruption,
               "metadata: stored " + std::string(what) + " is not a JSON object");
  }
  StringMap out;
  for (const auto& kv : v.as_object()) {
    if (!kv.value().is_string()) {
      return Err(ErrorCode::kCorruption,
                 "metadata: stored " + std::string(what) + " has a non-string value");
    }
    out.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  return out;
}

}  // namespace internal

}  // namespace cairn::metadata
