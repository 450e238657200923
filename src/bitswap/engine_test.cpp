// The server and client engines over fake and in-memory networks.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "bitswap/bitswap.hpp"
#include "bitswap/client.hpp"
#include "bitswap/memory_network.hpp"
#include "bitswap/server.hpp"
#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::bitswap {
namespace {

namespace mc = multiformats::codec;

Bytes BlockData(int i, size_t size = 100) {
  Bytes b(size, static_cast<uint8_t>(i));
  std::string tag = "block-" + std::to_string(i);
  std::copy(tag.begin(), tag.end(), b.begin());
  return b;
}
Cid RawCid(const Bytes& data) { return *Cid::Compute(1, mc::kRaw, mc::kSha2_256, data); }

// A thread-safe CID → bytes map.
class MapGetter : public ipld::BlockGetter {
 public:
  Cid Add(Bytes data, int version = 1) {
    Cid cid = version == 0 ? *Cid::Compute(0, mc::kDagPb, mc::kSha2_256, data) : RawCid(data);
    std::lock_guard lock(mu_);
    blocks_[cid] = std::move(data);
    return cid;
  }
  void Put(const Cid& cid, Bytes data) {
    std::lock_guard lock(mu_);
    blocks_[cid] = std::move(data);
  }
  Result<Bytes> Get(const Cid& cid) override {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(cid);
    if (it == blocks_.end()) return Err(ErrorCode::kNotFound, "no " + cid.ToString());
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<Cid, Bytes> blocks_;
};

class DenyPolicy : public ContentPolicy {
 public:
  explicit DenyPolicy(Cid denied) : denied_(std::move(denied)) {}
  bool MayServe(const Cid& cid) override { return cid != denied_; }

 private:
  Cid denied_;
};

// Records what the server sends; QueuedBytes is settable per peer.
class RecordingNetwork : public Network {
 public:
  PeerId Self() const override { return "server"; }
  void SetHandlers(ReceiveFn, PeerFn) override {}
  Result<void> Send(const PeerId& peer, Bytes message) override {
    std::lock_guard lock(mu_);
    sent.emplace_back(peer, *DecodeMessage(message));
    return Ok();
  }
  uint64_t QueuedBytes(const PeerId& peer) const override {
    std::lock_guard lock(mu_);
    auto it = queued.find(peer);
    return it == queued.end() ? 0 : it->second;
  }
  Result<ProtocolVersion> Connect(const PeerId&, std::span<const std::string>,
                                  std::chrono::milliseconds) override {
    return Err(ErrorCode::kUnavailable, "no");
  }
  std::vector<ConnectedPeer> ConnectedPeers() const override { return {}; }
  std::optional<ProtocolVersion> Version(const PeerId&) const override {
    return ProtocolVersion::k120;
  }

  mutable std::mutex mu_;
  std::vector<std::pair<PeerId, Message>> sent;
  std::map<PeerId, uint64_t> queued;
};

Wantlist Wants(const std::vector<Cid>& cids, WantType type, bool dont_have = true) {
  Wantlist wl;
  for (const auto& c : cids) wl.entries.push_back(WantEntry{c, 1, false, type, dont_have});
  return wl;
}

TEST(BitswapServer, AnswersWantHaveAndWantBlock) {
  RecordingNetwork net;
  MapGetter blocks;
  Cid have = blocks.Add(BlockData(1));
  Cid denied = blocks.Add(BlockData(2));
  Cid missing = RawCid(BlockData(3));
  DenyPolicy policy(denied);
  Server server(net, blocks, policy, ServerOptions{.threads = 0});
  server.OnWantlist("p", ProtocolVersion::k120, Wants({have, denied, missing}, WantType::kHave));
  ASSERT_TRUE(server.RunOnce());
  ASSERT_EQ(net.sent.size(), 1u);
  const Message& m = net.sent[0].second;
  ASSERT_EQ(m.presences.size(), 3u);
  EXPECT_EQ(m.presences[0], (BlockPresence{have, PresenceType::kHave}));
  // Refused by the policy: indistinguishable from absent.
  EXPECT_EQ(m.presences[1], (BlockPresence{denied, PresenceType::kDontHave}));
  EXPECT_EQ(m.presences[2], (BlockPresence{missing, PresenceType::kDontHave}));
  EXPECT_EQ(server.stats().refused_by_policy.load(), 1u);

  server.OnWantlist("p", ProtocolVersion::k120, Wants({have, missing}, WantType::kBlock));
  ASSERT_TRUE(server.RunOnce());
  const Message& b = net.sent[1].second;
  ASSERT_EQ(b.blocks.size(), 1u);
  EXPECT_EQ(*b.blocks[0].prefix.Sum(b.blocks[0].data), have);
  ASSERT_EQ(b.presences.size(), 1u);
  EXPECT_EQ(b.presences[0].type, PresenceType::kDontHave);
  EXPECT_FALSE(server.RunOnce());  // nothing left
}

// Allows exactly one CID (the app's "pinned root").
class AllowOnly : public ContentPolicy {
 public:
  explicit AllowOnly(Cid allowed) : allowed_(std::move(allowed)) {}
  bool MayServe(const Cid& cid) override { return cid == allowed_; }

 private:
  Cid allowed_;
};

// Counts reads of block bytes and of sizes.
class CountingGetter : public ipld::BlockGetter {
 public:
  explicit CountingGetter(MapGetter& inner) : inner_(inner) {}
  Result<Bytes> Get(const Cid& cid) override {
    reads++;
    return inner_.Get(cid);
  }
  Result<uint64_t> Size(const Cid& cid) override {
    sizes++;
    auto got = inner_.Get(cid);
    if (!got) return Err(got.error());
    return got->size();
  }
  std::atomic<int> reads{0}, sizes{0};

 private:
  MapGetter& inner_;
};

TEST(BitswapServer, ServesLinksOfABlockSentOnlyToThatPeer) {
  RecordingNetwork net;
  MapGetter blocks;
  Cid child_a = blocks.Add(BlockData(1));
  Cid child_b = blocks.Add(BlockData(2));
  Cid unrelated = blocks.Add(BlockData(3));
  ipld::PbNode parent;
  parent.links.push_back(ipld::PbLink{child_a, std::string("a"), 100});
  parent.links.push_back(ipld::PbLink{child_b, std::string("b"), 100});
  Bytes parent_bytes = ipld::EncodeDagPb(parent);
  Cid root = *Cid::Compute(1, mc::kDagPb, mc::kSha2_256, parent_bytes);
  blocks.Put(root, parent_bytes);
  AllowOnly policy(root);
  Server server(net, blocks, policy, ServerOptions{.threads = 0});
  auto ask = [&](const PeerId& peer, const Cid& cid, WantType type) {
    server.OnWantlist(peer, ProtocolVersion::k120, Wants({cid}, type));
    EXPECT_TRUE(server.RunOnce());
    return net.sent.back().second;
  };
  // Before the root was sent, a child is refused like an absent block.
  EXPECT_EQ(ask("p", child_a, WantType::kHave).presences[0].type, PresenceType::kDontHave);
  EXPECT_EQ(ask("p", root, WantType::kBlock).blocks.size(), 1u);
  // Now p may walk down: both children, as presence and as block.
  EXPECT_EQ(ask("p", child_a, WantType::kHave).presences[0].type, PresenceType::kHave);
  EXPECT_EQ(ask("p", child_b, WantType::kBlock).blocks.size(), 1u);
  EXPECT_EQ(server.stats().served_as_link.load(), 2u);
  // A block in the store that no pinned DAG links to stays hidden from p.
  EXPECT_EQ(ask("p", unrelated, WantType::kBlock).presences[0].type, PresenceType::kDontHave);
  // Another peer did not get the root: the children are hidden from it.
  EXPECT_EQ(ask("q", child_a, WantType::kBlock).presences[0].type, PresenceType::kDontHave);
  // The links die with the connection.
  server.OnPeerGone("p");
  EXPECT_EQ(ask("p", child_b, WantType::kBlock).presences[0].type, PresenceType::kDontHave);
}

TEST(BitswapServer, LinksPerPeerAreBounded) {
  RecordingNetwork net;
  MapGetter blocks;
  ipld::PbNode parent;
  std::vector<Cid> children;
  for (int i = 0; i < 10; ++i) {
    children.push_back(blocks.Add(BlockData(i)));
    parent.links.push_back(ipld::PbLink{children.back(), std::to_string(i), 100});
  }
  Bytes parent_bytes = ipld::EncodeDagPb(parent);
  Cid root = *Cid::Compute(1, mc::kDagPb, mc::kSha2_256, parent_bytes);
  blocks.Put(root, parent_bytes);
  AllowOnly policy(root);
  Server server(net, blocks, policy, ServerOptions{.threads = 0, .max_links_per_peer = 4});
  server.OnWantlist("p", ProtocolVersion::k120, Wants({root}, WantType::kBlock));
  ASSERT_TRUE(server.RunOnce());
  // Only the last four links are remembered.
  server.OnWantlist("p", ProtocolVersion::k120, Wants(children, WantType::kHave));
  ASSERT_TRUE(server.RunOnce());
  const auto& presences = net.sent.back().second.presences;
  ASSERT_EQ(presences.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(presences[i].type, i < 6 ? PresenceType::kDontHave : PresenceType::kHave) << i;
  }
}

TEST(BitswapServer, AnswersWantHaveFromTheSizeWithoutReadingTheBlock) {
  RecordingNetwork net;
  MapGetter inner;
  Cid have = inner.Add(BlockData(1, 5000));
  Cid missing = RawCid(BlockData(2));
  CountingGetter blocks(inner);
  ServeEverything policy;
  Server server(net, blocks, policy, ServerOptions{.threads = 0});
  server.OnWantlist("p", ProtocolVersion::k120, Wants({have, missing}, WantType::kHave));
  ASSERT_TRUE(server.RunOnce());
  const Message& m = net.sent.back().second;
  ASSERT_EQ(m.presences.size(), 2u);
  EXPECT_EQ(m.presences[0].type, PresenceType::kHave);
  EXPECT_EQ(m.presences[1].type, PresenceType::kDontHave);
  EXPECT_EQ(blocks.reads.load(), 0);
  EXPECT_EQ(blocks.sizes.load(), 2);
  // want-block reads it.
  server.OnWantlist("p", ProtocolVersion::k120, Wants({have}, WantType::kBlock));
  ASSERT_TRUE(server.RunOnce());
  EXPECT_EQ(net.sent.back().second.blocks.size(), 1u);
  EXPECT_EQ(blocks.reads.load(), 1);
}

TEST(BitswapServer, NoDontHaveUnlessAskedAndNoPresencesForOldPeers) {
  RecordingNetwork net;
  MapGetter blocks;
  Cid v1 = blocks.Add(BlockData(1));
  Cid v0 = blocks.Add(BlockData(2), 0);
  Cid missing = RawCid(BlockData(3));
  ServeEverything policy;
  Server server(net, blocks, policy, ServerOptions{.threads = 0});
  server.OnWantlist("p", ProtocolVersion::k120, Wants({missing}, WantType::kBlock, false));
  EXPECT_TRUE(server.RunOnce());
  EXPECT_TRUE(net.sent.empty());  // nothing to say
  // 1.1.0: a want-have entry cannot exist; any want is a want-block, and no DONT_HAVE.
  server.OnWantlist("old", ProtocolVersion::k110, Wants({v1, missing}, WantType::kBlock));
  EXPECT_TRUE(server.RunOnce());
  ASSERT_EQ(net.sent.size(), 1u);
  EXPECT_EQ(net.sent[0].second.blocks.size(), 1u);
  EXPECT_TRUE(net.sent[0].second.presences.empty());
  // 1.0.0: only CIDv0 blocks can be carried.
  server.OnWantlist("older", ProtocolVersion::k100, Wants({v1, v0}, WantType::kBlock));
  EXPECT_TRUE(server.RunOnce());
  ASSERT_EQ(net.sent.size(), 2u);
  ASSERT_EQ(net.sent[1].second.blocks.size(), 1u);
  EXPECT_EQ(*net.sent[1].second.blocks[0].prefix.Sum(net.sent[1].second.blocks[0].data), v0);
}

TEST(BitswapServer, TakesTurnsAcrossPeers) {
  RecordingNetwork net;
  MapGetter blocks;
  std::vector<Cid> many, few;
  for (int i = 0; i < 50; ++i) many.push_back(blocks.Add(BlockData(i, 1000)));
  for (int i = 50; i < 53; ++i) few.push_back(blocks.Add(BlockData(i, 1000)));
  ServeEverything policy;
  // One block per message, so each turn is one block.
  Server server(net, blocks, policy, ServerOptions{.threads = 0, .target_message_bytes = 1});
  server.OnWantlist("greedy", ProtocolVersion::k120, Wants(many, WantType::kBlock));
  server.OnWantlist("modest", ProtocolVersion::k120, Wants(few, WantType::kBlock));
  while (server.RunOnce()) {
  }
  ASSERT_EQ(net.sent.size(), 53u);
  // The modest peer's three blocks go out in the first six messages, alternating.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(net.sent[i].first, i % 2 == 0 ? "greedy" : "modest") << i;
  // Priorities: the greedy peer's blocks come in its wantlist order (equal priority, FIFO).
  EXPECT_EQ(*net.sent[0].second.blocks[0].prefix.Sum(net.sent[0].second.blocks[0].data), many[0]);
}

TEST(BitswapServer, HigherPriorityFirst) {
  RecordingNetwork net;
  MapGetter blocks;
  Cid low = blocks.Add(BlockData(1));
  Cid high = blocks.Add(BlockData(2));
  ServeEverything policy;
  Server server(net, blocks, policy, ServerOptions{.threads = 0, .target_message_bytes = 1});
  Wantlist wl;
  wl.entries.push_back(WantEntry{low, 1});
  wl.entries.push_back(WantEntry{high, 10});
  server.OnWantlist("p", ProtocolVersion::k120, wl);
  while (server.RunOnce()) {
  }
  ASSERT_EQ(net.sent.size(), 2u);
  EXPECT_EQ(*net.sent[0].second.blocks[0].prefix.Sum(net.sent[0].second.blocks[0].data), high);
}

TEST(BitswapServer, SkipsSlowReadersUntilTheyDrain) {
  RecordingNetwork net;
  MapGetter blocks;
  Cid a = blocks.Add(BlockData(1));
  Cid b = blocks.Add(BlockData(2));
  ServeEverything policy;
  Server server(net, blocks, policy,
                ServerOptions{.threads = 0, .max_queued_bytes_per_peer = 1000});
  net.queued["slow"] = 5000;
  server.OnWantlist("slow", ProtocolVersion::k120, Wants({a}, WantType::kBlock));
  server.OnWantlist("fast", ProtocolVersion::k120, Wants({b}, WantType::kBlock));
  EXPECT_TRUE(server.RunOnce());
  EXPECT_FALSE(server.RunOnce());  // only the slow one is left, and it is full
  ASSERT_EQ(net.sent.size(), 1u);
  EXPECT_EQ(net.sent[0].first, "fast");
  EXPECT_EQ(server.PendingWants("slow"), 1u);
  net.queued["slow"] = 0;
  EXPECT_TRUE(server.RunOnce());
  EXPECT_EQ(net.sent.back().first, "slow");
}

TEST(BitswapServer, LedgerIsBoundedAndFollowsCancelsAndFullWantlists) {
  RecordingNetwork net;
  MapGetter blocks;
  ServeEverything policy;
  Server server(net, blocks, policy, ServerOptions{.threads = 0, .max_wants_per_peer = 100});
  std::vector<Cid> cids;
  for (int i = 0; i < 150; ++i) cids.push_back(RawCid(BlockData(i)));
  server.OnWantlist("p", ProtocolVersion::k120, Wants(cids, WantType::kHave));
  EXPECT_EQ(server.PendingWants("p"), 100u);
  EXPECT_EQ(server.stats().wants_dropped.load(), 50u);
  Wantlist cancel;
  cancel.entries.push_back(WantEntry{cids[0], 1, true});
  server.OnWantlist("p", ProtocolVersion::k120, cancel);
  EXPECT_EQ(server.PendingWants("p"), 99u);
  Wantlist full = Wants({cids[140]}, WantType::kHave);
  full.full = true;
  server.OnWantlist("p", ProtocolVersion::k120, full);
  EXPECT_EQ(server.PendingWants("p"), 1u);
  server.OnPeerGone("p");
  EXPECT_EQ(server.PendingWants("p"), 0u);
}

// A node of the in-memory network: a store, a server, a client and the dispatcher.
struct Node {
  Node(MemoryHub& hub, const PeerId& id, ProtocolVersion version = ProtocolVersion::k120,
       ClientOptions client_options = {.want_timeout = std::chrono::milliseconds(300)})
      : net(hub.AddNode(id, version)),
        server(net, blocks, policy, ServerOptions{}),
        client(net, SystemClock::Instance(), client_options),
        bitswap(net, &server, &client) {
    server.Start();
  }
  MemoryNetwork& net;
  MapGetter blocks;
  ServeEverything policy;
  Server server;
  Client client;
  Bitswap bitswap;
};

int64_t In(int ms) { return SystemClock::Instance().MonotonicMicros() + ms * 1000; }

// Fetches `cids` through `session` from `threads` threads; returns how many verified blocks came.
size_t FetchAll(Session& session, const std::vector<Cid>& cids, const std::map<Cid, Bytes>& want,
                int threads) {
  std::atomic<size_t> next{0}, ok{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < cids.size();) {
        auto got = session.Get(cids[i], In(5000));
        if (got && *got == want.at(cids[i])) ok++;
      }
    });
  }
  for (auto& t : pool) t.join();
  return ok.load();
}

TEST(BitswapClient, SessionKeepsSeveralPeersBusy) {
  MemoryHub hub;
  Node client(hub, "client");
  std::vector<std::unique_ptr<Node>> servers;
  std::vector<Cid> cids;
  std::map<Cid, Bytes> want;
  for (int s = 0; s < 3; ++s)
    servers.push_back(std::make_unique<Node>(hub, "s" + std::to_string(s)));
  for (int i = 0; i < 90; ++i) {
    Bytes data = BlockData(i, 4096);
    for (auto& s : servers) s->blocks.Add(data);
    Cid cid = RawCid(data);
    cids.push_back(cid);
    want[cid] = data;
  }
  std::vector<PeerId> peers;
  for (auto& s : servers) {
    ASSERT_TRUE(client.net.Connect(s->net.Self(), {}, std::chrono::seconds(1)));
    peers.push_back(s->net.Self());
  }
  auto session = client.client.NewSession();
  session->AddPeers(peers);
  EXPECT_EQ(FetchAll(*session, cids, want, 8), cids.size());
  int busy = 0;
  for (auto& s : servers) busy += s->server.stats().blocks_sent.load() > 0 ? 1 : 0;
  EXPECT_GE(busy, 2) << "blocks came from only one peer";
  EXPECT_EQ(client.client.stats().blocks_received.load(), cids.size());
}

TEST(BitswapClient, PeerThatNeverAnswersIsGivenUp) {
  MemoryHub hub;
  Node client(hub, "client");
  Node mute(hub, "mute");
  Node good(hub, "good");
  std::vector<Cid> cids;
  std::map<Cid, Bytes> want;
  for (int i = 0; i < 20; ++i) {
    Bytes data = BlockData(i);
    mute.blocks.Add(data);
    good.blocks.Add(data);
    cids.push_back(RawCid(data));
    want[cids.back()] = data;
  }
  hub.SetMute("mute", true);
  ASSERT_TRUE(client.net.Connect("mute", {}, std::chrono::seconds(1)));
  ASSERT_TRUE(client.net.Connect("good", {}, std::chrono::seconds(1)));
  auto session = client.client.NewSession();
  session->AddPeers({"mute", "good"});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(FetchAll(*session, cids, want, 4), cids.size());
  // The mute peer costs at most a few timeouts, not one per block.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));

  // Alone, it makes Get fail with NotFound after the want timeout, well before the deadline.
  auto alone = client.client.NewSession();
  alone->AddPeers({"mute"});
  auto got = alone->Get(RawCid(BlockData(99)), In(10'000));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(got.error().message().find("mute did not answer"), std::string::npos);
}

TEST(BitswapClient, DontHaveEndsTheWantQuickly) {
  MemoryHub hub;
  Node client(hub, "client", ProtocolVersion::k120,
              ClientOptions{.want_timeout = std::chrono::milliseconds(10'000)});
  Node empty(hub, "empty");
  ASSERT_TRUE(client.net.Connect("empty", {}, std::chrono::seconds(1)));
  auto session = client.client.NewSession();
  session->AddPeers({"empty"});
  auto start = std::chrono::steady_clock::now();
  auto got = session->Get(RawCid(BlockData(1)), In(20'000));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_GE(client.client.stats().dont_haves.load(), 1u);
}

// A peer that answers every want-block with the wrong bytes.
TEST(BitswapClient, WrongBlockIsRefusedAndTheRightOneFetched) {
  MemoryHub hub;
  Node client(hub, "client");
  MemoryNetwork& evil = hub.AddNode("evil");
  evil.SetHandlers(
      [&](const PeerId& from, ProtocolVersion version, ByteSpan bytes) {
        auto m = DecodeMessage(bytes);
        if (!m) return;
        Message reply;
        for (const auto& e : m->wantlist.entries) {
          if (e.cancel) continue;
          if (e.type == WantType::kHave) {
            reply.presences.push_back({e.cid, PresenceType::kHave});  // lies
          } else {
            reply.blocks.push_back(BlockPayload{CidPrefix::Of(e.cid), ToBytes("not the block")});
          }
        }
        if (!reply.empty()) (void)evil.Send(from, *EncodeMessage(reply, version));
      },
      [](const PeerId&, bool) {});
  Node good(hub, "good");
  Bytes data = BlockData(7);
  good.blocks.Add(data);
  Cid cid = RawCid(data);
  ASSERT_TRUE(client.net.Connect("evil", {}, std::chrono::seconds(1)));
  auto only_evil = client.client.NewSession();
  only_evil->AddPeers({"evil"});
  auto bad = only_evil->Get(cid, In(5000));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
  EXPECT_GE(client.client.UnwantedFrom("evil"), 1u);

  ASSERT_TRUE(client.net.Connect("good", {}, std::chrono::seconds(1)));
  auto session = client.client.NewSession();
  session->AddPeers({"evil", "good"});
  auto got = session->Get(cid, In(5000));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, data);
}

TEST(BitswapClient, FetchesFromOldVersionPeers) {
  MemoryHub hub;
  Node client(hub, "client");
  Node v11(hub, "v11", ProtocolVersion::k110);
  Node v10(hub, "v10", ProtocolVersion::k100);
  Bytes raw = BlockData(1);
  Bytes pb = BlockData(2);
  v11.blocks.Add(raw);
  Cid pb_cid = v10.blocks.Add(pb, 0);
  ASSERT_EQ(*client.net.Connect("v11", {}, std::chrono::seconds(1)), ProtocolVersion::k110);
  ASSERT_EQ(*client.net.Connect("v10", {}, std::chrono::seconds(1)), ProtocolVersion::k100);
  auto s11 = client.client.NewSession();
  s11->AddPeers({"v11"});
  auto got = s11->Get(RawCid(raw), In(5000));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, raw);
  auto s10 = client.client.NewSession();
  s10->AddPeers({"v10"});
  auto got0 = s10->Get(pb_cid, In(5000));
  ASSERT_TRUE(got0) << got0.error().ToString();
  EXPECT_EQ(*got0, pb);
}

TEST(BitswapClient, NoConnectedPeerIsUnavailableAndDeadlineIsKept) {
  MemoryHub hub;
  Node client(hub, "client");
  auto session = client.client.NewSession();
  session->AddPeers({"nobody"});
  auto got = session->Get(RawCid(BlockData(1)), In(1000));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);

  Node slow(hub, "slow", ProtocolVersion::k120);
  hub.SetMute("slow", true);
  ASSERT_TRUE(client.net.Connect("slow", {}, std::chrono::seconds(1)));
  session->AddPeers({"slow"});
  auto start = std::chrono::steady_clock::now();
  auto timed = session->Get(RawCid(BlockData(1)), In(100));
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().code(), ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
}

// Rebroadcast: a want sent on a connection that died is sent again when the peer reconnects
// (while another peer keeps the want open; with no connected peer left, Get is Unavailable).
TEST(BitswapClient, ReconnectedPeerIsAskedAgain) {
  MemoryHub hub;
  Node client(hub, "client", ProtocolVersion::k120,
              ClientOptions{.want_timeout = std::chrono::milliseconds(10'000)});
  Node server(hub, "server");
  Node quiet(hub, "quiet");
  hub.SetMute("quiet", true);
  ASSERT_TRUE(client.net.Connect("quiet", {}, std::chrono::seconds(1)));
  Bytes data = BlockData(5);
  server.blocks.Add(data);
  hub.SetMute("server", true);  // its answers on the first connection are lost
  ASSERT_TRUE(client.net.Connect("server", {}, std::chrono::seconds(1)));
  auto session = client.client.NewSession();
  session->AddPeers({"server", "quiet"});
  Result<Bytes> got = Err(ErrorCode::kInternal, "unset");
  auto start = std::chrono::steady_clock::now();
  std::thread getter([&] { got = session->Get(RawCid(data), In(8000)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hub.Disconnect("client", "server");
  hub.WaitIdle();
  hub.SetMute("server", false);
  ASSERT_TRUE(client.net.Connect("server", {}, std::chrono::seconds(1)));
  getter.join();
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, data);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(Bitswap, InvalidMessagesAreDroppedAndCounted) {
  MemoryHub hub;
  Node a(hub, "a");
  MemoryNetwork& raw = hub.AddNode("raw");
  ASSERT_TRUE(raw.Connect("a", {}, std::chrono::seconds(1)));
  ASSERT_TRUE(raw.Send("a", Bytes{0x0a, 0x05, 0x0a}));
  hub.WaitIdle();
  EXPECT_EQ(a.bitswap.messages_invalid(), 1u);
}

}  // namespace
}  // namespace cairn::bitswap
