#include "metadata/provider_stats.hpp"

#include <gtest/gtest.h>

#include "metadata/deals.hpp"
#include "metadata/internal/test_db.hpp"
#include "metadata/migrations.hpp"

namespace cairn::metadata {
namespace {

using testing::TempDb;

DealRecord Deal(const std::string& uuid, const std::string& provider, int64_t aggregate) {
  DealRecord d;
  d.uuid = uuid;
  d.aggregate_id = aggregate;
  d.provider = provider;
  d.signed_proposal = Bytes{0x82, 0x01};
  d.proposal_cid = "bafy2bzace";
  d.price_per_epoch = "1";
  d.provider_collateral = "12";
  d.client_collateral = "0";
  d.start_epoch = 100;
  d.end_epoch = 518500;
  d.token_hash = Bytes(32, 1);
  return d;
}

class FixedClock : public Clock {
 public:
  int64_t WallMicros() const override { return now; }
  int64_t MonotonicMicros() const override { return now; }
  int64_t now = 1'000'000;
};

TEST(ProviderStats, DealChangesCountTheirEventsInTheSameTransaction) {
  TempDb db;
  FixedClock clock;
  DealStore deals(db.db(), clock);
  ProviderStatsStore stats(db.db());
  std::vector<std::pair<int64_t, uint64_t>> none;
  int64_t agg = *deals.CreateAggregate(AggregateRecord{0, "baga1", 2048, 2032, 0}, none);

  EXPECT_EQ(stats.Get("f01000")->proposals, 0);
  ASSERT_TRUE(deals.CreateDeal(Deal("u1", "f01000", agg)).has_value());
  ASSERT_TRUE(deals.CreateDeal(Deal("u2", "f01000", agg)).has_value());
  ASSERT_TRUE(deals.CreateDeal(Deal("u3", "f01001", agg)).has_value());
  // A duplicate deal is refused and counts nothing.
  EXPECT_FALSE(deals.CreateDeal(Deal("u1", "f01000", agg)).has_value());
  EXPECT_EQ(stats.Get("f01000")->proposals, 2);

  auto d = *deals.GetDeal("u1");
  d.state = DealState::kAccepted;
  ASSERT_TRUE(deals.UpdateDeal(d, ProviderEvent::kAccepted).has_value());
  clock.now += 90'000'000;  // active 90 s after the proposal
  d.state = DealState::kActive;
  ASSERT_TRUE(deals.UpdateDeal(d, ProviderEvent::kActive).has_value());
  auto d2 = *deals.GetDeal("u2");
  d2.state = DealState::kFailed;
  ASSERT_TRUE(deals.UpdateDeal(d2, ProviderEvent::kTransferFailed).has_value());
  ASSERT_TRUE(deals.UpdateDeal(d2).has_value());  // no event: nothing counted
  // An update that fails (unknown deal) counts nothing either.
  EXPECT_EQ(deals.UpdateDeal(Deal("nope", "f01000", agg), ProviderEvent::kSlashed).error().code(),
            ErrorCode::kNotFound);

  auto s = *stats.Get("f01000");
  EXPECT_EQ(s.proposals, 2);
  EXPECT_EQ(s.accepted, 1);
  EXPECT_EQ(s.active, 1);
  EXPECT_EQ(s.active_us_total, 90'000'000);
  EXPECT_EQ(s.transfer_failures, 1);
  EXPECT_EQ(s.slashed, 0);
  EXPECT_EQ(s.updated_us, clock.now);
  ASSERT_TRUE(stats.Record("f01001", ProviderEvent::kTimeout, 0, clock).has_value());
  auto all = *stats.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].provider, "f01001");
  EXPECT_EQ(all[1].proposals, 1);
  EXPECT_EQ(all[1].timeouts, 1);
}

TEST(ProviderStats, EveryEventHasItsOwnColumn) {
  TempDb db;
  FixedClock clock;
  ProviderStatsStore stats(db.db());
  for (auto e : {ProviderEvent::kProposed, ProviderEvent::kAccepted, ProviderEvent::kRejected,
                 ProviderEvent::kTimeout, ProviderEvent::kTransferFailed,
                 ProviderEvent::kNeverPublished, ProviderEvent::kNotActivated,
                 ProviderEvent::kMismatch, ProviderEvent::kSlashed, ProviderEvent::kActive}) {
    ASSERT_TRUE(stats.Record("f01000", e, 5, clock).has_value()) << ProviderEventColumn(e);
  }
  auto s = *stats.Get("f01000");
  for (int64_t v : {s.proposals, s.accepted, s.rejected, s.timeouts, s.transfer_failures,
                    s.never_published, s.not_activated, s.mismatches, s.slashed, s.active}) {
    EXPECT_EQ(v, 1);
  }
  EXPECT_EQ(s.other_failures, 0);
  EXPECT_EQ(s.active_us_total, 5) << "only kActive adds time";
}

TEST(ProviderStats, MigrationEightCountsTheDealsMadeBefore) {
  TempDb db(/*migrate=*/false);
  auto all = BuiltinMigrations();
  ASSERT_GE(all.size(), 8u);
  ASSERT_EQ(*Migrate(db.db(), all.first(7)), 7);
  ASSERT_TRUE(
      db.db()
          .Write([](SqlSession& s) -> Result<void> {
            CAIRN_TRY(
                s.ExecScript("INSERT INTO fil_aggregates VALUES (1, 'baga1', 2048, 2032, 0);"));
            const char* rows[][3] = {{"a", "f01000", "active"},
                                     {"b", "f01000", "failed"},
                                     {"c", "f01000", "rejected"},
                                     {"d", "f01001", "slashed"},
                                     {"e", "f01001", "accepted"}};
            for (const auto& r : rows) {
              std::array<SqlValue, 3> p = {std::string(r[0]), std::string(r[1]), std::string(r[2])};
              CAIRN_TRY(
                  s.Exec("INSERT INTO fil_deals (uuid, aggregate_id, provider, state, "
                         "signed_proposal, proposal_cid, price_per_epoch, provider_collateral, "
                         "client_collateral, start_epoch, end_epoch, token_hash, created_at, "
                         "updated_at) VALUES (?, 1, ?, ?, x'00', 'c', '1', '1', '0', 1, 2, "
                         "x'00', 1000, 61000)",
                         p));
            }
            return Ok();
          })
          .has_value());
  ASSERT_EQ(*Migrate(db.db(), all), static_cast<int64_t>(all.size()));
  ProviderStatsStore stats(db.db());
  auto a = *stats.Get("f01000");
  EXPECT_EQ(a.proposals, 3);
  EXPECT_EQ(a.accepted, 1);
  EXPECT_EQ(a.rejected, 1);
  EXPECT_EQ(a.other_failures, 1);
  EXPECT_EQ(a.active, 1);
  EXPECT_EQ(a.active_us_total, 60000);
  EXPECT_EQ(a.updated_us, 61000);
  auto b = *stats.Get("f01001");
  EXPECT_EQ(b.proposals, 2);
  EXPECT_EQ(b.accepted, 2);
  EXPECT_EQ(b.slashed, 1);
  EXPECT_EQ(b.active, 0);
}

}  // namespace
}  // namespace cairn::metadata
