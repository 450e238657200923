#include "dht/provider_store.hpp"

#include <gtest/gtest.h>

#include "dht/test_peers.hpp"

namespace cairn::dht {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::TestPeer;

const Clock::time_point kT0 = Clock::time_point{} + hours(100);

TEST(ProviderStore, ExpiresRecordsAfter48HoursAndAddressesAfter30Minutes) {
  ProviderStore store;
  Bytes key{0x12, 0x01, 0x01};
  EXPECT_TRUE(store.Add(key, TestPeer(1), kT0));
  auto fresh = store.Get(key, 20, kT0 + minutes(29));
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_FALSE(fresh[0].addrs.empty());
  auto later = store.Get(key, 20, kT0 + minutes(31));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, TestPeer(1).id);
  EXPECT_TRUE(later[0].addrs.empty());  // the id alone once addresses may be stale
  EXPECT_TRUE(store.Get(key, 20, kT0 + hours(48)).empty());
  // Announcing again renews the record.
  store.Add(key, TestPeer(1), kT0 + hours(47));
  EXPECT_EQ(store.Get(key, 20, kT0 + hours(94)).size(), 1u);
  store.Expire(kT0 + hours(96));
  EXPECT_EQ(store.keys(), 0u);
}

TEST(ProviderStore, BoundsKeysAndProvidersPerKey) {
  ProviderStore store({.record_ttl = hours(48),
                       .addrs_ttl = minutes(30),
                       .max_keys = 2,
                       .max_providers_per_key = 3});
  Bytes a{1}, b{2}, c{3};
  EXPECT_TRUE(store.Add(a, TestPeer(1), kT0));
  EXPECT_TRUE(store.Add(b, TestPeer(1), kT0));
  EXPECT_FALSE(store.Add(c, TestPeer(1), kT0));  // full of other keys: refused, nothing evicted
  EXPECT_EQ(store.Get(a, 10, kT0).size(), 1u);
  for (uint32_t n = 2; n <= 5; ++n) store.Add(a, TestPeer(n), kT0 + minutes(n));
  auto got = store.Get(a, 10, kT0 + minutes(6));
  ASSERT_EQ(got.size(), 3u);             // the oldest two gave way
  EXPECT_EQ(got[0].id, TestPeer(5).id);  // most recent first
  EXPECT_EQ(got[2].id, TestPeer(3).id);
  EXPECT_EQ(store.Get(a, 2, kT0).size(), 2u);
  // Once a's records expire, a new key fits again.
  EXPECT_TRUE(store.Add(c, TestPeer(1), kT0 + hours(49)));
}

}  // namespace
}  // namespace cairn::dht
