#include "filecoin/deals/mk12_client.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

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
  Result<Mk12StreamReply> Exchange(const std::string& peer_id,
                                   const std::vector<std::string>& addrs,
                                   const std::vector<Mk12StreamOffer>& offers,
                                   std::chrono::milliseconds, uint64_t) override {
    peers.push_back(peer_id);
    dialed = addrs;
    protocols.clear();
    for (const auto& o : offers) protocols.push_back(o.protocol);
    // The provider picks the first offer it supports.
    for (const auto& o : offers) {
      if (!supported.count(o.protocol)) continue;
      bodies.push_back(o.request);
      auto reply = answer(o.request);
      if (!reply) return Err(reply.error());
      return Mk12StreamReply{o.protocol, reply->body};
    }
    return Err(ErrorCode::kNotSupported, "fake: none of the protocols");
  }
  std::function<Result<Mk12HttpReply>(const std::string&)> answer;
  std::vector<std::string> methods, urls, bodies, peers, dialed, protocols;
  std::set<std::string> supported = {"/fil/storage/mk/1.2.1", "/fil/storage/mk/1.2.0",
                                     "/fil/storage/status/1.2.0", "/fil/storage/ask/1.1.0",
                                     "/fil/retrieval/transports/1.0.0"};
};

Mk12Endpoint Http() { return Mk12Endpoint::Http("http://p:1"); }

const char* kPeer = "12D3KooW9tHTtS3inCZiYykw4u5G4frbjVFqhkmJX12gSNCVeH3e";

Mk12Endpoint Libp2p() { return Mk12Endpoint::Libp2p(kPeer, {"/ip4/127.0.0.1/tcp/4001"}); }

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
  auto r = client.Propose(Http(), params);
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
  auto r = client.Propose(Http(), DealParams{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("HTTP 400 bad?request"), std::string::npos);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, "\xa1\x61x\x01"};
  };
  r = client.Propose(Http(), DealParams{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("/market/mk12/store"), std::string::npos);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Err(ErrorCode::kTimeout, "deadline");
  };
  EXPECT_EQ(client.Propose(Http(), DealParams{}).error().code(), ErrorCode::kTimeout);
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
  auto r = client.Status(Http(), req);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->error, "no storage deal found");
  EXPECT_EQ(t.methods[0], "GET");
  EXPECT_EQ(t.urls[0], "http://p:1/market/mk12/status");
  answered[0] = 1;
  auto other = client.Status(Http(), req);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Mk12Client, AskIsOptionalAndMustBeTheMinersOwn) {
  FakeTransport t;
  Mk12Client client(t);
  Address miner = *Address::Id(1000);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> { return Mk12HttpReply{200, ""}; };
  auto none = client.Ask(Http(), miner);
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
  auto got = client.Ask(Http(), miner);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->min_piece_size, 256u);
  resp.ask->miner = *Address::Id(1001);
  EXPECT_EQ(client.Ask(Http(), miner).error().code(), ErrorCode::kInvalidArgument);
}

TEST(Mk12EndpointOf, PrefersHttpElseLibp2pOverTcpElseSaysWhy) {
  std::string why;
  std::vector<Bytes> curio = {MaBytes("/ip4/127.0.0.1/tcp/7/http/p2p/" + std::string(kPeer))};
  EXPECT_EQ(Mk12EndpointOf(kPeer, curio, &why), Mk12Endpoint::Http("http://127.0.0.1:7"));
  std::vector<Bytes> boost = {MaBytes("/ip4/10.0.0.1/udp/4001/quic-v1"),
                              MaBytes("/ip4/127.0.0.1/tcp/4001/p2p/" + std::string(kPeer)),
                              MaBytes("/dns4/sp.example/tcp/24001"), Bytes{0xff}};
  auto e = Mk12EndpointOf(kPeer, boost, &why);
  ASSERT_TRUE(e.has_value()) << why;
  EXPECT_EQ(e->kind, Mk12Endpoint::Kind::kLibp2p);
  EXPECT_EQ(e->peer_id, kPeer);
  EXPECT_EQ(e->addrs,
            (std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001", "/dns4/sp.example/tcp/24001"}));
  EXPECT_EQ(e->ToString(), "libp2p /p2p/" + std::string(kPeer));
  // An address naming another peer is not this provider's.
  std::vector<Bytes> other = {
      MaBytes("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW9xCm2jWjNVrwh51SWCQBMYdMyeU3NpT85QhLVkF6PcNM")};
  EXPECT_EQ(Mk12EndpointOf(kPeer, other, &why), std::nullopt);
  EXPECT_NE(why.find("no TCP multiaddr"), std::string::npos) << why;
  EXPECT_EQ(Mk12EndpointOf("", boost, &why), std::nullopt);
  EXPECT_NE(why.find("no PeerId"), std::string::npos) << why;
  EXPECT_EQ(Mk12EndpointOf("12D3KooWA", boost, &why), std::nullopt);
  EXPECT_NE(why.find("PeerId does not parse"), std::string::npos) << why;
  std::vector<Bytes> quic_only = {MaBytes("/ip4/10.0.0.1/udp/4001/quic-v1")};
  EXPECT_EQ(Mk12EndpointOf(kPeer, quic_only, &why), std::nullopt);
}

TEST(Mk12Client, Libp2pProposeOffers121Then120WithTheEncodingOfEach) {
  FakeTransport t;
  Mk12Client client(t);
  DealParams params = MakeParams();
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, Str(DealResponse{true, ""}.Encode())};
  };
  auto r = client.Propose(Libp2p(), params);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(t.peers.at(0), kPeer);
  EXPECT_EQ(t.dialed, std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001"});
  EXPECT_EQ(t.protocols,
            (std::vector<std::string>{"/fil/storage/mk/1.2.1", "/fil/storage/mk/1.2.0"}));
  EXPECT_EQ(t.bodies.back(), Str(params.Encode(DealProtocolVersion::kV121)));
  // A provider that speaks only 1.2.0 gets the 1.2.0 encoding.
  t.supported.erase("/fil/storage/mk/1.2.1");
  ASSERT_TRUE(client.Propose(Libp2p(), params).has_value());
  EXPECT_EQ(t.bodies.back(), Str(params.Encode(DealProtocolVersion::kV120)));
  EXPECT_NE(t.bodies.back(), Str(params.Encode(DealProtocolVersion::kV121)));
  // …unless the proposal needs a 1.2.1 field: then 1.2.1 only, and NotSupported.
  params.skip_ipni_announce = true;
  auto only121 = client.Propose(Libp2p(), params);
  EXPECT_EQ(t.protocols, std::vector<std::string>{"/fil/storage/mk/1.2.1"});
  ASSERT_FALSE(only121.has_value());
  EXPECT_EQ(only121.error().code(), ErrorCode::kNotSupported);
  EXPECT_NE(only121.error().message().find(kPeer), std::string::npos);
}

TEST(Mk12Client, Libp2pAnswersAreDecodedStrictlyAndSilenceIsAnError) {
  FakeTransport t;
  Mk12Client client(t);
  // Closed without an answer (Boost's reply to a request it cannot decode).
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> { return Mk12HttpReply{200, ""}; };
  auto silent = client.Propose(Libp2p(), MakeParams());
  ASSERT_FALSE(silent.has_value());
  EXPECT_EQ(silent.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(silent.error().message().find("without an answer"), std::string::npos);
  EXPECT_FALSE(client.Ask(Libp2p(), *Address::Id(1000)).has_value()) << "not 'no ask'";
  // Trailing bytes after the DealResponse.
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, Str(DealResponse{true, ""}.Encode()) + "x"};
  };
  auto trailing = client.Propose(Libp2p(), MakeParams());
  ASSERT_FALSE(trailing.has_value());
  EXPECT_EQ(trailing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(trailing.error().message().find("/fil/storage/mk/1.2.1"), std::string::npos)
      << trailing.error().message();
  // Status over the status protocol, with the UUID check.
  DealUuid uuid{};
  uuid[3] = 4;
  t.answer = [&](const std::string& body) -> Result<Mk12HttpReply> {
    EXPECT_TRUE(DealStatusRequest::Decode(AsBytes(body)).has_value());
    DealStatusResponse resp;
    resp.deal_uuid = uuid;
    resp.error = "no storage deal found";
    return Mk12HttpReply{200, Str(resp.Encode())};
  };
  auto st = client.Status(Libp2p(), DealStatusRequest::Sign(uuid, TestKey()));
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  EXPECT_EQ(t.protocols, std::vector<std::string>{"/fil/storage/status/1.2.0"});
  DealUuid other = uuid;
  other[0] = 1;
  EXPECT_EQ(client.Status(Libp2p(), DealStatusRequest::Sign(other, TestKey())).error().code(),
            ErrorCode::kInvalidArgument);
  // Transport errors keep their code and gain the endpoint.
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Err(ErrorCode::kTimeout, "deadline");
  };
  auto late = client.Status(Libp2p(), DealStatusRequest::Sign(uuid, TestKey()));
  EXPECT_EQ(late.error().code(), ErrorCode::kTimeout);
  EXPECT_NE(late.error().message().find("libp2p /p2p/"), std::string::npos);
}

TEST(Mk12Client, Libp2pAskIsTheMinersOwn) {
  FakeTransport t;
  Mk12Client client(t);
  Address miner = *Address::Id(1001);
  StorageAsk ask;
  ask.price = BigInt::FromUint(7);
  ask.min_piece_size = 256;
  ask.max_piece_size = 1 << 20;
  ask.miner = miner;
  AskResponse resp{ask, Signature::Secp256k1(Bytes(65, 1))};
  t.answer = [&](const std::string& body) -> Result<Mk12HttpReply> {
    EXPECT_EQ(*DecodeAskRequest(AsBytes(body)), miner);
    return Mk12HttpReply{200, Str(resp.Encode())};
  };
  auto got = client.Ask(Libp2p(), miner);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->price, BigInt::FromUint(7));
  EXPECT_EQ(t.protocols, std::vector<std::string>{"/fil/storage/ask/1.1.0"});
  resp.ask.reset();
  got = client.Ask(Libp2p(), miner);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value()) << "{Ask: null} is no ask";
}

TEST(Mk12Client, TransportsAreAskedOverLibp2pWithNoRequestAndGiveTheHttpUrl) {
  FakeTransport t;
  Mk12Client client(t);
  TransportsResponse resp;
  resp.protocols = {{"libp2p", {MaBytes("/ip4/127.0.0.1/tcp/4001")}},
                    {"bitswap", {}},
                    {"http", {Bytes{0xff}, MaBytes("/ip4/127.0.0.1/tcp/7777/http")}}};
  t.answer = [&](const std::string& body) -> Result<Mk12HttpReply> {
    EXPECT_EQ(body, "") << "the query has no request";
    return Mk12HttpReply{200, Str(resp.Encode())};
  };
  auto got = client.Transports(Libp2p());
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, resp);
  EXPECT_EQ(t.protocols, std::vector<std::string>{"/fil/retrieval/transports/1.0.0"});
  EXPECT_EQ(HttpRetrievalUrlOf(*got), "http://127.0.0.1:7777") << "unparsable address skipped";

  // An https booster-http behind a domain; a provider with libp2p only has no URL.
  TransportsResponse https{{{"https", {MaBytes("/dns/sp.example.com/tcp/443/https")}}}};
  EXPECT_EQ(HttpRetrievalUrlOf(https), "https://sp.example.com:443");
  TransportsResponse libp2p_only{{{"libp2p", {MaBytes("/ip4/1.2.3.4/tcp/80/http")}}}};
  EXPECT_EQ(HttpRetrievalUrlOf(libp2p_only), std::nullopt) << "only http/https transports count";

  // Over HTTP the query does not exist; silence and garbage are errors.
  EXPECT_EQ(client.Transports(Http()).error().code(), ErrorCode::kNotSupported);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> { return Mk12HttpReply{200, ""}; };
  EXPECT_EQ(client.Transports(Libp2p()).error().code(), ErrorCode::kInvalidArgument);
  t.answer = [](const std::string&) -> Result<Mk12HttpReply> {
    return Mk12HttpReply{200, "\xa1\x69Protocols\x05"};
  };
  auto bad = client.Transports(Libp2p());
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("TransportsResponse.Protocols"), std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace cairn::filecoin::deals
