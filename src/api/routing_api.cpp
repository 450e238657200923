#include "api/routing_api.hpp"

namespace cairn::api {
namespace {

constexpr std::string_view kPrefix = "/routing/v1/";
constexpr std::string_view kProviders = "/routing/v1/providers/";

http::Response WithCors(http::Response r) {
  r.SetHeader("Access-Control-Allow-Origin", "*");
  r.SetHeader("Access-Control-Allow-Methods", "GET, OPTIONS");
  r.SetHeader("Vary", "Accept");
  return r;
}

}  // namespace

RoutingApi::RoutingApi(metadata::PinStore& pins, RoutingApiOptions options)
    : pins_(pins), options_(std::move(options)) {}

bool RoutingApi::Handles(std::string_view path) { return path.rfind(kPrefix, 0) == 0; }

http::Response RoutingApi::Handle(const http::Request& request) {
  if (request.method == "OPTIONS") {
    http::Response r;
    r.status = 204;
    r.SetHeader("Access-Control-Allow-Headers", "Content-Type, Accept");
    r.SetHeader("Access-Control-Max-Age", "86400");
    return WithCors(std::move(r));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return WithCors(http::MethodNotAllowed("routing", request.method, "GET, HEAD, OPTIONS"));
  }
  std::string_view path = request.path;
  if (path.rfind(kProviders, 0) != 0) {
    return WithCors(http::ErrorResponse(
        Error(ErrorCode::kNotSupported,
              "routing: only providers lookups are served (GET providers/{cid})")));
  }
  std::string_view text = path.substr(kProviders.size());
  auto cid = multiformats::Cid::Parse(text);
  if (!cid || text.find('/') != std::string_view::npos) {
    return WithCors(http::ErrorResponse(Error(
        ErrorCode::kInvalidArgument, "routing: not a CID: " + std::string(text.substr(0, 128)) +
                                         (cid ? "" : " (" + cid.error().message() + ")"))));
  }
  std::vector<metadata::PinStatus> pinned = {metadata::PinStatus::kPinned};
  auto has = pins_.HasCid(*cid, pinned);
  if (!has) return WithCors(http::ErrorResponse(has.error()));

  std::vector<std::string> records;
  if (*has) {
    std::vector<std::string> addrs = options_.addrs ? options_.addrs() : std::vector<std::string>{};
    std::string record =
        "{\"Schema\":\"peer\",\"ID\":" + http::JsonQuote(options_.peer_id) + ",\"Addrs\":[";
    for (size_t i = 0; i < addrs.size(); ++i) {
      record += (i ? "," : "") + http::JsonQuote(addrs[i]);
    }
    record += "],\"Protocols\":[";
    if (!addrs.empty()) record += "\"transport-bitswap\"";
    record += "]}";
    records.push_back(std::move(record));
  }
  bool ndjson = false;
  if (auto accept = request.Header("Accept")) {
    ndjson = accept->find("application/x-ndjson") != std::string_view::npos;
  }
  http::Response r;
  if (ndjson) {
    r.status = 200;
    for (const auto& rec : records) r.body += rec + "\n";
    r.SetHeader("Content-Type", "application/x-ndjson");
  } else {
    std::string body = "{\"Providers\":[";
    for (size_t i = 0; i < records.size(); ++i) body += (i ? "," : "") + records[i];
    body += "]}";
    r = http::JsonResponse(200, std::move(body));
  }
  r.SetHeader("Cache-Control", records.empty() ? "public, max-age=15" : "public, max-age=300");
  return WithCors(std::move(r));
}

}  // namespace cairn::api
