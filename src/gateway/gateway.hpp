// The HTTP gateway over the hot tier (../shared/specs/ipfs/path-gateway.md and
// trustless-gateway.md): GET/HEAD /ipfs/{cid}[/path] answered from the block store as raw blocks
// (`application/vnd.ipld.raw`), CAR streams (`application/vnd.ipld.car`; see car_response.hpp)
// and deserialized UnixFS: files (with single Range requests and content-type detection),
// directories (redirect to the trailing-slash URL, then index.html or a generated listing) and
// symlinks. It is a non-recursive gateway: content missing from the block store is a 404 — or a
// 412 when the client sent `Cache-Control: only-if-cached` — and is never fetched from elsewhere.
#pragma once

#include "blockstore/blockstore.hpp"
#include "http/http_types.hpp"

namespace cairn::gateway {

class Gateway {
 public:
  explicit Gateway(blockstore::Blockstore& blocks);

  // Handles GET and HEAD under /ipfs/. Other methods get 405 with `Allow: GET, HEAD`.
  // Thread-safe (the block store is).
  http::Response Handle(const http::Request& request);

 private:
  blockstore::Blockstore& blocks_;
};

// The gateway's mapping of errors to responses: http::ErrorResponse, except NotSupported is
// 406 Not Acceptable (a format this gateway does not produce) and Corruption stays 500.
http::Response GatewayError(const Error& error);

}  // namespace cairn::gateway
