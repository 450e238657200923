#include "dht/reprovider.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "dht/test_peers.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::dht {
namespace {

using multiformats::Cid;
using testing::TestPeers;
using testing::TrueClosest;
namespace mc = multiformats::codec;

Cid KeyCid(uint32_t n) {
  std::string data = "pin " + std::to_string(n);
  return *Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes(data));
}

// A routing whose lookups return the true closest answered peers (as a lookup on a healthy
// network does: the k·2 closest), recording every record sent.
class FakeRouting final : public ProvideRouting {
 public:
  explicit FakeRouting(std::vector<PeerRef> peers) : peers_(std::move(peers)) {}
  Result<std::vector<PeerRef>> FindClosestPeers(const Bytes& key) override {
    ++lookups;
    return TrueClosest(peers_, KadId::Of(key), 40);
  }
  Result<size_t> SendProviderRecords(std::vector<ProviderBatch> batches) override {
    size_t n = 0;
    for (const auto& b : batches) {
      for (const auto& k : b.keys) held[k].insert(b.peer.id.ToString());
      n += b.keys.size();
    }
    return n;
  }
  size_t k() const override { return 20; }

  size_t lookups = 0;
  std::map<Bytes, std::set<std::string>> held;  // key → peers holding its record
  const std::vector<PeerRef>& peers() const { return peers_; }

 private:
  std::vector<PeerRef> peers_;
};

class VectorSource final : public KeySource {
 public:
  explicit VectorSource(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) cids_.push_back(KeyCid(i));
    std::sort(cids_.begin(), cids_.end(),
              [](const Cid& a, const Cid& b) { return a.ToBytes() < b.ToBytes(); });
  }
  Result<std::vector<Cid>> Page(const std::optional<Cid>& after, size_t limit) override {
    ++pages;
    auto it = cids_.begin();
    if (after) {
      it = std::upper_bound(cids_.begin(), cids_.end(), *after,
                            [](const Cid& a, const Cid& b) { return a.ToBytes() < b.ToBytes(); });
    }
    std::vector<Cid> out;
    for (; it != cids_.end() && out.size() < limit; ++it) out.push_back(*it);
    return out;
  }
  size_t pages = 0;

 private:
  std::vector<Cid> cids_;
};

// The share of keys whose record reached at least `need` of their true 20 closest peers.
double Coverage(FakeRouting& routing, uint32_t keys, size_t need) {
  size_t good = 0;
  for (uint32_t i = 0; i < keys; ++i) {
    Bytes key = ProviderKey(KeyCid(i));
    auto truth = TrueClosest(routing.peers(), KadId::Of(key), 20);
    const auto& held = routing.held[key];
    size_t hit = 0;
    for (const auto& p : truth) hit += held.count(p.id.ToString());
    if (hit >= need) ++good;
  }
  return static_cast<double>(good) / keys;
}

TEST(Reprovider, CostsOneLookupPerRegionNotPerKey) {
  // 1,000 peers and 3,000 keys: regions as wide as 20 peers' span are ~50, so ~50–150 lookups.
  FakeRouting routing(TestPeers(1000));
  VectorSource source(3000);
  ReprovideOptions options;
  options.max_keys_in_memory = 1u << 16;
  auto stats = ReprovideAll(source, routing, options, nullptr);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->keys, 3000u);
  EXPECT_EQ(stats->failed_keys, 0u);
  EXPECT_EQ(stats->records, 3000u * 20);
  EXPECT_EQ(stats->regions, routing.lookups);
  EXPECT_LT(routing.lookups, 300u) << "one lookup per region, not per key";
  EXPECT_GT(routing.lookups, 15u) << "regions must follow the network's density";
  // Every key reached all of its true 20 closest peers: a key is sent only when the region's
  // lookup provably saw them, the others wait for a lookup of their own.
  EXPECT_EQ(Coverage(routing, 3000, 20), 1.0);
  std::printf("3000 keys, 1000 peers: %zu lookups\n", routing.lookups);
}

TEST(Reprovider, WindowsBoundMemoryAndStillCoverEveryKey) {
  FakeRouting routing(TestPeers(500));
  VectorSource source(3000);
  ReprovideOptions options;
  options.page = 128;
  options.max_keys_in_memory = 500;  // 3000 keys → 8 windows
  auto stats = ReprovideAll(source, routing, options, nullptr);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->windows, 8u);
  EXPECT_EQ(stats->source_reads, 9u);  // the count, then one read per window
  EXPECT_EQ(stats->keys, 3000u);
  EXPECT_EQ(routing.held.size(), 3000u);
  EXPECT_EQ(Coverage(routing, 3000, 20), 1.0);
}

TEST(Reprovider, SmallNetworkIsOneRegion) {
  FakeRouting routing(TestPeers(5));
  std::vector<PlacedKey> keys;
  for (uint32_t i = 0; i < 100; ++i) {
    Bytes k = ProviderKey(KeyCid(i));
    keys.push_back({KadId::Of(k), k});
  }
  std::sort(keys.begin(), keys.end());
  size_t prefix_bits = kKeyBits;
  auto stats = ProvideSorted(keys, routing, prefix_bits, 0, nullptr);
  // The first region is one key (to measure the network); it finds fewer than k peers, so the
  // rest is one region.
  EXPECT_EQ(stats.regions, 2u);
  EXPECT_EQ(stats.records, 100u * 5);
}

TEST(Reprovider, ProvidesQueuedKeysAtOnce) {
  FakeRouting routing(TestPeers(50));
  VectorSource source(0);
  ReprovideOptions options;
  options.first_pass_after = std::chrono::hours(1);
  Reprovider reprovider(source, routing, options);
  reprovider.Start();
  auto inline_cid = *Cid::Compute(1, mc::kRaw, mc::kIdentity, AsBytes("tiny"));
  reprovider.Enqueue(inline_cid);  // its data is in the CID: not provided
  reprovider.Enqueue(KeyCid(1));
  for (int i = 0; i < 200 && reprovider.totals().records.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reprovider.Stop();
  EXPECT_EQ(reprovider.totals().records.load(), 20u);
  EXPECT_EQ(routing.held.count(ProviderKey(KeyCid(1))), 1u);
  EXPECT_EQ(routing.held.count(ProviderKey(inline_cid)), 0u);
  EXPECT_EQ(routing.lookups, 1u);
  EXPECT_EQ(reprovider.totals().passes.load(), 0u);
}

}  // namespace
}  // namespace cairn::dht
