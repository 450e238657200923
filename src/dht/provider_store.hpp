// Provider records a DHT server holds for others (../shared/specs/libp2p/kad-dht.md "Content
// provider advertisement"): key (a multihash) → the peers that announced it with ADD_PROVIDER,
// each with the time it expires (48 h after its last announcement, the IPFS DHT's expiration
// interval) and its addresses, kept for a shorter time (30 min, Kubo's choice) after which only
// the peer id is given out — addresses go stale faster than records.
//
// In memory and bounded: at most max_keys keys and max_providers_per_key peers per key. A new
// provider for a full key replaces the one expiring first; a new key when max_keys are held is
// refused (records already held are not given up for newcomers: an attacker announcing made-up
// keys cannot push out real records). A restarted server starts empty, as providers reprovide
// within their interval. Pure: time is passed in. Not thread-safe (the host's thread uses it).
#pragma once

#include <chrono>
#include <map>
#include <vector>

#include "common/bytes.hpp"
#include "dht/routing_table.hpp"

namespace cairn::dht {

struct ProviderStoreOptions {
  Clock::duration record_ttl = std::chrono::hours(48);
  Clock::duration addrs_ttl = std::chrono::minutes(30);
  size_t max_keys = 1u << 20;
  size_t max_providers_per_key = 64;
};

class ProviderStore {
 public:
  explicit ProviderStore(ProviderStoreOptions options = {}) : options_(options) {}

  // Adds or refreshes `provider` for `key`. False when the store is full of other keys.
  bool Add(const Bytes& key, const PeerRef& provider, Clock::time_point now);
  // The unexpired providers of `key`, most recently announced first, at most `limit`; addresses
  // older than addrs_ttl are left out (the peer id stays).
  std::vector<PeerRef> Get(const Bytes& key, size_t limit, Clock::time_point now) const;
  // Drops expired records (the node calls it periodically).
  void Expire(Clock::time_point now);
  size_t keys() const { return records_.size(); }

 private:
  struct Entry {
    PeerRef peer;
    Clock::time_point added;
  };
  ProviderStoreOptions options_;
  std::map<Bytes, std::vector<Entry>> records_;
};

}  // namespace cairn::dht
