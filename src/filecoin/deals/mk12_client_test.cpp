#include "filecoin/deals/mk12_client.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "filecoin/piece/piece_cid.hpp"
#include "net/multiaddr.hpp"

namespace cairn::filecoin::deals {
namespace {

Bytes MaBytes(std::string_view text) {
  auto ma = net::Multiaddr::Parse(text);
  EXPECT_TRUE(ma.has_value()) << text;
  return ma->ToBytes();
}

TEST(HttpEndpointOf, MapsCurioMultiaddrsAndSkipsLibp2pOnes) {
  std::vector<Bytes> devnet_curio = {MaBytes("/ip4/127.0.0.1/tcp/3456/http")};
  EXPECT_EQ(HttpEndpointOf(devnet_curio), "http://127.0.0.1:3456");
  std::vector<Bytes> curio_wss = {MaBytes("/dns/sp.example.com/tcp/443/wss")};
  EXPECT_EQ(HttpEndpointOf(curio_wss), "https://sp.example.com:443");
  std::vector<Bytes> tls_http = {MaBytes("/ip6/::1/tcp/8443/tls/http")};
  EXPECT_EQ(HttpEndpointOf(tls_http), "https://[::1]:8443");
  std::vector<Bytes> boost = {MaBytes("/ip4/127.0.0.1/tcp/4001")};
  EXPECT_EQ(HttpEndpointOf(boost), std::nullopt);
  std::vector<Bytes> garbage_then_http = {Bytes{0xff, 0x01}, MaBytes("/ip4/10.0.0.1/tcp/80/http")};
  EXPECT_EQ(HttpEndpointOf(garbage_then_http), "http://10.0.0.1:80");
  EXPECT_EQ(HttpEndpointOf({}), std::nullopt);
}

// A scripted provider: records what it was sent and answers with `answer`.
class FakeTransport : public Mk12Transport {
 public:
  Result<Mk12HttpReply> Send(const std::string& method, const std::string& url,
                             const std::string& body, std::chrono::milliseconds,
                             uint64_t) override {
    methods.push_back(method);
    urls.push_back(url);
    bodies.push_back(body);
    return answer(body);
  }
  std::function<Result<Mk12HttpReply>(const std::string&)> answer;
  std::vector<std::string> methods, urls, bodies;
};

std::string Str(const Bytes& b) { return std::string(AsString(b)); }

PrivateKey TestKey() {
  return *PrivateKeyFromBytes(
      *HexDecode("44998d7039df8d0bfb274c4609ff7f433202873bf20a847a0af08ad8b5396082"));
}

DealParams MakeParams() {
  DealProposal p;
  p.piece_cid = piece::PieceCidV1(piece::Node{});
  p.piece_size = 2048;
  p.client = Secp256k1Address(TestKey());
  p.provider = *Address::Id(1000);
  p.label = std::string("bafkqaaa");
  p.start_epoch = 100;
  p.end_epoch = 518500;
  DealParams params;
  params.deal_uuid[0] = 7;
  params.client_deal_proposal = SignDealProposal(p, TestKey());
  params.deal_data_root = *multiformats::Cid::Parse("bafkqaaa");
  params.transfer.type = "http";
  params.transfer.params = Bytes{'{', '}'};
  params.transfer.size = 2032;
  return params;
}

TEST(Mk12Client, ProposeSendsDealParamsAndReturnsTheAnswerVerbatim) {
  FakeTransport t;
  Mk12Client client(t);
  DealParams params = MakeParams();
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, Str(DealResponse{false, "failed validation: no"}.Encode())};
  };
  auto r = client.Propose("http://p:1", params);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->message, "failed validation: no");
  EXPECT_EQ(t.methods[0], "POST");
  EXPECT_EQ(t.urls[0], "http://p:1/market/mk12/store");
  auto sent = DealParams::Decode(AsBytes(t.bodies[0]));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(*sent, params);
}

TEST(Mk12Client, HttpErrorsAndGarbageAreNamedErrors) {
  FakeTransport t;
  Mk12Client client(t);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{400, "bad\x01request"};
  };
  auto r = client.Propose("http://p:1", DealParams{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("HTTP 400 bad?request"), std::string::npos);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, "\xa1\x61x\x01"};
  };
  r = client.Propose("http://p:1", DealParams{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("/market/mk12/store"), std::string::npos);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Err(ErrorCode::kTimeout, "deadline");
  };
  EXPECT_EQ(client.Propose("http://p:1", DealParams{}).error().code(), ErrorCode::kTimeout);
}

TEST(Mk12Client, StatusChecksTheUuidOfTheAnswer) {
  FakeTransport t;
  Mk12Client client(t);
  DealUuid uuid{};
  uuid[15] = 9;
  DealStatusRequest req = DealStatusRequest::Sign(uuid, TestKey());
  DealUuid answered = uuid;
  t.answer = [&](const std::string& body) -> Result<Mk12HttpReply> {
    auto decoded = DealStatusRequest::Decode(AsBytes(body));
    if (!decoded) return Mk12HttpReply{400, ""};
    DealStatusResponse resp;
    resp.deal_uuid = answered;
    resp.error = "no storage deal found";
    return Mk12HttpReply{200, Str(resp.Encode())};
  };
  auto r = client.Status("http://p:1", req);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->error, "no storage deal found");
  EXPECT_EQ(t.methods[0], "GET");
  EXPECT_EQ(t.urls[0], "http://p:1/market/mk12/status");
  answered[0] = 1;
  auto other = client.Status("http://p:1", req);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Mk12Client, AskIsOptionalAndMustBeTheMinersOwn) {
  FakeTransport t;
  Mk12Client client(t);
  Address miner = *Address::Id(1000);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> { return Mk12HttpReply{200, ""}; };
  auto none = client.Ask("http://p:1", miner);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(*DecodeAskRequest(AsBytes(t.bodies[0])), miner);

  StorageAsk ask;
  ask.price = BigInt::FromUint(500000000);
  ask.min_piece_size = 256;
  ask.max_piece_size = 1 << 30;
  ask.miner = miner;
  AskResponse resp{ask, Signature::Secp256k1(Bytes(65, 1))};
  t.answer = [&](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, Str(resp.Encode())};
  };
  auto got = client.Ask("http://p:1", miner);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->min_piece_size, 256u);
  resp.ask->miner = *Address::Id(1001);
  EXPECT_EQ(client.Ask("http://p:1", miner).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::filecoin::deals
