#include "dht/message.hpp"

#include <gtest/gtest.h>

#include "dht/key.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::dht {
namespace {

Bytes Hex(std::string_view hex) { return *HexDecode(hex); }

// Vectors from js @libp2p/kad-dht 16.4.5's own protons codec (message/dht.js), encoded with
// tests/interop's package: an identity-multihash peer id (Ed25519 key of 32 × 0x07), a sha2-256
// multihash key (32 × 0xab), the address /ip4/127.0.0.1/tcp/4001.
const Bytes kPeerId = [] {
  Bytes b = *HexDecode("002408011220");
  b.resize(38, 0x07);
  return b;
}();
const Bytes kKey = [] {
  Bytes b{0x12, 0x20};
  b.resize(34, 0xab);
  return b;
}();
const Bytes kAddr = Hex("047f000001060fa1");

constexpr std::string_view kJsFindNode =
    "080412260024080112200707070707070707070707070707070707070707070707070707070707070707";
constexpr std::string_view kJsGetProvidersAnswer =
    "0803500012221220abababababababababababababababababababababababababababababababab4232"
    "0a26002408011220070707070707070707070707070707070707070707070707070707070707070712"
    "08047f000001060fa14a3e0a260024080112200707070707070707070707070707070707070707070707"
    "0707070707070707071208047f000001060fa11208047f000001060fa11801";

TEST(KadMessage, DecodesJsFindNode) {
  auto m = DecodeMessage(Hex(kJsFindNode));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->type, MessageType::kFindNode);
  EXPECT_EQ(m->key, kPeerId);
  EXPECT_TRUE(m->closer_peers.empty());
  EXPECT_EQ(HexEncode(EncodeMessage(*m)), kJsFindNode);  // the same bytes as js
}

TEST(KadMessage, DecodesJsGetProvidersAnswer) {
  auto m = DecodeMessage(Hex(kJsGetProvidersAnswer));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->type, MessageType::kGetProviders);
  EXPECT_EQ(m->key, kKey);
  EXPECT_EQ(m->cluster_level, 0);
  ASSERT_EQ(m->closer_peers.size(), 1u);
  EXPECT_EQ(m->closer_peers[0], (PeerInfo{kPeerId, {kAddr}, ConnectionType::kNotConnected}));
  ASSERT_EQ(m->provider_peers.size(), 1u);
  EXPECT_EQ(m->provider_peers[0], (PeerInfo{kPeerId, {kAddr, kAddr}, ConnectionType::kConnected}));
  // js writes clusterLevel 0 first ("5000"); we leave a zero out, the rest is byte for byte.
  std::string ours = HexEncode(EncodeMessage(*m));
  std::string theirs(kJsGetProvidersAnswer);
  EXPECT_EQ(ours, theirs.substr(0, 4) + theirs.substr(8));
}

TEST(KadMessage, PingIsTypeOnly) {
  Message ping;
  ping.type = MessageType::kPing;
  EXPECT_EQ(HexEncode(EncodeMessage(ping)), "0805");
  // An empty message is PUT_VALUE (the proto default), not an error.
  auto empty = DecodeMessage({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->type, MessageType::kPutValue);
}

TEST(KadMessage, RoundTripsEveryField) {
  Message m;
  m.type = MessageType::kPutValue;
  m.cluster_level = -1;
  m.key = kKey;
  m.record = Record{kKey, Bytes{1, 2, 3}, "2026-12-05T00:00:00Z"};
  m.closer_peers.push_back({kPeerId, {kAddr}, ConnectionType::kCanConnect});
  m.provider_peers.push_back({kPeerId, {}, ConnectionType::kCannotConnect});
  Bytes wire = EncodeMessage(m);
  auto back = DecodeMessage(wire);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, m);
  // A negative int32 is sign-extended to ten bytes, as protobuf writes it.
  EXPECT_NE(HexEncode(wire).find("50ffffffffffffffffff01"), std::string::npos);
}

TEST(KadMessage, SkipsUnknownFields) {
  Bytes wire = Hex(kJsFindNode);
  Bytes extra = Hex("7a03616263");  // field 15, bytes "abc"
  wire.insert(wire.end(), extra.begin(), extra.end());
  auto m = DecodeMessage(wire);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, MessageType::kFindNode);
}

void ExpectRefused(std::string_view hex, std::string_view words,
                   ErrorCode code = ErrorCode::kInvalidArgument) {
  auto m = DecodeMessage(Hex(hex));
  ASSERT_FALSE(m) << hex;
  EXPECT_EQ(m.error().code(), code) << hex;
  EXPECT_NE(m.error().message().find(words), std::string::npos) << m.error().message();
}

TEST(KadMessage, RefusesMalformedInput) {
  ExpectRefused("0806", "unknown message type 6");
  ExpectRefused("08040805", "type repeated");
  ExpectRefused("12021234120100", "key repeated");
  ExpectRefused("4203120101", "peer without an id");  // a closer peer with an address only
  ExpectRefused("42020a00", "peer id is empty");
  ExpectRefused(
      "42050a0101"
      "1804",
      "unknown connection type 4");
  ExpectRefused("0b", "kad message");                      // group wire type
  ExpectRefused("1205aa", "kad message");                  // length past the end
  ExpectRefused("50ffffffff0f", "does not fit an int32");  // 2^32-1 is not sign-extended
  ExpectRefused("0a0100", "type");                         // type as bytes
}

TEST(KadMessage, EnforcesCaps) {
  DecodeLimits limits;
  limits.max_peers = 2;
  limits.max_addrs = 1;
  limits.max_key = 4;
  Bytes peer = Hex("42030a0101");
  Bytes three;
  for (int i = 0; i < 3; ++i) three.insert(three.end(), peer.begin(), peer.end());
  auto m = DecodeMessage(three, limits);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(m.error().message().find("closerPeers"), std::string::npos);
  auto addrs = DecodeMessage(Hex("42090a010112010112010a"), limits);
  ASSERT_FALSE(addrs);
  EXPECT_NE(addrs.error().message().find("addresses of one peer"), std::string::npos);
  auto key = DecodeMessage(Hex("12050102030405"), limits);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("key bytes"), std::string::npos);
  Bytes big(kMaxMessageBytes + 1, 0);
  auto huge = DecodeMessage(big);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), ErrorCode::kResourceExhausted);
}

TEST(KadFrame, SplitsPrefixedMessages) {
  Message ping;
  ping.type = MessageType::kPing;
  Bytes frame = EncodeFrame(ping);
  EXPECT_EQ(HexEncode(frame), "020805");
  Bytes two = frame;
  two.insert(two.end(), frame.begin(), frame.end());
  auto first = SplitFrame(two);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->consumed, 3u);
  EXPECT_EQ(HexEncode((*first)->body), "0805");
  // Incomplete: the prefix or the body not all there yet.
  EXPECT_FALSE(*SplitFrame(Hex("02")));
  EXPECT_FALSE(*SplitFrame(Hex("0208")));
  EXPECT_FALSE(*SplitFrame(Hex("80")));
  // Over the limit: known from the prefix alone.
  auto partial = SplitFrame(Hex("818080"), 1024);  // three continuation bytes: more to come
  ASSERT_TRUE(partial);
  EXPECT_FALSE(*partial);
  auto over = SplitFrame(Hex("8110"), 1024);  // 2049 bytes declared
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kResourceExhausted);
  auto nonminimal = SplitFrame(Hex("8000"));
  ASSERT_FALSE(nonminimal);
  EXPECT_EQ(nonminimal.error().code(), ErrorCode::kInvalidArgument);
}

TEST(KadKey, DistanceAndPrefix) {
  KadId a = KadId::Of(AsBytes("a"));
  KadId b = KadId::Of(AsBytes("b"));
  EXPECT_EQ(CommonPrefixLength(a, a), kKeyBits);
  EXPECT_EQ(Distance(a, a), KadId{});
  EXPECT_EQ(Distance(a, b), Distance(b, a));
  // SHA-256("a") = ca97…, SHA-256("b") = 3e23…: first bits 1100 vs 0011, no common prefix.
  EXPECT_EQ(HexEncode(ByteSpan(a.bytes).first(2)), "ca97");
  EXPECT_EQ(CommonPrefixLength(a, b), 0u);
  EXPECT_TRUE(Closer(a, b, a));
  EXPECT_FALSE(Closer(b, a, a));
}

TEST(KadKey, ProviderKeyIsTheMultihash) {
  namespace mc = multiformats::codec;
  auto v0 = *multiformats::Cid::Compute(0, mc::kDagPb, mc::kSha2_256, AsBytes("x"));
  auto v1 = *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("x"));
  EXPECT_EQ(ProviderKey(v0), ProviderKey(v1));  // one rendezvous for both CIDs
  EXPECT_EQ(ProviderKey(v1), v1.hash().Encode());
}

}  // namespace
}  // namespace cairn::dht
