// Authorization of an HTTP request, the one way every surface does it (Pinning Service API, Kubo
// RPC, admin API, the private gateway, and the server's admission of request bodies).
//
// A request carries `Authorization: Bearer <token>` (RFC 6750; the scheme is case-insensitive,
// RFC 9110 §11.1). Authorize checks the token against the account store (unknown, revoked or
// expired tokens and disabled accounts are Unauthenticated) and, when a scope is asked for, that
// the token has it (PermissionDenied naming the token and the scope). Error messages never
// contain the token.
#pragma once

#include <optional>
#include <string_view>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "http/http_types.hpp"
#include "metadata/accounts.hpp"

namespace cairn::api {

// Reads a bearer token from an Authorization header value ("Bearer abc"). Unauthenticated with
// the reason when absent or malformed.
Result<std::string_view> BearerToken(std::optional<std::string_view> authorization);

// The principal behind `request`'s bearer token; with `needed`, the token must carry that scope.
Result<metadata::Principal> Authorize(metadata::AccountStore& accounts, const Clock& clock,
                                      const http::Request& request,
                                      std::optional<metadata::Scope> needed);

}  // namespace cairn::api
