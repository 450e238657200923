// Service: routes HTTP requests to the surfaces of `cairn serve` — /healthz, /metrics, the
// Kubo RPC subset (/api/v0/), the Pinning Service API (/pins), the admin API (/admin/), the
// delegated routing server (/routing/v1/) and the gateway (/ipfs/). Owns no sockets (the HttpServer
// calls Handle), so it is testable as a pure function.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "api/admin_api.hpp"
#include "api/kubo_rpc.hpp"
#include "api/pinning_api.hpp"
#include "api/routing_api.hpp"
#include "apps/cairn/bitswap_node.hpp"
#include "apps/cairn/dht_node.hpp"
#include "blockstore/cached_blockstore.hpp"
#include "blockstore/log_blockstore.hpp"
#include "gateway/gateway.hpp"
#include "http/http_types.hpp"
#include "http/server.hpp"
#include "metadata/accounts.hpp"
#include "net/identity.hpp"
#include "pinning/hot_cache.hpp"
#include "pinning/pin_service.hpp"

namespace cairn::app {

class ColdTier;

struct ServiceContext {
  blockstore::LogBlockstore& blocks;
  net::Ed25519Identity identity;
  std::vector<std::string> delegates;  // announce multiaddrs + /p2p/<peer id>
  api::PinningApi& pinning_api;
  api::KuboRpc& kubo_rpc;
  api::AdminApi& admin_api;
  gateway::Gateway& gateway;
  pinning::PinService& pin_service;
  metadata::AccountStore& accounts;
  metadata::PinStore& pins;
  const Clock& clock;
  bool gateway_public = true;  // false: /ipfs/ needs a valid token (any scope)
  const blockstore::CachedBlockstore* block_cache = nullptr;  // its counters go to /metrics
  api::RoutingApi* routing_api = nullptr;  // /routing/v1/ (delegated routing server); may be null
  // The cold tier (apps/cairn/cold_tier.hpp): /filecoin/piece/ and the /healthz "cold_tier"
  // member; null when it is off (/healthz then says "off").
  ColdTier* cold_tier = nullptr;
  // The hot tier as a cache (pinning/hot_cache.hpp): its counters go to /metrics; null without a
  // cold tier.
  const pinning::HotCache* hot_cache = nullptr;
  // The node on the IPFS network (apps/cairn/bitswap_node.hpp, dht_node.hpp): their counters go
  // to /metrics; the DHT is null with dht.mode = "off".
  const P2pBitswap* bitswap = nullptr;
  P2pDht* dht = nullptr;
};

class Service {
 public:
  explicit Service(ServiceContext context);
  ~Service();

  http::Response Handle(const http::Request& request);
  // Admission of a request that has a body, from its headers alone (http::ServerOptions::admit):
  // a request to an authenticated surface (/pins, /api/v0/, /admin/) without a valid bearer token
  // is answered 401 before its body is read or buffered. Scopes are checked later, by the
  // surface. nullopt: read the body and handle the request.
  std::optional<http::Response> Admit(const http::Request& request);
  // Streamed request bodies (uploads): a consumer, or nullptr to buffer and call Handle.
  std::unique_ptr<http::BodyConsumer> StreamUpload(const http::Request& request);
  // Server counters to include in /metrics; may be null (tests).
  void AttachServerStats(const http::ServerStats* stats) { server_stats_ = stats; }

 private:
  http::Response Metrics() const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  const http::ServerStats* server_stats_ = nullptr;
};

}  // namespace cairn::app
