#include "metadata/events.hpp"

#include <array>
#include <boost/json.hpp>

namespace cairn::metadata {

namespace {

std::string EncodeDetail(const EventDetail& detail) {
  boost::json::object o;
  for (const auto& [k, v] : detail) o[k] = v;
  return boost::json::serialize(o);
}

Result<EventDetail> DecodeDetail(const std::string& text, int64_t id) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) {
    return Err(ErrorCode::kCorruption,
               "metadata: event " + std::to_string(id) + " has a detail that is not a JSON object");
  }
  EventDetail out;
  for (const auto& [k, value] : v.as_object()) {
    if (!value.is_string()) {
      return Err(ErrorCode::kCorruption, "metadata: event " + std::to_string(id) + " detail '" +
                                             std::string(k) + "' is not a string");
    }
    out.emplace(std::string(k), std::string(value.as_string()));
  }
  return out;
}

}  // namespace

Result<void> AppendPinEvent(SqlSession& s, std::string_view requestid, std::string_view kind,
                            const EventDetail& detail, int64_t now_us) {
  std::array<SqlValue, 4> params = {std::string(requestid), std::string(kind), EncodeDetail(detail),
                                    now_us};
  CAIRN_TRY(s.Exec(
      "INSERT INTO events (pin_requestid, kind, detail, created_at) VALUES (?, ?, ?, ?)", params));
  return Ok();
}

Result<void> AppendAggregateEvent(SqlSession& s, int64_t aggregate_id, std::string_view kind,
                                  const EventDetail& detail, int64_t now_us) {
  std::array<SqlValue, 4> params = {aggregate_id, std::string(kind), EncodeDetail(detail), now_us};
  CAIRN_TRY(s.Exec(
      "INSERT INTO events (aggregate_id, kind, detail, created_at) VALUES (?, ?, ?, ?)", params));
  return Ok();
}

EventStore::EventStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

Result<void> EventStore::AddPinEvent(std::string_view requestid, std::string_view kind,
                                     const EventDetail& detail) {
  const int64_t now = clock_.WallMicros();
  return db_.Write([&](SqlSession& s) { return AppendPinEvent(s, requestid, kind, detail, now); });
}

Result<std::vector<EventRecord>> EventStore::PinEvents(std::string_view requestid, int64_t after,
                                                       size_t limit) {
  // The pin's own rows and its aggregate's rows, merged by id; each side walks its index
  // (events_pin, events_aggregate) from `after`.
  std::array<SqlValue, 7> params = {
      std::string(requestid), after, std::string(requestid),     after,
      std::string(requestid), after, static_cast<int64_t>(limit)};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT id, kind, detail, created_at FROM events WHERE pin_requestid = ? AND id > ? "
      "UNION ALL "
      "SELECT e.id, e.kind, e.detail, e.created_at FROM fil_segments s "
      "JOIN events e ON e.aggregate_id = s.aggregate_id "
      "WHERE s.pin_requestid = ? AND s.aggregate_id IS NOT NULL AND e.id > ? "
      "UNION ALL "
      "SELECT e.id, e.kind, e.detail, e.created_at FROM fil_segments s "
      "JOIN fil_segment_history h ON h.segment_id = s.id "
      "JOIN events e ON e.aggregate_id = h.aggregate_id "
      "WHERE s.pin_requestid = ? AND e.id > ? "
      "ORDER BY 1 LIMIT ?",
      params));
  std::vector<EventRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    EventRecord e;
    e.id = row.Int(0);
    e.kind = row.Text(1);
    e.detail = CAIRN_TRY(DecodeDetail(row.Text(2), e.id));
    e.created_us = row.Int(3);
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> EventStore::Purge(int64_t before_us) {
  int64_t removed = 0;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {before_us};
    removed = CAIRN_TRY(s.Exec("DELETE FROM events WHERE created_at < ?", params));
    return Ok();
  }));
  return removed;
}

}  // namespace cairn::metadata
