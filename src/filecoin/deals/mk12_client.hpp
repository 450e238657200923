// The mk12 storage-deal protocol (../shared/FILECOIN.md §3.1), over either of the two ways
// providers serve it. Which one a provider takes is read from its on-chain StateMinerInfo
// (Mk12EndpointOf): an HTTP endpoint among its multiaddrs → HTTP, else its PeerId and TCP
// multiaddrs → libp2p.
//
// HTTP, as Curio serves it (§3.1 "HTTP alternative"; curio market/mk12/http/http.go):
//   POST <base>/market/mk12/store   body DealParams CBOR          → DealResponse CBOR
//   GET  <base>/market/mk12/status  body DealStatusRequest CBOR   → DealStatusResponse CBOR
//   GET  <base>/market/mk12/ask     body AskRequest CBOR          → AskResponse CBOR (real Curio:
//                                                                   an empty stub)
// every request with Content-Type: application/cbor.
//
// libp2p, as Boost serves it (boost storagemarket/lp2pimpl/net.go; §6): one request per stream,
// the client writes exactly one CBOR value (no length prefix), half-closes, and reads one CBOR
// value until the provider closes the stream:
//   /fil/storage/mk/1.2.1, falling back to /fil/storage/mk/1.2.0   DealParams → DealResponse
//                          (1.2.0 carries DealParams without SkipIPNIAnnounce/RemoveUnsealedCopy)
//   /fil/storage/status/1.2.0                                       DealStatusRequest → …Response
//   /fil/storage/ask/1.1.0                                          AskRequest → AskResponse
//   /fil/retrieval/transports/1.0.0                                 (nothing) → TransportsResponse
//                          (where the provider serves retrievals: booster-http's /piece URL is
//                          not on chain, only here)
// A provider that cannot decode a request closes the stream without answering (Boost does so):
// an empty answer is an error there, not "no ask".
//
// Both exchanges are behind Mk12Transport, owned here (apps/cairn adapts the Beast HTTP client
// and the libp2p host to it, tests use fakes), so this layer depends on neither the HTTP stack
// nor Asio. Whatever a provider answers, the result is a value or a named error: decoding is the
// strict decoders of filecoin/types/market.hpp (fuzzed in fuzz/filecoin_cbor_fuzz.cpp and, through
// this client, fuzz/mk12_client_fuzz.cpp), answers are bounded, every exchange has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/market.hpp"

namespace cairn::filecoin::deals {

inline constexpr std::string_view kMk12Protocol121 = "/fil/storage/mk/1.2.1";
inline constexpr std::string_view kMk12Protocol120 = "/fil/storage/mk/1.2.0";
inline constexpr std::string_view kMk12StatusProtocol = "/fil/storage/status/1.2.0";
inline constexpr std::string_view kMk12AskProtocol = "/fil/storage/ask/1.1.0";
inline constexpr std::string_view kRetrievalTransportsProtocol = "/fil/retrieval/transports/1.0.0";

// Where a provider takes mk12 requests.
struct Mk12Endpoint {
  enum class Kind { kHttp, kLibp2p };
  Kind kind = Kind::kHttp;
  std::string url;                 // kHttp: base URL, "http://127.0.0.1:3456"
  std::string peer_id;             // kLibp2p: the provider's PeerId, base58btc ("12D3KooW…")
  std::vector<std::string> addrs;  // kLibp2p: dialable multiaddrs, text, without /p2p/

  static Mk12Endpoint Http(std::string url);
  static Mk12Endpoint Libp2p(std::string peer_id, std::vector<std::string> addrs);
  // "http://127.0.0.1:3456" or "libp2p /p2p/12D3KooW…" (logs and errors).
  std::string ToString() const;
  friend bool operator==(const Mk12Endpoint&, const Mk12Endpoint&) = default;
};

struct Mk12HttpReply {
  int status = 0;
  std::string body;
};

// One libp2p request: the protocols to offer, in order of preference, each with the request
// bytes to write when the provider picks it (so a DealParams can be encoded per version).
struct Mk12StreamOffer {
  std::string protocol;
  std::string request;
};

struct Mk12StreamReply {
  std::string protocol;  // the one the provider accepted
  std::string body;      // everything it wrote before closing (empty: closed without answering)
};

class Mk12Transport {
 public:
  virtual ~Mk12Transport() = default;
  // HTTP: sends `body` with `method` ("POST" or "GET") and Content-Type: application/cbor to
  // `url`. Unavailable when the provider cannot be reached, Timeout after `timeout`,
  // ResourceExhausted when the answer exceeds `max_response_bytes`; any HTTP status is a reply.
  // Thread-safe.
  virtual Result<Mk12HttpReply> Send(const std::string& method, const std::string& url,
                                     const std::string& body, std::chrono::milliseconds timeout,
                                     uint64_t max_response_bytes) = 0;
  // libp2p: opens a stream to `peer_id` (connecting first, to `addrs` and whatever else is known
  // of the peer, with the remote identity checked against `peer_id`), negotiates the first of
  // `offers` the peer supports, writes that offer's request, half-closes, and reads until the
  // peer closes its side. Unavailable when the peer cannot be reached (or resets the stream),
  // NotSupported when it supports none of the protocols, Timeout when the whole exchange takes
  // longer than `timeout`, ResourceExhausted when the answer exceeds `max_response_bytes`,
  // InvalidArgument for a malformed peer id or address. Thread-safe; blocks the caller.
  virtual Result<Mk12StreamReply> Exchange(const std::string& peer_id,
                                           const std::vector<std::string>& addrs,
                                           const std::vector<Mk12StreamOffer>& offers,
                                           std::chrono::milliseconds timeout,
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

// The provider's mk12 endpoint from its on-chain PeerId (base58btc text, "" when it has none) and
// binary multiaddrs: HTTP when HttpEndpointOf finds one; else libp2p to `peer_id` at every
// multiaddr that is plain TCP (/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>, optionally ending in the
// same /p2p/<peer_id>), in on-chain order. nullopt, with `why` set, when there is neither: no
// PeerId, a PeerId that does not parse, or no TCP multiaddr (QUIC-only, WebSocket-only).
std::optional<Mk12Endpoint> Mk12EndpointOf(std::string_view peer_id,
                                           std::span<const Bytes> multiaddrs, std::string* why);

// The HTTP(S) retrieval base URL (where /piece/{cid} is served) among a transports answer: the
// first address of a transport named "http" or "https" that HttpEndpointOf understands. nullopt
// when there is none (a provider offering only graphsync/bitswap, or addresses that do not parse).
std::optional<std::string> HttpRetrievalUrlOf(const TransportsResponse& transports);

struct Mk12ClientOptions {
  // The deadline of one whole exchange (connect, request, answer): Boost's client read deadline.
  std::chrono::milliseconds timeout{60000};
  uint64_t max_response_bytes = 1u << 20;
};

class Mk12Client {
 public:
  // `transport` must outlive the client.
  explicit Mk12Client(Mk12Transport& transport, Mk12ClientOptions options = {});

  // The provider's ask, or nullopt when it publishes none (over HTTP an empty body, as Curio's
  // stub answers; either way {"Ask": null}). Errors: transport errors; Unavailable for a non-200
  // status; InvalidArgument for an answer that is not an AskResponse (over libp2p: also none at
  // all), or an ask for another miner.
  Result<std::optional<StorageAsk>> Ask(const Mk12Endpoint& endpoint, const Address& miner);
  // Sends the proposal: mk12 1.2.1 DealParams (over libp2p 1.2.0 where the provider supports only
  // that and the proposal sets neither 1.2.1 field). Returns the provider's answer as it is (an
  // Accepted: false answer is a value, its Message the reason). Errors: transport errors;
  // Unavailable for a non-200 status (the message carries the status and up to 200 bytes of the
  // body); InvalidArgument for an answer that is not a DealResponse (over libp2p: also none at
  // all: the provider could not decode the proposal). After an error the provider may or may not
  // have the deal: ask Status.
  Result<DealResponse> Propose(const Mk12Endpoint& endpoint, const DealParams& params);
  // The provider's view of a deal. Errors as Propose; InvalidArgument also when the answer is
  // for another UUID.
  Result<DealStatusResponse> Status(const Mk12Endpoint& endpoint, const DealStatusRequest& request);
  // The provider's retrieval transports (/fil/retrieval/transports/1.0.0, libp2p only: an HTTP
  // endpoint is NotSupported, its base URL serves /piece itself). Errors: transport errors;
  // InvalidArgument for an answer that is not a TransportsResponse (also none at all).
  Result<TransportsResponse> Transports(const Mk12Endpoint& endpoint);

 private:
  // The answer body of one request: HTTP `method` to endpoint.url + `path`, or a libp2p stream
  // with `offers`. `what` names the exchange in errors.
  Result<std::string> Exchange(const Mk12Endpoint& endpoint, const std::string& method,
                               const std::string& path, const std::vector<Mk12StreamOffer>& offers,
                               std::string* what);

  Mk12Transport& transport_;
  Mk12ClientOptions options_;
};

}  // namespace cairn::filecoin::deals
