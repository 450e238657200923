#include "net/multiaddr.hpp"

#include <gtest/gtest.h>

namespace cairn::net {
namespace {

constexpr const char* kPeer = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

TEST(Multiaddr, RoundTripsTextAndBinary) {
  for (std::string text : {std::string("/ip4/127.0.0.1/tcp/4001/p2p/") + kPeer,
                           std::string("/ip6/::1/udp/4001/quic-v1/p2p/") + kPeer,
                           std::string("/dns4/example.com/tcp/443/tls/http"),
                           std::string("/dns/example.com/tcp/443/https"),
                           std::string("/ip4/1.2.3.4/tcp/80/http/http-path/ipfs%2Fx"),
                           std::string("/unix/tmp/sock")}) {
    auto ma = Multiaddr::Parse(text);
    ASSERT_TRUE(ma) << text << ": " << ma.error().ToString();
    EXPECT_EQ(ma->ToString(), text);
    auto back = Multiaddr::FromBytes(ma->ToBytes());
    ASSERT_TRUE(back) << text << ": " << back.error().ToString();
    EXPECT_EQ(back->ToString(), text);
  }
}

TEST(Multiaddr, KnownBinaryEncoding) {
  // /ip4/127.0.0.1/tcp/4001 = 04 7f000001 06 0fa1 (multiaddr spec examples)
  auto ma = Multiaddr::Parse("/ip4/127.0.0.1/tcp/4001");
  EXPECT_EQ(HexEncode(ma->ToBytes()), "047f000001060fa1");
  EXPECT_EQ(*ma->Value("tcp"), "4001");
  EXPECT_FALSE(ma->Has("p2p"));
}

TEST(Multiaddr, AcceptsTheLegacyIpfsName) {
  auto ma = Multiaddr::Parse(std::string("/ip4/1.2.3.4/tcp/1/ipfs/") + kPeer);
  ASSERT_TRUE(ma);
  EXPECT_EQ(*ma->Value("p2p"), kPeer);
}

TEST(Multiaddr, RejectsBadValuesWithReasons) {
  struct Case {
    std::string text;
    std::string reason;
  } cases[] = {
      {"", "start with"},
      {"ip4/1.2.3.4", "start with"},
      {"/ip4/1.2.3.400", "bad ip4"},
      {"/ip4/1.2.3.4/tcp/70000", "bad tcp port"},
      {"/ip4/1.2.3.4/tcp", "needs a value"},
      {"/ip4/1.2.3.4/bogus/1", "unknown protocol 'bogus'"},
      {"/p2p/notapeer", "bad peer id"},
      {"/http/extra", "unknown protocol 'extra'"},
      {"/ip6/1.2.3.4", "bad ip6"},
  };
  for (const auto& c : cases) {
    auto ma = Multiaddr::Parse(c.text);
    ASSERT_FALSE(ma) << c.text;
    EXPECT_NE(ma.error().message().find(c.reason), std::string::npos)
        << c.text << ": " << ma.error().message();
  }
  EXPECT_FALSE(Multiaddr::FromBytes(Bytes{0x04, 0x7f}));
  EXPECT_FALSE(Multiaddr::FromBytes(Bytes{0xff, 0xff, 0x03}));
  EXPECT_FALSE(Multiaddr::FromBytes(Bytes{}));
}

}  // namespace
}  // namespace cairn::net

namespace cairn::net {
namespace {

// Found by fuzz/multiaddr_fuzz: a NUL inside a value was cut by inet_pton but kept in the text.
TEST(Multiaddr, RejectsControlCharactersInValues) {
  EXPECT_FALSE(Multiaddr::Parse(std::string("/ip4/127.0.0.1\0\0", 16)));
  EXPECT_FALSE(Multiaddr::Parse("/dns4/a\nb/tcp/1"));
}

}  // namespace
}  // namespace cairn::net

namespace cairn::net {
namespace {

// Found by fuzz/multiaddr_fuzz: text must be canonical so text → binary → text is stable.
TEST(Multiaddr, TextWhoseCanonicalFormIsTooLongIsRefusedSoEveryParseRoundTrips) {
  // A certhash written in base58btc ("z2": the byte 0x01) is canonically base64url ("uAQ"), one
  // character longer: 85 of them fit in 1024 characters as written and not as canonical text.
  // Found by fuzz/multiaddr_fuzz.cpp (text → binary → text must be stable).
  std::string text;
  while (text.size() + 12 <= 1024) text += "/certhash/z2";
  auto long_form = Multiaddr::Parse(text);
  ASSERT_FALSE(long_form);
  EXPECT_NE(long_form.error().message().find("longer than 1024 characters as text"),
            std::string::npos)
      << long_form.error().message();
  auto small = Multiaddr::Parse("/certhash/z2/certhash/z2");
  ASSERT_TRUE(small) << small.error().message();
  EXPECT_EQ(small->ToString(), "/certhash/uAQ/certhash/uAQ");
  auto again = Multiaddr::FromBytes(small->ToBytes());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->ToString(), small->ToString());
}

TEST(Multiaddr, WritesCanonicalText) {
  EXPECT_EQ(Multiaddr::Parse("/ip4/1.2.3.4/tcp/00080")->ToString(), "/ip4/1.2.3.4/tcp/80");
  EXPECT_EQ(Multiaddr::Parse("/ip6/0:0:0:0:0:0:0:1/tcp/1")->ToString(), "/ip6/::1/tcp/1");
  EXPECT_FALSE(Multiaddr::FromBytes(*HexDecode("3506060606fbfc06")));  // control bytes in a name
}

}  // namespace
}  // namespace cairn::net
