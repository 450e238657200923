// The deal layer's Mk12Transport (filecoin/deals/mk12_client.hpp) in `cairn serve`: HTTP through
// the Beast client (Curio providers) and libp2p streams through the node's host (Boost
// providers; ../shared/FILECOIN.md §3.1 framing, §6 stack).
//
// libp2p exchange, run as one coroutine on the host's thread while the calling thread (the deal
// engine's) waits for it: Connect to the peer (its dial and handshake timeouts bound it, and the
// Noise handshake proves the peer id), NewStream negotiating the offered protocols (bounded by
// the host's negotiation timeout), write the chosen offer's request, half-close, read until the
// peer closes, at most max_response_bytes. The whole exchange has one deadline: once it passes,
// the stream is reset (or, before there is one, the exchange stops at the next step) and the
// answer is Timeout. The caller never waits more than the deadline plus a 5 s grace for the host
// thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "filecoin/deals/mk12_client.hpp"
#include "net/host.hpp"

namespace cairn::app {

class AppMk12Transport final : public filecoin::deals::Mk12Transport {
 public:
  // `host` must outlive the transport and run on its own thread (P2pRuntime); nullptr means no
  // libp2p: every Exchange is Unavailable, saying so.
  explicit AppMk12Transport(net::Host* host) : host_(host) {}

  Result<filecoin::deals::Mk12HttpReply> Send(const std::string& method, const std::string& url,
                                              const std::string& body,
                                              std::chrono::milliseconds timeout,
                                              uint64_t max_response_bytes) override;
  Result<filecoin::deals::Mk12StreamReply> Exchange(
      const std::string& peer_id, const std::vector<std::string>& addrs,
      const std::vector<filecoin::deals::Mk12StreamOffer>& offers,
      std::chrono::milliseconds timeout, uint64_t max_response_bytes) override;

 private:
  net::Host* host_;
};

}  // namespace cairn::app
