#include "dht/routing_table.hpp"

#include <gtest/gtest.h>

#include "dht/test_peers.hpp"

namespace cairn::dht {
namespace {

using testing::TestPeer;
using testing::TestPeers;
using testing::TrueClosest;

TEST(RoutingTable, ClosestIsSortedByDistance) {
  PeerRef self = TestPeer(0);
  RoutingTable t(self.kad, {.k = 20});
  auto peers = TestPeers(300);
  for (const auto& p : peers) t.Add(p, Clock::time_point{});
  EXPECT_EQ(t.Add(self, Clock::time_point{}), RoutingTable::AddResult::kSelf);
  KadId target = KadId::Of(AsBytes("target"));
  auto got = t.Closest(target, 10);
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_TRUE(Closer(got[i - 1].kad, got[i].kad, target));
  // Buckets near self are never full with 300 peers, so the closest to self are all there.
  auto near_self = t.Closest(self.kad, 5);
  auto truth = TrueClosest(peers, self.kad, 5);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(near_self[i].id, truth[i].id);
}

TEST(RoutingTable, FullBucketKeepsLiveOldPeersAndReplacesStaleOnes) {
  PeerRef self = TestPeer(0);
  RoutingTableOptions options{.k = 2, .stale_after = std::chrono::minutes(10), .max_failures = 2};
  RoutingTable t(self.kad, options);
  // Bucket 0 (first bit differs from self): find three such peers.
  std::vector<PeerRef> far;
  for (uint32_t n = 1; far.size() < 3; ++n) {
    PeerRef p = TestPeer(n);
    if (CommonPrefixLength(self.kad, p.kad) == 0) far.push_back(p);
  }
  auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(t.Add(far[0], t0), RoutingTable::AddResult::kAdded);
  EXPECT_EQ(t.Add(far[1], t0 + std::chrono::minutes(1)), RoutingTable::AddResult::kAdded);
  EXPECT_EQ(t.Add(far[2], t0 + std::chrono::minutes(2)), RoutingTable::AddResult::kBucketFull);
  EXPECT_FALSE(t.Contains(far[2].id));
  // far[0] silent past stale_after: the newcomer takes its place.
  EXPECT_EQ(t.Add(far[2], t0 + std::chrono::minutes(11)), RoutingTable::AddResult::kReplaced);
  EXPECT_FALSE(t.Contains(far[0].id));
  EXPECT_TRUE(t.Contains(far[2].id));
  EXPECT_EQ(t.size(), 2u);
  // A failing peer is replaceable at once, and removed at its second failure in a row.
  EXPECT_FALSE(t.RecordFailure(far[1].id));
  EXPECT_EQ(t.Add(far[0], t0 + std::chrono::minutes(12)), RoutingTable::AddResult::kReplaced);
  EXPECT_FALSE(t.Contains(far[1].id));
  EXPECT_FALSE(t.RecordFailure(far[2].id));
  EXPECT_TRUE(t.RecordFailure(far[2].id));
  EXPECT_FALSE(t.Contains(far[2].id));
  EXPECT_EQ(t.size(), 1u);
}

TEST(RoutingTable, RefreshKeepsAddressesAndClearsFailures) {
  PeerRef self = TestPeer(0);
  RoutingTable t(self.kad, {.k = 20, .stale_after = std::chrono::hours(1), .max_failures = 2});
  PeerRef p = TestPeer(7);
  t.Add(p, Clock::time_point{});
  EXPECT_FALSE(t.RecordFailure(p.id));
  PeerRef bare = PeerRef::Make(p.id);  // no addresses: the known ones stay
  EXPECT_EQ(t.Add(bare, Clock::time_point{}), RoutingTable::AddResult::kUpdated);
  EXPECT_FALSE(t.RecordFailure(p.id));  // the count restarted
  auto got = t.Closest(p.kad, 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].addrs.size(), 1u);
  EXPECT_EQ(got[0].addrs[0].ToString(), p.addrs[0].ToString());
  EXPECT_EQ(t.NonEmptyBuckets().size(), 1u);
}

}  // namespace
}  // namespace cairn::dht
