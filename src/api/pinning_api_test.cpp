#include "api/pinning_api.hpp"

#include <gtest/gtest.h>

#include "api/internal/test_request.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/deals/receipt.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "metadata/internal/test_db.hpp"

namespace cairn::api {
namespace {

constexpr const char* kCid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

struct RecordingEvents : PinEvents {
  void OnQueued() override { ++queued; }
  void OnRemoved(const std::string& id) override { removed.push_back(id); }
  int queued = 0;
  std::vector<std::string> removed;
};

class PinningApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_ = std::make_unique<metadata::AccountStore>(db_.db(), clock_);
    pins_ = std::make_unique<metadata::PinStore>(db_.db(), clock_);
    PinningApiOptions o;
    o.delegates = {
        "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"};
    o.rate_limit = {.per_second = 1000, .burst = 1000};
    history_ = std::make_unique<metadata::EventStore>(db_.db(), clock_);
    o.events = history_.get();
    deals_ = std::make_unique<metadata::DealStore>(db_.db(), clock_);
    o.deals = deals_.get();
    for (uint64_t id : {1000, 1002, 1004})
      o.filecoin_providers.push_back(*filecoin::Address::Id(id));
    o.filecoin_replicas = 2;
    api_ = std::make_unique<PinningApi>(*pins_, *accounts_, events_, clock_, o);
    alice_ = Token("alice", metadata::ScopeSet::Default());
    bob_ = Token("bob", metadata::ScopeSet::Default());
  }
  void TearDown() override {
    api_.reset();
    deals_.reset();
    pins_.reset();
    accounts_.reset();
  }
  std::string Token(const std::string& account, metadata::ScopeSet scopes) {
    auto a = accounts_->GetAccount(account);
    int64_t id = a ? a->id : accounts_->CreateAccount(account)->id;
    return accounts_->CreateToken(id, scopes, std::nullopt)->secret;
  }
  http::Response Call(const std::string& method, const std::string& target,
                      const std::string& token, const std::string& body = "") {
    clock_.Advance(1000);
    return http::Resolve(api_->Handle(testing::AuthorizedRequest(method, target, token, body)));
  }
  static std::string Field(const std::string& json, const std::string& key) {
    size_t at = json.find("\"" + key + "\":\"");
    if (at == std::string::npos) return "";
    at += key.size() + 4;
    return json.substr(at, json.find('"', at) - at);
  }

  metadata::testing::TempDb db_;
  FakeClock clock_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<metadata::EventStore> history_;
  std::unique_ptr<metadata::DealStore> deals_;
  RecordingEvents events_;
  std::unique_ptr<PinningApi> api_;
  std::string alice_, bob_;
};

TEST_F(PinningApiTest, EventsAreTheOwnersAlonePagedByCursor) {
  auto added = Call("POST", "/pins", alice_, std::string(R"({"cid":")") + kCid + R"("})");
  ASSERT_EQ(added.status, 202) << added.body;
  std::string id = Field(added.body, "requestid");
  ASSERT_TRUE(pins_->UpdateStatus(id, metadata::PinStatus::kPinned, {}, 10).has_value());
  ASSERT_TRUE(history_->AddPinEvent(id, metadata::kEventReadFromCold, {{"provider", "t01000"}}));

  auto all = Call("GET", "/pins/" + id + "/events", alice_);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_NE(all.body.find(R"("type":"created")"), std::string::npos) << all.body;
  EXPECT_LT(all.body.find(R"("type":"created")"), all.body.find(R"("type":"pinned")"));
  EXPECT_LT(all.body.find(R"("type":"pinned")"), all.body.find(R"("type":"read_from_cold")"));
  EXPECT_EQ(all.body.find(R"("next")"), std::string::npos);

  auto first = Call("GET", "/pins/" + id + "/events?limit=1", alice_);
  ASSERT_EQ(first.status, 200);
  const std::string next = Field(first.body, "next");
  ASSERT_FALSE(next.empty()) << first.body;
  auto rest = Call("GET", "/pins/" + id + "/events?after=" + next, alice_);
  EXPECT_EQ(rest.body.find(R"("type":"created")"), std::string::npos) << rest.body;
  EXPECT_NE(rest.body.find(R"("type":"pinned")"), std::string::npos) << rest.body;

  EXPECT_EQ(Call("GET", "/pins/" + id + "/events", bob_).status, 404);  // another account's pin
  EXPECT_EQ(Call("GET", "/pins/" + id + "/events", "").status, 401);
  EXPECT_EQ(Call("POST", "/pins/" + id + "/events", alice_).status, 405);
  EXPECT_EQ(Call("GET", "/pins/" + id + "/events?limit=0", alice_).status, 400);
  EXPECT_EQ(Call("GET", "/pins/nope/events", alice_).status, 404);
}

TEST_F(PinningApiTest, AddGetReplaceDelete) {
  auto added =
      Call("POST", "/pins", alice_, std::string(R"({"cid":")") + kCid + R"(","name":"n1"})");
  ASSERT_EQ(added.status, 202) << added.body;
  EXPECT_EQ(events_.queued, 1);
  std::string id = Field(added.body, "requestid");
  EXPECT_EQ(Field(added.body, "status"), "queued");
  EXPECT_EQ(Field(added.body, "cid"), kCid);
  auto got = Call("GET", "/pins/" + id, alice_);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(Field(got.body, "requestid"), id);
  auto replaced =
      Call("POST", "/pins/" + id, alice_, std::string(R"({"cid":")") + kCid + R"(","name":"n2"})");
  ASSERT_EQ(replaced.status, 202) << replaced.body;
  std::string id2 = Field(replaced.body, "requestid");
  EXPECT_NE(id2, id);
  EXPECT_EQ(Call("GET", "/pins/" + id, alice_).status, 404);
  EXPECT_EQ(Call("DELETE", "/pins/" + id2, alice_).status, 202);
  EXPECT_EQ(Call("GET", "/pins/" + id2, alice_).status, 404);
  EXPECT_EQ(events_.removed, (std::vector<std::string>{id, id2}));
}

TEST_F(PinningApiTest, AccountsAreIsolated) {
  auto added = Call("POST", "/pins", alice_, std::string(R"({"cid":")") + kCid + R"("})");
  std::string id = Field(added.body, "requestid");
  EXPECT_EQ(Call("GET", "/pins/" + id, bob_).status, 404);
  EXPECT_EQ(Call("DELETE", "/pins/" + id, bob_).status, 404);
  auto list = Call("GET", "/pins?status=queued", bob_);
  EXPECT_EQ(list.body, "{\"count\":0,\"results\":[]}");
  EXPECT_EQ(Call("GET", "/pins/" + id, alice_).status, 200);
}

TEST_F(PinningApiTest, NoFilterListsOnlyPinnedAnyFilterListsAll) {
  Call("POST", "/pins", alice_, std::string(R"({"cid":")") + kCid + R"(","name":"x"})");
  EXPECT_EQ(Call("GET", "/pins", alice_).body, "{\"count\":0,\"results\":[]}");
  auto by_name = Call("GET", "/pins?name=x", alice_);
  EXPECT_NE(by_name.body.find("\"count\":1"), std::string::npos) << by_name.body;
  auto limited = Call("GET", "/pins?limit=1", alice_);  // limit is not a filter
  EXPECT_NE(limited.body.find("\"count\":0"), std::string::npos) << limited.body;
}

TEST_F(PinningApiTest, AuthenticationAndScopes) {
  EXPECT_EQ(Call("GET", "/pins", "").status, 401);
  EXPECT_EQ(Call("GET", "/pins", "cairn_not_a_real_token").status, 401);
  std::string reader = Token("alice", *metadata::ScopeSet::Parse({"pins:read"}));
  EXPECT_EQ(Call("GET", "/pins", reader).status, 200);
  auto denied = Call("POST", "/pins", reader, std::string(R"({"cid":")") + kCid + R"("})");
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("pins:write"), std::string::npos);
  EXPECT_EQ(Call("PUT", "/pins", alice_).status, 405);
}

TEST(BearerToken, SchemeIsCaseInsensitiveAndSpacesAreTolerated) {
  for (const char* header :
       {"Bearer abc", "bearer abc", "BEARER abc", "bEaReR  abc ", "Bearer\tabc"}) {
    auto token = BearerToken(std::string_view(header));
    ASSERT_TRUE(token.has_value()) << header;
    EXPECT_EQ(*token, "abc") << header;
  }
  for (const char* header : {"Basic abc", "Bearerabc", "Bearer ", "Bear abc", ""}) {
    auto token = BearerToken(std::string_view(header));
    ASSERT_FALSE(token.has_value()) << header;
    EXPECT_EQ(token.error().code(), ErrorCode::kUnauthenticated) << header;
  }
}

TEST_F(PinningApiTest, BadInputChangesNothing) {
  for (std::string body : {std::string("{"), std::string(R"({"cid":"nope"})"), std::string("[]"),
                           std::string(R"({"cid":")") + kCid + R"(","meta":{"a":1}})"}) {
    auto r = Call("POST", "/pins", alice_, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find("\"reason\":\"INVALID_ARGUMENT\""), std::string::npos);
  }
  EXPECT_EQ(Call("GET", "/pins?limit=0", alice_).status, 400);
  EXPECT_EQ(Call("GET", "/pins?status=queued", alice_).body, "{\"count\":0,\"results\":[]}");
  EXPECT_EQ(events_.queued, 0);
}

TEST_F(PinningApiTest, RateLimitAnswers429WithRetryAfter) {
  PinningApiOptions o;
  o.delegates = {
      "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"};
  o.rate_limit = {.per_second = 1, .burst = 2};
  api_ = std::make_unique<PinningApi>(*pins_, *accounts_, events_, clock_, o);
  EXPECT_EQ(Call("GET", "/pins", alice_).status, 200);
  EXPECT_EQ(Call("GET", "/pins", alice_).status, 200);
  auto limited = Call("GET", "/pins", alice_);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(*limited.Header("Retry-After"), "1");
}

}  // namespace
}  // namespace cairn::api

namespace cairn::api {
namespace {

TEST_F(PinningApiTest, FilecoinMetaIsCheckedAtAddAndReplaceWithTheKeyNamed) {
  auto add = [&](const std::string& meta) {
    return Call("POST", "/pins", alice_,
                std::string(R"({"cid":")") + kCid + R"(","meta":)" + meta + "}");
  };
  for (const auto& [meta, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"filecoin.replicas":"zero"})", "filecoin.replicas"},
           {R"({"filecoin.replicas":"4"})", "filecoin.replicas"},  // 3 providers here
           {R"({"filecoin.duration_days":"30"})", "filecoin.duration_days"},
           {R"({"filecoin.providers":"f01000,f01001"})", "filecoin.providers"},
           {R"({"filecoin.providers":"f01000"})", "filecoin.providers"},
           {R"({"hot":"sometimes"})", "hot"}}) {
    auto r = add(meta);
    EXPECT_EQ(r.status, 400) << meta;
    EXPECT_NE(r.body.find("meta " + key + ":"), std::string::npos) << r.body;
  }
  EXPECT_EQ(events_.queued, 0);
  auto ok =
      add(R"({"filecoin.replicas":"1","filecoin.providers":"f01004","app":"x","hot":"always"})");
  ASSERT_EQ(ok.status, 202) << ok.body;
  const std::string id = Field(ok.body, "requestid");
  auto replaced =
      Call("POST", "/pins/" + id, alice_,
           std::string(R"({"cid":")") + kCid + R"(","meta":{"filecoin.duration_days":"2000"}})");
  EXPECT_EQ(replaced.status, 400);
  EXPECT_NE(replaced.body.find("meta filecoin.duration_days:"), std::string::npos);
  EXPECT_EQ(Call("GET", "/pins/" + id, alice_).status, 200) << "a refused replace changes nothing";
}

TEST_F(PinningApiTest, FilecoinMetaIsCheckedAgainstTheAccountsPolicy) {
  ASSERT_TRUE(accounts_->SetPolicy("alice", {{"filecoin.deny", "f01002"}}).has_value());
  auto add = [&](const std::string& token, const std::string& meta) {
    return Call("POST", "/pins", token,
                std::string(R"({"cid":")") + kCid + R"(","meta":)" + meta + "}");
  };
  auto denied = add(alice_, R"({"filecoin.providers":"f01000,f01002"})");
  EXPECT_EQ(denied.status, 400);
  EXPECT_NE(denied.body.find("meta filecoin.providers: f01002 is denied to this account"),
            std::string::npos)
      << denied.body;
  // Three replicas, two providers left to alice.
  auto three = add(alice_, R"({"filecoin.replicas":"3"})");
  EXPECT_EQ(three.status, 400);
  EXPECT_NE(three.body.find("meta filecoin.replicas: 3 replicas"), std::string::npos) << three.body;
  // Another account is not bound by alice's policy; alice may still name the others.
  EXPECT_EQ(add(bob_, R"({"filecoin.providers":"f01000,f01002"})").status, 202);
  EXPECT_EQ(add(alice_, R"({"filecoin.providers":"f01000,f01004"})").status, 202);
  EXPECT_EQ(add(alice_, R"({"app":"no policy keys"})").status, 202);
}

TEST_F(PinningApiTest, ReceiptHasThePinsAuthIsolationAndSaysWhyItIsNotThereYet) {
  auto added = Call("POST", "/pins", alice_, std::string(R"({"cid":")") + kCid + R"("})");
  const std::string id = Field(added.body, "requestid");
  const std::string target = "/pins/" + id + "/receipt";
  auto none = Call("GET", target, alice_);
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("has no Filecoin segment yet"), std::string::npos) << none.body;

  // A segment (a CAR of 200 bytes in a 256-byte piece), then an aggregate holding it.
  filecoin::aggregation::PieceInfo piece;
  piece.commitment.fill(0x11);
  piece.size = 256;
  metadata::SegmentRecord seg;
  seg.pin_requestid = id;
  seg.root_cid = multiformats::Cid::Parse(kCid)->ToBytes();
  seg.car_size = 200;
  seg.comm_p = Bytes(piece.commitment.begin(), piece.commitment.end());
  seg.padded_size = piece.size;
  auto seg_id = deals_->AddSegment(seg);
  ASSERT_TRUE(seg_id.has_value());
  auto waiting = Call("GET", target, alice_);
  EXPECT_EQ(waiting.status, 404);
  EXPECT_NE(waiting.body.find("waiting to be aggregated"), std::string::npos) << waiting.body;
  std::array<filecoin::aggregation::PieceInfo, 1> pieces = {piece};
  auto agg = filecoin::aggregation::Aggregate::Build(pieces, 4096);
  ASSERT_TRUE(agg.has_value());
  metadata::AggregateRecord rec;
  rec.piece_cid = filecoin::piece::PieceCidV1(agg->root()).ToString();
  rec.padded_size = 4096;
  rec.payload_size = 4064;
  std::array<std::pair<int64_t, uint64_t>, 1> placements = {
      std::pair{*seg_id, agg->placement().pieces[0].offset}};
  ASSERT_TRUE(deals_->CreateAggregate(rec, placements).has_value());

  auto got = Call("GET", target, alice_);
  ASSERT_EQ(got.status, 200) << got.body;
  auto receipt = filecoin::deals::ParseReceipt(got.body);
  ASSERT_TRUE(receipt.has_value()) << receipt.error().ToString();
  EXPECT_EQ(receipt->aggregate_piece_cid.ToString(), rec.piece_cid);
  EXPECT_TRUE(receipt->deals.empty());
  EXPECT_TRUE(filecoin::deals::VerifyReceiptInclusion(*receipt).has_value());
  // Same isolation as the pin: another account, no token, a write: refused.
  auto bobs = Call("GET", target, bob_);
  EXPECT_EQ(bobs.status, 404);
  EXPECT_NE(bobs.body.find("no pin with requestid"), std::string::npos) << bobs.body;
  EXPECT_EQ(Call("GET", target, "").status, 401);
  EXPECT_EQ(Call("POST", target, alice_).status, 405);
  EXPECT_EQ(Call("GET", "/pins/" + id + "/receipt/x", alice_).status, 404);
}

}  // namespace
}  // namespace cairn::api
