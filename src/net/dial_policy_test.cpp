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

}  // namespace
}  // namespace cairn::net
