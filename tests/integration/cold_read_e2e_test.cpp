// End-to-end: hot first, then cold, and the hot tier as a cache (issue 11 §1, §2, §6). The real
// `cairn serve` with the real devnet: a pin becomes two active deals, with f01000 (curio: /piece
// at the HTTP multiaddr on chain) and f01001 (boost: libp2p only on chain; its booster-http /piece
// URL comes from its /fil/retrieval/transports/1.0.0 answer). With `hot.max_bytes = 1` the hot
// tier evicts it as soon as both deals are active, never before, while a `hot=always` pin stays.
// Then, with eviction off, a byte range read through the gateway comes back exact, read from a
// provider's /piece with Range: the devnet's counters show that only the blocks the read needs (the
// file's root, its first leaf for the Content-Type and the leaf holding the range) left the
// providers. With `corrupt-retrieval` on the provider that answered, the next cold read still
// succeeds, from the other one, and the failure is counted per provider in /metrics. The pin's
// events tell all of it in order, to its owner only. A second test kills the server with -9 while
// it evicts many pins: after the restart every pin is evicted exactly once and reads back exact;
// with both replicas then lost, the pin shows at risk and a cold read fails with a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "multiformats/cid.hpp"
#include "tests/integration/devnet_process.hpp"
#include "tests/integration/run.hpp"
#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string Str(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const auto* m = o ? o->if_contains(key) : nullptr;
  return m && m->is_string() ? std::string(m->as_string()) : std::string();
}

class ColdReadE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    devnet_ = std::make_unique<DevnetProcess>("cold-e2e-" + std::to_string(::getpid()), 3);
    if (!devnet_->skip().empty()) GTEST_SKIP() << "devnet not available: " << devnet_->skip();
    ASSERT_FALSE(devnet_->rpc().empty()) << "the devnet did not start";
    repo_ = dir_ / "repo";
    auto wallet = Cairn("wallet new");
    ASSERT_EQ(wallet.exit_code, 0) << wallet.err;
    devnet_->Call("Devnet.Fund", {Lines(wallet.out).at(0), "100000000000000000000"});
    ASSERT_EQ(Cairn("account create alice").exit_code, 0);
    ASSERT_EQ(Cairn("account create bob").exit_code, 0);
    token_ = FirstLine(Cairn("token create --account alice").out);
    bob_ = FirstLine(Cairn("token create --account bob").out);
    port_ = StablePort();
    WriteConfig("");
  }

  // The configuration, with `hot` as the [hot] section's lines ("" = none: unlimited).
  void WriteConfig(const std::string& hot) {
    WriteFile(repo_ + "/config.toml",
              "[pinning]\ngateways = []\n[filecoin]\nrpc = \"" + devnet_->rpc() +
                  "\"\nnetwork = \"testnet\"\nproviders = [\"f01000\", \"f01001\"]\n"
                  "replicas = 2\npiece_size = 4194304\nbatch_wait_seconds = 1\n"
                  "public_url = \"http://127.0.0.1:" +
                  std::to_string(port_) +
                  "\"\nstart_delay_epochs = 200\npoll_seconds = 1\n"
                  "retrieval_deadline_ms = 3000\nprobe_interval_seconds = 0\n" +
                  (hot.empty() ? "" : "[hot]\n" + hot));
  }

  std::string Pin(const std::string& cid, const std::string& meta = "{}") {
    auto r = HttpRequest(port_, "POST", "/pins",
                         {"Authorization: Bearer " + token_, "Content-Type: application/json"},
                         "{\"cid\":\"" + cid + "\",\"meta\":" + meta + "}");
    EXPECT_EQ(r.status, 202) << r.body;
    return Str(json::parse(r.body), "requestid");
  }

  json::value Info(const std::string& id) {
    auto r = Get("/pins/" + id, token_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).at("info") : json::value();
  }

  std::vector<std::string> EventKinds(const std::string& id) {
    std::vector<std::string> kinds;
    auto events = Get("/pins/" + id + "/events?limit=1000", token_);
    EXPECT_EQ(events.status, 200) << events.body;
    if (events.status != 200) return kinds;
    const json::value history = json::parse(events.body);
    for (const auto& e : history.at("results").as_array()) kinds.push_back(Str(e, "type"));
    return kinds;
  }

  std::string AddFile(const std::string& name, const std::string& data) {
    WriteFile(dir_ / name, data);
    auto added = Cairn("add -Q " + ShellQuote(dir_ / name));
    EXPECT_EQ(added.exit_code, 0) << added.err;
    return FirstLine(added.out);
  }

  static std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

  RunResult Cairn(const std::string& args) {
    return RunCairn("--repo " + ShellQuote(repo_) + " " + args);
  }

  std::unique_ptr<ServeProcess> Start() {
    auto serve = std::make_unique<ServeProcess>(repo_, std::vector<std::string>{}, 0,
                                                "127.0.0.1:" + std::to_string(port_));
    EXPECT_EQ(serve->port(), port_) << serve->output();
    return serve;
  }

  HttpReply Get(const std::string& target, const std::string& token,
                std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + token);
    return HttpRequest(port_, "GET", target, headers);
  }

  // BytesServed and piece GETs of a devnet provider.
  std::pair<int64_t, int64_t> Served(const std::string& provider) {
    auto s = devnet_->Call("Devnet.Stats", {provider});
    const auto& requests = s.at("Requests").as_object();
    int64_t gets =
        requests.contains("piece-get") ? requests.at("piece-get").to_number<int64_t>() : 0;
    return {s.at("BytesServed").to_number<int64_t>(), gets};
  }

  uint64_t BlockSize(const std::string& cid) {
    auto stat = Cairn("block stat " + cid);
    EXPECT_EQ(stat.exit_code, 0) << stat.err;
    auto at = stat.out.find("Size: ");
    return at == std::string::npos ? 0 : std::stoull(stat.out.substr(at + 6));
  }

  TempDir dir_;
  std::string repo_;
  std::unique_ptr<DevnetProcess> devnet_;
  std::string token_, bob_;
  uint16_t port_ = 0;
};

TEST_F(ColdReadE2e, RangeReadComesFromOneProvidersPieceAndSurvivesACorruptOne) {
  // A 1.2 MB file: a root and five 256 KiB leaves.
  std::string data;
  for (size_t i = 0; data.size() < 1'200'000; ++i)
    data += "cold " + std::to_string(i * 7919) + "\n";
  const std::string root = AddFile("file.txt", data);
  const std::string kept_root = AddFile("kept.txt", "kept hot whatever the limit says\n");
  auto started = std::chrono::steady_clock::now();
  auto exported = Cairn("car export " + root + " -o " + ShellQuote(dir_ / "pin.car"));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto listed = Cairn("car ls " + ShellQuote(dir_ / "pin.car"));
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<std::string> blocks = Lines(listed.out);
  ASSERT_EQ(blocks.size(), 6u) << listed.out;  // root, then the leaves in file order
  std::vector<uint64_t> sizes;
  for (const auto& cid : blocks) sizes.push_back(BlockSize(cid));

  // A hot tier of 1 byte: every pin may go, but only once both its deals are active.
  WriteConfig("max_bytes = 1\ncheck_interval_seconds = 1\n");
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(root);
  const std::string kept = Pin(kept_root, R"({"hot":"always"})");
  json::value info;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    info = Info(id);
    if (Str(info, "hot") == "cold-only") break;
    if (Str(info, "filecoin") != "active 2/2" && !Str(info, "hot").empty()) {
      ASSERT_EQ(Str(info, "hot"), "cached") << "evicted before its deals were active";
    }
    devnet_->Call("Devnet.Advance", {1});
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(Str(info, "hot"), "cold-only") << json::serialize(info);
  EXPECT_EQ(Str(info, "filecoin"), "active 2/2") << json::serialize(info);
  const json::value kept_info = Info(kept);
  EXPECT_EQ(Str(kept_info, "filecoin"), "active 2/2") << json::serialize(kept_info);
  EXPECT_EQ(Str(kept_info, "hot"), "cached") << json::serialize(kept_info);
  {
    auto metrics = HttpRequest(port_, "GET", "/metrics").body;
    EXPECT_NE(metrics.find("cairn_hot_evictions_total 1\n"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("cairn_hot_max_bytes 1\n"), std::string::npos) << metrics;
  }
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  EXPECT_NE(serve->output().find("cairn: hot tier: cache of 1 bytes, policy lru-2"),
            std::string::npos)
      << serve->output();
  EXPECT_EQ(Cairn("block stat " + kept_root).exit_code, 0) << "the hot=always pin was evicted";

  // The hot copy is gone: every block of the DAG. From here on the hot tier has no limit, so
  // that what reads bring back stays.
  WriteConfig("");
  for (const auto& cid : blocks) {
    EXPECT_NE(Cairn("block stat " + cid).exit_code, 0) << cid << " is still hot";
  }

  serve = Start();
  ASSERT_NE(serve->port(), 0);
  // Bytes 300000..309999 lie in leaf 1 (262144..524287). Fetched: the root, leaf 0 (the gateway
  // sniffs the Content-Type from the file's first 512 bytes, as Kubo does) and leaf 1; not
  // leaves 2..4, and never the aggregate.
  auto range = Get("/ipfs/" + root, token_, {"Range: bytes=300000-309999"});
  ASSERT_EQ(range.status, 206) << range.body;
  EXPECT_EQ(range.body, data.substr(300000, 10000));
  auto [served0, gets0] = Served("f01000");
  auto [served2, gets2] = Served("f01001");
  EXPECT_EQ(served0 + served2, static_cast<int64_t>(sizes[0] + sizes[1] + sizes[2]))
      << "only the root, leaf 0 and leaf 1 may leave the providers (" << sizes[0] << " + "
      << sizes[1] << " + " << sizes[2] << "): f01000 served " << served0 << ", f01001 " << served2;
  EXPECT_EQ(gets0 + gets2, 3);

  // The provider that answered now flips bits: the next cold read moves to the other one.
  const std::string first = served0 > 0 ? "f01000" : "f01001";
  const std::string other = first == "f01000" ? "f01001" : "f01000";
  devnet_->Call("Devnet.Fault", {first, "corrupt-retrieval", json::object()});
  auto before_other = Served(other).first;
  auto second = Get("/ipfs/" + root, token_, {"Range: bytes=600000-600999"});
  ASSERT_EQ(second.status, 206) << second.body;
  EXPECT_EQ(second.body, data.substr(600000, 1000));
  EXPECT_EQ(Served(other).first - before_other, static_cast<int64_t>(sizes[3]));
  // The root was re-warmed by the first read: reading it again costs the providers nothing.
  auto again = Get("/ipfs/" + root, token_, {"Range: bytes=300000-300099"});
  EXPECT_EQ(again.body, data.substr(300000, 100));
  EXPECT_EQ(Served(other).first - before_other, static_cast<int64_t>(sizes[3]));

  // The Kubo RPC reads through the same path: block/get of the last leaf (cold) gives exactly
  // its bytes; cat of the whole file then fetches only leaf 3, the one block still cold.
  auto leaf = HttpRequest(port_, "POST", "/api/v0/block/get?arg=" + blocks[5],
                          {"Authorization: Bearer " + token_});
  ASSERT_EQ(leaf.status, 200) << leaf.body;
  EXPECT_TRUE(multiformats::Cid::Parse(blocks[5])->hash().Verify(AsBytes(leaf.body)));
  auto cat =
      HttpRequest(port_, "POST", "/api/v0/cat?arg=" + root, {"Authorization: Bearer " + token_});
  ASSERT_EQ(cat.status, 200);
  EXPECT_TRUE(cat.body == data) << "cat returned " << cat.body.size() << " bytes";

  auto metrics = HttpRequest(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("cairn_cold_reads_total 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("cairn_cold_read_failures_total{provider=\"t" + first.substr(1) + "\"} 1"),
            std::string::npos)
      << metrics;

  // The pin's history, in order, for its owner; another account sees no such pin.
  auto events = Get("/pins/" + id + "/events?limit=1000", token_);
  ASSERT_EQ(events.status, 200) << events.body;
  const json::value history = json::parse(events.body);
  std::vector<std::string> kinds;
  for (const auto& e : history.at("results").as_array()) kinds.push_back(Str(e, "type"));
  auto pos = [&](const std::string& kind) {
    return std::find(kinds.begin(), kinds.end(), kind) - kinds.begin();
  };
  ASSERT_GE(kinds.size(), 8u) << events.body;
  EXPECT_EQ(kinds[0], "created");
  EXPECT_EQ(kinds[1], "pinned");
  EXPECT_EQ(kinds[2], "aggregated");
  EXPECT_LT(pos("deal_proposed"), pos("deal_accepted"));
  EXPECT_LT(pos("deal_accepted"), pos("deal_published"));
  EXPECT_LT(pos("deal_published"), pos("deal_active"));
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "deal_active"), 2) << events.body;
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "evicted"), 1) << events.body;
  EXPECT_LT(pos("deal_active"), pos("evicted"));
  EXPECT_LT(pos("evicted"), pos("read_from_cold"));
  EXPECT_EQ(kinds.back(), "read_from_cold") << events.body;
  auto page = Get("/pins/" + id + "/events?limit=2", token_);
  auto paged = json::parse(page.body);
  ASSERT_EQ(paged.at("results").as_array().size(), 2u);
  auto rest = json::parse(Get("/pins/" + id + "/events?after=" + Str(paged, "next"), token_).body);
  ASSERT_FALSE(rest.at("results").as_array().empty());
  EXPECT_EQ(Str(rest.at("results").as_array().at(0), "type"), "aggregated");
  EXPECT_EQ(Get("/pins/" + id + "/events", bob_).status, 404);
  EXPECT_EQ(HttpRequest(port_, "GET", "/pins/" + id + "/events").status, 401);
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  std::printf("cold read e2e: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

TEST_F(ColdReadE2e, APinInCarShardsLeavesOnlyWhenEveryShardIsSafeAndReadsBackWhole) {
  // 5 MB against pieces of 4 MiB: a segment holds at most 2,080,768 bytes of CAR, so the DAG is
  // cut into 3 shards, each in its own aggregate with its own deals.
  std::string data;
  for (size_t i = 0; data.size() < 5'000'000; ++i) data += "shard " + std::to_string(i * 31) + "\n";
  const std::string root = AddFile("big.txt", data);
  auto exported = Cairn("car export " + root + " -o " + ShellQuote(dir_ / "big.car"));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto listed = Cairn("car ls " + ShellQuote(dir_ / "big.car"));
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const std::vector<std::string> blocks = Lines(listed.out);

  WriteConfig("max_bytes = 1\ncheck_interval_seconds = 1\n");
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(root);
  json::value info;
  std::string metrics;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    info = Info(id);
    metrics = HttpRequest(port_, "GET", "/metrics").body;
    if (metrics.find("cairn_hot_evictions_total 3\n") != std::string::npos) break;
    if (Str(info, "filecoin") != "active 2/2" && !Str(info, "hot").empty()) {
      ASSERT_EQ(Str(info, "hot"), "cached")
          << "a shard was evicted before every shard's deals were active: "
          << json::serialize(info);
    }
    devnet_->Call("Devnet.Advance", {1});
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_NE(metrics.find("cairn_hot_evictions_total 3\n"), std::string::npos)
      << json::serialize(info) << "\n"
      << metrics;
  EXPECT_EQ(Str(info, "shards"), "3") << json::serialize(info);
  EXPECT_EQ(Str(info, "hot"), "cold-only") << json::serialize(info);
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  WriteConfig("");
  for (const auto& cid : blocks) {
    EXPECT_NE(Cairn("block stat " + cid).exit_code, 0) << cid << " is still hot";
  }

  // Read back whole through the gateway, from the providers, shard by shard; the pin is cached
  // again once every shard is.
  serve = Start();
  ASSERT_NE(serve->port(), 0);
  auto whole = Get("/ipfs/" + root, token_);
  ASSERT_EQ(whole.status, 200) << whole.body.substr(0, 200);
  EXPECT_TRUE(whole.body == data) << "read " << whole.body.size() << " bytes";
  deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && Str(Info(id), "hot") != "cached") {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(Str(Info(id), "hot"), "cached") << json::serialize(Info(id));
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

TEST_F(ColdReadE2e, KillDuringEvictionLosesNothingAndLosingEveryReplicaShowsAtRisk) {
  auto started = std::chrono::steady_clock::now();
  // Twelve files of 100 kB, one pin each (one aggregate: 1.2 MB of a 4 MiB piece).
  std::vector<std::string> files, roots, ids;
  for (int i = 0; i < 12; ++i) {
    std::string data;
    for (size_t j = 0; data.size() < 100'000; ++j) {
      data += "evict " + std::to_string(i) + " " + std::to_string(j * 104729) + "\n";
    }
    files.push_back(data);
    roots.push_back(AddFile("f" + std::to_string(i) + ".txt", data));
  }
  // With no limit, every pin becomes two active deals.
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  for (const auto& root : roots) ids.push_back(Pin(root));
  auto deadline = std::chrono::steady_clock::now() + 90s;
  auto all = [&](const char* key, const std::string& value) {
    return std::all_of(ids.begin(), ids.end(),
                       [&](const std::string& id) { return Str(Info(id), key) == value; });
  };
  while (std::chrono::steady_clock::now() < deadline && !all("filecoin", "active 2/2")) {
    devnet_->Call("Devnet.Advance", {1});
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(all("filecoin", "active 2/2"));
  ASSERT_TRUE(all("hot", "cached"));
  EXPECT_EQ(serve->Stop(), 0) << serve->output();

  // A 1-byte hot tier: the first pass (1 s after the start) evicts all twelve. Killed with -9
  // around then: before, during or after the pass, depending on the machine.
  WriteConfig("max_bytes = 1\ncheck_interval_seconds = 1\n");
  serve = Start();
  ASSERT_NE(serve->port(), 0);
  std::this_thread::sleep_for(1050ms);
  serve->Stop(SIGKILL);
  serve = Start();
  ASSERT_NE(serve->port(), 0);
  deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !all("hot", "cold-only")) {
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(all("hot", "cold-only"));
  // Each pin was evicted exactly once, whatever the kill interrupted.
  for (const auto& id : ids) {
    auto kinds = EventKinds(id);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "evicted"), 1) << id;
  }
  // Every file reads back exact, from the providers.
  for (size_t i = 0; i < roots.size(); ++i) {
    auto r = Get("/ipfs/" + roots[i], token_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.body == files[i]) << "file " << i << ": " << r.body.size() << " bytes";
  }

  // What the reads brought back goes again: every re-warmed block is a touch, a pass finds each
  // pin wholly hot again (rewarmed), and the limit holds, so a pass evicts it once more. Waited
  // for, not slept on: how many passes that takes depends on the machine's load.
  auto settled = [&](const std::string& id) {
    auto kinds = EventKinds(id);
    auto rewarmed = std::find(kinds.begin(), kinds.end(), "rewarmed");
    return rewarmed != kinds.end() && std::find(rewarmed, kinds.end(), "evicted") != kinds.end() &&
           Str(Info(id), "hot") == "cold-only";
  };
  deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         !std::all_of(ids.begin(), ids.end(), settled)) {
    std::this_thread::sleep_for(200ms);
  }
  for (const auto& id : ids) {
    std::string history;
    for (const auto& k : EventKinds(id)) history += k + " ";
    ASSERT_TRUE(settled(id)) << id << ": hot " << Str(Info(id), "hot") << ", events " << history;
  }

  // Another account pins one of the evicted CIDs: with no gateway and no origin, its blocks can
  // only come back from the providers, and they do.
  auto again = HttpRequest(port_, "POST", "/pins",
                           {"Authorization: Bearer " + bob_, "Content-Type: application/json"},
                           "{\"cid\":\"" + roots[1] + "\"}");
  ASSERT_EQ(again.status, 202) << again.body;
  const std::string bob_pin = Str(json::parse(again.body), "requestid");
  std::string status;
  deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && status != "pinned") {
    auto r = Get("/pins/" + bob_pin, bob_);
    if (r.status == 200) status = Str(json::parse(r.body), "status");
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(status, "pinned") << "an evicted CID could not be pinned again from the cold tier";

  // Both providers lose the data. Only they are configured, so no repair is possible: the pins
  // are at risk, and a read fails with a reason that says so, not with a plain "not found".
  devnet_->Call("Devnet.Fault", {"f01000", "lose-data", json::object()});
  devnet_->Call("Devnet.Fault", {"f01001", "lose-data", json::object()});
  deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         Str(Info(ids[0]), "filecoin") != "at risk 0/2") {
    devnet_->Call("Devnet.Advance", {1});
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(Str(Info(ids[0]), "filecoin"), "at risk 0/2") << json::serialize(Info(ids[0]));
  auto lost = Get("/ipfs/" + roots[0], token_);
  EXPECT_EQ(lost.status, 503) << lost.body;
  EXPECT_NE(lost.body.find("the pin is at risk"), std::string::npos) << lost.body;
  EXPECT_NE(lost.body.find(ids[0]), std::string::npos) << lost.body;
  auto metrics = HttpRequest(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("cairn_hot_account_cold_only_pins{account=\""), std::string::npos)
      << metrics;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  std::printf("kill during eviction e2e: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace cairn::testing
