// A whole DAG fetched by FetchDag through fetch::BitswapBlockSource over the in-memory bitswap
// network: the pin's /p2p/ origin and a connected peer share the work, blocks nobody on bitswap
// has come from the gateway, and every stored block is the right one.
#include <gtest/gtest.h>

#include "bitswap/bitswap.hpp"
#include "bitswap/memory_network.hpp"
#include "blockstore/memory_blockstore.hpp"
#include "fetch/bitswap_source.hpp"
#include "pinning/dag_fetcher.hpp"
#include "pinning/test_dag.hpp"

namespace cairn::pinning {
namespace {

struct Peer {
  Peer(bitswap::MemoryHub& hub, const std::string& id)
      : net(hub.AddNode(id)),
        getter(store),
        server(net, getter, policy, {}),
        client(net, SystemClock::Instance(), {.want_timeout = std::chrono::milliseconds(500)}),
        bitswap(net, &server, &client) {
    server.Start();
  }
  bitswap::MemoryNetwork& net;
  blockstore::MemoryBlockstore store;
  ipld::BlockGetterFor<blockstore::MemoryBlockstore> getter;
  bitswap::ServeEverything policy;
  bitswap::Server server;
  bitswap::Client client;
  bitswap::Bitswap bitswap;
};

TEST(FetchDagOverBitswap, OriginAndConnectedPeersServeTheDagAndTheGatewayTheRest) {
  bitswap::MemoryHub hub;
  Peer self(hub, "self");
  Peer origin(hub, "origin");
  Peer neighbour(hub, "neighbour");
  auto dag = testing::MakeDag("bitswap", 6, 8);
  // The origin has every other block, the neighbour most of the rest; the root's last leaf is
  // only on the gateway.
  fetch::FakeHttpGetter http;
  int i = 0;
  multiformats::Cid gateway_only;
  for (const auto& [cid, data] : dag.blocks) {
    if (i % 2 == 0 || cid == dag.root) {
      ASSERT_TRUE(origin.store.Put(cid, data));
    } else if (i % 7 != 1) {
      ASSERT_TRUE(neighbour.store.Put(cid, data));
    } else {
      gateway_only = cid;
    }
    http.Set("http://gw/ipfs/" + cid.ToString() + "?format=raw", 200, std::string(AsString(data)));
    ++i;
  }
  ASSERT_FALSE(gateway_only.empty());
  ASSERT_TRUE(self.net.Connect("neighbour", {}, std::chrono::seconds(1)));
  fetch::GatewayBlockSource gateways(http, {.gateways = {"http://gw"}});
  fetch::BitswapBlockSource source(self.net, self.client, nullptr, gateways,
                                   SystemClock::Instance());

  blockstore::MemoryBlockstore store;
  DagFetchOptions o;
  o.parallelism = 8;
  o.origins = {"/ip4/127.0.0.1/tcp/4001/p2p/origin"};
  o.deadline_micros = SystemClock::Instance().MonotonicMicros() + 30'000'000;
  std::atomic<bool> cancel{false};
  auto r = FetchDag(dag.root, store, source, SystemClock::Instance(), o, cancel);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->blocks, dag.blocks.size());
  for (const auto& [cid, data] : dag.blocks) EXPECT_EQ(*store.Get(cid), data);
  EXPECT_GT(origin.server.stats().blocks_sent.load(), 0u);
  EXPECT_GT(neighbour.server.stats().blocks_sent.load(), 0u);
  EXPECT_EQ(self.client.stats().blocks_received.load(),
            origin.server.stats().blocks_sent.load() + neighbour.server.stats().blocks_sent.load() -
                self.client.stats().duplicate_blocks.load());
  EXPECT_GE(http.gets(), 1);  // the gateway-only blocks
  EXPECT_LT(static_cast<size_t>(http.gets()), dag.blocks.size() / 2);
}

}  // namespace
}  // namespace cairn::pinning
