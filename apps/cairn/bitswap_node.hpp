// Bitswap in `cairn serve`: the engines over the libp2p host's bitswap::Network, and the block
// source the pin workers use with it. serve_command.cpp builds one only when a Network exists;
// without one the pin workers keep the gateways (fetch::GatewayBlockSource) exactly as before.
//
// What the server gives away (PinnedContentPolicy, see bitswap/server.hpp and
// docs/architecture.md "Bitswap"): the root of a pin of any account while one such pin is
// `pinned` (a half-fetched DAG, a failed or queued pin is not advertised), and — through the
// server's follow_links — every block linked from a block already sent to the same peer. So a
// block is served only to a peer walking down a pinned DAG from its root: blocks of uploads in
// flight, of half-fetched DAGs and of deleted pins (until the next collection) are never
// advertised, and no block-to-pin index is needed. The cost: a peer that got a parent block
// from another provider and asks Cairn only for its children gets DONT_HAVE.
#pragma once

#include <memory>

#include "bitswap/bitswap.hpp"
#include "bitswap/client.hpp"
#include "bitswap/libp2p_network.hpp"
#include "bitswap/server.hpp"
#include "blockstore/blockstore.hpp"
#include "fetch/bitswap_source.hpp"
#include "fetch/routing.hpp"
#include "ipld/blocks.hpp"
#include "metadata/pins.hpp"
#include "net/host.hpp"

namespace cairn::app {

class PinnedContentPolicy final : public bitswap::ContentPolicy {
 public:
  explicit PinnedContentPolicy(metadata::PinStore& pins) : pins_(pins) {}
  bool MayServe(const multiformats::Cid& cid) override;

 private:
  metadata::PinStore& pins_;
};

struct BitswapNodeConfig {
  std::string routing_delegated;  // config routing.delegated ("" = no delegated lookups)
  // The DHT's provider lookup (apps/cairn/dht_node.hpp), asked after the delegated router; null
  // when dht.mode is "off". Must outlive the node.
  fetch::ProviderFinder* dht = nullptr;
};

// Everything must outlive the node; the node must outlive the pin service that uses source().
class BitswapNode {
 public:
  BitswapNode(bitswap::Network& network, blockstore::Blockstore& blocks, metadata::PinStore& pins,
              fetch::HttpGetter& http, fetch::BlockSource& gateways, const Clock& clock,
              const BitswapNodeConfig& config);
  ~BitswapNode();

  fetch::BlockSource& source() { return *source_; }
  const bitswap::Server& server() const { return *server_; }
  const bitswap::Client& client() const { return *client_; }

 private:
  ipld::BlockGetterFor<blockstore::Blockstore> getter_;
  PinnedContentPolicy policy_;
  std::unique_ptr<fetch::DelegatedRoutingClient> routing_;
  std::unique_ptr<fetch::ProviderChain> providers_;  // the delegated router, then the DHT
  std::unique_ptr<bitswap::Server> server_;
  std::unique_ptr<bitswap::Client> client_;
  std::unique_ptr<bitswap::Bitswap> bitswap_;
  std::unique_ptr<fetch::BitswapBlockSource> source_;
};

// Bitswap in `cairn serve`, in one piece: the bitswap::Network over the libp2p host
// (bitswap::Libp2pNetwork) and the BitswapNode on it. Everything passed must outlive it.
// Destroy it while the host's io_context thread still runs and before the host stops: the node
// goes first (its engines stop sending), then the network (which unregisters its stream
// handlers on the host's thread and waits for that).
class P2pBitswap {
 public:
  static Result<std::unique_ptr<P2pBitswap>> Start(net::Host& host, blockstore::Blockstore& blocks,
                                                   metadata::PinStore& pins,
                                                   fetch::HttpGetter& http,
                                                   fetch::BlockSource& gateways, const Clock& clock,
                                                   const BitswapNodeConfig& config);
  ~P2pBitswap();

  bitswap::Network& network() { return *network_; }
  BitswapNode& node() { return *node_; }
  const BitswapNode& node() const { return *node_; }
  // What the pin workers fetch through: bitswap first, then `gateways`.
  fetch::BlockSource& source() { return node_->source(); }

 private:
  P2pBitswap() = default;
  std::unique_ptr<bitswap::Libp2pNetwork> network_;
  std::unique_ptr<BitswapNode> node_;
};

}  // namespace cairn::app
