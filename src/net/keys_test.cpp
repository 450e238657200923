#include "net/keys.hpp"

#include <gtest/gtest.h>

namespace cairn::net {
namespace {

// Known answers: the peer-ids spec's test vectors and keys/signatures made by js-libp2p
// (@libp2p/crypto 5.1.23: generateKeyPair, sign, peerIdFromPublicKey).
constexpr const char* kMessage = "noise-libp2p-static-key:cairn";
constexpr const char* kSecpKey =
    "0802122102693ab179659c505b88979b59993021856c316368e9de3f4ed81e910e057ad6b2";
constexpr const char* kSecpSig =
    "304402205a2f0022254f8d0b6c6d729d9a23df69214d82d732b1ee0e4fd020d8ed06a467022045c29062e43a269d83"
    "1e7007bc7a521ecf515e3c84d8e1861f343fa96747002c";
constexpr const char* kSecpPeer = "16Uiu2HAm2WShNZcWFYFyVSnqyDP3vkczcNtmon3nCMBpDmwz6oEq";
constexpr const char* kRsaKey =
    "080012a60230820122300d06092a864886f70d01010105000382010f003082010a0282010100d43909b109dec15944"
    "edc0a80f1467b7a52c473b947c928273a1b7640cf9d1277150570acc8b66a27ad4d445072e4fc792f5eac9255f9cf3"
    "e4eb4d8d5e8e48e1156b68cb8bad31f4ea719f11dbd0c2f79595245f8c1f6064a0676e1df6bb5a403da3c0f3872b2b"
    "8f04f5a7684b6cfb79318ca62550fd50c19f2a8cd803da52ba00d2df1fd781d7cb7652634985c72056c45debd96454"
    "0c21c1fc04c6e991134b7277bd27fbd9b41d6e4124de24f6e16048d4ed80f0039fa6781520741b98620df8a86f9602"
    "19fe551ad34dfe7b97abc676c6a77fc35ce6b56d02660e011dc327e13e1b1f77bac1bf71d22a6ed727c4ff4dbaf6a7"
    "49c64c6ea04e8e8de605b3710203010001";
constexpr const char* kRsaSig =
    "b0a3ced5e0322674ff435a1347b929eb292aefdbdcb532b4d06a6dfd713e82a247ed83a25404946293e5e5ba6dd264"
    "ef26665a9562457e863a4bb05ec0f3c78aa00e0aa61b0a034b3baee1ca5f555b3be036f320d45e2a0ce4db2ffef109"
    "b7b2aee8d5fb0ed3e3f1ed5745bd15d84194e89c9708737b3e53e6730d0d08450e617724dcf2a09f5d955c0815f665"
    "7920a309fbc08f642b0fe1588d5113c23f9d0e56680c1ff1970843d5f7df0bd18dcc6364fe636898044133e203c6c9"
    "9eb2221589a8c1186499d4d2e4a853a5f9bbbf3b59e91bbc06421159097d7188a1a7adb21efb6a471ab2a3b812769c"
    "0344b675e605de70bb15f1eb8aafda428a8cb40c33";
constexpr const char* kRsaPeer = "Qmdpdow2BLjEJgn5zVfvtrhPtHbo9LfYxNdfbzLay4wKYn";
constexpr const char* kSpecRsaKey =
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200bde"
    "24eef00d049449b07770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae98800"
    "89704a94e5066d594162ae6ee8892e6ec70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c"
    "309bc0ab3aeb1873282bebd3da03c33e76c21e9beb172fd44c9e43be32e2c99827033cf8d0f0c606f4579326c930eb"
    "4e854395ad941256542c793902185153c474bed109d6ff5141ebf9cd256cf58893a37f83729f97e7cb435ec679d2e3"
    "3901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487047a9ecb1ad41fa7ed84f6e3e8ecd5d98b3982d2a901"
    "b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef38111b1bd87da2ae92438a2c8cbcc70b31ee3"
    "19939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbddebf90acb32adb5e4e4029f1c"
    "96019949ecfbfeffd7ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39f7fa4b93411f4cc175"
    "e70c0a083e96bfaefb04a9580b4753c1738a6a760ae1afd851a1a4bdad231cf56e9284d832483df215a46c1c21bdf0"
    "c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc90ad317e4875fe648101b0864097e998f0ca3025ef9638cd2b"
    "0caecd3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd475224269bbe1b0203010001";

PublicKey Parse(const char* hex) {
  auto key = PublicKey::FromProto(*HexDecode(hex));
  EXPECT_TRUE(key) << key.error().ToString();
  return *key;
}

TEST(PublicKey, PeerIdsOfEveryKeyTypeMatchJsLibp2p) {
  EXPECT_EQ(Parse("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
                .peer_id()
                .ToString(),
            "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  EXPECT_EQ(Parse("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")
                .peer_id()
                .ToString(),
            "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY");
  EXPECT_EQ(Parse(kSpecRsaKey).peer_id().ToString(),
            "QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG");
  EXPECT_EQ(Parse(kSecpKey).peer_id().ToString(), kSecpPeer);
  EXPECT_EQ(Parse(kRsaKey).peer_id().ToString(), kRsaPeer);
  // And the printed forms parse back to the same ID.
  for (const char* text : {kSecpPeer, kRsaPeer}) {
    auto id = PeerId::Parse(text);
    ASSERT_TRUE(id) << text;
    EXPECT_EQ(id->ToString(), text);
  }
}

TEST(PublicKey, VerifiesSecp256k1AndRsaSignaturesFromJsLibp2p) {
  Bytes sig = *HexDecode(kSecpSig);
  EXPECT_TRUE(Parse(kSecpKey).Verify(AsBytes(kMessage), sig));
  EXPECT_FALSE(Parse(kSecpKey).Verify(AsBytes("other message"), sig));
  sig[10] ^= 1;
  EXPECT_FALSE(Parse(kSecpKey).Verify(AsBytes(kMessage), sig));

  Bytes rsa_sig = *HexDecode(kRsaSig);
  EXPECT_TRUE(Parse(kRsaKey).Verify(AsBytes(kMessage), rsa_sig));
  EXPECT_FALSE(Parse(kSpecRsaKey).Verify(AsBytes(kMessage), rsa_sig));  // another key
  rsa_sig.back() ^= 1;
  EXPECT_FALSE(Parse(kRsaKey).Verify(AsBytes(kMessage), rsa_sig));
}

TEST(PublicKey, VerifiesEd25519AndRoundTripsTheProto) {
  auto id = Ed25519Identity::FromSeed(Bytes(32, 7));
  auto key = PublicKey::FromProto(id.PublicKeyProto());
  ASSERT_TRUE(key);
  EXPECT_EQ(key->ToProto(), id.PublicKeyProto());
  EXPECT_EQ(key->peer_id(), id.peer_id());
  auto sig = id.Sign(AsBytes(kMessage));
  EXPECT_TRUE(key->Verify(AsBytes(kMessage), sig));
  EXPECT_FALSE(key->Verify(AsBytes(kMessage), ByteSpan(sig).first(63)));
}

TEST(PublicKey, RejectsMalformedKeysNamingTheProblem) {
  struct Case {
    const char* hex;
    const char* reason;
  } cases[] = {
      {"0801", "Type and Data"},
      {"08011203010203", "Ed25519 key must be 32 bytes"},
      {"0809120100", "unknown key type 9"},
      {"080212210477", "exceeds"},
      {"0802122104"
       "7777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99",
       "compressed point"},
  };
  for (const auto& c : cases) {
    auto key = PublicKey::FromProto(*HexDecode(c.hex));
    ASSERT_FALSE(key) << c.hex;
    EXPECT_NE(key.error().message().find(c.reason), std::string::npos) << key.error().message();
  }
  // An RSA key whose data is not a PKIX key parses but never verifies.
  auto junk = PublicKey::FromProto(*HexDecode("080012030102ff"));
  ASSERT_TRUE(junk);
  EXPECT_FALSE(junk->Verify(AsBytes(kMessage), Bytes(256, 1)));
}

}  // namespace
}  // namespace cairn::net
