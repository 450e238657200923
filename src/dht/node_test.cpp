// dht::Node over real libp2p hosts on 127.0.0.1 (port 0), each on its own io_context thread as in
// `cairn serve`: bootstrap, lookups, provide and find, client mode, and bad input on a stream.
#include "dht/node.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <thread>

#include "multiformats/multicodec.hpp"

namespace cairn::dht {
namespace {

namespace asio = boost::asio;
namespace mc = multiformats::codec;
using namespace std::chrono_literals;

struct HostThread {
  explicit HostThread(uint8_t seed)
      : id(net::Ed25519Identity::FromSeed(Bytes(32, seed))), work(asio::make_work_guard(io)) {
    net::HostOptions options;
    options.listen = {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
    options.dial.allow_private = true;
    auto h = net::Host::Create(io, id, options);
    EXPECT_TRUE(h) << h.error().ToString();
    host = std::move(*h);
    thread = std::thread([this] { io.run(); });
  }
  ~HostThread() {
    asio::post(io, [h = host.get()] { h->Stop(); });
    work.reset();
    std::this_thread::sleep_for(50ms);
    io.stop();
    thread.join();
  }
  net::Multiaddr Addr() const {
    auto a = host->ListenAddrs().front();
    EXPECT_TRUE(a.Append("p2p", id.peer_id().ToString()));
    return a;
  }
  template <typename T>
  T Await(asio::awaitable<T> aw) {
    std::promise<T> done;
    auto result = done.get_future();
    asio::co_spawn(io, std::move(aw), [&done](const std::exception_ptr&, T value) {
      done.set_value(std::move(value));
    });
    EXPECT_EQ(result.wait_for(20s), std::future_status::ready);
    return result.get();
  }
  template <typename F>
  auto On(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }

  asio::io_context io;
  net::Ed25519Identity id;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<net::Host> host;
  std::thread thread;
};

NodeOptions Options(Mode mode, std::vector<net::Multiaddr> bootstrap) {
  NodeOptions o;
  o.mode = mode;
  o.bootstrap = std::move(bootstrap);
  o.rpc_timeout = 3s;
  o.lookup_timeout = 8s;
  o.refresh_interval = 0ms;  // the test drives Bootstrap()
  return o;
}

// Six servers bootstrapped from the first, plus one client.
class DhtNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint8_t i = 0; i < 6; ++i) hosts_.push_back(std::make_unique<HostThread>(10 + i));
    std::vector<net::Multiaddr> boot = {hosts_[0]->Addr()};
    for (size_t i = 0; i < hosts_.size(); ++i) {
      auto n = Node::Create(*hosts_[i]->host,
                            Options(Mode::kServer, i == 0 ? std::vector<net::Multiaddr>{} : boot));
      ASSERT_TRUE(n) << n.error().message();
      servers_.push_back(std::move(*n));
    }
    for (size_t i = 1; i < servers_.size(); ++i) ASSERT_TRUE(servers_[i]->Bootstrap());
    for (size_t i = 1; i < servers_.size(); ++i) ASSERT_TRUE(servers_[i]->Bootstrap());
    client_host_ = std::make_unique<HostThread>(99);
    auto c = Node::Create(*client_host_->host, Options(Mode::kClient, boot));
    ASSERT_TRUE(c) << c.error().message();
    client_ = std::move(*c);
  }
  void TearDown() override {
    client_.reset();
    servers_.clear();
  }

  std::vector<std::unique_ptr<HostThread>> hosts_;
  std::vector<std::unique_ptr<Node>> servers_;
  std::unique_ptr<HostThread> client_host_;
  std::unique_ptr<Node> client_;
};

TEST_F(DhtNetwork, ClientFindsEveryServerAndTheirProviders) {
  auto size = client_->Bootstrap();
  ASSERT_TRUE(size) << size.error().message();
  EXPECT_EQ(*size, 6u);  // learned from answers: every server
  auto cid = *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("provided"));
  auto took = servers_[3]->Provide(ProviderKey(cid));
  ASSERT_TRUE(took) << took.error().message();
  EXPECT_EQ(*took, 5u);  // every other server (fewer than k) took the record
  auto found = client_->FindProviders(cid, 5);
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, hosts_[3]->id.peer_id());
  EXPECT_FALSE((*found)[0].addrs.empty());
  auto none = client_->FindProviders(
      *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("nobody")), 5);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(DhtNetwork, ClientModeIsNotAdvertisedNorAdded) {
  ASSERT_TRUE(client_->Bootstrap());
  auto cid = *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("from client"));
  auto took = client_->Provide(ProviderKey(cid));
  ASSERT_TRUE(took) << took.error().message();
  net::PeerId client_id = client_host_->id.peer_id();
  // The servers saw the client's identify: no kad protocol listed, so not in their tables.
  for (auto& h : hosts_) {
    auto protocols = h->On([&] { return h->host->peerstore().Protocols(client_id); });
    EXPECT_EQ(std::count(protocols.begin(), protocols.end(), std::string(kProtocolId)), 0);
  }
  auto closest = servers_[1]->FindClosestPeers(client_id.hash().Encode());
  ASSERT_TRUE(closest);
  for (const auto& p : *closest) EXPECT_NE(p.id, client_id);
  // Its record is served all the same.
  auto found = servers_[2]->FindProviders(cid, 5);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, client_id);
}

// Writes `frame` on a fresh kad stream to `to` and reads what comes back: the answer, or the
// error that ended the stream.
asio::awaitable<Result<std::optional<Bytes>>> RawExchange(net::Host& from, net::PeerId to,
                                                          Bytes frame) {
  std::vector<std::string> protocols{std::string(kProtocolId)};
  auto s = co_await from.NewStream(to, std::move(protocols));
  if (!s) co_return Err(s.error());
  auto w = co_await (*s)->Write(frame);
  if (!w) co_return Err(w.error());
  co_return co_await (*s)->ReadLengthPrefixed(kMaxMessageBytes);
}

TEST_F(DhtNetwork, GarbageResetsOnlyItsStreamAndSpoofedProvidersAreIgnored) {
  ASSERT_TRUE(client_->Bootstrap());
  net::Host& h = *client_host_->host;
  net::PeerId server = hosts_[2]->id.peer_id();
  // An unknown message type: the stream is reset, no answer.
  auto bad = client_host_->Await(RawExchange(h, server, Bytes{0x02, 0x08, 0x09}));
  EXPECT_FALSE(bad && *bad);
  // An oversized declared length: reset too.
  auto big = client_host_->Await(RawExchange(h, server, Bytes{0xff, 0xff, 0xff, 0x7f}));
  EXPECT_FALSE(big && *big);
  // ADD_PROVIDER naming another peer as provider: ignored.
  Message add;
  add.type = MessageType::kAddProvider;
  auto cid = *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("spoof"));
  add.key = ProviderKey(cid);
  PeerInfo other{hosts_[4]->id.peer_id().hash().Encode(), {hosts_[4]->Addr().ToBytes()}, {}};
  add.provider_peers.push_back(other);
  Message ping;
  ping.type = MessageType::kPing;
  Bytes frames = EncodeFrame(add);
  Bytes p = EncodeFrame(ping);
  frames.insert(frames.end(), p.begin(), p.end());  // two requests on one stream
  auto pong = client_host_->Await(RawExchange(h, server, frames));
  ASSERT_TRUE(pong && *pong) << (pong ? "closed" : pong.error().message());
  auto decoded = DecodeMessage(**pong);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->type, MessageType::kPing);
  auto found = servers_[2]->FindProviders(cid, 5);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  // The server still answers everybody.
  EXPECT_TRUE(client_->FindClosestPeers(Bytes{1, 2, 3}));
  EXPECT_GT(servers_[2]->stats().requests_refused.load(), 1u);
}

TEST(DhtNode, RefusesBootstrapWithoutPeerId) {
  HostThread h(1);
  auto n = Node::Create(*h.host,
                        Options(Mode::kClient, {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/1")}));
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("dht.bootstrap"), std::string::npos);
}

TEST(DhtNode, LookupWithNobodyReachableEndsWithinItsDeadline) {
  HostThread h(2);
  // A peer id nobody listens for, at a closed port.
  auto addr =
      *net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/9/p2p/" +
                             net::Ed25519Identity::FromSeed(Bytes(32, 3)).peer_id().ToString());
  auto n = Node::Create(*h.host, Options(Mode::kClient, {addr}));
  ASSERT_TRUE(n);
  auto start = std::chrono::steady_clock::now();
  auto found =
      (*n)->FindProviders(*multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("x")), 5);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_TRUE(found->empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 9s);
  auto took = (*n)->Provide(Bytes{0x12, 0x01, 0x00});
  ASSERT_FALSE(took);
  EXPECT_EQ(took.error().code(), ErrorCode::kUnavailable);
}

TEST(DhtNode, ShutdownEndsALookupStuckOnASilentPeer) {
  // A listener that never answers: the TCP connect succeeds, the handshake stalls.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  HostThread h(4);
  auto addr = *net::Multiaddr::Parse(
      "/ip4/127.0.0.1/tcp/" + std::to_string(silent.local_endpoint().port()) + "/p2p/" +
      net::Ed25519Identity::FromSeed(Bytes(32, 5)).peer_id().ToString());
  auto n = Node::Create(*h.host, Options(Mode::kClient, {addr}));
  ASSERT_TRUE(n);
  auto lookup = std::async(std::launch::async, [&] {
    return (*n)->FindProviders(
        *multiformats::Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes("stuck")), 5);
  });
  EXPECT_EQ(lookup.wait_for(500ms), std::future_status::timeout) << "the peer should stall it";
  auto start = std::chrono::steady_clock::now();
  (*n)->Shutdown();
  ASSERT_EQ(lookup.wait_for(2s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  auto found = lookup.get();
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  // Later calls end at once.
  auto after = (*n)->FindClosestPeers(Bytes{1});
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

}  // namespace
}  // namespace cairn::dht
