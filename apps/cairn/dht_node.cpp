#include "apps/cairn/dht_node.hpp"

#include "common/log.hpp"

namespace cairn::app {

Result<std::vector<multiformats::Cid>> PinnedKeySource::Page(
    const std::optional<multiformats::Cid>& after, size_t limit) {
  const metadata::PinStatus pinned[] = {metadata::PinStatus::kPinned};
  return pins_.ListCids(pinned, after, limit);
}

Result<std::vector<fetch::Provider>> DhtProviderFinder::FindProviders(const multiformats::Cid& cid,
                                                                      size_t limit) {
  auto found = CAIRN_TRY(node_.FindProviders(cid, limit));
  std::vector<fetch::Provider> out;
  for (const auto& p : found) {
    fetch::Provider provider;
    provider.id = p.id.ToString();
    for (const auto& a : p.addrs) provider.addrs.push_back(a.ToString());
    out.push_back(std::move(provider));  // protocols unknown: the DHT does not say
  }
  return out;
}

Result<std::unique_ptr<P2pDht>> P2pDht::Start(net::Host& host, metadata::PinStore& pins,
                                              const ServeConfig& config) {
  if (config.dht_mode == "off") return std::unique_ptr<P2pDht>();
  dht::NodeOptions options;
  options.mode = config.dht_mode == "server" ? dht::Mode::kServer : dht::Mode::kClient;
  for (const auto& b : config.dht_bootstrap) {
    auto ma = net::Multiaddr::Parse(b);
    if (!ma) return Err(ma.error().WithContext("serve: dht.bootstrap: "));
    options.bootstrap.push_back(std::move(*ma));
  }
  std::unique_ptr<P2pDht> dht(new P2pDht());
  auto node = dht::Node::Create(host, std::move(options));
  if (!node) return Err(node.error().WithContext("serve: dht: "));
  dht->node_ = std::move(*node);
  dht->keys_ = std::make_unique<PinnedKeySource>(pins);
  dht->finder_ = std::make_unique<DhtProviderFinder>(*dht->node_);
  dht::ReprovideOptions reprovide;
  reprovide.interval = std::chrono::seconds(config.dht_reprovide_interval_seconds);
  dht->reprovider_ = std::make_unique<dht::Reprovider>(*dht->keys_, *dht->node_, reprovide);
  dht->reprovider_->Start();
  log::Info("dht.start", {{"mode", config.dht_mode},
                          {"bootstrap_peers", static_cast<uint64_t>(config.dht_bootstrap.size())}});
  return dht;
}

P2pDht::~P2pDht() {
  if (node_) node_->Shutdown();          // the reprovider's lookups end now
  if (reprovider_) reprovider_->Stop();  // before the node it uses
  reprovider_.reset();
  node_.reset();
}

}  // namespace cairn::app
