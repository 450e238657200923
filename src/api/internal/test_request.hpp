// Test helper shared by the API tests: a request as the HTTP server hands it to a handler.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "http/http_types.hpp"

namespace cairn::api::testing {

// `method target` with the target's path and query parsed (a test failure when they do not
// parse), an `Authorization: Bearer <token>` header unless `token` is empty, and `body`.
inline http::Request AuthorizedRequest(const std::string& method, const std::string& target,
                                       const std::string& token, const std::string& body = "") {
  http::Request r;
  r.method = method;
  r.target = target;
  EXPECT_TRUE(http::ParseTarget(target, r));
  if (!token.empty()) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
  }
  r.body = body;
  return r;
}

}  // namespace cairn::api::testing
