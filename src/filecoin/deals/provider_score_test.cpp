#include "filecoin/deals/provider_score.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin::deals {
namespace {

metadata::ProviderStats Stats(const std::string& provider) {
  metadata::ProviderStats s;
  s.provider = provider;
  return s;
}

TEST(ProviderScore, FollowsTheDocumentedFormula) {
  EXPECT_DOUBLE_EQ(ProviderScoreOf(Stats("a")), 0.25);  // (1/2) × (1/2) × (0.8 + 0.2)
  auto s = Stats("a");
  s.proposals = 4;
  s.accepted = 3;
  s.rejected = 1;
  s.active = 2;
  s.transfer_failures = 1;
  s.active_us_total = 2 * 86400LL * 1000000;  // one day each on average → S = 1/2
  EXPECT_DOUBLE_EQ(ProviderScoreOf(s), (4.0 / 6) * (3.0 / 5) * (0.8 + 0.2 * 0.5));
  s.slashed = 1;  // weighs three failures
  EXPECT_DOUBLE_EQ(ProviderScoreOf(s), (4.0 / 6) * (3.0 / 8) * (0.8 + 0.2 * 0.5));
}

TEST(ProviderScore, EveryFailureLowersItAndSuccessRaisesIt) {
  const double fresh = ProviderScoreOf(Stats("a"));
  for (int64_t metadata::ProviderStats::*field :
       {&metadata::ProviderStats::rejected, &metadata::ProviderStats::timeouts,
        &metadata::ProviderStats::transfer_failures, &metadata::ProviderStats::never_published,
        &metadata::ProviderStats::not_activated, &metadata::ProviderStats::mismatches,
        &metadata::ProviderStats::slashed, &metadata::ProviderStats::other_failures,
        &metadata::ProviderStats::retrieval_failures}) {
    auto s = Stats("a");
    s.*field = 1;
    EXPECT_LT(ProviderScoreOf(s), fresh);
  }
  auto good = Stats("a");
  good.accepted = 1;
  good.active = 1;
  good.active_us_total = 3600LL * 1000000;
  EXPECT_GT(ProviderScoreOf(good), fresh);
  // Slower to activate scores lower, all else equal.
  auto slow = good;
  slow.active_us_total *= 100;
  EXPECT_LT(ProviderScoreOf(slow), ProviderScoreOf(good));
  // A provider that keeps failing sinks towards zero.
  auto failing = Stats("a");
  double last = fresh;
  for (int i = 0; i < 20; ++i) {
    ++failing.accepted;
    ++failing.transfer_failures;
    const double now = ProviderScoreOf(failing);
    EXPECT_LT(now, last);
    last = now;
  }
  EXPECT_LT(last, 0.05);
}

TEST(ProviderScore, OrderIsByScoreWithConfigurationOrderForTies) {
  std::vector<metadata::ProviderStats> stats = {Stats("f01000"), Stats("f01001"), Stats("f01002"),
                                                Stats("f01003")};
  EXPECT_EQ(OrderByScore(stats), (std::vector<size_t>{0, 1, 2, 3}));
  stats[0].timeouts = 1;  // the first in the configuration times out once
  stats[3].accepted = 1;  // the last accepted once
  stats[3].active = 1;
  EXPECT_EQ(OrderByScore(stats), (std::vector<size_t>{3, 1, 2, 0}));
  EXPECT_TRUE(OrderByScore({}).empty());
}

}  // namespace
}  // namespace cairn::filecoin::deals
