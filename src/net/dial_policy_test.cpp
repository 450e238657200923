#include "net/dial_policy.hpp"

#include <gtest/gtest.h>

namespace cairn::net {
namespace {

constexpr const char* kPeer = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

Result<TcpTarget> Check(const std::string& text, bool allow_private) {
  auto ma = Multiaddr::Parse(text);
  EXPECT_TRUE(ma) << text;
  return CheckDialable(*ma, DialPolicy{allow_private});
}

TEST(DialPolicy, DialsPublicTcpAddressesWithTheirPeer) {
  auto t = Check(std::string("/ip4/8.8.8.8/tcp/4001/p2p/") + kPeer, false);
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->ip, "8.8.8.8");
  EXPECT_EQ(t->port, 4001);
  EXPECT_EQ(t->peer->ToString(), kPeer);
  EXPECT_TRUE(Check("/ip6/2001:db8::1/tcp/1", false));
}

TEST(DialPolicy, SkipsKubosOtherTransportsWithoutError) {
  for (std::string text :
       {"/ip4/1.2.3.4/udp/4001/quic-v1", "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport",
        "/ip4/1.2.3.4/udp/4001/webrtc-direct", "/ip4/1.2.3.4/tcp/4002/ws",
        "/dns4/example.com/tcp/4001"}) {
    auto t = Check(text + "/p2p/" + kPeer, false);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().code(), ErrorCode::kNotSupported) << text;
    EXPECT_NE(t.error().message().find("skipped"), std::string::npos);
  }
}

TEST(DialPolicy, PrivateRangesNeedAllowPrivate) {
  for (std::string ip : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                         "169.254.1.1", "100.64.0.1", "0.0.0.0"}) {
    auto t = Check("/ip4/" + ip + "/tcp/4001", false);
    ASSERT_FALSE(t) << ip;
    EXPECT_EQ(t.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(t.error().message().find("libp2p.allow_private"), std::string::npos);
    if (ip != "0.0.0.0") {
      EXPECT_TRUE(Check("/ip4/" + ip + "/tcp/4001", true)) << ip;
    }
  }
  for (std::string ip : {"::1", "fd00::1", "fe80::1", "::ffff:192.168.0.1"}) {
    EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
  }
  for (std::string ip : {"172.32.0.1", "100.128.0.1", "1.1.1.1", "2606:4700::1111"}) {
    EXPECT_FALSE(IsPrivateAddress(ip)) << ip;
  }
}

TEST(DialPolicy, RejectsAddressesWithoutTcp) {
  auto t = Check("/ip4/1.2.3.4", true);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Check(std::string("/p2p/") + kPeer, true));
}

IpPrefix Prefix(const std::string& text) {
  auto p = ParseIpPrefix(text);
  EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().message());
  return p ? *p : IpPrefix{};
}

TEST(DialPolicy, IpPrefixesParseInCidrAndKuboForms) {
  EXPECT_EQ(Prefix("10.0.0.0/8"), Prefix("/ip4/10.0.0.0/ipcidr/8"));
  EXPECT_EQ(Prefix("10.0.0.0/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Prefix("/ip6/fc00::/ipcidr/7").ToString(), "fc00::/7");
  EXPECT_EQ(Prefix("203.0.113.7").ToString(), "203.0.113.7/32");
  EXPECT_EQ(Prefix("/ip6/2001:db8::1").ToString(), "2001:db8::1/128");
  EXPECT_EQ(Prefix("0.0.0.0/0").bits, 0);
  for (std::string bad : {"", "10.0.0.0/33", "fc00::/129", "10.0.0.1/8", "10.0.0.0/", "10.0.0/8",
                          "example.com/8", "/ip4/10.0.0.0/tcp/8", "/ip4/10.0.0.0/ipcidr",
                          "/dns4/x/ipcidr/8", "10.0.0.0/-1", "10.0.0.0/8/9"}) {
    auto p = ParseIpPrefix(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.error().message().find("is not an IP prefix"), std::string::npos) << bad;
  }
  const auto ten = Prefix("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains("10.255.0.1"));
  EXPECT_TRUE(ten.Contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(ten.Contains("11.0.0.1"));
  EXPECT_FALSE(ten.Contains("::1"));
  EXPECT_FALSE(ten.Contains("not an ip"));
  const auto odd = Prefix("172.16.0.0/12");
  EXPECT_TRUE(odd.Contains("172.31.255.255"));
  EXPECT_FALSE(odd.Contains("172.32.0.0"));
  const auto v6 = Prefix("2001:db8::/33");
  EXPECT_TRUE(v6.Contains("2001:db8:7fff::1"));
  EXPECT_FALSE(v6.Contains("2001:db8:8000::1"));
  EXPECT_TRUE(Prefix("0.0.0.0/0").Contains("8.8.8.8"));
  EXPECT_FALSE(Prefix("0.0.0.0/0").Contains("2606:4700::1111"));
}

TEST(DialPolicy, DenyThenAllowThenPrivate) {
  auto check = [](const std::string& ip, const DialPolicy& policy) {
    auto t = CheckDialable(*Multiaddr::Parse("/ip4/" + ip + "/tcp/4001"), policy);
    return t ? std::string() : t.error().message();
  };
  DialPolicy deny;
  deny.allow_private = true;
  deny.deny = {Prefix("192.168.0.0/16"), Prefix("/ip4/203.0.113.0/ipcidr/24")};
  EXPECT_EQ(check("192.168.1.1", deny),
            "refused /ip4/192.168.1.1/tcp/4001: in libp2p.dial_deny (192.168.0.0/16)");
  EXPECT_EQ(check("203.0.113.9", deny),
            "refused /ip4/203.0.113.9/tcp/4001: in libp2p.dial_deny (203.0.113.0/24)");
  EXPECT_EQ(check("10.0.0.1", deny), "");
  EXPECT_EQ(check("8.8.8.8", deny), "");

  DialPolicy allow;
  allow.allow = {Prefix("8.8.0.0/16"), Prefix("10.20.0.0/16")};
  allow.deny = {Prefix("8.8.4.4")};
  EXPECT_EQ(check("8.8.8.8", allow), "");
  EXPECT_EQ(check("1.1.1.1", allow), "refused /ip4/1.1.1.1/tcp/4001: not in libp2p.dial_allow");
  // The deny list wins over the allow list.
  EXPECT_EQ(check("8.8.4.4", allow),
            "refused /ip4/8.8.4.4/tcp/4001: in libp2p.dial_deny (8.8.4.4/32)");
  // An allowed private prefix is dialed without allow_private; other private ranges are not.
  EXPECT_EQ(check("10.20.3.4", allow), "");
  DialPolicy lan;
  lan.allow = {Prefix("10.20.0.0/16"), Prefix("0.0.0.0/0")};
  EXPECT_EQ(check("10.20.3.4", lan), "");
  EXPECT_NE(check("10.30.0.1", lan).find("set libp2p.allow_private = true"), std::string::npos);
  EXPECT_EQ(check("9.9.9.9", lan), "");
  // An IPv4-mapped IPv6 address is its IPv4 address for the lists.
  auto mapped = CheckDialable(*Multiaddr::Parse("/ip6/::ffff:8.8.4.4/tcp/1"), allow);
  ASSERT_FALSE(mapped);
  EXPECT_NE(mapped.error().message().find("libp2p.dial_deny"), std::string::npos);
}

}  // namespace
}  // namespace cairn::net
