#include "apps/cairn/bitswap_node.hpp"

namespace cairn::app {

bool PinnedContentPolicy::MayServe(const multiformats::Cid& cid) {
  // Roots of pinned pins only; the blocks below them are reached through the server's
  // follow_links. A store that cannot answer serves nothing rather than guess.
  std::vector<metadata::PinStatus> pinned = {metadata::PinStatus::kPinned};
  auto done = pins_.HasCid(cid, pinned);
  return done && *done;
}

BitswapNode::BitswapNode(bitswap::Network& network, blockstore::Blockstore& blocks,
                         metadata::PinStore& pins, fetch::HttpGetter& http,
                         fetch::BlockSource& gateways, const Clock& clock,
                         const BitswapNodeConfig& config)
    : getter_(blocks), policy_(pins) {
  if (!config.routing_delegated.empty()) {
    routing_ = std::make_unique<fetch::DelegatedRoutingClient>(
        http, fetch::DelegatedRoutingOptions{.endpoint = config.routing_delegated});
  }
  server_ = std::make_unique<bitswap::Server>(network, getter_, policy_);
  client_ = std::make_unique<bitswap::Client>(network, clock);
  bitswap_ = std::make_unique<bitswap::Bitswap>(network, server_.get(), client_.get());
  std::vector<fetch::ProviderFinder*> finders;
  if (routing_) finders.push_back(routing_.get());
  if (config.dht != nullptr) finders.push_back(config.dht);
  if (!finders.empty()) providers_ = std::make_unique<fetch::ProviderChain>(std::move(finders));
  source_ = std::make_unique<fetch::BitswapBlockSource>(network, *client_, providers_.get(),
                                                        gateways, clock);
  server_->Start();
}

BitswapNode::~BitswapNode() {
  bitswap_.reset();  // no more handler calls
  server_->Stop();
}

Result<std::unique_ptr<P2pBitswap>> P2pBitswap::Start(
    net::Host& host, blockstore::Blockstore& blocks, metadata::PinStore& pins,
    fetch::HttpGetter& http, fetch::BlockSource& gateways, const Clock& clock,
    const BitswapNodeConfig& config) {
  std::unique_ptr<P2pBitswap> p2p(new P2pBitswap());
  auto network = bitswap::Libp2pNetwork::Create(host);
  if (!network) return Err(network.error().WithContext("serve: bitswap: "));
  p2p->network_ = std::move(*network);
  p2p->node_ =
      std::make_unique<BitswapNode>(*p2p->network_, blocks, pins, http, gateways, clock, config);
  return p2p;
}

P2pBitswap::~P2pBitswap() {
  node_.reset();     // engines stopped, handlers removed
  network_.reset();  // stream handlers unregistered on the host's thread
}

}  // namespace cairn::app
