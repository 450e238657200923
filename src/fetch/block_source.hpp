// Where the pin workers get blocks they do not have: trustless HTTP gateways
// (../shared/specs/ipfs/trustless-gateway.md, `?format=raw`), from a configured list plus the
// pin's `origins` given as HTTP multiaddrs. Every block is verified against its CID before it is
// returned; a gateway that sends wrong bytes is skipped like one that has nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::fetch {

using multiformats::Cid;

// The one HTTP operation fetching needs, owned here so this layer does not depend on the HTTP
// stack (the app adapts http::Fetch to it; tests use an in-memory fake).
struct HttpReply {
  int status = 0;
  std::string body;
};
class HttpGetter {
 public:
  virtual ~HttpGetter() = default;
  // GET `url` with `accept`; Unavailable/Timeout/ResourceExhausted (body above `max_bytes`) as
  // errors, any HTTP status as a reply. Thread-safe.
  virtual Result<HttpReply> Get(const std::string& url, std::string_view accept,
                                std::chrono::milliseconds timeout, uint64_t max_bytes) = 0;
};

// What one consumer (one pin's DAG walk) fetches for: the context a session keeps.
struct SessionParams {
  Cid root;                                 // the DAG's root (what routing looks up)
  std::vector<std::string> origins;         // the pin's origins, as given (any multiaddrs)
  std::vector<std::string> extra_gateways;  // HTTP gateway URLs derived from the origins
  int64_t deadline_micros = 0;              // on the consumer's clock's monotonic scale; 0 = none
  const std::atomic<bool>* cancel = nullptr;
};

// Blocks of one DAG, fetched by one consumer from several threads at once. Thread-safe.
class FetchSession {
 public:
  virtual ~FetchSession() = default;
  // The verified bytes of `cid`; errors as BlockSource::Fetch.
  virtual Result<Bytes> Fetch(const Cid& cid) = 0;
};

// Fetches single blocks by CID. Implementations are thread-safe.
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // The verified bytes of `cid`. NotFound when no source has it, Unavailable/Timeout when the
  // sources could not be asked; the message names every source tried and why it failed.
  virtual Result<Bytes> Fetch(const Cid& cid, std::span<const std::string> extra_gateways) = 0;
  // A session for one DAG. The default calls Fetch(cid, params.extra_gateways) for every block
  // (sources with no per-DAG state, such as the gateways); sources that learn peers per DAG
  // (bitswap) keep them in the session. The source must outlive its sessions.
  virtual std::unique_ptr<FetchSession> OpenSession(const SessionParams& params);
};

struct GatewaySourceOptions {
  std::vector<std::string> gateways;         // base URLs, e.g. "https://trustless-gateway.link"
  std::chrono::milliseconds timeout{20000};  // per block request
  uint64_t max_block_bytes = 2u << 20;       // bitswap's limit; bigger blocks are refused
};

class GatewayBlockSource : public BlockSource {
 public:
  GatewayBlockSource(HttpGetter& http, GatewaySourceOptions options);
  Result<Bytes> Fetch(const Cid& cid, std::span<const std::string> extra_gateways) override;

 private:
  HttpGetter& http_;
  GatewaySourceOptions options_;
};

// Turns an origin multiaddr into a gateway base URL when it names an HTTP endpoint:
// /ip4/A/tcp/N/http, /ip6/A/tcp/N/http, /dns|dns4|dns6/H/tcp/N/http|https, and .../tls/http.
// nullopt for anything else (e.g. a bitswap /p2p/ address): those are not HTTP sources.
std::optional<std::string> OriginToGatewayUrl(std::string_view multiaddr);

}  // namespace cairn::fetch
