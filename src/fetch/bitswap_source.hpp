// Blocks over bitswap first, then HTTP: the BlockSource the pin workers use when the node has a
// libp2p host (apps/cairn passes its bitswap::Network). Without one, the app keeps the plain
// GatewayBlockSource and nothing here runs.
//
// Per DAG (OpenSession), in this order (DESIGN "Life of a pin"):
//   1. the pin's origins that carry /p2p/ are dialed (grouped by peer id; addresses the host
//      cannot dial are the host's to skip) and join the session;
//   2. the peers already connected join it too (at most max_connected_peers);
//   3. when a block is not found among those, providers of the root are looked up once per
//      session through routing (ProviderFinder, optional), dialed (at most max_providers), and
//      the block is asked again;
//   4. what bitswap does not deliver comes from the fallback source (the HTTP gateways and the
//      origins' HTTP addresses), exactly as without bitswap.
// Every block is verified twice: bitswap accepts a block only as the CID it hashes to, and this
// source checks it against the wanted CID's multihash again before returning it. The session's
// deadline and cancel flag bound every wait (dials, routing, bitswap wants); after
// max_consecutive_misses blocks in a row that bitswap could not deliver, the session stops asking
// bitswap and goes to the fallback directly (a DAG the peers do not have costs a few round trips,
// not one per block).
#pragma once

#include <memory>

#include "bitswap/client.hpp"
#include "bitswap/network.hpp"
#include "common/clock.hpp"
#include "fetch/block_source.hpp"
#include "fetch/routing.hpp"

namespace cairn::fetch {

struct BitswapSourceOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds block_timeout{30000};  // one block's bitswap wait at most
  size_t max_connected_peers = 32;
  size_t max_providers = 8;
  size_t max_origin_peers = 8;
  size_t max_consecutive_misses = 4;
};

// The peer id of a /p2p/ multiaddr (its last /p2p/ component), nullopt when it has none.
std::optional<std::string> PeerIdOfMultiaddr(std::string_view multiaddr);

class BitswapBlockSource final : public BlockSource {
 public:
  // `routing` may be null (no provider lookups). `clock` must be the one whose monotonic scale
  // the sessions' deadlines use (the pin service's). Everything must outlive the source.
  BitswapBlockSource(bitswap::Network& network, bitswap::Client& client, ProviderFinder* routing,
                     BlockSource& fallback, const Clock& clock, BitswapSourceOptions options = {});

  // A one-block session (no origins, no root lookup beyond `cid` itself).
  Result<Bytes> Fetch(const Cid& cid, std::span<const std::string> extra_gateways) override;
  std::unique_ptr<FetchSession> OpenSession(const SessionParams& params) override;

 private:
  friend class BitswapSession;
  bitswap::Network& network_;
  bitswap::Client& client_;
  ProviderFinder* routing_;
  BlockSource& fallback_;
  const Clock& clock_;
  const BitswapSourceOptions options_;
};

}  // namespace cairn::fetch
