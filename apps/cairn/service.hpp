// Service: routes HTTP requests to the surfaces of `cairn serve` — /healthz, /metrics and the
// gateway. Owns no sockets (the HttpServer calls Handle), so it is testable as a pure function.
#pragma once

#include <atomic>
#include <memory>

#include "blockstore/blockstore.hpp"
#include "http/http_types.hpp"
#include "http/server.hpp"
#include "net/identity.hpp"

namespace cairn::app {

struct ServiceContext {
  blockstore::Blockstore& blocks;
  net::Ed25519Identity identity;
  std::vector<std::string> delegates;  // announce multiaddrs + /p2p/<peer id>
};

class Service {
 public:
  explicit Service(ServiceContext context);
  ~Service();

  http::Response Handle(const http::Request& request);
  // Server counters to include in /metrics; may be null (tests).
  void AttachServerStats(const http::ServerStats* stats) { server_stats_ = stats; }

 private:
  http::Response Metrics() const;
  http::Response KuboRpc(const http::Request& request);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  const http::ServerStats* server_stats_ = nullptr;
};

}  // namespace cairn::app
