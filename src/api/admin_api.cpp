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
      case 's': unit_us = 1'000'000; break;
      case 'm': unit_us = 60'000'000; break;
      case 'h': unit_us = 3'600'000'000; break;
      case 'd': unit_us = 86'400'000'000; break;
      case 'w': unit_us = 604'800'000'000; break;
      default: break;
    }
    std::string_view digits = text.substr(0, text.size() - 1);
    bool all_digits = digits.size() <= 6 &&
                      digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (unit_us != 0 && all_digits) {
      int64_t n = std::stoll(std::string(digits));
      if (n == 0) return Err(ErrorCode::kInvalidArgument, "token: expiry must be a positive duration");
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
    return Err(ErrorCode::kInvalidArgument, "token: expiry " + std::string(text) + " is in the past");
  }
  return *at;
}

bool AdminApi::Handles(std::string_view path) {
  return path == "/admin" || path.rfind("/admin/", 0) == 0;
}

http::Response AdminApi::Handle(const http::Request& req) {
  auto who = Authorize(accounts_, clock_, req, metadata::Scope::kAdmin);
  if (!who) return http::ErrorResponse(who.error());
  auto segs = Segments(req.path);
  auto not_found = [&] {
    return http::ErrorResponse(Error(ErrorCode::kNotFound, "admin: no route for " + req.path));
  };
  if (!segs || segs->empty()) return not_found();
  const auto& s = *segs;
  const std::string& m = req.method;

  if (s[0] == "accounts" && s.size() == 1) {
    if (m == "GET") {
      auto all = accounts_.ListAccounts();
      if (!all) return http::ErrorResponse(all.error());
      json::array results;
      for (const auto& a : *all) results.emplace_back(AccountJson(a));
      return Json(200, json::object{{"count", results.size()}, {"results", std::move(results)}});
    }
    if (m != "POST") return MethodNotAllowed(req, "GET, POST");
    auto body = ParseBody(req.body);
    if (!body) return http::ErrorResponse(body.error());
    if (auto ok = OnlyKeys(*body, {"name"}); !ok) return http::ErrorResponse(ok.error());
    const json::value* name = body->if_contains("name");
    if (!name || !name->is_string()) {
      return http::ErrorResponse(
          Error(ErrorCode::kInvalidArgument, "admin: 'name' (string) is required"));
    }
    auto created = accounts_.CreateAccount(std::string(name->as_string()));
    if (!created) return http::ErrorResponse(created.error());
    return Json(201, AccountJson(*created));
  }
  if (s[0] == "accounts" && s.size() >= 2) {
    auto account = accounts_.GetAccount(s[1]);
    if (s.size() == 2) {
      if (m != "GET") return MethodNotAllowed(req, "GET");
      if (!account) return http::ErrorResponse(account.error());
      return Json(200, AccountJson(*account));
    }
    if (s.size() == 3 && s[2] == "disable") {
      if (m != "POST") return MethodNotAllowed(req, "POST");
      if (!account) return http::ErrorResponse(account.error());
      if (auto ok = accounts_.DisableAccount(s[1]); !ok) return http::ErrorResponse(ok.error());
      auto after = accounts_.GetAccount(s[1]);
      if (!after) return http::ErrorResponse(after.error());
      return Json(200, AccountJson(*after));
    }
    if (s.size() == 3 && s[2] == "tokens") {
      if (m == "GET") {
        if (!account) return http::ErrorResponse(account.error());
        auto tokens = accounts_.ListTokens(account->id);
        if (!tokens) return http::ErrorResponse(tokens.error());
        json::array results;
        for (const auto& t : *tokens) results.emplace_back(TokenJson(t, account->name));
        return Json(200, json::object{{"count", results.size()}, {"results", std::move(results)}});
      }
      if (m != "POST") return MethodNotAllowed(req, "GET, POST");
      if (!account) return http::ErrorResponse(account.error());
      if (account->disabled()) {
        return http::ErrorResponse(Error(ErrorCode::kInvalidArgument,
                                         "token: account '" + account->name + "' is disabled"));
      }
      auto body = ParseBody(req.body.empty() ? std::string("{}") : req.body);
      if (!body) return http::ErrorResponse(body.error());
      if (auto ok = OnlyKeys(*body, {"scopes", "expires"}); !ok)
        return http::ErrorResponse(ok.error());
      metadata::ScopeSet scopes = metadata::ScopeSet::Default();
      if (const json::value* v = body->if_contains("scopes")) {
        if (!v->is_array() || v->as_array().empty()) {
          return http::ErrorResponse(
              Error(ErrorCode::kInvalidArgument,
                    "admin: 'scopes' must be a non-empty array of scope names"));
        }
        std::vector<std::string> names;
        for (const auto& n : v->as_array()) {
          if (!n.is_string()) {
            return http::ErrorResponse(
                Error(ErrorCode::kInvalidArgument, "admin: scope names are strings"));
          }
          names.emplace_back(n.as_string());
        }
        auto parsed = metadata::ScopeSet::Parse(names);
        if (!parsed) return http::ErrorResponse(parsed.error());
        scopes = *parsed;
      }
      std::optional<int64_t> expires_us;
      if (const json::value* v = body->if_contains("expires"); v && !v->is_null()) {
        if (!v->is_string()) {
          return http::ErrorResponse(
              Error(ErrorCode::kInvalidArgument, "admin: 'expires' must be a string"));
        }
        auto at = ParseTokenExpiry(std::string_view(v->as_string()), clock_.WallMicros());
        if (!at) return http::ErrorResponse(at.error());
        expires_us = *at;
      }
      auto created = accounts_.CreateToken(account->id, scopes, expires_us);
      if (!created) return http::ErrorResponse(created.error());
      json::object out = TokenJson(created->info, account->name);
      out["token"] = created->secret;
      return Json(201, out);
    }
    return not_found();
  }
  if (s[0] == "tokens" && s.size() == 2) {
    if (m != "DELETE") return MethodNotAllowed(req, "DELETE");
    if (auto ok = accounts_.RevokeToken(s[1]); !ok) return http::ErrorResponse(ok.error());
    auto info = accounts_.GetToken(s[1]);
    if (!info) return http::ErrorResponse(info.error());
    auto owner = accounts_.GetAccountById(info->account_id);
    if (!owner) return http::ErrorResponse(owner.error());
    return Json(200, TokenJson(*info, owner->name));
  }
  return not_found();
}

}  // namespace cairn::api
