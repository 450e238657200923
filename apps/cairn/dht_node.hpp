// The Kademlia DHT in `cairn serve` (docs/architecture.md "Content routing on the DHT"): the
// dht::Node on the libp2p host (client or server mode, `dht.mode`), the provider of pinned roots
// (dht::Reprovider: each root when its pin becomes `pinned`, then every root every
// `dht.reprovide_interval`, batched by key-space region, the keys read from the PinStore in pages)
// and the DHT's provider lookup as a fetch::ProviderFinder for the bitswap client.
//
// Only what Cairn pins is provided; the routing API (`GET /routing/v1/providers/{cid}`) keeps
// answering for Cairn's own pins only and never forwards a query to the DHT, so Cairn is not an
// open DHT proxy.
#pragma once

#include <memory>

#include "apps/cairn/config.hpp"
#include "dht/node.hpp"
#include "dht/reprovider.hpp"
#include "fetch/routing.hpp"
#include "metadata/pins.hpp"
#include "net/host.hpp"

namespace cairn::app {

// The roots of `pinned` pins of every account, in the PinStore's order (binary CID).
class PinnedKeySource final : public dht::KeySource {
 public:
  explicit PinnedKeySource(metadata::PinStore& pins) : pins_(pins) {}
  Result<std::vector<multiformats::Cid>> Page(const std::optional<multiformats::Cid>& after,
                                              size_t limit) override;

 private:
  metadata::PinStore& pins_;
};

// Providers of a CID from the DHT (GET_PROVIDERS lookup), as the bitswap client takes them.
class DhtProviderFinder final : public fetch::ProviderFinder {
 public:
  explicit DhtProviderFinder(dht::Node& node) : node_(node) {}
  Result<std::vector<fetch::Provider>> FindProviders(const multiformats::Cid& cid,
                                                     size_t limit) override;

 private:
  dht::Node& node_;
};

// The DHT of `cairn serve`. Start returns null when dht.mode is "off". Destroy it while the
// host's thread runs (the node unregisters there), and after the pin service that calls
// OnPinned.
class P2pDht {
 public:
  static Result<std::unique_ptr<P2pDht>> Start(net::Host& host, metadata::PinStore& pins,
                                               const ServeConfig& config);
  ~P2pDht();

  // For the pin service's on_pinned: queues the root to be provided now.
  void OnPinned(const multiformats::Cid& cid) { reprovider_->Enqueue(cid); }
  fetch::ProviderFinder& finder() { return *finder_; }
  dht::Node& node() { return *node_; }
  const dht::Reprovider& reprovider() const { return *reprovider_; }

 private:
  P2pDht() = default;
  std::unique_ptr<dht::Node> node_;
  std::unique_ptr<PinnedKeySource> keys_;
  std::unique_ptr<DhtProviderFinder> finder_;
  std::unique_ptr<dht::Reprovider> reprovider_;
};

}  // namespace cairn::app
