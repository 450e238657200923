// Libp2pNetwork over real libp2p hosts on 127.0.0.1 (port 0), each on its own io_context
// thread as in `cairn serve`: the Network contract (network.hpp) end to end.
#include "bitswap/libp2p_network.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "bitswap/bitswap.hpp"
#include "bitswap/client.hpp"
#include "bitswap/server.hpp"
#include "common/clock.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::bitswap {
namespace {

namespace asio = boost::asio;
namespace mc = multiformats::codec;
using namespace std::chrono_literals;

// A libp2p host on its own thread. Tear-down stops the host on its thread, then the thread.
struct HostThread {
  explicit HostThread(uint8_t seed)
      : id(net::Ed25519Identity::FromSeed(Bytes(32, seed))), work(asio::make_work_guard(io)) {
    net::HostOptions options;
    options.listen = {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
    options.dial.allow_private = true;
    auto h = net::Host::Create(io, id, options);
    EXPECT_TRUE(h) << h.error().ToString();
    host = std::move(*h);
    for (const auto& a : host->ListenAddrs()) {
      addrs.push_back(a.ToString() + "/p2p/" + id.peer_id().ToString());
    }
    thread = std::thread([this] { io.run(); });
  }
  ~HostThread() {
    asio::post(io, [h = host.get()] { h->Stop(); });
    work.reset();
    std::this_thread::sleep_for(50ms);
    io.stop();
    thread.join();
  }
  // Runs `fn` on the host's thread and returns its result.
  template <typename F>
  auto On(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }
  // Runs the coroutine `aw` on the host's thread and waits (at most 20 s) for its result.
  template <typename T>
  T Await(asio::awaitable<T> aw) {
    std::promise<T> done;
    auto result = done.get_future();
    asio::co_spawn(io, std::move(aw),
                   [&done](std::exception_ptr, T value) { done.set_value(std::move(value)); });
    if (result.wait_for(20s) != std::future_status::ready) {
      throw std::runtime_error("coroutine did not finish in 20 s");
    }
    return result.get();
  }
  std::string peer() const { return id.peer_id().ToString(); }

  asio::io_context io;
  net::Ed25519Identity id;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<net::Host> host;
  std::vector<std::string> addrs;
  std::thread thread;
};

// What a network's handlers saw.
struct Recorder {
  void Attach(Network& n) {
    n.SetHandlers(
        [this](const PeerId& from, ProtocolVersion v, ByteSpan m) {
          std::lock_guard lock(mu);
          messages.push_back({from, v, Bytes(m.begin(), m.end())});
          cv.notify_all();
        },
        [this](const PeerId& p, bool connected) {
          std::lock_guard lock(mu);
          events.emplace_back(p, connected);
          cv.notify_all();
        });
  }
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds d = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, d, [&] { return pred(); });
  }
  struct Received {
    PeerId from;
    ProtocolVersion version;
    Bytes bytes;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Received> messages;               // GUARDED_BY(mu)
  std::vector<std::pair<PeerId, bool>> events;  // GUARDED_BY(mu)
};

std::unique_ptr<Libp2pNetwork> MakeNetwork(HostThread& h, Libp2pNetworkOptions options = {}) {
  auto n = Libp2pNetwork::Create(*h.host, options);
  EXPECT_TRUE(n) << n.error().ToString();
  return std::move(*n);
}

Bytes Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

TEST(Libp2pNetwork, ConnectNegotiates120AndBothSidesReportThePeer) {
  HostThread a(1), b(2);
  Recorder ra, rb;
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  ra.Attach(*na);
  rb.Attach(*nb);
  auto v = nb->Connect(a.peer(), a.addrs, 5s);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, ProtocolVersion::k120);
  EXPECT_EQ(nb->Version(a.peer()), ProtocolVersion::k120);
  // A opens its own outbound stream when the connection appears, and reports B then.
  ASSERT_TRUE(ra.WaitFor([&] { return !ra.events.empty(); }));
  EXPECT_EQ(ra.events[0], std::make_pair(b.peer(), true));
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.events.empty(); }));
  EXPECT_EQ(rb.events[0], std::make_pair(a.peer(), true));
  auto peers = na->ConnectedPeers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].peer, b.peer());
  EXPECT_EQ(peers[0].version, ProtocolVersion::k120);
  EXPECT_EQ(na->Self(), a.peer());
}

TEST(Libp2pNetwork, MessagesArriveWholeAndInOrder) {
  HostThread a(1), b(2);
  Recorder ra, rb;
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  ra.Attach(*na);
  rb.Attach(*nb);
  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  // Small frames (prefix copied into one write) and large ones (two writes), interleaved.
  std::vector<Bytes> sent;
  for (uint32_t i = 0; i < 60; ++i) {
    size_t size = i % 3 == 0 ? 1 + i : (i % 3 == 1 ? 20'000 + i : 700'000 + 1000 * i);
    sent.push_back(Random(size, i));
    ASSERT_TRUE(nb->Send(a.peer(), sent.back()));
  }
  ASSERT_TRUE(ra.WaitFor([&] { return ra.messages.size() == sent.size(); }, 20s))
      << ra.messages.size();
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(ra.messages[i].from, b.peer());
    EXPECT_EQ(ra.messages[i].version, ProtocolVersion::k120);
    EXPECT_EQ(ra.messages[i].bytes, sent[i]) << "message " << i;
  }
  EXPECT_EQ(na->frames_received(), sent.size());
  // Everything was written: nothing is left queued.
  for (int i = 0; i < 100 && nb->QueuedBytes(a.peer()) != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(nb->QueuedBytes(a.peer()), 0u);
  // And the other direction, on A's own outbound stream.
  ASSERT_TRUE(na->Send(b.peer(), Bytes{1, 2, 3}));
  ASSERT_TRUE(rb.WaitFor([&] { return rb.messages.size() == 1; }));
  EXPECT_EQ(rb.messages[0].bytes, (Bytes{1, 2, 3}));
}

TEST(Libp2pNetwork, ServerAndClientFetchABlockOverTheHosts) {
  HostThread a(1), b(2);
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  // A serves one 1 MiB block and one small one; B fetches both through a session.
  class MapGetter : public ipld::BlockGetter {
   public:
    std::map<Cid, Bytes> blocks;
    Result<Bytes> Get(const Cid& cid) override {
      auto it = blocks.find(cid);
      if (it == blocks.end()) return Err(ErrorCode::kNotFound, "no " + cid.ToString());
      return it->second;
    }
  } getter;
  Bytes big = Random(1 << 20, 7), small = Random(100, 8);
  Cid big_cid = *Cid::Compute(1, mc::kRaw, mc::kSha2_256, big);
  Cid small_cid = *Cid::Compute(1, mc::kRaw, mc::kSha2_256, small);
  getter.blocks[big_cid] = big;
  getter.blocks[small_cid] = small;
  Cid absent = *Cid::Compute(1, mc::kRaw, mc::kSha2_256, Random(10, 9));
  ServeEverything everything;
  Server server(*na, getter, everything);
  Bitswap serving(*na, &server, nullptr);
  server.Start();
  Client client(*nb, SystemClock::Instance(), {.want_timeout = 3000ms});
  Bitswap fetching(*nb, nullptr, &client);

  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  auto session = client.NewSession();
  session->AddPeers({a.peer()});
  int64_t deadline = SystemClock::Instance().MonotonicMicros() + 15'000'000;
  auto got = session->Get(big_cid, deadline);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, big);
  got = session->Get(small_cid, deadline);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, small);
  // A block A does not have: DONT_HAVE, so NotFound well before the want timeout's multiple.
  got = session->Get(absent, deadline);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << got.error().ToString();
  EXPECT_GE(server.stats().blocks_sent.load(), 2u);
  server.Stop();
}

TEST(Libp2pNetwork, NegotiatesTheNewestVersionThePeerSpeaks) {
  HostThread a(1), c(3);
  auto na = MakeNetwork(a);
  // C is a bitswap 1.1.0-only peer: a raw handler that reads and discards.
  c.On([&] {
    c.host->SetStreamHandler("/ipfs/bitswap/1.1.0",
                             [](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
                               std::vector<uint8_t> buf(4096);
                               for (;;) {
                                 auto n = co_await s->ReadSome(buf);
                                 if (!n || *n == 0) break;
                               }
                             });
  });
  auto v = na->Connect(c.peer(), c.addrs, 5s);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, ProtocolVersion::k110);
  EXPECT_EQ(na->Version(c.peer()), ProtocolVersion::k110);
}

TEST(Libp2pNetwork, APeerWithoutBitswapIsNeverReported) {
  HostThread a(1), d(4);
  Recorder ra;
  auto na = MakeNetwork(a);
  ra.Attach(*na);
  auto v = na->Connect(d.peer(), d.addrs, 5s);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(v.error().message().find("supports no bitswap protocol"), std::string::npos)
      << v.error().message();
  EXPECT_FALSE(na->Version(d.peer()));
  EXPECT_TRUE(na->ConnectedPeers().empty());
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock(ra.mu);
  EXPECT_TRUE(ra.events.empty());
}

TEST(Libp2pNetwork, ConnectAndSendErrorsFollowTheContract) {
  HostThread a(1), b(2);
  auto na = MakeNetwork(a);
  // Malformed peer id.
  auto v = na->Connect("not-a-peer", {}, 1s);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
  // Only a QUIC address: nothing dialable, the reason is named.
  std::vector<std::string> quic = {"/ip4/127.0.0.1/udp/4001/quic-v1/p2p/" + b.peer()};
  v = na->Connect(b.peer(), quic, 2s);
  ASSERT_FALSE(v);
  EXPECT_TRUE(v.error().code() == ErrorCode::kUnavailable ||
              v.error().code() == ErrorCode::kPermissionDenied)
      << v.error().ToString();
  // An unparseable address and nothing else: InvalidArgument naming it.
  HostThread e(5);
  std::vector<std::string> junk = {"/ip4/nonsense"};
  v = na->Connect(e.peer(), junk, 2s);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument) << v.error().ToString();
  EXPECT_NE(v.error().message().find("/ip4/nonsense"), std::string::npos);
  // Send to a peer that is not connected.
  auto s = na->Send(b.peer(), Bytes{1});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  // Connect on the host's own thread would block it: refused at once.
  auto on_host = a.On([&] { return na->Connect(b.peer(), b.addrs, 1s); });
  ASSERT_FALSE(on_host);
  EXPECT_EQ(on_host.error().code(), ErrorCode::kInternal);
}

TEST(Libp2pNetwork, KuboOriginShapesAreSkippedAndTheTcpOneIsDialed) {
  HostThread a(1), b(2);
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  // What `ipfs pin remote add` sends as origins: QUIC, WebTransport, WebRTC, DNS and TCP shapes.
  std::string p2p = "/p2p/" + b.peer();
  std::vector<std::string> origins = {"/ip4/127.0.0.1/udp/4001/quic-v1" + p2p,
                                      "/ip4/127.0.0.1/udp/4001/quic-v1/webtransport/certhash/"
                                      "uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ/certhash/"
                                      "uEiAfbgnMQ-Dhr4JnFRNy_fqX1sxNp1smMmwsq2jmvtDZ5A" +
                                          p2p,
                                      "/ip4/127.0.0.1/udp/4001/webrtc-direct/certhash/"
                                      "uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ" +
                                          p2p,
                                      "/ip6/::1/udp/4001/quic-v1" + p2p, b.addrs[0]};
  auto v = na->Connect(b.peer(), origins, 5s);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, ProtocolVersion::k120);
}

TEST(Libp2pNetwork, DisconnectIsReportedAndSendsFailAfterwards) {
  HostThread a(1), b(2);
  Recorder ra, rb;
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  ra.Attach(*na);
  rb.Attach(*nb);
  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.events.size() == 1; }));
  b.On([&] { b.host->Disconnect(a.id.peer_id()); });
  ASSERT_TRUE(ra.WaitFor([&] { return ra.events.size() == 2; }));
  EXPECT_EQ(ra.events[1], std::make_pair(b.peer(), false));
  ASSERT_TRUE(rb.WaitFor([&] { return rb.events.size() == 2; }));
  EXPECT_EQ(rb.events[1], std::make_pair(a.peer(), false));
  EXPECT_FALSE(na->Version(b.peer()));
  auto s = nb->Send(a.peer(), Bytes{1});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  // Reconnecting works and is reported again.
  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.events.size() == 3; }));
  EXPECT_EQ(ra.events[2], std::make_pair(b.peer(), true));
}

TEST(Libp2pNetwork, AnIdleOutboundStreamIsClosedAndTheNextSendOpensOne) {
  HostThread a(1), b(2);
  Recorder ra;
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b, {.idle_close = 100ms});
  ra.Attach(*na);
  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  EXPECT_EQ(nb->outbound_streams_opened(), 1u);
  ASSERT_TRUE(nb->Send(a.peer(), Bytes{1}));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.messages.size() == 1; }));
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(nb->Send(a.peer(), Bytes{2}));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.messages.size() == 2; }));
  EXPECT_EQ(ra.messages[1].bytes, Bytes{2});
  EXPECT_EQ(nb->outbound_streams_opened(), 2u);
  EXPECT_EQ(nb->Version(a.peer()), ProtocolVersion::k120);  // still connected throughout
}

TEST(Libp2pNetwork, AStreamThePeerResetIsReopenedForTheNextMessage) {
  HostThread a(1), c(3);
  auto na = MakeNetwork(a, {.idle_close = 0ms});
  // C reads one frame per stream, then aborts the stream (as Helia does with idle streams).
  std::mutex mu;
  std::vector<Bytes> got;
  c.On([&] {
    c.host->SetStreamHandler("/ipfs/bitswap/1.2.0",
                             [&](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
                               auto m = co_await s->ReadLengthPrefixed(kMaxMessageBytes);
                               if (m && *m) {
                                 std::lock_guard lock(mu);
                                 got.push_back(std::move(**m));
                               }
                               s->Reset();
                             });
  });
  ASSERT_TRUE(na->Connect(c.peer(), c.addrs, 5s));
  auto received = [&](size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (got.size() >= n) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  ASSERT_TRUE(na->Send(c.peer(), Bytes{1}));
  ASSERT_TRUE(received(1));
  std::this_thread::sleep_for(100ms);  // the reset reaches A
  ASSERT_TRUE(na->Send(c.peer(), Bytes{2}));
  ASSERT_TRUE(received(2));
  std::lock_guard lock(mu);
  EXPECT_EQ(got[1], Bytes{2});
  EXPECT_EQ(na->outbound_streams_opened(), 2u);
  EXPECT_EQ(na->Version(c.peer()), ProtocolVersion::k120);
}

// Opens a raw bitswap stream from `from` to `to`, writes `bytes` and reads until the stream ends;
// true when it ended with a reset (an error), false on a clean close.
asio::awaitable<bool> WriteRawAndSeeReset(net::Host& from, net::PeerId to, Bytes bytes) {
  std::vector<std::string> protocols{"/ipfs/bitswap/1.2.0"};
  auto s = co_await from.NewStream(to, std::move(protocols));
  if (!s) co_return false;
  auto w = co_await (*s)->Write(bytes);
  std::vector<uint8_t> buf(1024);
  for (;;) {
    auto n = co_await (*s)->ReadSome(buf);
    if (!n) co_return true;
    if (*n == 0) co_return false;
  }
  (void)w;
}

TEST(Libp2pNetwork, OversizedOrMalformedFramesResetTheStreamOnly) {
  HostThread a(1), b(2), c(3);
  Recorder ra;
  auto na = MakeNetwork(a);
  auto nb = MakeNetwork(b);
  auto nc = MakeNetwork(c);
  ra.Attach(*na);
  ASSERT_TRUE(nb->Connect(a.peer(), a.addrs, 5s));
  ASSERT_TRUE(nc->Connect(a.peer(), a.addrs, 5s));
  // A frame that declares 5 MiB: reset as soon as the prefix is read (nothing buffered).
  Bytes huge;
  multiformats::AppendVarint(huge, 5u << 20);
  huge.push_back(0);
  EXPECT_TRUE(b.Await(WriteRawAndSeeReset(*b.host, a.id.peer_id(), huge)));
  // A length prefix that never ends.
  Bytes endless(12, 0xff);
  EXPECT_TRUE(b.Await(WriteRawAndSeeReset(*b.host, a.id.peer_id(), endless)));
  EXPECT_EQ(na->streams_reset_for_bad_frames(), 2u);
  // B's own bitswap stream and C are unaffected.
  ASSERT_TRUE(nb->Send(a.peer(), Bytes{7}));
  ASSERT_TRUE(nc->Send(a.peer(), Bytes{8}));
  ASSERT_TRUE(ra.WaitFor([&] { return ra.messages.size() == 2; }));
  std::set<Bytes> got = {ra.messages[0].bytes, ra.messages[1].bytes};
  EXPECT_EQ(got, (std::set<Bytes>{Bytes{7}, Bytes{8}}));
}

TEST(Libp2pNetwork, AStalledReaderFillsOnlyItsOwnQueue) {
  HostThread a(1), b(2), c(3);
  Recorder rc;
  auto na = MakeNetwork(a);
  auto nc = MakeNetwork(c);
  rc.Attach(*nc);
  // B accepts bitswap 1.2.0 streams and never reads them.
  std::vector<std::shared_ptr<net::Stream>> held;
  b.On([&] {
    b.host->SetStreamHandler("/ipfs/bitswap/1.2.0",
                             [&held](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
                               held.push_back(std::move(s));
                               co_return;
                             });
  });
  ASSERT_TRUE(na->Connect(b.peer(), b.addrs, 5s));
  ASSERT_TRUE(na->Connect(c.peer(), c.addrs, 5s));
  Bytes four_mib = Random(kMaxMessageBytes, 3);
  int accepted = 0;
  Result<void> last = Ok();
  for (int i = 0; i < 8 && last; ++i) {
    last = na->Send(b.peer(), four_mib);
    if (last) ++accepted;
  }
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code(), ErrorCode::kResourceExhausted) << last.error().ToString();
  EXPECT_GE(accepted, 3);
  EXPECT_GT(na->QueuedBytes(b.peer()), 2 * kMaxMessageBytes);
  // C still gets its messages at once.
  ASSERT_TRUE(na->Send(c.peer(), Bytes{9}));
  ASSERT_TRUE(rc.WaitFor([&] { return rc.messages.size() == 1; }, 5s));
  b.On([&] {
    b.host->RemoveStreamHandler("/ipfs/bitswap/1.2.0");
    held.clear();
  });
}

}  // namespace
}  // namespace cairn::bitswap
