#include "api/routing_api.hpp"

#include <gtest/gtest.h>

#include "api/internal/test_request.hpp"
#include "metadata/accounts.hpp"
#include "metadata/internal/test_db.hpp"

namespace cairn::api {
namespace {

constexpr const char* kCid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
constexpr const char* kPeer = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

class RoutingApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_ = std::make_unique<metadata::AccountStore>(db_.db(), clock_);
    pins_ = std::make_unique<metadata::PinStore>(db_.db(), clock_);
    account_ = accounts_->CreateAccount("alice")->id;
    api_ =
        std::make_unique<RoutingApi>(*pins_, RoutingApiOptions{kPeer, [this] { return addrs_; }});
  }
  http::Response Get(const std::string& target, const std::string& accept = "") {
    auto r = testing::AuthorizedRequest("GET", target, "");
    if (!accept.empty()) r.headers.emplace_back("Accept", accept);
    return api_->Handle(r);
  }
  void Pin(const std::string& cid) {
    auto pin = pins_->Create(account_, metadata::NewPin{cid, {}, {}, {}});
    ASSERT_TRUE(pin);
    ASSERT_TRUE(pins_->UpdateStatus(pin->requestid, metadata::PinStatus::kPinned, {}));
  }

  metadata::testing::TempDb db_;
  FakeClock clock_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<RoutingApi> api_;
  int64_t account_ = 0;
  std::vector<std::string> addrs_;
};

TEST_F(RoutingApiTest, UnpinnedContentHasNoProviders) {
  auto r = Get(std::string("/routing/v1/providers/") + kCid);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"Providers\":[]}");
  EXPECT_EQ(r.Header("Cache-Control"), "public, max-age=15");
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
}

TEST_F(RoutingApiTest, PinnedContentNamesThisNode) {
  Pin(kCid);
  auto r = Get(std::string("/routing/v1/providers/") + kCid);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string("{\"Providers\":[{\"Schema\":\"peer\",\"ID\":\"") + kPeer +
                        "\",\"Addrs\":[],\"Protocols\":[]}]}");
  addrs_ = {"/ip4/127.0.0.1/tcp/4001"};
  r = Get(std::string("/routing/v1/providers/") + kCid);
  EXPECT_EQ(r.body, std::string("{\"Providers\":[{\"Schema\":\"peer\",\"ID\":\"") + kPeer +
                        "\",\"Addrs\":[\"/ip4/127.0.0.1/tcp/4001\"],\"Protocols\":[" +
                        "\"transport-bitswap\"]}]}");
  EXPECT_EQ(r.Header("Cache-Control"), "public, max-age=300");
  // Any encoding of the same content matches (CIDv0 pin, v1 query and back).
  auto v0 = multiformats::Cid::Compute(0, 0x70, 0x12, AsBytes("dag"));
  Pin(v0->ToString());
  EXPECT_NE(Get("/routing/v1/providers/" + v0->ToV1().ToString()).body.find(kPeer),
            std::string::npos);
  auto nd = Get(std::string("/routing/v1/providers/") + kCid, "application/x-ndjson");
  EXPECT_EQ(nd.Header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(nd.body.back(), '\n');
  EXPECT_EQ(nd.body.rfind("{\"Schema\":\"peer\"", 0), 0u);
}

TEST_F(RoutingApiTest, BadRequests) {
  EXPECT_EQ(Get("/routing/v1/providers/not-a-cid").status, 400);
  EXPECT_EQ(Get(std::string("/routing/v1/providers/") + kCid + "/x").status, 400);
  EXPECT_EQ(Get(std::string("/routing/v1/peers/") + kPeer).status, 501);
  auto post = testing::AuthorizedRequest("POST", "/routing/v1/providers/x", "");
  EXPECT_EQ(api_->Handle(post).status, 405);
  auto options = testing::AuthorizedRequest("OPTIONS", "/routing/v1/providers/x", "");
  auto r = api_->Handle(options);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("Access-Control-Allow-Methods"), "GET, OPTIONS");
  EXPECT_TRUE(RoutingApi::Handles("/routing/v1/providers/x"));
  EXPECT_FALSE(RoutingApi::Handles("/routing/v2/x"));
}

}  // namespace
}  // namespace cairn::api
