// The chain layer's RpcTransport seam, implemented with the Beast client (http::Fetch): a JSON
// POST with an optional bearer token.
#pragma once

#include "filecoin/chain/rpc.hpp"
#include "http/client.hpp"

namespace cairn::app {

class BeastRpcTransport : public filecoin::chain::RpcTransport {
 public:
  Result<filecoin::chain::RpcHttpReply> Post(const std::string& url, const std::string& body,
                                             const std::string& token,
                                             std::chrono::milliseconds timeout,
                                             uint64_t max_response_bytes) override {
    http::ClientRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = body;
    req.timeout = timeout;
    req.max_body_bytes = max_response_bytes;
    auto res = http::Fetch(req);
    if (!res) return Err(res.error());
    return filecoin::chain::RpcHttpReply{res->status, std::move(res->body)};
  }
};

}  // namespace cairn::app
