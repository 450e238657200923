#include "fetch/bitswap_source.hpp"

#include <gtest/gtest.h>

#include <map>

#include "bitswap/bitswap.hpp"
#include "bitswap/memory_network.hpp"
#include "bitswap/server.hpp"
#include "fetch/fake_http_getter.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::fetch {
namespace {

namespace mc = multiformats::codec;
using bitswap::MemoryHub;
using bitswap::MemoryNetwork;

Cid RawCid(const Bytes& data) { return *Cid::Compute(1, mc::kRaw, mc::kSha2_256, data); }
Bytes Data(int i) { return ToBytes("block number " + std::to_string(i)); }

class MapGetter : public ipld::BlockGetter {
 public:
  Cid Add(const Bytes& data) {
    std::lock_guard lock(mu_);
    blocks_[RawCid(data)] = data;
    return RawCid(data);
  }
  Result<Bytes> Get(const Cid& cid) override {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(cid);
    if (it == blocks_.end()) return Err(ErrorCode::kNotFound, "no");
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<Cid, Bytes> blocks_;
};

struct Peer {
  Peer(MemoryHub& hub, const std::string& id)
      : net(hub.AddNode(id)),
        server(net, blocks, policy, {}),
        client(net, SystemClock::Instance(), {.want_timeout = std::chrono::milliseconds(300)}),
        bitswap(net, &server, &client) {
    server.Start();
  }
  MemoryNetwork& net;
  MapGetter blocks;
  bitswap::ServeEverything policy;
  bitswap::Server server;
  bitswap::Client client;
  bitswap::Bitswap bitswap;
};

class FakeFinder : public ProviderFinder {
 public:
  Result<std::vector<Provider>> FindProviders(const Cid& cid, size_t) override {
    ++calls;
    asked = cid;
    return providers;
  }
  std::vector<Provider> providers;
  int calls = 0;
  Cid asked;
};

int64_t In(int ms) { return SystemClock::Instance().MonotonicMicros() + ms * 1000; }

TEST(PeerIdOfMultiaddr, TakesTheLastP2pComponent) {
  EXPECT_EQ(PeerIdOfMultiaddr("/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWX"), "12D3KooWX");
  EXPECT_EQ(PeerIdOfMultiaddr("/ip4/1.2.3.4/udp/4001/quic-v1/p2p/Qm1"), "Qm1");
  EXPECT_FALSE(PeerIdOfMultiaddr("/ip4/1.2.3.4/tcp/8080/http"));
  EXPECT_FALSE(PeerIdOfMultiaddr("/p2p/"));
}

TEST(BitswapBlockSource, DialsOriginsThenConnectedPeersThenProvidersThenGateways) {
  MemoryHub hub;
  Peer self(hub, "self");
  Peer origin(hub, "origin");
  Peer connected(hub, "connected");
  Peer provider(hub, "provider");
  Bytes a = Data(1), b = Data(2), c = Data(3), d = Data(4);
  origin.blocks.Add(a);
  connected.blocks.Add(b);
  provider.blocks.Add(c);
  ASSERT_TRUE(self.net.Connect("connected", {}, std::chrono::seconds(1)));
  FakeHttpGetter http;
  http.Set("http://gw/ipfs/" + RawCid(d).ToString() + "?format=raw", 200, std::string(AsString(d)));
  GatewayBlockSource gateways(http, {.gateways = {"http://gw"}});
  FakeFinder finder;
  finder.providers = {Provider{"provider", {"/memory/provider"}, {}}};
  BitswapBlockSource source(self.net, self.client, &finder, gateways, SystemClock::Instance());

  SessionParams params;
  params.root = RawCid(c);
  params.origins = {"/ip4/10.0.0.1/tcp/4001/p2p/origin", "/ip4/10.0.0.1/tcp/8080/http"};
  params.deadline_micros = In(10'000);
  auto session = source.OpenSession(params);
  auto got_a = session->Fetch(RawCid(a));
  ASSERT_TRUE(got_a) << got_a.error().ToString();
  EXPECT_EQ(*got_a, a);
  EXPECT_EQ(hub.Dials("self").front(), "connected");  // the test's own dial
  EXPECT_EQ(hub.Dials("self").at(1), "origin");       // the session's first
  EXPECT_EQ(finder.calls, 0);
  auto got_b = session->Fetch(RawCid(b));
  ASSERT_TRUE(got_b);
  EXPECT_EQ(*got_b, b);
  EXPECT_EQ(finder.calls, 0);  // found among connected peers
  auto got_c = session->Fetch(RawCid(c));
  ASSERT_TRUE(got_c) << got_c.error().ToString();
  EXPECT_EQ(*got_c, c);
  EXPECT_EQ(finder.calls, 1);
  EXPECT_EQ(finder.asked, RawCid(c));
  auto got_d = session->Fetch(RawCid(d));  // nobody on bitswap has it: the gateway does
  ASSERT_TRUE(got_d) << got_d.error().ToString();
  EXPECT_EQ(*got_d, d);
  EXPECT_EQ(finder.calls, 1);  // once per session
}

TEST(BitswapBlockSource, WithoutPeersBehavesLikeTheGateways) {
  MemoryHub hub;
  Peer self(hub, "self");
  FakeHttpGetter http;
  Bytes d = Data(4);
  http.Set("http://gw/ipfs/" + RawCid(d).ToString() + "?format=raw", 200, std::string(AsString(d)));
  GatewayBlockSource gateways(http, {.gateways = {"http://gw"}});
  BitswapBlockSource source(self.net, self.client, nullptr, gateways, SystemClock::Instance());
  auto got = source.Fetch(RawCid(d), {});
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, d);
  auto missing = source.Fetch(RawCid(Data(5)), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("http://gw"), std::string::npos);
  EXPECT_NE(missing.error().message().find("bitswap"), std::string::npos);
}

TEST(BitswapBlockSource, UnreachableOriginIsSkippedAndDeadlineHolds) {
  MemoryHub hub;
  Peer self(hub, "self");
  Peer mute(hub, "mute");
  mute.blocks.Add(Data(1));
  hub.SetMute("mute", true);
  FakeHttpGetter http;
  GatewayBlockSource gateways(http, {});
  BitswapBlockSource source(self.net, self.client, nullptr, gateways, SystemClock::Instance(),
                            {.block_timeout = std::chrono::milliseconds(60'000)});
  SessionParams params;
  params.root = RawCid(Data(1));
  params.origins = {"/ip4/10.0.0.9/tcp/1/p2p/nowhere", "/ip4/10.0.0.2/tcp/1/p2p/mute"};
  params.deadline_micros = In(150);
  auto session = source.OpenSession(params);
  auto start = std::chrono::steady_clock::now();
  auto got = session->Fetch(RawCid(Data(1)));
  ASSERT_FALSE(got);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_NE(got.error().message().find("deadline"), std::string::npos) << got.error().message();
}

}  // namespace
}  // namespace cairn::fetch
