// The admin HTTP API on the real binary: an operator's admin token (made with the CLI) creates
// an account and a token over HTTP; that token works on the pinning API until it is revoked
// over HTTP; tokens without the admin scope cannot administer.
#include <gtest/gtest.h>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

std::string JsonField(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos) return "";
  at += key.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

TEST(AdminHttp, OperatorsManageAccountsAndTokensOverHttp) {
  TempDir dir;
  std::string repo = dir / "repo";
  ASSERT_EQ(RunCairn("--repo '" + repo + "' account create ops").exit_code, 0);
  auto admin = RunCairn("--repo '" + repo + "' token create --account ops --scope admin");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  std::string admin_token = admin.out.substr(0, admin.out.find('\n'));
  ServeProcess serve(repo);
  ASSERT_NE(serve.port(), 0) << serve.output();
  const uint16_t port = serve.port();
  std::vector<std::string> as_admin = {"Authorization: Bearer " + admin_token};

  auto account = HttpRequest(port, "POST", "/admin/accounts", as_admin, R"({"name":"dana"})");
  ASSERT_EQ(account.status, 201) << account.body;
  auto token = HttpRequest(port, "POST", "/admin/accounts/dana/tokens", as_admin,
                           R"({"scopes":["pins:read","pins:write"],"expires":"1h"})");
  ASSERT_EQ(token.status, 201) << token.body;
  std::string secret = JsonField(token.body, "token");
  std::string id = JsonField(token.body, "id");
  ASSERT_FALSE(secret.empty());
  std::vector<std::string> as_dana = {"Authorization: Bearer " + secret};

  auto pin = HttpRequest(port, "POST", "/pins", as_dana, R"({"cid":"bafkqaaa","name":"empty"})");
  EXPECT_EQ(pin.status, 202) << pin.body;
  // Not an admin: 403, and nothing is created.
  EXPECT_EQ(HttpRequest(port, "POST", "/admin/accounts", as_dana, R"({"name":"eve"})").status, 403);
  EXPECT_EQ(HttpRequest(port, "GET", "/admin/accounts/eve", as_admin).status, 404);
  // The CLI sees what the API made (same database, beside the running server).
  auto listed = RunCairn("--repo '" + repo + "' token list --account dana");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;

  EXPECT_EQ(HttpRequest(port, "DELETE", "/admin/tokens/" + id, as_admin).status, 200);
  EXPECT_EQ(HttpRequest(port, "GET", "/pins", as_dana).status, 401);
  EXPECT_EQ(serve.Stop(), 0) << serve.output();
}

}  // namespace
}  // namespace cairn::testing
