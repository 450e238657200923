// The mk12 storage-deal protocol over HTTP, as Curio serves it (../shared/FILECOIN.md §3.1 "HTTP
// alternative"; curio market/mk12/http/http.go):
//   POST <base>/market/mk12/store   body DealParams CBOR          → DealResponse CBOR
//   GET  <base>/market/mk12/status  body DealStatusRequest CBOR   → DealStatusResponse CBOR
//   GET  <base>/market/mk12/ask     body AskRequest CBOR          → AskResponse CBOR (real Curio:
//                                                                   an empty stub)
// every request with Content-Type: application/cbor. Where the base URL comes from: the provider's
// on-chain multiaddrs (StateMinerInfo), see HttpEndpointOf.
//
// The HTTP exchange is behind Mk12Transport, owned here (apps/cairn adapts http::Fetch to it,
// tests use a fake), so this layer does not depend on the HTTP stack. Whatever a provider
// answers, the result is a value or a named error: decoding is the strict decoders of
// filecoin/types/market.hpp (fuzzed in fuzz/filecoin_cbor_fuzz.cpp), bodies are bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/market.hpp"

namespace cairn::filecoin::deals {

struct Mk12HttpReply {
  int status = 0;
  std::string body;
};

class Mk12Transport {
 public:
  virtual ~Mk12Transport() = default;
  // Sends `body` with `method` ("POST" or "GET") and Content-Type: application/cbor to `url`.
  // Unavailable when the provider cannot be reached, Timeout after `timeout`, ResourceExhausted
  // when the answer exceeds `max_response_bytes`; any HTTP status is a reply. Thread-safe.
  virtual Result<Mk12HttpReply> Send(const std::string& method, const std::string& url,
                                     const std::string& body, std::chrono::milliseconds timeout,
                                     uint64_t max_response_bytes) = 0;
};

// The HTTP(S) base URL ("http://127.0.0.1:3456", "https://sp.example.com") of a provider's mk12
// endpoint, from its binary on-chain multiaddrs, the first that names one:
//   /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>/http               → http://host:port
//   …/tcp/<port>/https, …/tcp/<port>/tls/http                    → https://host:port
//   …/tcp/<port>/wss, …/tcp/<port>/tls/ws (Curio's libp2p sits behind its HTTPS server, §6)
//                                                                 → https://host:port
// nullopt when none does (a libp2p-only provider such as Boost). Multiaddrs that do not parse
// are skipped (a provider controls them).
std::optional<std::string> HttpEndpointOf(std::span<const Bytes> multiaddrs);

struct Mk12ClientOptions {
  std::chrono::milliseconds timeout{60000};  // Boost's client read deadline
  uint64_t max_response_bytes = 1u << 20;
};

class Mk12Client {
 public:
  // `transport` must outlive the client.
  explicit Mk12Client(Mk12Transport& transport, Mk12ClientOptions options = {});

  // The provider's ask, or nullopt when it publishes none (an empty body, as Curio's stub
  // answers, or {"Ask": null}). Errors: transport errors; Unavailable for a non-200 status;
  // InvalidArgument for a body that is not an AskResponse, or an ask for another miner.
  Result<std::optional<StorageAsk>> Ask(const std::string& base_url, const Address& miner);
  // Sends the proposal (mk12 1.2.1 DealParams). Returns the provider's answer as it is (an
  // Accepted: false answer is a value, its Message the reason). Errors: transport errors;
  // Unavailable for a non-200 status (the message carries the status and up to 200 bytes of the
  // body); InvalidArgument for a body that is not a DealResponse. After an error the provider
  // may or may not have the deal: ask Status.
  Result<DealResponse> Propose(const std::string& base_url, const DealParams& params);
  // The provider's view of a deal. Errors as Propose; InvalidArgument also when the answer is
  // for another UUID.
  Result<DealStatusResponse> Status(const std::string& base_url, const DealStatusRequest& request);

 private:
  Result<std::string> Exchange(const std::string& method, const std::string& url,
                               const Bytes& body);

  Mk12Transport& transport_;
  Mk12ClientOptions options_;
};

}  // namespace cairn::filecoin::deals
