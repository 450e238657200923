// The admin HTTP API: what `cairn account …` and `cairn token …` do, over HTTP, for tokens with
// the `admin` scope (operators; an admin token acts on every account). JSON in and out; errors
// use the Failure body {"error":{"reason","details"}} like the pinning API.
//
//   GET    /admin/accounts                    → 200 {"count":N,"results":[Account…]} by id
//   POST   /admin/accounts        {"name"}    → 201 Account (409 when the name is taken)
//   GET    /admin/accounts/{name}             → 200 Account
//   POST   /admin/accounts/{name}/disable     → 200 Account (idempotent; its tokens stop working)
//   GET    /admin/accounts/{name}/tokens      → 200 {"count":N,"results":[Token…]} oldest first
//   POST   /admin/accounts/{name}/tokens {"scopes":[…]?,"expires":"30d"|RFC 3339?}
//                                             → 201 Token + "token": the secret, shown only here
//   DELETE /admin/tokens/{id}                 → 200 Token (revoked; idempotent)
//   GET    /admin/accounts/{name}/policy      → 200 {"account","policy":{key: string…}}
//   PUT    /admin/accounts/{name}/policy {key: string…}
//                                             → 200 the same (replaces the whole policy; {}
//                                               clears it; keys and values as in
//                                               filecoin/deals/pin_policy.hpp AccountPolicy,
//                                               checked against the service's providers: 400
//                                               naming the key)
//
// Account = {"id","name","created","disabled"(RFC 3339 or null)}; Token = {"id","account",
// "scopes":[…],"created","expires","last_used","revoked"} (times RFC 3339 or null). Scopes
// default to pins:read, pins:write, upload. Missing/bad token 401, no admin scope 403, unknown
// account or token 404, bad body 400, wrong method 405.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "filecoin/deals/pin_policy.hpp"
#include "http/http_types.hpp"
#include "metadata/accounts.hpp"

namespace cairn::api {

class AdminApi {
 public:
  // `accounts` and `clock` must outlive the API. `service`: the cold tier's defaults, against
  // which account policies are checked (no providers: only their syntax).
  AdminApi(metadata::AccountStore& accounts, const Clock& clock,
           filecoin::deals::ServicePolicy service = {})
      : accounts_(accounts), clock_(clock), service_(std::move(service)) {}

  // Whether `path` belongs to this API ("/admin/...").
  static bool Handles(std::string_view path);
  // Thread-safe.
  http::Response Handle(const http::Request& request);

 private:
  // One function per route; their errors become ErrorResponse in Handle.
  Result<http::Response> Route(const http::Request& req);
  Result<http::Response> ListAccounts();
  Result<http::Response> CreateAccount(const http::Request& req);
  Result<http::Response> ListTokens(const metadata::Account& account);
  Result<http::Response> CreateToken(const http::Request& req, const metadata::Account& account);
  Result<http::Response> RevokeToken(const std::string& id);
  Result<http::Response> PutPolicy(const http::Request& req, const metadata::Account& account);

  metadata::AccountStore& accounts_;
  const Clock& clock_;
  filecoin::deals::ServicePolicy service_;
};

// Checks `policy` (ParseAccountPolicy, then CheckAccountPolicy against `service`) and stores it
// as account `name`'s policy. InvalidArgument naming the key, NotFound for an unknown account;
// nothing is stored unless it passes. What `cairn account policy` and PUT …/policy do.
Result<void> SetAccountPolicy(metadata::AccountStore& accounts, std::string_view name,
                              const std::map<std::string, std::string>& policy,
                              const filecoin::deals::ServicePolicy& service);

// A token expiry as operators write it: a duration from `now_us` ("30d", "12h", "90m", "3600s",
// "2w"; positive, at most 6 digits) or an RFC 3339 time in the future. InvalidArgument otherwise.
Result<int64_t> ParseTokenExpiry(std::string_view text, int64_t now_us);

}  // namespace cairn::api
