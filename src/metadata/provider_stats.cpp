#include "metadata/provider_stats.hpp"

#include <algorithm>
#include <array>

namespace cairn::metadata {

namespace {

constexpr std::string_view kColumns =
    "provider, proposals, accepted, rejected, timeouts, transfer_failures, never_published, "
    "not_activated, mismatches, slashed, other_failures, active, active_us_total, updated_at, "
    "retrieval_failures";

ProviderStats StatsFromRow(const SqlRow& row) {
  ProviderStats s;
  s.provider = row.Text(0);
  s.proposals = row.Int(1);
  s.accepted = row.Int(2);
  s.rejected = row.Int(3);
  s.timeouts = row.Int(4);
  s.transfer_failures = row.Int(5);
  s.never_published = row.Int(6);
  s.not_activated = row.Int(7);
  s.mismatches = row.Int(8);
  s.slashed = row.Int(9);
  s.other_failures = row.Int(10);
  s.active = row.Int(11);
  s.active_us_total = row.Int(12);
  s.updated_us = row.Int(13);
  s.retrieval_failures = row.Int(14);
  return s;
}

}  // namespace

std::string_view ProviderEventColumn(ProviderEvent e) {
  switch (e) {
    case ProviderEvent::kProposed:
      return "proposals";
    case ProviderEvent::kAccepted:
      return "accepted";
    case ProviderEvent::kRejected:
      return "rejected";
    case ProviderEvent::kTimeout:
      return "timeouts";
    case ProviderEvent::kTransferFailed:
      return "transfer_failures";
    case ProviderEvent::kNeverPublished:
      return "never_published";
    case ProviderEvent::kNotActivated:
      return "not_activated";
    case ProviderEvent::kMismatch:
      return "mismatches";
    case ProviderEvent::kSlashed:
      return "slashed";
    case ProviderEvent::kActive:
      return "active";
    case ProviderEvent::kRetrievalFailed:
      return "retrieval_failures";
  }
  return "proposals";  // unreachable: every enumerator is handled above
}

Result<void> AddProviderEvent(SqlSession& session, std::string_view provider, ProviderEvent event,
                              int64_t active_after_us, int64_t now_us) {
  const std::string column(ProviderEventColumn(event));
  const int64_t added = event == ProviderEvent::kActive ? std::max<int64_t>(0, active_after_us) : 0;
  std::array<SqlValue, 3> insert = {std::string(provider), now_us, now_us};
  CAIRN_TRY(
      session.Exec("INSERT INTO fil_provider_stats (provider, updated_at) VALUES (?, ?) "
                   "ON CONFLICT (provider) DO UPDATE SET updated_at = ?",
                   insert));
  std::array<SqlValue, 2> update = {added, std::string(provider)};
  CAIRN_TRY(session.Exec("UPDATE fil_provider_stats SET " + column + " = " + column +
                             " + 1, active_us_total = active_us_total + ? WHERE provider = ?",
                         update));
  return Ok();
}

ProviderStatsStore::ProviderStatsStore(Database& db) : db_(db) {}

Result<std::vector<ProviderStats>> ProviderStatsStore::All() {
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT " + std::string(kColumns) + " FROM fil_provider_stats ORDER BY provider", {}));
  std::vector<ProviderStats> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(StatsFromRow(row));
  return out;
}

Result<ProviderStats> ProviderStatsStore::Get(std::string_view provider) {
  std::array<SqlValue, 1> params = {std::string(provider)};
  auto rows = CAIRN_TRY(db_.ReadQuery(
      "SELECT " + std::string(kColumns) + " FROM fil_provider_stats WHERE provider = ?", params));
  if (rows.empty()) {
    ProviderStats zero;
    zero.provider = std::string(provider);
    return zero;
  }
  return StatsFromRow(rows[0]);
}

Result<void> ProviderStatsStore::Record(std::string_view provider, ProviderEvent event,
                                        int64_t active_after_us, const Clock& clock) {
  const int64_t now = clock.WallMicros();
  return db_.Write([&](SqlSession& s) -> Result<void> {
    return AddProviderEvent(s, provider, event, active_after_us, now);
  });
}

}  // namespace cairn::metadata
