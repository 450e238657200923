#include "fetch/routing.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

namespace cairn::fetch {
namespace {

namespace json = boost::json;

std::vector<std::string> Strings(const json::object& record, std::string_view key) {
  std::vector<std::string> out;
  auto it = record.find(key);
  if (it == record.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().get_array()) {
    if (v.is_string() && out.size() < 64) out.emplace_back(v.get_string());
  }
  return out;
}

}  // namespace

Result<std::vector<Provider>> ParseProvidersResponse(std::string_view body, size_t limit) {
  json::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return Err(ErrorCode::kInvalidArgument, "routing: providers response is not a JSON object");
  }
  auto it = doc.get_object().find("Providers");
  if (it == doc.get_object().end() || it->value().is_null()) return std::vector<Provider>{};
  if (!it->value().is_array()) {
    return Err(ErrorCode::kInvalidArgument, "routing: \"Providers\" is not an array");
  }
  std::vector<Provider> out;
  for (const auto& v : it->value().get_array()) {
    if (out.size() >= limit) break;
    if (!v.is_object()) continue;
    const auto& record = v.get_object();
    auto schema = record.find("Schema");
    auto id = record.find("ID");
    if (schema == record.end() || !schema->value().is_string()) continue;
    if (schema->value().get_string() != "peer" && schema->value().get_string() != "bitswap") {
      continue;
    }
    if (id == record.end() || !id->value().is_string() || id->value().get_string().empty()) {
      continue;
    }
    Provider p;
    p.id = std::string(id->value().get_string());
    p.addrs = Strings(record, "Addrs");
    p.protocols = Strings(record, "Protocols");
    if (schema->value().get_string() == "bitswap") p.protocols = {"transport-bitswap"};
    bool bitswap = p.protocols.empty();
    for (const auto& proto : p.protocols) bitswap |= proto == "transport-bitswap";
    if (!bitswap) continue;
    out.push_back(std::move(p));
  }
  return out;
}

DelegatedRoutingClient::DelegatedRoutingClient(HttpGetter& http, DelegatedRoutingOptions options)
    : http_(http), options_(std::move(options)) {}

Result<std::vector<Provider>> DelegatedRoutingClient::FindProviders(const Cid& cid, size_t limit) {
  if (options_.endpoint.empty()) return std::vector<Provider>{};
  std::string url = options_.endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/routing/v1/providers/" + cid.ToV1().ToString();
  auto reply = http_.Get(url, "application/json", options_.timeout, options_.max_response_bytes);
  if (!reply) return Err(reply.error().WithContext("routing: " + options_.endpoint + ": "));
  if (reply->status == 404) return std::vector<Provider>{};
  if (reply->status != 200) {
    return Err(ErrorCode::kUnavailable,
               "routing: " + options_.endpoint + ": HTTP " + std::to_string(reply->status));
  }
  auto parsed = ParseProvidersResponse(reply->body, limit);
  if (!parsed) return Err(parsed.error().WithContext(options_.endpoint + ": "));
  return parsed;
}

Result<std::vector<Provider>> ProviderChain::FindProviders(const Cid& cid, size_t limit) {
  std::vector<Provider> out;
  std::optional<Error> last_error;
  size_t answered = 0;
  for (ProviderFinder* finder : finders_) {
    if (out.size() >= limit) break;
    auto found = finder->FindProviders(cid, limit);
    if (!found) {
      last_error = found.error();
      continue;
    }
    ++answered;
    for (auto& p : *found) {
      if (out.size() >= limit) break;
      bool known =
          std::any_of(out.begin(), out.end(), [&](const Provider& q) { return q.id == p.id; });
      if (!known) out.push_back(std::move(p));
    }
  }
  if (answered == 0 && last_error) return Err(*last_error);
  return out;
}

}  // namespace cairn::fetch
