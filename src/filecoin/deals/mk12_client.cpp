#include "filecoin/deals/mk12_client.hpp"

#include <algorithm>

#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::filecoin::deals {

namespace {

std::string Printable(std::string_view body) {
  std::string out(body.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

std::string Str(const Bytes& bytes) { return std::string(AsString(bytes)); }

}  // namespace

std::optional<std::string> HttpEndpointOf(std::span<const Bytes> multiaddrs) {
  for (const Bytes& bytes : multiaddrs) {
    auto ma = net::Multiaddr::FromBytes(bytes);
    if (!ma) continue;
    const auto& c = ma->components();
    if (c.size() < 3) continue;
    std::string host;
    if (c[0].name == "ip4" || c[0].name == "dns" || c[0].name == "dns4" || c[0].name == "dns6") {
      host = c[0].text;
    } else if (c[0].name == "ip6") {
      host = "[" + c[0].text + "]";
    } else {
      continue;
    }
    if (c[1].name != "tcp") continue;
    std::vector<std::string> rest;
    for (size_t i = 2; i < c.size(); ++i) {
      if (c[i].name == "p2p") break;
      rest.push_back(c[i].name);
    }
    std::string scheme;
    if (rest == std::vector<std::string>{"http"}) {
      scheme = "http";
    } else if (rest == std::vector<std::string>{"https"} ||
               rest == std::vector<std::string>{"tls", "http"} ||
               rest == std::vector<std::string>{"wss"} ||
               rest == std::vector<std::string>{"tls", "ws"}) {
      scheme = "https";
    } else {
      continue;
    }
    return scheme + "://" + host + ":" + c[1].text;
  }
  return std::nullopt;
}

Mk12Endpoint Mk12Endpoint::Http(std::string url) {
  Mk12Endpoint e;
  e.kind = Kind::kHttp;
  e.url = std::move(url);
  return e;
}

Mk12Endpoint Mk12Endpoint::Libp2p(std::string peer_id, std::vector<std::string> addrs) {
  Mk12Endpoint e;
  e.kind = Kind::kLibp2p;
  e.peer_id = std::move(peer_id);
  e.addrs = std::move(addrs);
  return e;
}

std::string Mk12Endpoint::ToString() const {
  return kind == Kind::kHttp ? url : "libp2p /p2p/" + peer_id;
}

std::optional<Mk12Endpoint> Mk12EndpointOf(std::string_view peer_id,
                                           std::span<const Bytes> multiaddrs, std::string* why) {
  if (auto url = HttpEndpointOf(multiaddrs)) return Mk12Endpoint::Http(std::move(*url));
  if (peer_id.empty()) {
    *why = "no HTTP mk12 endpoint among its on-chain multiaddrs and no PeerId for libp2p";
    return std::nullopt;
  }
  auto peer = net::PeerId::Parse(peer_id);
  if (!peer) {
    *why = "its on-chain PeerId does not parse: " + peer.error().message();
    return std::nullopt;
  }
  std::vector<std::string> addrs;
  for (const Bytes& bytes : multiaddrs) {
    auto ma = net::Multiaddr::FromBytes(bytes);
    if (!ma) continue;
    const auto& c = ma->components();
    if (c.size() < 2 || c.size() > 3) continue;
    if (c[0].name != "ip4" && c[0].name != "ip6" && c[0].name != "dns" && c[0].name != "dns4" &&
        c[0].name != "dns6") {
      continue;
    }
    if (c[1].name != "tcp") continue;
    if (c.size() == 3 && (c[2].name != "p2p" || c[2].text != peer->ToString())) continue;
    addrs.push_back("/" + c[0].name + "/" + c[0].text + "/tcp/" + c[1].text);
  }
  if (addrs.empty()) {
    *why = "no HTTP mk12 endpoint and no TCP multiaddr for libp2p among its on-chain multiaddrs";
    return std::nullopt;
  }
  return Mk12Endpoint::Libp2p(peer->ToString(), std::move(addrs));
}

Mk12Client::Mk12Client(Mk12Transport& transport, Mk12ClientOptions options)
    : transport_(transport), options_(options) {}

Result<std::string> Mk12Client::Exchange(const Mk12Endpoint& endpoint, const std::string& method,
                                         const std::string& path,
                                         const std::vector<Mk12StreamOffer>& offers,
                                         std::string* what) {
  if (endpoint.kind == Mk12Endpoint::Kind::kHttp) {
    const std::string url = endpoint.url + path;
    *what = "mk12: " + method + " " + url + ": ";
    auto reply = transport_.Send(method, url, offers.front().request, options_.timeout,
                                 options_.max_response_bytes);
    if (!reply) return Err(reply.error().WithContext(*what));
    if (reply->status != 200) {
      return Err(ErrorCode::kUnavailable,
                 *what + "HTTP " + std::to_string(reply->status) + " " + Printable(reply->body));
    }
    return std::move(reply->body);
  }
  *what = "mk12: " + endpoint.ToString() + " " + offers.front().protocol + ": ";
  auto reply = transport_.Exchange(endpoint.peer_id, endpoint.addrs, offers, options_.timeout,
                                   options_.max_response_bytes);
  if (!reply) return Err(reply.error().WithContext(*what));
  *what = "mk12: " + endpoint.ToString() + " " + reply->protocol + ": ";
  if (reply->body.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               *what +
                   "the provider closed the stream without an answer (it could not decode "
                   "the request)");
  }
  return std::move(reply->body);
}

Result<std::optional<StorageAsk>> Mk12Client::Ask(const Mk12Endpoint& endpoint,
                                                  const Address& miner) {
  std::string what;
  Bytes request = EncodeAskRequest(miner);
  std::string body = CAIRN_TRY(Exchange(endpoint, "GET", "/market/mk12/ask",
                                        {{std::string(kMk12AskProtocol), Str(request)}}, &what));
  if (body.empty()) return std::optional<StorageAsk>{};
  auto decoded = AskResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext(what));
  if (!decoded->ask) return std::optional<StorageAsk>{};
  if (decoded->ask->miner != miner) {
    return Err(ErrorCode::kInvalidArgument, what + "the ask is for miner " +
                                                decoded->ask->miner.ToString() + ", not " +
                                                miner.ToString());
  }
  return decoded->ask;
}

Result<TransportsResponse> Mk12Client::Transports(const Mk12Endpoint& endpoint) {
  if (endpoint.kind != Mk12Endpoint::Kind::kLibp2p) {
    return Err(ErrorCode::kNotSupported, "retrieval transports: " + endpoint.ToString() +
                                             " is an HTTP endpoint; the query is libp2p only");
  }
  std::string what;
  std::string body = CAIRN_TRY(
      Exchange(endpoint, "", "", {{std::string(kRetrievalTransportsProtocol), ""}}, &what));
  auto decoded = TransportsResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext(what));
  return std::move(*decoded);
}

std::optional<std::string> HttpRetrievalUrlOf(const TransportsResponse& transports) {
  for (const auto& t : transports.protocols) {
    if (t.name != "http" && t.name != "https") continue;
    if (auto url = HttpEndpointOf(t.addresses)) return url;
  }
  return std::nullopt;
}

Result<DealResponse> Mk12Client::Propose(const Mk12Endpoint& endpoint, const DealParams& params) {
  std::vector<Mk12StreamOffer> offers = {
      {std::string(kMk12Protocol121), Str(params.Encode(DealProtocolVersion::kV121))}};
  if (!params.skip_ipni_announce && !params.remove_unsealed_copy) {
    offers.push_back(
        {std::string(kMk12Protocol120), Str(params.Encode(DealProtocolVersion::kV120))});
  }
  std::string what;
  std::string body = CAIRN_TRY(Exchange(endpoint, "POST", "/market/mk12/store", offers, &what));
  auto decoded = DealResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext(what));
  return std::move(*decoded);
}

Result<DealStatusResponse> Mk12Client::Status(const Mk12Endpoint& endpoint,
                                              const DealStatusRequest& request) {
  std::string what;
  std::string body =
      CAIRN_TRY(Exchange(endpoint, "GET", "/market/mk12/status",
                         {{std::string(kMk12StatusProtocol), Str(request.Encode())}}, &what));
  auto decoded = DealStatusResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext(what));
  if (decoded->deal_uuid != request.deal_uuid) {
    return Err(ErrorCode::kInvalidArgument, what + "the status answer is for another DealUUID");
  }
  return std::move(*decoded);
}

}  // namespace cairn::filecoin::deals
