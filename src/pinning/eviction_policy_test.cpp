#include "pinning/eviction_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::pinning {
namespace {

std::vector<uint64_t> Victims(const EvictionOrder& o) {
  std::vector<uint64_t> out;
  o.ForEachVictim([&](uint64_t k) {
    out.push_back(k);
    return true;
  });
  return out;
}

TEST(EvictionPolicy, NamesAreParsedAndAnUnknownOneNamesTheKey) {
  EXPECT_EQ(*EvictionPolicyK("lru-2"), 2);
  EXPECT_EQ(*EvictionPolicyK("lru"), 1);
  auto bad = EvictionPolicyK("fifo");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("hot.policy"), std::string::npos);
}

TEST(EvictionPolicy, LruEvictsTheLeastRecentlyUsed) {
  EvictionOrder o({.k = 1});
  o.Touch(1, 10);
  o.Touch(2, 11);
  o.Touch(3, 12);
  o.Touch(1, 13);
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{2, 3, 1}));
}

TEST(EvictionPolicy, Lru2EvictsKeysSeenOnceBeforeKeysSeenTwice) {
  EvictionOrder o({.k = 2});
  o.Touch(1, 1);
  o.Touch(1, 5);   // twice, long ago
  o.Touch(2, 20);  // once, recently (a scan)
  o.Touch(3, 21);  // once, more recently
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{2, 3, 1}));
  o.Touch(2, 30);  // 2 now has a second access at 20, later than 1's at 1
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{3, 1, 2}));
}

TEST(EvictionPolicy, CorrelatedAccessesAreOneReference) {
  EvictionOrder o({.k = 2, .correlated_period = 10});
  o.Touch(1, 100);
  o.Touch(1, 101);  // the same read's next block: still one reference
  o.Touch(1, 105);
  o.Touch(2, 50);
  o.Touch(2, 90);  // two separate references
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{1, 2}));
  o.Touch(1, 200);  // a new reference: second access at 105 > 2's at 50
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{2, 1}));
}

TEST(EvictionPolicy, APinReadSteadilyGetsANewReferenceEveryPeriod) {
  EvictionOrder o({.k = 2, .correlated_period = 60});
  o.Touch(2, 0);
  o.Touch(2, 1000);                                          // two references, long ago
  for (int64_t t = 3000; t <= 6600; t += 10) o.Touch(1, t);  // every 10 s for an hour
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{2, 1}));
}

TEST(EvictionPolicy, AdmittedKeysGoFirstAndEvictedKeysKeepTheirHistory) {
  EvictionOrder o({.k = 2});
  o.Touch(1, 1);
  o.Touch(1, 2);
  o.Admit(7);
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{7, 1}));
  o.Evicted(1);
  EXPECT_FALSE(o.Resident(1));
  EXPECT_EQ(o.resident(), 1u);
  EXPECT_EQ(o.tracked(), 2u);
  o.Touch(7, 50);
  o.Touch(1, 60);  // back, with its history: its second access (2) exists, 7's does not
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{7, 1}));
  o.Forget(1);
  o.Forget(7);
  EXPECT_EQ(o.tracked(), 0u);
  EXPECT_TRUE(Victims(o).empty());
}

TEST(EvictionPolicy, RetainedHistoryIsBounded) {
  EvictionOrder o({.k = 2, .retained_keys = 100});
  for (uint64_t k = 0; k < 10'000; ++k) {
    o.Touch(k, static_cast<int64_t>(k));
    o.Evicted(k);
    if (k % 3 == 0) {
      o.Touch(k, static_cast<int64_t>(k) + 1);  // back again: a stale queue item
      o.Evicted(k);
    }
  }
  EXPECT_EQ(o.resident(), 0u);
  EXPECT_LE(o.tracked(), 100u);
  // The newest evicted keys are the ones remembered.
  o.Touch(9'999, 20'000);
  o.Touch(5, 20'001);  // forgotten: seen once only
  EXPECT_EQ(Victims(o), (std::vector<uint64_t>{5, 9'999}));
}

}  // namespace
}  // namespace cairn::pinning
