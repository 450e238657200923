// The server side of delegated content routing (../shared/specs/ipfs/http-routing-v1.md):
// `GET /routing/v1/providers/{cid}` answers with this node as the provider of content it has
// pinned, so a client that uses Cairn as its delegated router (Helia, Kubo's
// Routing.DelegatedRouters) finds Cairn. Unauthenticated, like the routing API everywhere.
//
// - {cid} pinned here (any account, status `pinned`, matched normalized): 200 with one "peer"
//   record: this node's peer id, its dialable multiaddrs (from the app; empty until the node has
//   a libp2p listener) and, when there are addresses, Protocols ["transport-bitswap"].
//   `Cache-Control: public, max-age=300`.
// - not pinned: 200 with `{"Providers":[]}` (the spec: 404 SHOULD NOT be returned),
//   `max-age=15`.
// - `Accept: application/x-ndjson`: the same records, one JSON object a line.
// - a {cid} that does not parse: 400; other /routing/v1/ paths (peers, ipns, dht): 501; methods
//   other than GET/HEAD/OPTIONS: 405. OPTIONS is the CORS preflight; every answer carries
//   `Access-Control-Allow-Origin: *` and `Vary: Accept`.
// Errors from the metadata store are 5xx as usual. Thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_types.hpp"
#include "metadata/pins.hpp"

namespace cairn::api {

struct RoutingApiOptions {
  std::string peer_id;  // this node's peer id text
  // This node's dialable multiaddrs (without /p2p/), asked at each request.
  std::function<std::vector<std::string>()> addrs;
};

class RoutingApi {
 public:
  RoutingApi(metadata::PinStore& pins, RoutingApiOptions options);

  static bool Handles(std::string_view path);
  http::Response Handle(const http::Request& request);

 private:
  metadata::PinStore& pins_;
  RoutingApiOptions options_;
};

}  // namespace cairn::api
