#include "dht/provider_store.hpp"

#include <algorithm>

namespace cairn::dht {

bool ProviderStore::Add(const Bytes& key, const PeerRef& provider, Clock::time_point now) {
  auto it = records_.find(key);
  if (it == records_.end()) {
    if (records_.size() >= options_.max_keys) {
      Expire(now);
      if (records_.size() >= options_.max_keys) return false;
    }
    it = records_.emplace(key, std::vector<Entry>{}).first;
  }
  auto& list = it->second;
  Entry entry{provider, now};
  if (entry.peer.addrs.size() > RoutingTable::kMaxAddrs) {
    entry.peer.addrs.resize(RoutingTable::kMaxAddrs);
  }
  auto same = std::find_if(list.begin(), list.end(),
                           [&](const Entry& e) { return e.peer.id == provider.id; });
  if (same != list.end()) {
    if (entry.peer.addrs.empty()) entry.peer.addrs = std::move(same->peer.addrs);
    *same = std::move(entry);
    return true;
  }
  if (list.size() >= options_.max_providers_per_key) {
    auto oldest = std::min_element(
        list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.added < b.added; });
    *oldest = std::move(entry);
    return true;
  }
  list.push_back(std::move(entry));
  return true;
}

std::vector<PeerRef> ProviderStore::Get(const Bytes& key, size_t limit,
                                        Clock::time_point now) const {
  std::vector<PeerRef> out;
  auto it = records_.find(key);
  if (it == records_.end()) return out;
  std::vector<const Entry*> live;
  for (const auto& e : it->second) {
    if (now - e.added < options_.record_ttl) live.push_back(&e);
  }
  std::sort(live.begin(), live.end(),
            [](const Entry* a, const Entry* b) { return a->added > b->added; });
  for (const Entry* e : live) {
    if (out.size() == limit) break;
    PeerRef p = e->peer;
    if (now - e->added >= options_.addrs_ttl) p.addrs.clear();
    out.push_back(std::move(p));
  }
  return out;
}

void ProviderStore::Expire(Clock::time_point now) {
  for (auto it = records_.begin(); it != records_.end();) {
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const Entry& e) { return now - e.added >= options_.record_ttl; }),
               list.end());
    it = list.empty() ? records_.erase(it) : std::next(it);
  }
}

}  // namespace cairn::dht
