#include "api/auth.hpp"

#include <strings.h>

namespace cairn::api {

Result<std::string_view> BearerToken(std::optional<std::string_view> authorization) {
  if (!authorization) {
    return Err(ErrorCode::kUnauthenticated, "auth: missing Authorization header (Bearer token)");
  }
  // RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces (or tabs) follow it.
  std::string_view v = *authorization;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (v.size() < 7 || strncasecmp(v.data(), "Bearer", 6) != 0 || !blank(v[6])) {
    return Err(ErrorCode::kUnauthenticated, "auth: Authorization must be 'Bearer <token>'");
  }
  v.remove_prefix(7);
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  if (v.empty()) return Err(ErrorCode::kUnauthenticated, "auth: empty token");
  return v;
}

Result<metadata::Principal> Authorize(metadata::AccountStore& accounts, const Clock& clock,
                                      const http::Request& request,
                                      std::optional<metadata::Scope> needed) {
  std::string_view token = CAIRN_TRY(BearerToken(request.Header("Authorization")));
  metadata::Principal who = CAIRN_TRY(accounts.Authenticate(token, clock.WallMicros()));
  if (needed && !who.scopes.Has(*needed)) {
    return Err(ErrorCode::kPermissionDenied, "auth: token " + who.token_id + " lacks the " +
                                                 std::string(metadata::ScopeName(*needed)) +
                                                 " scope");
  }
  return who;
}

}  // namespace cairn::api
