// The Kademlia routing table (../shared/specs/libp2p/kad-dht.md "Kademlia routing table"):
// 256 k-buckets, bucket i holding up to k peers whose key shares exactly i leading bits with this
// node's own (k = 20). Only peers that serve /ipfs/kad/1.0.0 (server mode) belong here — the caller
// adds a peer when identify says so or when it answered a query, never from a rumour alone.
//
// Eviction of stale peers: a full bucket takes a new peer only in place of its least recently seen
// entry, and only when that entry is stale — not seen for `stale_after`, or failing its last query
// — so long-lived peers are kept (the Kademlia preference) but dead ones do not hold a bucket
// forever. A peer that fails `max_failures` queries in a row is removed. Addresses are kept per
// entry (at most kMaxAddrs) so the table can dial its peers after the peerstore forgot them.
//
// Pure: time is passed in. Not thread-safe (the node uses it on the host's thread).
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <vector>

#include "dht/key.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::dht {

using Clock = std::chrono::steady_clock;

// A peer as the DHT passes it around: its id, its key-space position and its addresses.
struct PeerRef {
  net::PeerId id;
  KadId kad;
  std::vector<net::Multiaddr> addrs;

  static PeerRef Make(net::PeerId id, std::vector<net::Multiaddr> addrs = {});
};

struct RoutingTableOptions {
  size_t k = 20;
  Clock::duration stale_after = std::chrono::hours(1);
  int max_failures = 2;
};

class RoutingTable {
 public:
  static constexpr size_t kMaxAddrs = 8;

  RoutingTable(KadId self, RoutingTableOptions options = {});

  enum class AddResult { kAdded, kUpdated, kReplaced, kBucketFull, kSelf };
  // Adds `peer`, or refreshes it (last seen = now, failures cleared, addresses replaced when
  // `peer.addrs` is non-empty). In a full bucket the least recently seen stale entry is replaced
  // (kReplaced); without one the peer is not added (kBucketFull).
  AddResult Add(const PeerRef& peer, Clock::time_point now);
  // Counts a failed query; at max_failures in a row the peer is removed (true then).
  bool RecordFailure(const net::PeerId& peer);
  void Remove(const net::PeerId& peer);
  bool Contains(const net::PeerId& peer) const;

  // Up to `count` peers, closest to `target` first.
  std::vector<PeerRef> Closest(const KadId& target, size_t count) const;
  // Indices of the buckets that hold at least one peer (for the periodic refresh).
  std::vector<size_t> NonEmptyBuckets() const;
  size_t size() const { return size_; }
  const KadId& self() const { return self_; }
  size_t k() const { return options_.k; }

 private:
  struct Entry {
    PeerRef peer;
    Clock::time_point last_seen;
    int failures = 0;
  };
  using Bucket = std::vector<Entry>;  // least recently seen first
  // {bucket, index} of `peer`, nullopt when absent.
  std::optional<std::pair<size_t, size_t>> Locate(const net::PeerId& peer) const;

  KadId self_;
  RoutingTableOptions options_;
  std::array<Bucket, kKeyBits> buckets_;
  size_t size_ = 0;
};

}  // namespace cairn::dht
