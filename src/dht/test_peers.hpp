// Test support: deterministic peers (Ed25519 identities from seeded keys) and a synchronous fake
// DHT in which every peer knows every other and answers a query with the k closest it knows.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "dht/lookup.hpp"
#include "net/identity.hpp"

namespace cairn::dht::testing {

inline PeerRef TestPeer(uint32_t n) {
  Bytes seed(32, 0);
  for (int i = 0; i < 4; ++i) seed[i] = static_cast<uint8_t>(n >> (8 * i));
  auto id = net::Ed25519Identity::FromSeed(seed).peer_id();
  auto addr = *net::Multiaddr::Parse("/ip4/10.0.0.1/tcp/" + std::to_string(1000 + n % 60000));
  return PeerRef::Make(id, {addr});
}

inline std::vector<PeerRef> TestPeers(uint32_t count, uint32_t first = 1) {
  std::vector<PeerRef> out;
  for (uint32_t i = 0; i < count; ++i) out.push_back(TestPeer(first + i));
  return out;
}

// The `count` of `peers` closest to `target`.
inline std::vector<PeerRef> TrueClosest(std::vector<PeerRef> peers, const KadId& target,
                                        size_t count) {
  size_t n = std::min(count, peers.size());
  std::partial_sort(
      peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(n), peers.end(),
      [&](const PeerRef& a, const PeerRef& b) { return Closer(a.kad, b.kad, target); });
  peers.resize(n);
  return peers;
}

// Each peer's table holds a sample of the others: all peers within its own neighbourhood and a
// few far ones, as a healthy Kademlia table does (built by brute force from RoutingTable).
class FakeDht {
 public:
  FakeDht(std::vector<PeerRef> peers, size_t k) : peers_(std::move(peers)), k_(k) {
    for (const auto& p : peers_) {
      RoutingTable t(p.kad, {.k = k});
      for (const auto& q : peers_) t.Add(q, Clock::time_point{});
      tables_.emplace(p.id.ToString(), std::move(t));
    }
  }
  // What `peer` answers to FIND_NODE(target): its table's k closest.
  std::vector<PeerRef> Answer(const net::PeerId& peer, const KadId& target) {
    ++queries;
    return tables_.at(peer.ToString()).Closest(target, k_);
  }
  const std::vector<PeerRef>& peers() const { return peers_; }
  size_t queries = 0;

 private:
  std::vector<PeerRef> peers_;
  size_t k_;
  std::map<std::string, RoutingTable> tables_;
};

}  // namespace cairn::dht::testing
