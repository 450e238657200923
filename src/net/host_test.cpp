#include "net/host.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <map>
#include <random>

#include "net/multistream.hpp"

namespace cairn::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kEcho = "/cairn-test/echo/1.0.0";

// Runs `aw` on `io` (one thread: this one) until it completes, or fails the test after 20 s.
template <typename T>
T Await(asio::io_context& io, awaitable<T> aw) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result.emplace(std::move(value));
  });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  if (!result) throw std::runtime_error("coroutine did not finish in 20 s");
  return std::move(*result);
}

// Lets the io_context work for `d` (identify exchanges, closes).
void Spin(asio::io_context& io, std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) io.run_one_for(10ms);
}

awaitable<void> EchoHandler(std::shared_ptr<Stream> s) {
  std::vector<uint8_t> buf(8192);
  for (;;) {
    auto n = co_await s->ReadSome(buf);
    if (!n || *n == 0) break;
    auto w = co_await s->Write(ByteSpan(buf).first(*n));
    if (!w) co_return;
  }
  s->CloseWrite();
}

struct Node {
  Ed25519Identity id;
  std::unique_ptr<Host> host;
};

Node MakeNode(asio::io_context& io, uint8_t seed, HostOptions options = {}) {
  Node n{Ed25519Identity::FromSeed(Bytes(32, seed)), nullptr};
  if (options.listen.empty()) options.listen = {*Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
  options.dial.allow_private = true;
  options.agent_version = "cairn/test";
  auto h = Host::Create(io, n.id, std::move(options));
  EXPECT_TRUE(h) << h.error().ToString();
  n.host = std::move(*h);
  n.host->SetStreamHandler(kEcho, EchoHandler);
  return n;
}

awaitable<Result<Bytes>> EchoRoundTrip(Host& host, PeerId peer, Bytes data) {
  std::vector<std::string> protocols{kEcho};
  auto s = co_await host.NewStream(peer, std::move(protocols));
  if (!s) co_return Err(s.error());
  // Write and read concurrently: the payload is larger than the windows.
  auto writer = [](std::shared_ptr<Stream> st, Bytes d) -> awaitable<void> {
    auto w = co_await st->Write(d);
    if (w) st->CloseWrite();
  };
  asio::co_spawn(host.executor(), writer(*s, data), asio::detached);
  Bytes back;
  std::vector<uint8_t> buf(16384);
  for (;;) {
    auto n = co_await (*s)->ReadSome(buf);
    if (!n) co_return Err(n.error());
    if (*n == 0) break;
    back.insert(back.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*n));
  }
  co_return back;
}

TEST(Host, ListensOnPortZeroAndReportsTheBoundPort) {
  asio::io_context io;
  auto a = MakeNode(io, 1);
  auto addrs = a.host->ListenAddrs();
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(*addrs[0].Value("ip4"), "127.0.0.1");
  EXPECT_NE(*addrs[0].Value("tcp"), "0");
  EXPECT_EQ(a.host->Addrs()[0].ToString(), addrs[0].ToString());
}

TEST(Host, ConnectsIdentifiesAndPings) {
  asio::io_context io;
  auto a = MakeNode(io, 1), b = MakeNode(io, 2);
  std::vector<std::pair<std::string, PeerEvent>> events;
  a.host->AddPeerListener(
      [&](const PeerId& p, PeerEvent e) { events.emplace_back(p.ToString(), e); });
  auto c = Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs()));
  ASSERT_TRUE(c) << c.error().ToString();
  auto rtt = Await(io, b.host->Ping(a.id.peer_id()));
  ASSERT_TRUE(rtt) << rtt.error().ToString();
  Spin(io, 200ms);
  // Identify ran both ways.
  auto protocols = b.host->peerstore().Protocols(a.id.peer_id());
  EXPECT_NE(std::find(protocols.begin(), protocols.end(), "/ipfs/ping/1.0.0"), protocols.end());
  EXPECT_NE(std::find(protocols.begin(), protocols.end(), kEcho), protocols.end());
  EXPECT_EQ(b.host->peerstore().Agent(a.id.peer_id()), "cairn/test");
  EXPECT_EQ(a.host->peerstore().Agent(b.id.peer_id()), "cairn/test");
  EXPECT_FALSE(a.host->peerstore().Addrs(b.id.peer_id(), Peerstore::Clock::now()).empty());
  EXPECT_TRUE(a.host->IsConnected(b.id.peer_id()));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, b.id.peer_id().ToString());

  b.host->Disconnect(a.id.peer_id());
  Spin(io, 200ms);
  EXPECT_FALSE(a.host->IsConnected(b.id.peer_id()));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].second, PeerEvent::kDisconnected);
}

TEST(Host, EchoesManyConcurrentStreamsLargerThanTheWindow) {
  asio::io_context io;
  auto a = MakeNode(io, 1), b = MakeNode(io, 2);
  ASSERT_TRUE(Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs())));
  constexpr int kStreams = 40;
  std::vector<Bytes> payloads(kStreams);
  std::mt19937 rng(7);
  for (auto& p : payloads) {
    p.resize(300 * 1024 + rng() % 1000);
    for (auto& byte : p) byte = static_cast<uint8_t>(rng());
  }
  int done = 0, good = 0;
  for (int i = 0; i < kStreams; ++i) {
    asio::co_spawn(io, EchoRoundTrip(*b.host, a.id.peer_id(), payloads[i]),
                   [&, i](std::exception_ptr e, Result<Bytes> r) {
                     ++done;
                     if (!e && r && *r == payloads[i]) ++good;
                     if (!e && !r) ADD_FAILURE() << r.error().ToString();
                   });
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (done < kStreams && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  EXPECT_EQ(good, kStreams);
}

TEST(Host, OneStreamEchoesEightMegabytesIntact) {
  // Whole Noise messages, reads that end mid-message, windows that grow while the data flows.
  asio::io_context io;
  auto a = MakeNode(io, 1), b = MakeNode(io, 2);
  ASSERT_TRUE(Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs())));
  Bytes payload(8 << 20);
  std::mt19937 rng(11);
  for (auto& byte : payload) byte = static_cast<uint8_t>(rng());
  auto back = Await(io, EchoRoundTrip(*b.host, a.id.peer_id(), payload));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_TRUE(*back == payload);
}

TEST(Host, UnknownProtocolIsNotSupportedAndTheConnectionLives) {
  asio::io_context io;
  auto a = MakeNode(io, 1), b = MakeNode(io, 2);
  auto s = Await(io, b.host->NewStream(a.id.peer_id(), {"/nope/1.0.0"}));
  ASSERT_FALSE(s);  // no address known yet: nothing to dial
  ASSERT_TRUE(Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs())));
  s = Await(io, b.host->NewStream(a.id.peer_id(), {"/nope/1.0.0", "/nope/2.0.0"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kNotSupported) << s.error().ToString();
  EXPECT_TRUE(Await(io, b.host->Ping(a.id.peer_id())));
}

TEST(Host, DialingTheWrongPeerIdFailsTheHandshake) {
  asio::io_context io;
  auto a = MakeNode(io, 1), b = MakeNode(io, 2);
  PeerId other = Ed25519Identity::FromSeed(Bytes(32, 9)).peer_id();
  auto c = Await(io, b.host->Connect(other, a.host->ListenAddrs()));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("expected"), std::string::npos) << c.error().message();
  // And the failure backs off the next dial.
  auto again = Await(io, b.host->Connect(other, a.host->ListenAddrs()));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("next dial in"), std::string::npos);
}

TEST(Host, RefusesPrivateAddressesUnlessAllowed) {
  asio::io_context io;
  auto a = MakeNode(io, 1);
  Ed25519Identity bid = Ed25519Identity::FromSeed(Bytes(32, 2));
  HostOptions strict;
  strict.dial.allow_private = false;
  auto b = Host::Create(io, bid, strict);
  ASSERT_TRUE(b);
  Multiaddr addr = a.host->ListenAddrs()[0];
  ASSERT_TRUE(addr.Append("p2p", a.id.peer_id().ToString()));
  auto c = Await(io, (*b)->ConnectAddr(addr));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(c.error().message().find("libp2p.allow_private"), std::string::npos);
}

TEST(Host, DialListsRefuseBeforeAnyConnectionAndAllowWhatTheyName) {
  asio::io_context io;
  auto a = MakeNode(io, 1);
  Multiaddr addr = a.host->ListenAddrs()[0];
  ASSERT_TRUE(addr.Append("p2p", a.id.peer_id().ToString()));
  // Denied although private addresses are allowed: refused without a connection.
  HostOptions deny;
  deny.dial.allow_private = true;
  deny.dial.deny = {*ParseIpPrefix("127.0.0.0/8")};
  auto b = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 2)), deny);
  ASSERT_TRUE(b);
  auto refused = Await(io, (*b)->ConnectAddr(addr));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("libp2p.dial_deny (127.0.0.0/8)"), std::string::npos)
      << refused.error().message();
  EXPECT_TRUE(a.host->ConnectedPeers().empty());
  // Loopback named by an allow prefix is dialed with allow_private off.
  HostOptions allow;
  allow.dial.allow = {*ParseIpPrefix("/ip4/127.0.0.1/ipcidr/32")};
  auto c = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 3)), allow);
  ASSERT_TRUE(c);
  auto connected = Await(io, (*c)->ConnectAddr(addr));
  EXPECT_TRUE(connected) << connected.error().message();
}

// Answers /dnsaddr lookups from a map (the system resolver is used for /dns4/localhost).
class MapResolver : public DnsResolver {
 public:
  Result<std::vector<std::string>> Addresses(const std::string& name, int family) override {
    return SystemDnsResolver()->Addresses(name, family);
  }
  Result<std::vector<std::string>> Txt(const std::string& name) override {
    auto it = txt.find(name);
    if (it == txt.end()) return Err(ErrorCode::kNotFound, "dns: no TXT record at " + name);
    return it->second;
  }
  std::map<std::string, std::vector<std::string>> txt;
};

TEST(Host, DialsDnsMultiaddrsThroughTheResolverAndTheDialPolicy) {
  asio::io_context io;
  auto a = MakeNode(io, 1);
  const std::string port = *a.host->ListenAddrs()[0].Value("tcp");
  const std::string peer = a.id.peer_id().ToString();
  auto resolver = std::make_shared<MapResolver>();
  resolver->txt["_dnsaddr.peers.test"] = {"dnsaddr=/dns4/localhost/tcp/" + port + "/p2p/" + peer};
  HostOptions options;
  options.dial.allow_private = true;
  options.dns = resolver;
  auto b = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 2)), options);
  ASSERT_TRUE(b);
  auto via_dns4 = Await(
      io, (*b)->ConnectAddr(*Multiaddr::Parse("/dns4/localhost/tcp/" + port + "/p2p/" + peer)));
  EXPECT_TRUE(via_dns4) << via_dns4.error().message();
  (*b)->Stop();

  // /dnsaddr → /dns4 → /ip4: a fresh host dials it.
  auto c = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 3)), options);
  ASSERT_TRUE(c);
  auto via_dnsaddr =
      Await(io, (*c)->ConnectAddr(*Multiaddr::Parse("/dnsaddr/peers.test/p2p/" + peer)));
  EXPECT_TRUE(via_dnsaddr) << via_dnsaddr.error().message();

  // A name that resolves to loopback is refused like loopback itself.
  HostOptions strict;
  strict.dns = resolver;
  auto d = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 4)), strict);
  ASSERT_TRUE(d);
  auto refused = Await(io, (*d)->ConnectAddr(*Multiaddr::Parse("/dnsaddr/peers.test/p2p/" + peer)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("libp2p.allow_private"), std::string::npos)
      << refused.error().message();
  // Without a resolver DNS addresses are skipped, as before.
  auto e = Host::Create(io, Ed25519Identity::FromSeed(Bytes(32, 5)), HostOptions{});
  ASSERT_TRUE(e);
  auto skipped = Await(
      io, (*e)->ConnectAddr(*Multiaddr::Parse("/dns4/localhost/tcp/" + port + "/p2p/" + peer)));
  ASSERT_FALSE(skipped);
  EXPECT_NE(skipped.error().message().find("DNS addresses are not resolved"), std::string::npos)
      << skipped.error().message();
}

// A raw TCP client: sends `bytes`, then reads until the server closes; how long that took.
awaitable<std::chrono::milliseconds> RawPeer(tcp::endpoint ep, Bytes bytes) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  auto start = std::chrono::steady_clock::now();
  auto [cec] = co_await s.async_connect(ep, kTuple);
  if (cec) throw std::runtime_error("connect: " + cec.message());
  if (!bytes.empty()) co_await asio::async_write(s, asio::buffer(bytes), kTuple);
  std::vector<uint8_t> buf(1024);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), kTuple);
    if (ec) break;
  }
  co_return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
}

tcp::endpoint Endpoint(const Host& h) {
  auto addr = h.ListenAddrs()[0];
  return tcp::endpoint(asio::ip::make_address(*addr.Value("ip4")),
                       static_cast<uint16_t>(std::stoi(*addr.Value("tcp"))));
}

TEST(Host, GarbageAndStallingPeersAreCutOffWithoutSlowingOthers) {
  asio::io_context io;
  HostOptions opts;
  opts.limits.handshake_timeout = 500ms;
  auto a = MakeNode(io, 1, opts), b = MakeNode(io, 2);
  auto ep = Endpoint(*a.host);

  std::optional<std::chrono::milliseconds> garbage, stalled, bad_noise;
  Bytes junk(200, 0xee);
  asio::co_spawn(io, RawPeer(ep, junk),
                 [&](std::exception_ptr, std::chrono::milliseconds t) { garbage = t; });
  asio::co_spawn(io, RawPeer(ep, {}),
                 [&](std::exception_ptr, std::chrono::milliseconds t) { stalled = t; });
  // Right multistream, then a noise "message 1" that is far too short.
  Bytes noise_junk = multistream::EncodeMessage(multistream::kHeader);
  multistream::AppendMessage(noise_junk, "/noise");
  noise_junk.insert(noise_junk.end(), {0x00, 0x03, 1, 2, 3});
  asio::co_spawn(io, RawPeer(ep, noise_junk),
                 [&](std::exception_ptr, std::chrono::milliseconds t) { bad_noise = t; });

  // Meanwhile a good peer connects and pings at once.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs())));
  ASSERT_TRUE(Await(io, b.host->Ping(a.id.peer_id())));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);

  Spin(io, 1000ms);
  ASSERT_TRUE(garbage && stalled && bad_noise);
  EXPECT_LT(*garbage, 300ms);    // cut at the first bad message
  EXPECT_LT(*bad_noise, 300ms);  // cut at the short noise message
  EXPECT_GE(*stalled, 450ms);    // cut at the handshake timeout
  EXPECT_LT(*stalled, 1000ms);
  EXPECT_EQ(a.host->conn_manager().pending_handshakes(), 0u);
  EXPECT_EQ(a.host->conn_manager().connections(), 1u);
}

TEST(Host, PendingHandshakeLimitRefusesTheExcessAtOnce) {
  asio::io_context io;
  HostOptions opts;
  opts.limits.max_pending_handshakes = 2;
  opts.limits.handshake_timeout = 1000ms;
  auto a = MakeNode(io, 1, opts);
  auto ep = Endpoint(*a.host);
  std::vector<std::chrono::milliseconds> times;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, RawPeer(ep, {}),
                   [&](std::exception_ptr, std::chrono::milliseconds t) { times.push_back(t); });
  }
  Spin(io, 1500ms);
  ASSERT_EQ(times.size(), 3u);
  std::sort(times.begin(), times.end());
  EXPECT_LT(times[0], 300ms);  // the third: refused at once
  EXPECT_GE(times[1], 900ms);  // the two admitted: cut at the timeout
}

TEST(Host, StreamLimitPerConnectionRefusesTheExcess) {
  asio::io_context io;
  HostOptions opts;
  opts.limits.max_streams_per_connection = 3;
  auto a = MakeNode(io, 1, opts), b = MakeNode(io, 2);
  ASSERT_TRUE(Await(io, b.host->Connect(a.id.peer_id(), a.host->ListenAddrs())));
  Spin(io, 100ms);  // identify streams finish
  std::vector<std::shared_ptr<Stream>> held;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto s = Await(io, b.host->NewStream(a.id.peer_id(), {kEcho}));
    if (s) {
      held.push_back(*s);
    } else {
      ++refused;
    }
  }
  EXPECT_EQ(held.size(), 3u);
  EXPECT_EQ(refused, 3);
  held.clear();
  Spin(io, 100ms);
  EXPECT_TRUE(Await(io, b.host->Ping(a.id.peer_id())));  // slots come back
}

}  // namespace
}  // namespace cairn::net
