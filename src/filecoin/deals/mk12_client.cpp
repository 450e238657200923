#include "filecoin/deals/mk12_client.hpp"

#include <algorithm>

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

Mk12Client::Mk12Client(Mk12Transport& transport, Mk12ClientOptions options)
    : transport_(transport), options_(options) {}

Result<std::string> Mk12Client::Exchange(const std::string& method, const std::string& url,
                                         const Bytes& body) {
  auto reply = transport_.Send(method, url, std::string(AsString(body)), options_.timeout,
                               options_.max_response_bytes);
  if (!reply) return Err(reply.error().WithContext("mk12: " + method + " " + url + ": "));
  if (reply->status != 200) {
    return Err(ErrorCode::kUnavailable, "mk12: " + method + " " + url + ": HTTP " +
                                            std::to_string(reply->status) + " " +
                                            Printable(reply->body));
  }
  return std::move(reply->body);
}

Result<std::optional<StorageAsk>> Mk12Client::Ask(const std::string& base_url,
                                                  const Address& miner) {
  std::string url = base_url + "/market/mk12/ask";
  std::string body = CAIRN_TRY(Exchange("GET", url, EncodeAskRequest(miner)));
  if (body.empty()) return std::optional<StorageAsk>{};
  auto decoded = AskResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext("mk12: " + url + ": "));
  if (!decoded->ask) return std::optional<StorageAsk>{};
  if (decoded->ask->miner != miner) {
    return Err(ErrorCode::kInvalidArgument, "mk12: " + url + ": the ask is for miner " +
                                                decoded->ask->miner.ToString() + ", not " +
                                                miner.ToString());
  }
  return decoded->ask;
}

Result<DealResponse> Mk12Client::Propose(const std::string& base_url, const DealParams& params) {
  std::string url = base_url + "/market/mk12/store";
  std::string body = CAIRN_TRY(Exchange("POST", url, params.Encode()));
  auto decoded = DealResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext("mk12: " + url + ": "));
  return std::move(*decoded);
}

Result<DealStatusResponse> Mk12Client::Status(const std::string& base_url,
                                              const DealStatusRequest& request) {
  std::string url = base_url + "/market/mk12/status";
  std::string body = CAIRN_TRY(Exchange("GET", url, request.Encode()));
  auto decoded = DealStatusResponse::Decode(AsBytes(body));
  if (!decoded) return Err(decoded.error().WithContext("mk12: " + url + ": "));
  if (decoded->deal_uuid != request.deal_uuid) {
    return Err(ErrorCode::kInvalidArgument,
               "mk12: " + url + ": the status answer is for another DealUUID");
  }
  return std::move(*decoded);
}

}  // namespace cairn::filecoin::deals
