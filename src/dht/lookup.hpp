// The iterative Kademlia lookup (../shared/specs/libp2p/kad-dht.md "Peer routing") as a pure state
// machine: the driver (dht/node.hpp, or a test's fake network) asks Next() for the peers to query,
// sends them FIND_NODE or GET_PROVIDERS, and reports each answer (OnSuccess with the closer peers
// it named) or failure (OnFailure: error, timeout, unparsable answer).
//
// Rules: at most `alpha` queries in flight (alpha = 3); only candidates among the k closest that
// have not failed are queried, closest first; the lookup is done when those k closest have all
// answered (or when nothing is left to query and nothing is in flight). A peer is queried at most
// once; this node itself is never a candidate. Candidates are bounded (max_candidates): past the
// bound the farthest unqueried ones are dropped, so a peer answering with thousands of made-up
// peers costs a bounded amount. The deadline is the driver's: it stops calling Next() and takes
// Closest() as the result so far.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "dht/routing_table.hpp"

namespace cairn::dht {

struct LookupOptions {
  size_t k = 20;
  size_t alpha = 3;
  size_t max_candidates = 400;
};

class Lookup {
 public:
  // `seeds`: where to start (the routing table's closest peers, or the bootstrap peers).
  Lookup(KadId target, const net::PeerId& self, std::vector<PeerRef> seeds,
         LookupOptions options = {});

  // Peers to query now (each marked in flight); empty when none may start.
  std::vector<PeerRef> Next();
  // `peer` answered, naming `closer` peers (new ones become candidates).
  void OnSuccess(const net::PeerId& peer, std::vector<PeerRef> closer);
  void OnFailure(const net::PeerId& peer);

  bool Done() const;
  size_t in_flight() const { return in_flight_; }
  // Up to `count` peers that answered, closest to the target first.
  std::vector<PeerRef> Closest(size_t count) const;
  // Every peer that answered (for the reprovider, which picks per key among them).
  std::vector<PeerRef> Answered() const;
  const KadId& target() const { return target_; }

 private:
  enum class State { kNew, kWaiting, kAnswered, kFailed };
  struct Candidate {
    PeerRef peer;
    State state = State::kNew;
  };
  void Insert(PeerRef peer);
  std::optional<size_t> IndexOf(const net::PeerId& peer) const;

  KadId target_;
  net::PeerId self_;
  LookupOptions options_;
  std::vector<Candidate> candidates_;  // sorted by distance to target, closest first
  size_t in_flight_ = 0;
};

}  // namespace cairn::dht
