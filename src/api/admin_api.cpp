#include "api/admin_api.hpp"

#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/pinning_api.hpp"
#include "api/psa_model.hpp"

namespace cairn::api {
namespace {

namespace json = boost::json;
using metadata::Account;
using metadata::TokenInfo;

http::Response Json(int status, const json::value& body) {
  http::Response r = http::JsonResponse(status, json::serialize(body));
  r.SetHeader("Cache-Control", "no-store");  // tokens and account data
  return r;
}

http::Response MethodNotAllowed(const http::Request& req, const char* allow) {
  return http::MethodNotAllowed("admin", req.method, allow);
}

json::value Time(std::optional<int64_t> micros) {
  if (!micros) return nullptr;
  return json::value(FormatRfc3339(*micros));
}

json::object AccountJson(const Account& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"created", FormatRfc3339(a.created_us)},
          {"disabled", Time(a.disabled_us)}};
}

json::object TokenJson(const TokenInfo& t, const std::string& account_name) {
  json::array scopes;
  for (const auto& n : t.scopes.Names()) scopes.emplace_back(n);
  return {{"id", t.id},
          {"account", account_name},
          {"scopes", std::move(scopes)},
          {"created", FormatRfc3339(t.created_us)},
          {"expires", Time(t.expires_us)},
          {"last_used", Time(t.last_used_us)},
          {"revoked", Time(t.revoked_us)}};
}

json::object PolicyJson(const std::string& account_name,
                        const std::map<std::string, std::string>& policy) {
  json::object keys;
  for (const auto& [k, v] : policy) keys[k] = v;
  return {{"account", account_name}, {"policy", std::move(keys)}};
}

Result<json::object> ParseBody(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Err(ErrorCode::kInvalidArgument, "admin: body is not JSON: " + ec.message());
  if (!v.is_object()) return Err(ErrorCode::kInvalidArgument, "admin: body must be a JSON object");
  return std::move(v.as_object());
}

Result<void> OnlyKeys(const json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : o) {
    bool known = false;
    for (auto a : allowed) known = known || k == a;
    if (!known) {
      return Err(ErrorCode::kInvalidArgument, "admin: unknown field '" + std::string(k) + "'");
    }
  }
  return Ok();
}

// Splits "/admin/a/b/c" into {"a","b","c"}; empty segments are an error (no "//", no trailing /).
std::optional<std::vector<std::string>> Segments(std::string_view path) {
  std::vector<std::string> out;
  path.remove_prefix(std::string_view("/admin").size());
  while (!path.empty()) {
    if (path.front() != '/') return std::nullopt;
    path.remove_prefix(1);
    size_t end = path.find('/');
    std::string_view seg = path.substr(0, end);
    if (seg.empty()) return std::nullopt;
    out.emplace_back(seg);
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

}  // namespace

Result<int64_t> ParseTokenExpiry(std::string_view text, int64_t now_us) {
  if (text.size() >= 2) {
    int64_t unit_us = 0;
    switch (text.back()) {
      case 's':
        unit_us = 1'000'000;
        break;
      case 'm':
        unit_us = 60'000'000;
        break;
      case 'h':
        unit_us = 3'600'000'000;
        break;
      case 'd':
        unit_us = 86'400'000'000;
        break;
      case 'w':
        unit_us = 604'800'000'000;
        break;
      default:
        break;
    }
    std::string_view digits = text.substr(0, text.size() - 1);
    bool all_digits =
        digits.size() <= 6 && digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (unit_us != 0 && all_digits) {
      int64_t n = std::stoll(std::string(digits));
      if (n == 0)
        return Err(ErrorCode::kInvalidArgument, "token: expiry must be a positive duration");
      return now_us + n * unit_us;
    }
  }
  auto at = ParseRfc3339(text);
  if (!at) {
    return Err(ErrorCode::kInvalidArgument,
               "token: bad expiry '" + std::string(text) +
                   "': use a duration (30d, 12h, 90m, 3600s, 2w) or an RFC 3339 time "
                   "(2027-01-31T00:00:00Z)");
  }
  if (*at <= now_us) {
    return Err(ErrorCode::kInvalidArgument,
               "token: expiry " + std::string(text) + " is in the past");
  }
  return *at;
}

bool AdminApi::Handles(std::string_view path) {
  return path == "/admin" || path.rfind("/admin/", 0) == 0;
}

namespace {

Result<metadata::ScopeSet> ParseScopes(const json::value& v) {
  if (!v.is_array() || v.as_array().empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "admin: 'scopes' must be a non-empty array of scope names");
  }
  std::vector<std::string> names;
  for (const auto& n : v.as_array()) {
    if (!n.is_string()) return Err(ErrorCode::kInvalidArgument, "admin: scope names are strings");
    names.emplace_back(n.as_string());
  }
  return metadata::ScopeSet::Parse(names);
}

}  // namespace

http::Response AdminApi::Handle(const http::Request& req) {
  auto who = Authorize(accounts_, clock_, req, metadata::Scope::kAdmin);
  if (!who) return http::ErrorResponse(who.error());
  auto response = Route(req);
  if (!response) return http::ErrorResponse(response.error());
  return std::move(*response);
}

Result<http::Response> AdminApi::Route(const http::Request& req) {
  auto segs = Segments(req.path);
  if (!segs || segs->empty()) return Err(ErrorCode::kNotFound, "admin: no route for " + req.path);
  const auto& s = *segs;
  const std::string& m = req.method;
  if (s[0] == "accounts" && s.size() == 1) {
    if (m == "GET") return ListAccounts();
    if (m != "POST") return MethodNotAllowed(req, "GET, POST");
    return CreateAccount(req);
  }
  if (s[0] == "accounts" && s.size() == 2) {
    if (m != "GET") return MethodNotAllowed(req, "GET");
    return Json(200, AccountJson(CAIRN_TRY(accounts_.GetAccount(s[1]))));
  }
  if (s[0] == "accounts" && s.size() == 3 && s[2] == "disable") {
    if (m != "POST") return MethodNotAllowed(req, "POST");
    CAIRN_TRY(accounts_.GetAccount(s[1]));
    CAIRN_TRY(accounts_.DisableAccount(s[1]));
    return Json(200, AccountJson(CAIRN_TRY(accounts_.GetAccount(s[1]))));
  }
  if (s[0] == "accounts" && s.size() == 3 && s[2] == "tokens") {
    if (m != "GET" && m != "POST") return MethodNotAllowed(req, "GET, POST");
    Account account = CAIRN_TRY(accounts_.GetAccount(s[1]));
    if (m == "GET") return ListTokens(account);
    return CreateToken(req, account);
  }
  if (s[0] == "accounts" && s.size() == 3 && s[2] == "policy") {
    if (m != "GET" && m != "PUT") return MethodNotAllowed(req, "GET, PUT");
    Account account = CAIRN_TRY(accounts_.GetAccount(s[1]));
    if (m == "PUT") return PutPolicy(req, account);
    return Json(200, PolicyJson(account.name, CAIRN_TRY(accounts_.Policy(account.id))));
  }
  if (s[0] == "tokens" && s.size() == 2) {
    if (m != "DELETE") return MethodNotAllowed(req, "DELETE");
    return RevokeToken(s[1]);
  }
  return Err(ErrorCode::kNotFound, "admin: no route for " + req.path);
}

Result<http::Response> AdminApi::ListAccounts() {
  json::array results;
  for (const auto& a : CAIRN_TRY(accounts_.ListAccounts())) results.emplace_back(AccountJson(a));
  return Json(200, json::object{{"count", results.size()}, {"results", std::move(results)}});
}

Result<http::Response> AdminApi::CreateAccount(const http::Request& req) {
  json::object body = CAIRN_TRY(ParseBody(req.body));
  CAIRN_TRY(OnlyKeys(body, {"name"}));
  const json::value* name = body.if_contains("name");
  if (!name || !name->is_string()) {
    return Err(ErrorCode::kInvalidArgument, "admin: 'name' (string) is required");
  }
  return Json(201, AccountJson(CAIRN_TRY(accounts_.CreateAccount(std::string(name->as_string())))));
}

Result<http::Response> AdminApi::ListTokens(const Account& account) {
  json::array results;
  for (const auto& t : CAIRN_TRY(accounts_.ListTokens(account.id))) {
    results.emplace_back(TokenJson(t, account.name));
  }
  return Json(200, json::object{{"count", results.size()}, {"results", std::move(results)}});
}

Result<http::Response> AdminApi::CreateToken(const http::Request& req, const Account& account) {
  if (account.disabled()) {
    return Err(ErrorCode::kInvalidArgument, "token: account '" + account.name + "' is disabled");
  }
  json::object body = CAIRN_TRY(ParseBody(req.body.empty() ? std::string("{}") : req.body));
  CAIRN_TRY(OnlyKeys(body, {"scopes", "expires"}));
  metadata::ScopeSet scopes = metadata::ScopeSet::Default();
  if (const json::value* v = body.if_contains("scopes")) scopes = CAIRN_TRY(ParseScopes(*v));
  std::optional<int64_t> expires_us;
  if (const json::value* v = body.if_contains("expires"); v && !v->is_null()) {
    if (!v->is_string())
      return Err(ErrorCode::kInvalidArgument, "admin: 'expires' must be a string");
    expires_us = CAIRN_TRY(ParseTokenExpiry(std::string_view(v->as_string()), clock_.WallMicros()));
  }
  auto created = CAIRN_TRY(accounts_.CreateToken(account.id, scopes, expires_us));
  json::object out = TokenJson(created.info, account.name);
  out["token"] = created.secret;
  return Json(201, out);
}

Result<http::Response> AdminApi::RevokeToken(const std::string& id) {
  CAIRN_TRY(accounts_.RevokeToken(id));
  TokenInfo info = CAIRN_TRY(accounts_.GetToken(id));
  Account owner = CAIRN_TRY(accounts_.GetAccountById(info.account_id));
  return Json(200, TokenJson(info, owner.name));
}

Result<http::Response> AdminApi::PutPolicy(const http::Request& req, const Account& account) {
  json::object body = CAIRN_TRY(ParseBody(req.body));
  std::map<std::string, std::string> policy;
  for (const auto& [k, v] : body) {
    if (!v.is_string()) {
      return Err(ErrorCode::kInvalidArgument,
                 "admin: policy key '" + std::string(k) + "' must have a string value");
    }
    policy.emplace(std::string(k), std::string(v.as_string()));
  }
  CAIRN_TRY(SetAccountPolicy(accounts_, account.name, policy, service_));
  return Json(200, PolicyJson(account.name, CAIRN_TRY(accounts_.Policy(account.id))));
}

Result<void> SetAccountPolicy(metadata::AccountStore& accounts, std::string_view name,
                              const std::map<std::string, std::string>& policy,
                              const filecoin::deals::ServicePolicy& service) {
  auto parsed = CAIRN_TRY(filecoin::deals::ParseAccountPolicy(policy));
  CAIRN_TRY(filecoin::deals::CheckAccountPolicy(parsed, service));
  return accounts.SetPolicy(name, policy);
}

}  // namespace cairn::api
