#include "fetch/block_source.hpp"

namespace cairn::fetch {
namespace {

std::vector<std::string_view> Parts(std::string_view ma) {
  std::vector<std::string_view> out;
  if (ma.empty() || ma[0] != '/') return out;
  ma.remove_prefix(1);
  while (!ma.empty()) {
    size_t at = ma.find('/');
    out.push_back(ma.substr(0, at));
    if (at == std::string_view::npos) break;
    ma.remove_prefix(at + 1);
  }
  return out;
}

class PerBlockSession final : public FetchSession {
 public:
  PerBlockSession(BlockSource& source, std::vector<std::string> gateways)
      : source_(source), gateways_(std::move(gateways)) {}
  Result<Bytes> Fetch(const Cid& cid) override { return source_.Fetch(cid, gateways_); }

 private:
  BlockSource& source_;
  const std::vector<std::string> gateways_;
};

}  // namespace

std::unique_ptr<FetchSession> BlockSource::OpenSession(const SessionParams& params) {
  return std::make_unique<PerBlockSession>(*this, params.extra_gateways);
}

std::optional<std::string> OriginToGatewayUrl(std::string_view multiaddr) {
  auto p = Parts(multiaddr);
  if (p.size() < 5) return std::nullopt;
  std::string host;
  if (p[0] == "ip4" || p[0] == "dns" || p[0] == "dns4" || p[0] == "dns6") {
    host = std::string(p[1]);
  } else if (p[0] == "ip6") {
    host = "[" + std::string(p[1]) + "]";
  } else {
    return std::nullopt;
  }
  if (host.empty() || host.find_first_of("/@?#") != std::string::npos) return std::nullopt;
  if (p[2] != "tcp") return std::nullopt;
  for (char c : p[3]) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (p[3].empty() || p[3].size() > 5 || std::stoi(std::string(p[3])) > 65535) return std::nullopt;
  std::string scheme;
  size_t rest = 4;
  if (p[rest] == "http") {
    scheme = "http";
    ++rest;
  } else if (p[rest] == "https") {
    scheme = "https";
    ++rest;
  } else if (p[rest] == "tls" && rest + 1 < p.size() && p[rest + 1] == "http") {
    scheme = "https";
    rest += 2;
  } else {
    return std::nullopt;
  }
  // An optional trailing /p2p/<id> names the peer; it does not change the URL.
  if (rest != p.size() && !(rest + 2 == p.size() && p[rest] == "p2p")) return std::nullopt;
  return scheme + "://" + host + ":" + std::string(p[3]);
}

GatewayBlockSource::GatewayBlockSource(HttpGetter& http, GatewaySourceOptions options)
    : http_(http), options_(std::move(options)) {}

Result<Bytes> GatewayBlockSource::Fetch(const Cid& cid, std::span<const std::string> extra) {
  if (cid.hash().code() == 0x00) {  // identity: the block is the digest
    auto d = cid.hash().digest();
    return Bytes(d.begin(), d.end());
  }
  if (!multiformats::Multihash::CanCompute(cid.hash().code())) {
    return Err(ErrorCode::kNotSupported, "fetch: cannot verify blocks hashed with multihash 0x" +
                                             HexEncode(cid.hash().Encode()).substr(0, 4) +
                                             "; refusing " + cid.ToString());
  }
  std::vector<std::string> sources(extra.begin(), extra.end());
  sources.insert(sources.end(), options_.gateways.begin(), options_.gateways.end());
  if (sources.empty()) {
    return Err(ErrorCode::kNotFound,
               "fetch: " + cid.ToString() + ": no gateways configured and no HTTP origins given");
  }
  std::string reasons;
  bool any_unavailable = false;
  bool any_timeout = false;
  for (const auto& base : sources) {
    std::string url = base;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/ipfs/" + cid.ToString() + "?format=raw";
    auto res =
        http_.Get(url, "application/vnd.ipld.raw", options_.timeout, options_.max_block_bytes);
    std::string why;
    if (!res) {
      why = res.error().message();
      any_timeout |= res.error().code() == ErrorCode::kTimeout;
      any_unavailable |= res.error().code() != ErrorCode::kTimeout;
    } else if (res->status != 200) {
      why = "HTTP " + std::to_string(res->status);
    } else {
      auto ok = cid.hash().Verify(AsBytes(res->body));
      if (ok) return Bytes(res->body.begin(), res->body.end());
      why = "sent bytes that do not match the CID";
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += base + ": " + why;
  }
  ErrorCode code = any_timeout ? ErrorCode::kTimeout
                               : (any_unavailable ? ErrorCode::kUnavailable : ErrorCode::kNotFound);
  return Err(code, "fetch: " + cid.ToString() + " not retrieved (" + reasons + ")");
}

}  // namespace cairn::fetch
