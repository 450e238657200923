// The fetch layer's HttpGetter seam, implemented with the Beast client (http::Fetch).
#pragma once

#include "fetch/block_source.hpp"
#include "http/client.hpp"

namespace cairn::app {

class BeastHttpGetter : public fetch::HttpGetter {
 public:
  Result<fetch::HttpReply> Get(const std::string& url, std::string_view accept,
                               std::chrono::milliseconds timeout, uint64_t max_bytes) override {
    http::ClientRequest req;
    req.url = url;
    req.headers = {{"Accept", std::string(accept)}};
    req.timeout = timeout;
    req.max_body_bytes = max_bytes;
    auto res = http::Fetch(req);
    if (!res) return Err(res.error());
    return fetch::HttpReply{res->status, std::move(res->body)};
  }
};

}  // namespace cairn::app
