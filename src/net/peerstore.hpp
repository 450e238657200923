// What the host knows about other peers: their addresses (each with an expiry), public keys,
// protocols and agent, learned from identify, from dials and from callers (a pin's origins).
// Bounded: at most kMaxAddrsPerPeer addresses per peer (the longest-lived kept) and kMaxPeers
// peers (the one whose addresses expire first is evicted). Time is passed in, so tests control
// it. Not thread-safe: the host uses it on its own thread only.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::net {

class Peerstore {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxAddrsPerPeer = 32;
  static constexpr size_t kMaxPeers = 10000;
  // TTLs in the go-libp2p sense: addresses of a connected peer, of one we heard about, and
  // addresses a caller gave for a single dial.
  static constexpr Clock::duration kConnectedTtl = std::chrono::hours(1);
  static constexpr Clock::duration kRecentTtl = std::chrono::minutes(10);

  // Adds or refreshes addresses (without their /p2p/ suffix); an address already known keeps the
  // later of the two expiries.
  void AddAddrs(const PeerId& peer, const std::vector<Multiaddr>& addrs, Clock::duration ttl,
                Clock::time_point now);
  // Unexpired addresses, longest-lived first.
  std::vector<Multiaddr> Addrs(const PeerId& peer, Clock::time_point now) const;
  void SetProtocols(const PeerId& peer, std::vector<std::string> protocols);
  std::vector<std::string> Protocols(const PeerId& peer) const;
  void SetAgent(const PeerId& peer, std::string agent);
  std::optional<std::string> Agent(const PeerId& peer) const;
  // Drops expired addresses and peers left with nothing.
  void Expire(Clock::time_point now);
  size_t size() const { return peers_.size(); }

 private:
  struct Entry {
    std::map<std::string, std::pair<Multiaddr, Clock::time_point>> addrs;  // by text
    std::vector<std::string> protocols;
    std::optional<std::string> agent;
  };
  Entry& Get(const PeerId& peer);

  std::map<std::string, Entry> peers_;  // by peer ID text
};

}  // namespace cairn::net
