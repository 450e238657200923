#include "dht/routing_table.hpp"

#include <algorithm>

namespace cairn::dht {

PeerRef PeerRef::Make(net::PeerId id, std::vector<net::Multiaddr> addrs) {
  KadId kad = KadId::Of(id.hash().Encode());
  return PeerRef{std::move(id), kad, std::move(addrs)};
}

RoutingTable::RoutingTable(KadId self, RoutingTableOptions options)
    : self_(self), options_(options) {}

std::optional<std::pair<size_t, size_t>> RoutingTable::Locate(const net::PeerId& peer) const {
  size_t cpl = CommonPrefixLength(self_, KadId::Of(peer.hash().Encode()));
  if (cpl >= kKeyBits) return std::nullopt;
  const Bucket& bucket = buckets_[cpl];
  for (size_t i = 0; i < bucket.size(); ++i) {
    if (bucket[i].peer.id == peer) return std::make_pair(cpl, i);
  }
  return std::nullopt;
}

RoutingTable::AddResult RoutingTable::Add(const PeerRef& peer, Clock::time_point now) {
  size_t cpl = CommonPrefixLength(self_, peer.kad);
  if (cpl >= kKeyBits) return AddResult::kSelf;
  Bucket& bucket = buckets_[cpl];
  auto it = std::find_if(bucket.begin(), bucket.end(),
                         [&](const Entry& e) { return e.peer.id == peer.id; });
  Entry entry{peer, now, 0};
  if (entry.peer.addrs.size() > kMaxAddrs) entry.peer.addrs.resize(kMaxAddrs);
  if (it != bucket.end()) {
    if (entry.peer.addrs.empty()) entry.peer.addrs = std::move(it->peer.addrs);
    bucket.erase(it);
    bucket.push_back(std::move(entry));  // most recently seen last
    return AddResult::kUpdated;
  }
  if (bucket.size() < options_.k) {
    bucket.push_back(std::move(entry));
    ++size_;
    return AddResult::kAdded;
  }
  // Full: replace the least recently seen entry that is stale (failing, or silent too long).
  for (auto e = bucket.begin(); e != bucket.end(); ++e) {
    if (e->failures > 0 || now - e->last_seen >= options_.stale_after) {
      bucket.erase(e);
      bucket.push_back(std::move(entry));
      return AddResult::kReplaced;
    }
  }
  return AddResult::kBucketFull;
}

bool RoutingTable::RecordFailure(const net::PeerId& peer) {
  auto at = Locate(peer);
  if (!at) return false;
  Entry& e = buckets_[at->first][at->second];
  if (++e.failures < options_.max_failures) return false;
  Remove(peer);
  return true;
}

void RoutingTable::Remove(const net::PeerId& peer) {
  auto at = Locate(peer);
  if (!at) return;
  auto& bucket = buckets_[at->first];
  bucket.erase(bucket.begin() + static_cast<std::ptrdiff_t>(at->second));
  --size_;
}

bool RoutingTable::Contains(const net::PeerId& peer) const { return Locate(peer).has_value(); }

std::vector<PeerRef> RoutingTable::Closest(const KadId& target, size_t count) const {
  std::vector<const PeerRef*> all;
  all.reserve(size_);
  for (const auto& bucket : buckets_) {
    for (const auto& e : bucket) all.push_back(&e.peer);
  }
  size_t n = std::min(count, all.size());
  std::partial_sort(
      all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
      [&](const PeerRef* a, const PeerRef* b) { return Closer(a->kad, b->kad, target); });
  std::vector<PeerRef> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(*all[i]);
  return out;
}

std::vector<size_t> RoutingTable::NonEmptyBuckets() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (!buckets_[i].empty()) out.push_back(i);
  }
  return out;
}

}  // namespace cairn::dht
