// Content routing: who provides a CID. The delegated routing client asks an HTTP router
// (../shared/specs/ipfs/http-routing-v1.md, `GET /routing/v1/providers/{cid}`, the same API Kubo
// and Helia use, default https://delegated-ipfs.dev) through the HttpGetter seam.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "fetch/block_source.hpp"

namespace cairn::fetch {

// One provider record (the "peer" schema, and the legacy "bitswap" schema read the same way).
struct Provider {
  std::string id;                      // peer id text, as the router gave it
  std::vector<std::string> addrs;      // multiaddrs (may be empty: look the peer up)
  std::vector<std::string> protocols;  // e.g. "transport-bitswap" (may be empty: unknown)
};

class ProviderFinder {
 public:
  virtual ~ProviderFinder() = default;
  // Providers of `cid`, at most `limit`. An empty list when nobody provides it. Unavailable,
  // Timeout, InvalidArgument (a response that is not the spec's JSON) as errors. Thread-safe.
  virtual Result<std::vector<Provider>> FindProviders(const Cid& cid, size_t limit) = 0;
};

struct DelegatedRoutingOptions {
  std::string endpoint = "https://delegated-ipfs.dev";  // routing.delegated; empty = disabled
  std::chrono::milliseconds timeout{10000};
  uint64_t max_response_bytes = 1u << 20;
};

// GET {endpoint}/routing/v1/providers/{cid as CIDv1 base32} with Accept: application/json.
// 404 is an empty result (the spec's backward-compatibility rule); other non-200 statuses are
// Unavailable naming the status. The body is bounded (max_response_bytes) and parsed strictly:
// a JSON object whose "Providers" is an array (or null) of objects; records without a string
// "ID" or of a schema other than "peer"/"bitswap" are skipped; Addrs/Protocols must be arrays
// of strings when present (other entries skipped); unknown fields are ignored. Records that
// name a protocol list without "transport-bitswap" are skipped (they cannot serve bitswap).
class DelegatedRoutingClient final : public ProviderFinder {
 public:
  DelegatedRoutingClient(HttpGetter& http, DelegatedRoutingOptions options);
  Result<std::vector<Provider>> FindProviders(const Cid& cid, size_t limit) override;

 private:
  HttpGetter& http_;
  DelegatedRoutingOptions options_;
};

// Several finders as one (the delegated router and the DHT): asks each in order until `limit`
// distinct providers (by id) are known, merging their answers. An error from one finder is
// skipped when another answers; when every finder fails, the last error. Thread-safe when the
// finders are.
class ProviderChain final : public ProviderFinder {
 public:
  explicit ProviderChain(std::vector<ProviderFinder*> finders) : finders_(std::move(finders)) {}
  Result<std::vector<Provider>> FindProviders(const Cid& cid, size_t limit) override;

 private:
  std::vector<ProviderFinder*> finders_;
};

// Parses a providers response body (exposed for tests and the fuzzer).
Result<std::vector<Provider>> ParseProvidersResponse(std::string_view body, size_t limit);

}  // namespace cairn::fetch
