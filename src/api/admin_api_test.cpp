#include "api/admin_api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/internal/test_request.hpp"
#include "metadata/internal/test_db.hpp"

namespace cairn::api {
namespace {

namespace json = boost::json;

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_ = std::make_unique<metadata::AccountStore>(db_.db(), clock_);
    api_ = std::make_unique<AdminApi>(*accounts_, clock_);
    int64_t ops = accounts_->CreateAccount("ops")->id;
    admin_ =
        accounts_->CreateToken(ops, *metadata::ScopeSet::Parse({"admin"}), std::nullopt)->secret;
    user_ = accounts_->CreateToken(ops, metadata::ScopeSet::Default(), std::nullopt)->secret;
  }
  http::Response Call(const std::string& method, const std::string& target,
                      const std::string& token, const std::string& body = "") {
    clock_.Advance(1000);
    return api_->Handle(testing::AuthorizedRequest(method, target, token, body));
  }
  static json::object Obj(const http::Response& r) {
    auto v = json::parse(r.body);
    return v.as_object();
  }
  static std::string Reason(const http::Response& r) {
    return std::string(Obj(r).at("error").as_object().at("reason").as_string());
  }

  metadata::testing::TempDb db_;
  FakeClock clock_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<AdminApi> api_;
  std::string admin_, user_;
};

TEST_F(AdminApiTest, CreatesListsAndDisablesAccounts) {
  auto created = Call("POST", "/admin/accounts", admin_, R"({"name":"alice"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Obj(created).at("name").as_string(), "alice");
  EXPECT_TRUE(Obj(created).at("disabled").is_null());
  EXPECT_EQ(Call("POST", "/admin/accounts", admin_, R"({"name":"alice"})").status, 409);
  EXPECT_EQ(Call("POST", "/admin/accounts", admin_, R"({"name":"Bad Name"})").status, 400);
  auto list = Call("GET", "/admin/accounts", admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Obj(list).at("count").as_int64(), 2);  // ops and alice
  auto disabled = Call("POST", "/admin/accounts/alice/disable", admin_);
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_TRUE(Obj(disabled).at("disabled").is_string());
  EXPECT_TRUE(accounts_->GetAccount("alice")->disabled());
  EXPECT_EQ(Call("GET", "/admin/accounts/nobody", admin_).status, 404);
  EXPECT_EQ(Call("POST", "/admin/accounts/alice/tokens", admin_, "{}").status, 400);
}

TEST_F(AdminApiTest, TokensAreCreatedOnceListedWithoutSecretsAndRevoked) {
  ASSERT_EQ(Call("POST", "/admin/accounts", admin_, R"({"name":"bob"})").status, 201);
  auto created = Call("POST", "/admin/accounts/bob/tokens", admin_,
                      R"({"scopes":["pins:read"],"expires":"30d"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto token = Obj(created);
  std::string secret(token.at("token").as_string());
  std::string id(token.at("id").as_string());
  EXPECT_EQ(token.at("scopes").as_array().size(), 1u);
  EXPECT_TRUE(token.at("expires").is_string());
  auto who = accounts_->Authenticate(secret, clock_.WallMicros());
  ASSERT_TRUE(who);
  EXPECT_EQ(who->account.name, "bob");
  EXPECT_TRUE(who->scopes.Has(metadata::Scope::kPinsRead));
  EXPECT_FALSE(who->scopes.Has(metadata::Scope::kPinsWrite));

  auto list = Call("GET", "/admin/accounts/bob/tokens", admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  EXPECT_EQ(Obj(list).at("count").as_int64(), 1);

  auto revoked = Call("DELETE", "/admin/tokens/" + id, admin_);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_TRUE(Obj(revoked).at("revoked").is_string());
  EXPECT_FALSE(accounts_->Authenticate(secret, clock_.WallMicros()));
  EXPECT_EQ(Call("DELETE", "/admin/tokens/tok_nosuchtoken00000", admin_).status, 404);
}

TEST_F(AdminApiTest, NeedsAnAdminTokenAndRejectsBadInputWithoutChanges) {
  EXPECT_EQ(Call("GET", "/admin/accounts", "").status, 401);
  EXPECT_EQ(Call("GET", "/admin/accounts", "cairn_wrong").status, 401);
  auto forbidden = Call("POST", "/admin/accounts", user_, R"({"name":"eve"})");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_FALSE(accounts_->GetAccount("eve"));

  ASSERT_EQ(Call("POST", "/admin/accounts", admin_, R"({"name":"carol"})").status, 201);
  for (const char* body : {"not json", "[]", R"({"name":1})", R"({"name":"x","extra":1})"}) {
    auto r = Call("POST", "/admin/accounts", admin_, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(Reason(r), "INVALID_ARGUMENT") << r.body;
  }
  for (const char* body : {R"({"scopes":[]})", R"({"scopes":["root"]})", R"({"scopes":"admin"})",
                           R"({"expires":"yesterday"})", R"({"expires":"2001-01-01T00:00:00Z"})",
                           R"({"expires":"0d"})", R"({"expires":5})"}) {
    auto r = Call("POST", "/admin/accounts/carol/tokens", admin_, body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
  }
  auto carol = accounts_->GetAccount("carol");
  EXPECT_TRUE(accounts_->ListTokens(carol->id)->empty());
  EXPECT_EQ(Call("PUT", "/admin/accounts", admin_).status, 405);
  EXPECT_EQ(Call("GET", "/admin/tokens/x", admin_).status, 405);
  EXPECT_EQ(Call("GET", "/admin/../pins", admin_).status, 404);
  EXPECT_EQ(Call("GET", "/admin//accounts", admin_).status, 404);
}

TEST(TokenExpiry, AcceptsDurationsAndFutureTimes) {
  const int64_t now = 1'800'000'000'000'000;
  EXPECT_EQ(*ParseTokenExpiry("90m", now), now + 90 * 60'000'000LL);
  EXPECT_EQ(*ParseTokenExpiry("2w", now), now + 14 * 86'400'000'000LL);
  EXPECT_EQ(*ParseTokenExpiry("2030-01-01T00:00:00Z", now), 1'893'456'000'000'000);
  EXPECT_FALSE(ParseTokenExpiry("1999-01-01T00:00:00Z", now));
  EXPECT_FALSE(ParseTokenExpiry("1234567d", now));
  EXPECT_FALSE(ParseTokenExpiry("d", now));
  EXPECT_FALSE(ParseTokenExpiry("", now));
}

TEST_F(AdminApiTest, AccountPolicyIsCheckedStoredAndReplacedWhole) {
  filecoin::deals::ServicePolicy service;
  for (uint64_t id : {1000, 1002, 1004}) service.providers.push_back(*filecoin::Address::Id(id));
  api_ = std::make_unique<AdminApi>(*accounts_, clock_, service);
  ASSERT_EQ(Call("POST", "/admin/accounts", admin_, R"({"name":"alice"})").status, 201);
  auto empty = Call("GET", "/admin/accounts/alice/policy", admin_);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(Obj(empty).at("policy").as_object().size(), 0u);

  auto set = Call("PUT", "/admin/accounts/alice/policy", admin_,
                  R"({"filecoin.replicas":"3","filecoin.verified":"true"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Obj(set).at("policy").as_object().at("filecoin.replicas").as_string(), "3");
  auto alice = accounts_->GetAccount("alice");
  EXPECT_EQ(accounts_->Policy(alice->id)->size(), 2u);

  // Refused, naming the key, and nothing changes.
  for (const auto& [body, reason] : std::vector<std::pair<std::string, std::string>>{
           {R"({"filecoin.replicas":"3","filecoin.deny":"f01000"})",
            "account policy filecoin.replicas: 3 replicas need as many distinct providers; 2 "
            "can be used"},
           {R"({"filecoin.providers":"f09999"})",
            "account policy filecoin.providers: f09999 is not one of this service's providers "
            "(f01000,f01002,f01004)"},
           {R"({"filecoin.replica":"3"})", "account policy: unknown key 'filecoin.replica'"},
           {R"({"filecoin.replicas":3})",
            "admin: policy key 'filecoin.replicas' must have a string value"},
           {R"(["x"])", "admin: body must be a JSON object"}}) {
    auto r = Call("PUT", "/admin/accounts/alice/policy", admin_, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(reason), std::string::npos) << r.body;
  }
  EXPECT_EQ(accounts_->Policy(alice->id)->at("filecoin.replicas"), "3");

  // A whole replacement; {} clears it.
  ASSERT_EQ(
      Call("PUT", "/admin/accounts/alice/policy", admin_, R"({"filecoin.deny":"f01004"})").status,
      200);
  EXPECT_EQ(*accounts_->Policy(alice->id),
            (std::map<std::string, std::string>{{"filecoin.deny", "f01004"}}));
  ASSERT_EQ(Call("PUT", "/admin/accounts/alice/policy", admin_, "{}").status, 200);
  EXPECT_TRUE(accounts_->Policy(alice->id)->empty());

  EXPECT_EQ(Call("PUT", "/admin/accounts/nobody/policy", admin_, "{}").status, 404);
  EXPECT_EQ(Call("PUT", "/admin/accounts/alice/policy", user_, "{}").status, 403);
  EXPECT_EQ(Call("POST", "/admin/accounts/alice/policy", admin_, "{}").status, 405);
}

}  // namespace
}  // namespace cairn::api
