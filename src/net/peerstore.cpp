#include "net/peerstore.hpp"

#include <algorithm>

namespace cairn::net {
namespace {

Multiaddr WithoutPeer(const Multiaddr& addr) {
  Multiaddr out;
  for (const auto& c : addr.components()) {
    if (c.name == "p2p") break;
    auto r = out.Append(c.name, c.text);
    CAIRN_CHECK(r.has_value());  // components of a parsed address append cleanly
  }
  return out;
}

Peerstore::Clock::time_point LatestExpiry(
    const std::map<std::string, std::pair<Multiaddr, Peerstore::Clock::time_point>>& addrs) {
  Peerstore::Clock::time_point t{};
  for (const auto& [k, v] : addrs) t = std::max(t, v.second);
  return t;
}

}  // namespace

Peerstore::Entry& Peerstore::Get(const PeerId& peer) {
  std::string key = peer.ToString();
  auto it = peers_.find(key);
  if (it != peers_.end()) return it->second;
  if (peers_.size() >= kMaxPeers) {
    auto victim = std::min_element(peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
      return LatestExpiry(a.second.addrs) < LatestExpiry(b.second.addrs);
    });
    peers_.erase(victim);
  }
  return peers_[key];
}

void Peerstore::AddAddrs(const PeerId& peer, const std::vector<Multiaddr>& addrs,
                         Clock::duration ttl, Clock::time_point now) {
  Entry& e = Get(peer);
  for (const auto& a : addrs) {
    Multiaddr bare = WithoutPeer(a);
    std::string key = bare.ToString();
    auto it = e.addrs.find(key);
    if (it != e.addrs.end()) {
      it->second.second = std::max(it->second.second, now + ttl);
      continue;
    }
    if (e.addrs.size() >= kMaxAddrsPerPeer) {
      auto victim = std::min_element(
          e.addrs.begin(), e.addrs.end(),
          [](const auto& x, const auto& y) { return x.second.second < y.second.second; });
      if (victim->second.second >= now + ttl) continue;
      e.addrs.erase(victim);
    }
    e.addrs.emplace(key, std::make_pair(std::move(bare), now + ttl));
  }
}

std::vector<Multiaddr> Peerstore::Addrs(const PeerId& peer, Clock::time_point now) const {
  auto it = peers_.find(peer.ToString());
  if (it == peers_.end()) return {};
  std::vector<std::pair<Clock::time_point, const Multiaddr*>> live;
  for (const auto& [k, v] : it->second.addrs) {
    if (v.second > now) live.emplace_back(v.second, &v.first);
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Multiaddr> out;
  out.reserve(live.size());
  for (const auto& [t, a] : live) out.push_back(*a);
  return out;
}

void Peerstore::SetProtocols(const PeerId& peer, std::vector<std::string> protocols) {
  Get(peer).protocols = std::move(protocols);
}

std::vector<std::string> Peerstore::Protocols(const PeerId& peer) const {
  auto it = peers_.find(peer.ToString());
  return it == peers_.end() ? std::vector<std::string>{} : it->second.protocols;
}

void Peerstore::SetAgent(const PeerId& peer, std::string agent) {
  Get(peer).agent = std::move(agent);
}

std::optional<std::string> Peerstore::Agent(const PeerId& peer) const {
  auto it = peers_.find(peer.ToString());
  return it == peers_.end() ? std::nullopt : it->second.agent;
}

void Peerstore::Expire(Clock::time_point now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto& addrs = it->second.addrs;
    for (auto a = addrs.begin(); a != addrs.end();) {
      a = a->second.second <= now ? addrs.erase(a) : std::next(a);
    }
    it = addrs.empty() && it->second.protocols.empty() ? peers_.erase(it) : std::next(it);
  }
}

}  // namespace cairn::net
