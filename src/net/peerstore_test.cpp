#include "net/peerstore.hpp"

#include <gtest/gtest.h>

#include "net/conn_manager.hpp"

namespace cairn::net {
namespace {

using std::chrono::seconds;

PeerId Peer(uint8_t seed) { return Ed25519Identity::FromSeed(Bytes(32, seed)).peer_id(); }
Multiaddr Addr(const std::string& s) { return *Multiaddr::Parse(s); }

TEST(Peerstore, AddressesExpireAfterTheirTtl) {
  Peerstore ps;
  auto t0 = Peerstore::Clock::time_point{} + seconds(1000);
  ps.AddAddrs(Peer(1), {Addr("/ip4/1.1.1.1/tcp/1")}, seconds(10), t0);
  ps.AddAddrs(Peer(1), {Addr("/ip4/2.2.2.2/tcp/2/p2p/" + Peer(1).ToString())}, seconds(100), t0);
  auto now = ps.Addrs(Peer(1), t0);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0].ToString(), "/ip4/2.2.2.2/tcp/2");  // longest-lived first, /p2p/ dropped
  EXPECT_EQ(ps.Addrs(Peer(1), t0 + seconds(11)).size(), 1u);
  ps.Expire(t0 + seconds(101));
  EXPECT_EQ(ps.size(), 0u);
  EXPECT_TRUE(ps.Addrs(Peer(2), t0).empty());
}

TEST(Peerstore, RefreshKeepsTheLaterExpiryAndBoundsAddresses) {
  Peerstore ps;
  auto t0 = Peerstore::Clock::time_point{} + seconds(1000);
  ps.AddAddrs(Peer(1), {Addr("/ip4/1.1.1.1/tcp/1")}, seconds(100), t0);
  ps.AddAddrs(Peer(1), {Addr("/ip4/1.1.1.1/tcp/1")}, seconds(5), t0);
  EXPECT_EQ(ps.Addrs(Peer(1), t0 + seconds(50)).size(), 1u);
  for (int i = 0; i < 100; ++i) {
    ps.AddAddrs(Peer(1), {Addr("/ip4/3.3.3.3/tcp/" + std::to_string(i + 10))}, seconds(200), t0);
  }
  EXPECT_EQ(ps.Addrs(Peer(1), t0).size(), Peerstore::kMaxAddrsPerPeer);
}

TEST(ConnManager, LimitsSlotsAndBacksOffFailedPeers) {
  ConnLimits limits;
  limits.max_connections = 1;
  limits.max_pending_handshakes = 1;
  limits.backoff_base = std::chrono::milliseconds(1000);
  limits.backoff_max = std::chrono::milliseconds(3000);
  ConnManager cm(limits);
  ASSERT_TRUE(cm.AdmitHandshake());
  auto refused = cm.AdmitHandshake();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kResourceExhausted);
  cm.EndHandshake();
  ASSERT_TRUE(cm.AdmitConnection());
  EXPECT_FALSE(cm.AdmitConnection());
  cm.EndConnection();
  EXPECT_TRUE(cm.AdmitConnection());

  auto t0 = ConnManager::Clock::time_point{} + seconds(100);
  cm.DialFailed(Peer(1), t0);
  EXPECT_FALSE(cm.CheckDial(Peer(1), t0 + std::chrono::milliseconds(999)));
  EXPECT_TRUE(cm.CheckDial(Peer(1), t0 + std::chrono::milliseconds(1000)));
  cm.DialFailed(Peer(1), t0);  // second failure: 2 s
  EXPECT_FALSE(cm.CheckDial(Peer(1), t0 + std::chrono::milliseconds(1999)));
  cm.DialFailed(Peer(1), t0);
  cm.DialFailed(Peer(1), t0);  // capped at 3 s
  EXPECT_TRUE(cm.CheckDial(Peer(1), t0 + seconds(3)));
  EXPECT_TRUE(cm.CheckDial(Peer(2), t0));
  cm.DialSucceeded(Peer(1));
  EXPECT_TRUE(cm.CheckDial(Peer(1), t0));
}

}  // namespace
}  // namespace cairn::net
