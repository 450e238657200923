#include "dht/lookup.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "dht/test_peers.hpp"

namespace cairn::dht {
namespace {

using testing::FakeDht;
using testing::TestPeer;
using testing::TestPeers;
using testing::TrueClosest;

// Drives a lookup against the fake network, answering queries in FIFO order (so several are in
// flight at once); `dead` peers fail.
std::vector<PeerRef> Drive(Lookup& lookup, FakeDht& net, const std::set<std::string>& dead,
                           size_t* max_in_flight) {
  std::deque<PeerRef> pending;
  while (!lookup.Done()) {
    for (auto& p : lookup.Next()) pending.push_back(std::move(p));
    *max_in_flight = std::max(*max_in_flight, lookup.in_flight());
    if (pending.empty()) break;
    PeerRef p = pending.front();
    pending.pop_front();
    if (dead.count(p.id.ToString()) != 0) {
      lookup.OnFailure(p.id);
    } else {
      lookup.OnSuccess(p.id, net.Answer(p.id, lookup.target()));
    }
  }
  return lookup.Closest(20);
}

TEST(Lookup, FindsTheTrueClosestWithFewQueries) {
  FakeDht net(TestPeers(500), 20);
  PeerRef self = TestPeer(100000);
  for (const char* key : {"alpha", "beta", "gamma"}) {
    KadId target = KadId::Of(AsBytes(key));
    // Start from 3 arbitrary peers, as from bootstrap peers.
    std::vector<PeerRef> seeds(net.peers().begin(), net.peers().begin() + 3);
    Lookup lookup(target, self.id, seeds, {.k = 20, .alpha = 3});
    net.queries = 0;
    size_t max_in_flight = 0;
    auto got = Drive(lookup, net, {}, &max_in_flight);
    auto truth = TrueClosest(net.peers(), target, 20);
    ASSERT_EQ(got.size(), 20u);
    for (size_t i = 0; i < 20; ++i) EXPECT_EQ(got[i].id, truth[i].id) << key << " #" << i;
    EXPECT_LE(max_in_flight, 3u);
    EXPECT_LT(net.queries, 120u) << "a lookup must not walk the whole network";
    EXPECT_TRUE(lookup.Done());
  }
}

TEST(Lookup, RoutesAroundDeadPeers) {
  FakeDht net(TestPeers(300), 20);
  KadId target = KadId::Of(AsBytes("key"));
  auto truth = TrueClosest(net.peers(), target, 25);
  std::set<std::string> dead;
  for (size_t i = 0; i < 5; ++i) dead.insert(truth[i].id.ToString());  // the 5 closest are down
  std::vector<PeerRef> seeds(net.peers().begin(), net.peers().begin() + 3);
  Lookup lookup(target, TestPeer(99999).id, seeds, {.k = 20, .alpha = 3});
  size_t max_in_flight = 0;
  auto got = Drive(lookup, net, dead, &max_in_flight);
  ASSERT_EQ(got.size(), 20u);
  // Every answer still names the 5 dead peers among its 20, so only the next 15 are certain to
  // be heard of; those are found, in order, and nothing dead is returned.
  for (size_t i = 0; i < 15; ++i) EXPECT_EQ(got[i].id, truth[i + 5].id);
  for (const auto& p : got) EXPECT_EQ(dead.count(p.id.ToString()), 0u);
}

TEST(Lookup, EndsWhenEverybodyFailsOrNobodyIsKnown) {
  Lookup empty(KadId{}, TestPeer(1).id, {});
  EXPECT_TRUE(empty.Next().empty());
  EXPECT_TRUE(empty.Done());
  Lookup doomed(KadId{}, TestPeer(1).id, TestPeers(2, 10));
  auto asked = doomed.Next();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_FALSE(doomed.Done());
  for (const auto& p : asked) doomed.OnFailure(p.id);
  EXPECT_TRUE(doomed.Done());
  EXPECT_TRUE(doomed.Closest(20).empty());
}

TEST(Lookup, NeverQueriesSelfOrTwiceAndBoundsCandidates) {
  PeerRef self = TestPeer(1);
  auto seeds = TestPeers(3, 2);
  Lookup lookup(KadId{}, self.id, seeds, {.k = 20, .alpha = 3, .max_candidates = 50});
  auto first = lookup.Next();
  ASSERT_EQ(first.size(), 3u);
  // A peer answering with itself, self, the others, and 200 more: bounded, nothing twice.
  std::vector<PeerRef> flood = TestPeers(200, 1000);
  flood.push_back(self);
  flood.insert(flood.end(), seeds.begin(), seeds.end());
  lookup.OnSuccess(first[0].id, flood);
  lookup.OnSuccess(first[0].id, flood);  // a duplicate answer is ignored
  std::set<std::string> asked;
  for (const auto& p : first) asked.insert(p.id.ToString());
  for (int round = 0; round < 100 && !lookup.Done(); ++round) {
    auto next = lookup.Next();
    for (const auto& p : next) {
      EXPECT_NE(p.id, self.id);
      EXPECT_TRUE(asked.insert(p.id.ToString()).second) << "queried twice";
      lookup.OnSuccess(p.id, {});
    }
    for (const auto& p : first) lookup.OnSuccess(p.id, {});
  }
  EXPECT_TRUE(lookup.Done());
  EXPECT_LE(lookup.Answered().size(), 50u);
}

}  // namespace
}  // namespace cairn::dht
