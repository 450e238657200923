// End-to-end: the real `cairn serve` makes Filecoin storage deals on the real devnet (Node,
// devnet/, started with --epoch-ms 0 so that time moves only through Devnet.Advance), issue 10.
// A pinned pin becomes a data segment, is aggregated, gets 2 deals with 2 distinct providers of
// both kinds — f01000 "curio" (mk12 over HTTP) and f01001 "boost" (mk12 over libp2p streams,
// through the node's libp2p host) —, the providers pull the aggregate from
// /filecoin/piece/<deal>, publish, seal, and the deals are active at the finalized tipset,
// visible in the pin's PSA info, with the providers' scores in /healthz and /metrics. A kill -9
// while deals are being proposed leads to no duplicate proposal and no lost deal. The pin's
// receipt (GET /pins/{id}/receipt) is verified by `cairn receipt verify` and, independently of
// Cairn, by tests/interop/receipt_verify.mjs (data-segment, the providers' /piece, the chain); a
// pin with a per-pin policy (filecoin.* meta) gets its own aggregate and deals as it asks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "apps/cairn/rpc_transport.hpp"
#include "filecoin/chain/chain_client.hpp"
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

class DealsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    // 6 providers: curio f01000, f01002, f01004; boost f01001, f01003, f01005.
    devnet_ = std::make_unique<DevnetProcess>("deals-e2e-" + std::to_string(::getpid()), 6);
    if (!devnet_->skip().empty()) GTEST_SKIP() << "devnet not available: " << devnet_->skip();
    ASSERT_FALSE(devnet_->rpc().empty()) << "the devnet did not start";
    repo_ = dir_ / "repo";
    auto wallet = Cairn("wallet new");
    ASSERT_EQ(wallet.exit_code, 0) << wallet.err;
    address_ = Lines(wallet.out).at(0);
    devnet_->Call("Devnet.Fund", {address_, "100000000000000000000"});  // 100 FIL
    ASSERT_EQ(Cairn("account create alice").exit_code, 0);
    auto token = Cairn("token create --account alice");
    ASSERT_EQ(token.exit_code, 0) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));
    port_ = StablePort();
    WriteFile(repo_ + "/config.toml",
              "[pinning]\ngateways = []\n"
              "[filecoin]\n"
              "rpc = \"" +
                  devnet_->rpc() +
                  "\"\n"
                  "network = \"testnet\"\n"
                  "providers = [\"f01000\", \"f01001\", \"f01002\", \"f01003\", \"f01004\", "
                  "\"f01005\"]\n"
                  "replicas = 2\n"
                  "piece_size = 1048576\n"
                  "batch_wait_seconds = 1\n"
                  "public_url = \"http://127.0.0.1:" +
                  std::to_string(port_) +
                  "\"\n"
                  "start_delay_epochs = 200\n"
                  "poll_seconds = 1\n");
  }

  RunResult Cairn(const std::string& args) {
    return RunCairn("--repo " + ShellQuote(repo_) + " " + args);
  }

  std::unique_ptr<ServeProcess> Start() {
    auto serve = std::make_unique<ServeProcess>(repo_, std::vector<std::string>{}, 0,
                                                "127.0.0.1:" + std::to_string(port_));
    EXPECT_EQ(serve->port(), port_) << serve->output();
    return serve;
  }

  std::string AddContent(const std::string& name, size_t size) {
    std::string data;
    for (size_t i = 0; data.size() < size; ++i) data += name + std::to_string(i * 7919) + "\n";
    WriteFile(dir_ / name, data);
    auto added = Cairn("add -Q " + ShellQuote(dir_ / name));
    EXPECT_EQ(added.exit_code, 0) << added.err;
    return added.out.substr(0, added.out.find('\n'));
  }

  std::string Pin(const std::string& cid) {
    auto r = HttpRequest(port_, "POST", "/pins",
                         {"Authorization: Bearer " + token_, "Content-Type: application/json"},
                         "{\"cid\":\"" + cid + "\"}");
    EXPECT_EQ(r.status, 202) << r.body;
    return Str(json::parse(r.body), "requestid");
  }

  json::value GetPin(const std::string& id) {
    auto r = HttpRequest(port_, "GET", "/pins/" + id, {"Authorization: Bearer " + token_});
    if (r.status != 200) return json::value();
    return json::parse(r.body);
  }

  // Advances the devnet one epoch every `step` until `done` holds or `bound` passes.
  bool AdvanceUntil(const std::function<bool()>& done, std::chrono::seconds bound,
                    std::chrono::milliseconds step = 250ms) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      devnet_->Call("Devnet.Advance", {1});
      std::this_thread::sleep_for(step);
    }
    return done();
  }

  // Advances the devnet until the pin's info.filecoin is `state`; `pin` keeps the last answer.
  bool UntilFilecoin(const std::string& id, const std::string& state, json::value& pin,
                     std::chrono::seconds bound) {
    return AdvanceUntil(
        [&] {
          pin = GetPin(id);
          return pin.is_object() && Str(pin.at("info"), "filecoin") == state;
        },
        bound);
  }

  json::array DevnetDeals() {
    auto v = devnet_->Call("Devnet.Deals");
    return v.is_array() ? v.as_array() : json::array();
  }

  TempDir dir_;
  std::string repo_;
  std::unique_ptr<DevnetProcess> devnet_;
  std::string address_;
  std::string token_;
  uint16_t port_ = 0;
};

TEST_F(DealsE2e, PinBecomesTwoActiveDealsWithACurioAndABoostProvider) {
  const std::string cid = AddContent("small.txt", 200000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  ASSERT_FALSE(id.empty());

  json::value pin;
  auto started = std::chrono::steady_clock::now();
  bool active = UntilFilecoin(id, "active 2/2", pin, 180s);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(active) << "pin: " << json::serialize(pin)
                      << "\ndevnet deals: " << json::serialize(DevnetDeals())
                      << "\nhealthz: " << HttpRequest(port_, "GET", "/healthz").body;
  std::printf("deals e2e: pinned to active 2/2 in %.1f s\n",
              std::chrono::duration<double>(took).count());

  // The PSA answer stays valid: status is the hot pin's, info is string → string.
  EXPECT_EQ(Str(pin, "status"), "pinned");
  for (const auto& [k, v] : pin.at("info").as_object()) EXPECT_TRUE(v.is_string()) << k;
  const std::string piece_cid = Str(pin.at("info"), "piece_cid");
  EXPECT_EQ(piece_cid.rfind("baga", 0), 0u) << piece_cid;
  const std::string deals = Str(pin.at("info"), "deals");

  // The devnet's view: exactly two deals, both active, for that piece, with the first two
  // providers of the configuration (equal scores: configuration order): one of each kind.
  auto all = DevnetDeals();
  ASSERT_EQ(all.size(), 2u) << json::serialize(all);
  std::set<std::string> providers, kinds;
  for (const auto& d : all) {
    EXPECT_EQ(Str(d, "State"), "active") << d;
    kinds.insert(Str(d, "ProviderKind"));
    EXPECT_EQ(Str(d, "PieceCID"), piece_cid) << d;
    providers.insert(Str(d, "Provider"));
    const auto deal_id = d.at("DealID").to_number<int64_t>();
    EXPECT_NE(deals.find(":" + std::to_string(deal_id) + ":active"), std::string::npos)
        << deals << " lacks deal " << deal_id;
  }
  EXPECT_EQ(providers, (std::set<std::string>{"f01000", "f01001"}));
  EXPECT_EQ(kinds, (std::set<std::string>{"curio", "boost"}));

  // /healthz counts the deals, skips no provider, and shows each provider's transport, counts
  // and score: the two that made active deals rank above the four without history.
  auto health = HttpRequest(port_, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  auto h = json::parse(health.body);
  EXPECT_EQ(Str(h.at("cold_tier"), "state"), "on");
  EXPECT_EQ(h.at("cold_tier").at("deals").at("active").to_number<int>(), 2) << health.body;
  EXPECT_TRUE(h.at("cold_tier").at("skipped_providers").as_object().empty()) << health.body;
  const auto& scored = h.at("cold_tier").at("providers").as_array();
  ASSERT_EQ(scored.size(), 6u) << health.body;
  EXPECT_EQ(Str(scored[0], "provider"), "t01000");
  EXPECT_EQ(Str(scored[0], "transport"), "http");
  EXPECT_EQ(Str(scored[1], "provider"), "t01001");
  EXPECT_EQ(Str(scored[1], "transport"), "libp2p");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(scored[i].at("proposals").to_number<int>(), 1) << health.body;
    EXPECT_EQ(scored[i].at("accepted").to_number<int>(), 1) << health.body;
    EXPECT_EQ(scored[i].at("active").to_number<int>(), 1) << health.body;
    EXPECT_GT(scored[i].at("score").to_number<double>(), scored[2].at("score").to_number<double>());
  }
  EXPECT_EQ(scored[2].at("proposals").to_number<int>(), 0) << health.body;

  auto metrics = HttpRequest(port_, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("cairn_deals{state=\"active\"} 2"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("cairn_provider_score{provider=\"t01002\"} 0.25"), std::string::npos)
      << metrics.body;
  EXPECT_NE(
      metrics.body.find("cairn_provider_deal_events_total{provider=\"t01001\",event=\"active\"} 1"),
      std::string::npos)
      << metrics.body;
  // What the cold tier holds: the pin's CAR once, the padded piece once per active deal; and the
  // paying wallet's funds as the chain reports them (escrow topped up for the two deals).
  const std::string car_bytes = "\ncairn_cold_payload_bytes ";
  ASSERT_NE(metrics.body.find(car_bytes), std::string::npos) << metrics.body;
  EXPECT_GT(std::stoull(metrics.body.substr(metrics.body.find(car_bytes) + car_bytes.size())),
            200000u);
  const std::string stored = "\ncairn_cold_stored_bytes ";
  ASSERT_NE(metrics.body.find(stored), std::string::npos) << metrics.body;
  const uint64_t padded =
      std::stoull(metrics.body.substr(metrics.body.find(stored) + stored.size()));
  EXPECT_EQ(padded, 2 * all[0].at("PieceSize").to_number<uint64_t>()) << metrics.body;
  EXPECT_NE(metrics.body.find("cairn_market_escrow_attofil{wallet=\"t"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("cairn_datacap_bytes{wallet=\"t"), std::string::npos) << metrics.body;

  // `cairn deals providers` ranks them the same way, beside the running server.
  auto listed = Cairn("deals providers --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto ranked = json::parse(listed.out).as_array();
  ASSERT_EQ(ranked.size(), 6u) << listed.out;
  EXPECT_EQ((std::set<std::string>{Str(ranked[0], "provider"), Str(ranked[1], "provider")}),
            (std::set<std::string>{"t01000", "t01001"}))
      << listed.out;
  EXPECT_EQ(Str(ranked[2], "provider"), "t01002") << "ties keep configuration order";
  auto text = Cairn("deals providers");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("t01005       0.2500         0"), std::string::npos) << text.out;

  // The deal data endpoint: no token → 401; a published deal's data is no longer served.
  const std::string uuid = Str(all[0], "UUID");
  auto no_token = HttpRequest(port_, "GET", "/filecoin/piece/" + uuid);
  EXPECT_EQ(no_token.status, 401) << no_token.body;
  auto wrong = HttpRequest(port_, "GET", "/filecoin/piece/" + uuid, {"Authorization: Bearer 00"});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  // The banner says the cold tier is on (read once the process ended: it follows the port line).
  // Providers configured as f0… are named in the network's spelling, as the wallet and the deals.
  EXPECT_NE(serve->output().find("cairn: cold tier on: 2 deals per piece with "
                                 "t01000,t01001,t01002,t01003,t01004,t01005, paid by t1"),
            std::string::npos)
      << serve->output();
}

TEST_F(DealsE2e, KillDuringProposingNeitherDuplicatesNorLosesDeals) {
  const std::string cid = AddContent("killed.txt", 100000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  ASSERT_FALSE(id.empty());
  // Kill -9 as soon as the first proposal reached a provider (the second may be in flight).
  bool proposed = AdvanceUntil([&] { return !DevnetDeals().empty(); }, 60s, 50ms);
  ASSERT_TRUE(proposed) << json::serialize(GetPin(id));
  EXPECT_EQ(serve->Stop(SIGKILL), 128 + SIGKILL);
  auto before = DevnetDeals();

  auto again = Start();
  ASSERT_NE(again->port(), 0);
  json::value pin;
  bool active = UntilFilecoin(id, "active 2/2", pin, 180s);
  auto all = DevnetDeals();
  ASSERT_TRUE(active) << json::serialize(pin) << "\n" << json::serialize(all);
  // Every deal the providers had before the kill is still known to Cairn (shown on the pin, in
  // whatever state the provider left it: a transfer cut by the kill fails, and is replaced); no
  // provider got a second proposal for the piece; exactly 2 deals are active.
  const std::string shown = Str(pin.at("info"), "deals");
  std::set<std::string> uuids, providers;
  int active_deals = 0;
  for (const auto& d : all) {
    uuids.insert(Str(d, "UUID"));
    EXPECT_TRUE(providers.insert(Str(d, "Provider")).second) << "two deals with one provider";
    if (Str(d, "State") == "active") ++active_deals;
  }
  for (const auto& d : before) {
    EXPECT_TRUE(uuids.count(Str(d, "UUID"))) << d;
    std::string provider = Str(d, "Provider");
    EXPECT_NE(shown.find("t" + provider.substr(1) + ":"), std::string::npos) << shown;
  }
  EXPECT_EQ(active_deals, 2) << json::serialize(all);
  std::printf("deals e2e: after kill -9: %s\n", shown.c_str());
  EXPECT_EQ(again->Stop(), 0);
}

// Replaces the first `"key":<number>` in `json` by `"key":<value>` (a tampered receipt).
std::string Tamper(std::string json, const std::string& key, const std::string& value) {
  const std::string needle = "\"" + key + "\":";
  size_t at = json.find(needle);
  if (at == std::string::npos) return json;
  at += needle.size();
  size_t end = json.find_first_of(",}", at);
  return json.replace(at, end - at, value);
}

TEST_F(DealsE2e, ReceiptVerifiesWithTheCliAndIndependentlyInJs) {
  if (!std::filesystem::exists(InteropDir() + "/node_modules/@web3-storage/data-segment")) {
    GTEST_SKIP() << "tests/interop/node_modules is missing (scripts/install-deps.sh)";
  }
  ASSERT_EQ(Cairn("account create bob").exit_code, 0);
  auto bob = Cairn("token create --account bob");
  ASSERT_EQ(bob.exit_code, 0) << bob.err;
  const std::string bob_token = bob.out.substr(0, bob.out.find('\n'));
  const std::string cid = AddContent("receipt.txt", 300000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  ASSERT_FALSE(id.empty());
  json::value pin;
  auto started = std::chrono::steady_clock::now();
  bool active = AdvanceUntil(
      [&] {
        pin = GetPin(id);
        return pin.is_object() && Str(pin.at("info"), "filecoin") == "active 2/2";
      },
      120s, 100ms);
  ASSERT_TRUE(active) << json::serialize(pin) << "\n" << json::serialize(DevnetDeals());
  std::printf("receipt e2e: pinned to active 2/2 in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  auto got =
      HttpRequest(port_, "GET", "/pins/" + id + "/receipt", {"Authorization: Bearer " + token_});
  ASSERT_EQ(got.status, 200) << got.body;
  auto receipt = json::parse(got.body);
  EXPECT_EQ(Str(receipt.at("aggregate"), "pieceCid"), Str(pin.at("info"), "piece_cid"));
  ASSERT_EQ(receipt.at("deals").as_array().size(), 2u) << got.body;
  const std::string file = dir_ / "receipt.json";
  WriteFile(file, got.body);
  auto offline = Cairn("receipt verify " + ShellQuote(file));
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("ok   inclusion"), std::string::npos) << offline.out;
  auto onchain = Cairn("receipt verify " + ShellQuote(file) + " --rpc " + devnet_->rpc());
  EXPECT_EQ(onchain.exit_code, 0) << onchain.out << onchain.err;
  EXPECT_EQ(Lines(onchain.out).size(), 3u) << onchain.out;
  // A moved segment fails the proof (exit 2); a deal whose end epoch was changed fails on chain
  // (exit 3), and the output names the field.
  WriteFile(file, Tamper(got.body, "offset", "2048"));
  auto moved = Cairn("receipt verify " + ShellQuote(file));
  EXPECT_EQ(moved.exit_code, 2) << moved.out << moved.err;
  EXPECT_NE(moved.out.find("FAIL inclusion"), std::string::npos) << moved.out;
  WriteFile(file, Tamper(got.body, "endEpoch", "999999999"));
  auto longer = Cairn("receipt verify " + ShellQuote(file) + " --rpc " + devnet_->rpc());
  EXPECT_EQ(longer.exit_code, 3) << longer.out << longer.err;
  EXPECT_NE(longer.out.find("end epoch: on chain"), std::string::npos) << longer.out;

  // The operator's view of the same deals.
  auto listed = Cairn("deals list --pin " + id + " --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto deals = json::parse(listed.out).as_array();
  ASSERT_EQ(deals.size(), 2u) << listed.out;
  for (const auto& d : deals) EXPECT_EQ(Str(d, "state"), "active") << d;
  auto table = Cairn("deals list");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(Lines(table.out).size(), 3u) << table.out;

  // Independently of Cairn, in JS; and bob cannot see alice's receipt.
  ::setenv("CAIRN_URL", ("http://127.0.0.1:" + std::to_string(port_)).c_str(), 1);
  ::setenv("CAIRN_TOKEN", token_.c_str(), 1);
  ::setenv("CAIRN_OTHER_TOKEN", bob_token.c_str(), 1);
  ::setenv("CAIRN_PIN", id.c_str(), 1);
  ::setenv("CAIRN_CID", cid.c_str(), 1);
  ::setenv("DEVNET_RPC", devnet_->rpc().c_str(), 1);
  auto js = RunNodeDriver("receipt_verify.mjs", "2>&1");
  EXPECT_EQ(js.exit_code, 0) << js.out;
  EXPECT_NE(js.out.find("# fail 0"), std::string::npos) << js.out;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

TEST_F(DealsE2e, PinsOfEverySizeUpToLargerThanAPieceBecomeActiveAndShardsVerifyInJs) {
  if (!std::filesystem::exists(InteropDir() + "/node_modules/@web3-storage/data-segment")) {
    GTEST_SKIP() << "tests/interop/node_modules is missing (scripts/install-deps.sh)";
  }
  // Pieces of 1 MiB: a segment holds at most 508 KiB of CAR, so 2.5 MiB is cut into shards.
  const std::string tiny = AddContent("tiny.txt", 10);
  const std::string mid = AddContent("mid.txt", 200000);
  const std::string big = AddContent("big.txt", 2621440);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::vector<std::string> ids = {Pin(tiny), Pin(mid), Pin(big)};
  for (const auto& id : ids) ASSERT_FALSE(id.empty());
  json::value pin;
  bool active = AdvanceUntil(
      [&] {
        for (const auto& id : ids) {
          pin = GetPin(id);
          if (!pin.is_object() || Str(pin.at("info"), "filecoin") != "active 2/2") return false;
        }
        return true;
      },
      300s, 100ms);
  ASSERT_TRUE(active) << json::serialize(pin) << "\n" << json::serialize(DevnetDeals());
  pin = GetPin(ids[2]);
  const int shards = std::stoi(Str(pin.at("info"), "shards"));
  EXPECT_GE(shards, 5) << json::serialize(pin);
  EXPECT_EQ(Str(GetPin(ids[0]).at("info"), "shards"), "") << "one segment: no shards key";

  auto got = HttpRequest(port_, "GET", "/pins/" + ids[2] + "/receipt",
                         {"Authorization: Bearer " + token_});
  ASSERT_EQ(got.status, 200) << got.body;
  auto receipt = json::parse(got.body);
  ASSERT_EQ(receipt.at("shards").as_array().size() + 1, static_cast<size_t>(shards)) << got.body;
  const std::string file = dir_ / "big-receipt.json";
  WriteFile(file, got.body);
  auto onchain = Cairn("receipt verify " + ShellQuote(file) + " --rpc " + devnet_->rpc());
  EXPECT_EQ(onchain.exit_code, 0) << onchain.out << onchain.err;
  // One inclusion line and two deal lines per shard.
  EXPECT_EQ(Lines(onchain.out).size(), static_cast<size_t>(3 * shards)) << onchain.out;
  auto listed = Cairn("deals list --pin " + ids[2] + " --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_GE(json::parse(listed.out).as_array().size(), static_cast<size_t>(2 * shards))
      << listed.out;

  ASSERT_EQ(Cairn("account create carol").exit_code, 0);
  auto carol = Cairn("token create --account carol");
  ASSERT_EQ(carol.exit_code, 0) << carol.err;
  ::setenv("CAIRN_URL", ("http://127.0.0.1:" + std::to_string(port_)).c_str(), 1);
  ::setenv("CAIRN_TOKEN", token_.c_str(), 1);
  ::setenv("CAIRN_OTHER_TOKEN", carol.out.substr(0, carol.out.find('\n')).c_str(), 1);
  ::setenv("CAIRN_PIN", ids[2].c_str(), 1);
  ::setenv("CAIRN_CID", big.c_str(), 1);
  ::setenv("CAIRN_SHARDS", std::to_string(shards).c_str(), 1);
  ::setenv("DEVNET_RPC", devnet_->rpc().c_str(), 1);
  auto js = RunNodeDriver("receipt_verify.mjs", "2>&1");
  ::unsetenv("CAIRN_SHARDS");
  EXPECT_EQ(js.exit_code, 0) << js.out;
  EXPECT_NE(js.out.find("# fail 0"), std::string::npos) << js.out;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

TEST_F(DealsE2e, PerPinPolicyGetsItsOwnAggregateProvidersReplicasAndDuration) {
  const std::string plain_cid = AddContent("plain.txt", 50000);
  const std::string custom_cid = AddContent("custom.txt", 60000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  auto post = [&](const std::string& meta) {
    return HttpRequest(port_, "POST", "/pins",
                       {"Authorization: Bearer " + token_, "Content-Type: application/json"},
                       "{\"cid\":\"" + custom_cid + "\",\"meta\":" + meta + "}");
  };
  // Bad values and providers this service does not deal with: 400 naming the key.
  for (const auto& [meta, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"filecoin.replicas":"0"})", "filecoin.replicas"},
           {R"({"filecoin.duration_days":"10"})", "filecoin.duration_days"},
           {R"({"filecoin.providers":"f01000,f09999"})", "filecoin.providers"},
           {R"({"filecoin.providers":"f01004"})", "filecoin.providers"}}) {  // 1 for 2 replicas
    auto r = post(meta);
    EXPECT_EQ(r.status, 400) << meta << " " << r.body;
    EXPECT_NE(r.body.find(key), std::string::npos) << r.body;
  }
  const std::string plain = Pin(plain_cid);
  auto created = post(
      R"({"filecoin.replicas":"1","filecoin.providers":"f01004","filecoin.duration_days":"200"})");
  ASSERT_EQ(created.status, 202) << created.body;
  const std::string custom = Str(json::parse(created.body), "requestid");
  json::value a, b;
  bool active = AdvanceUntil(
      [&] {
        a = GetPin(plain);
        b = GetPin(custom);
        return a.is_object() && b.is_object() && Str(a.at("info"), "filecoin") == "active 2/2" &&
               Str(b.at("info"), "filecoin") == "active 1/1";
      },
      120s, 100ms);
  ASSERT_TRUE(active) << json::serialize(a) << "\n"
                      << json::serialize(b) << "\n"
                      << json::serialize(DevnetDeals());
  // Different policies, different aggregates; the custom one has exactly its one deal, with its
  // provider and its duration.
  const std::string custom_piece = Str(b.at("info"), "piece_cid");
  EXPECT_NE(Str(a.at("info"), "piece_cid"), custom_piece);
  int custom_deals = 0;
  for (const auto& d : DevnetDeals()) {
    if (Str(d, "PieceCID") != custom_piece) {
      EXPECT_NE(Str(d, "Provider"), "f01004") << d;
      continue;
    }
    ++custom_deals;
    EXPECT_EQ(Str(d, "Provider"), "f01004") << d;
    EXPECT_EQ(d.at("EndEpoch").to_number<int64_t>() - d.at("StartEpoch").to_number<int64_t>(),
              200 * 2880)
        << d;
  }
  EXPECT_EQ(custom_deals, 1);
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Issue 10 §7: an account's policy, set with the CLI, decides its pins' replicas, providers and
// duration; a pin may not name a provider the account denies.
TEST_F(DealsE2e, AccountPolicyDecidesItsPinsReplicasProvidersAndDuration) {
  auto policy = Cairn(
      "account policy alice --set replicas=3 --set deny=f01000,f01001 --set duration_days=210");
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  const std::string cid = AddContent("account.txt", 40000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  auto denied = HttpRequest(
      port_, "POST", "/pins", {"Authorization: Bearer " + token_, "Content-Type: application/json"},
      R"({"cid":")" + cid + R"(","meta":{"filecoin.providers":"f01001,f01002,f01003"}})");
  EXPECT_EQ(denied.status, 400) << denied.body;
  EXPECT_NE(denied.body.find("f01001 is denied to this account"), std::string::npos) << denied.body;
  const std::string id = Pin(cid);
  json::value pin;
  ASSERT_TRUE(UntilFilecoin(id, "active 3/3", pin, 150s)) << json::serialize(pin) << "\n"
                                                          << json::serialize(DevnetDeals());
  const std::string piece = Str(pin.at("info"), "piece_cid");
  std::set<std::string> providers;
  for (const auto& d : DevnetDeals()) {
    if (Str(d, "PieceCID") != piece) continue;
    providers.insert(Str(d, "Provider"));
    EXPECT_EQ(d.at("EndEpoch").to_number<int64_t>() - d.at("StartEpoch").to_number<int64_t>(),
              210 * 2880)
        << d;
  }
  EXPECT_EQ(providers.size(), 3u);
  EXPECT_FALSE(providers.count("f01000") || providers.count("f01001"))
      << json::serialize(DevnetDeals());
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Issue 11 §3/§4 on the devnet: `lose-data` at one provider slashes its deals and the pin gets a
// repair deal elsewhere (the deleted pin sharing that provider does not); then, with time
// advanced to within filecoin.renew_margin_epochs of the deals' end, new deals are made while the
// old ones still run — the devnet never shows fewer than 2 active deals for the piece — and the
// deleted pin's piece is not renewed.
TEST_F(DealsE2e, LostReplicaIsRepairedAndDealsAreRenewedWithoutAGapButNotForDeletedPins) {
  WriteFile(repo_ + "/config.toml",
            ReadFile(repo_ + "/config.toml") + "renew_margin_epochs = 1000\n");
  const std::string kept_cid = AddContent("renew-kept.txt", 30000);
  const std::string gone_cid = AddContent("renew-gone.txt", 40000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  auto active = [&](const std::string& id) {
    json::value last;
    return UntilFilecoin(id, "active 2/2", last, 120s);
  };
  const std::string kept = Pin(kept_cid);
  ASSERT_TRUE(active(kept)) << json::serialize(GetPin(kept));
  const std::string gone = Pin(gone_cid);
  ASSERT_TRUE(active(gone)) << json::serialize(GetPin(gone));
  const std::string kept_piece = Str(GetPin(kept).at("info"), "piece_cid");
  const std::string gone_piece = Str(GetPin(gone).at("info"), "piece_cid");
  ASSERT_NE(kept_piece, gone_piece);
  auto deleted = HttpRequest(port_, "DELETE", "/pins/" + gone, {"Authorization: Bearer " + token_});
  ASSERT_EQ(deleted.status, 202) << deleted.body;

  // Devnet deals of a piece: {active count, total count, smallest and largest active EndEpoch}.
  struct PieceDeals {
    int active = 0, total = 0;
    int64_t first_end = INT64_MAX, last_end = 0;
    std::set<std::string> providers;
  };
  auto of_piece = [&](const std::string& piece) {
    PieceDeals p;
    for (const auto& d : DevnetDeals()) {
      if (Str(d, "PieceCID") != piece || Str(d, "UUID").empty()) continue;
      ++p.total;
      if (Str(d, "State") != "active") continue;
      ++p.active;
      p.providers.insert(Str(d, "Provider"));
      const auto end = d.at("EndEpoch").to_number<int64_t>();
      p.first_end = std::min(p.first_end, end);
      p.last_end = std::max(p.last_end, end);
    }
    return p;
  };
  const PieceDeals before = of_piece(kept_piece);
  ASSERT_EQ(before.active, 2);

  // Repair: the provider that holds both pieces loses its data.
  const std::string lost = *before.providers.begin();
  devnet_->Call("Devnet.Fault", {lost, "lose-data", json::object()});
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        auto p = of_piece(kept_piece);
        return p.active == 2 && !p.providers.count(lost);
      },
      120s))
      << json::serialize(DevnetDeals());
  ASSERT_TRUE(active(kept)) << json::serialize(GetPin(kept));
  EXPECT_NE(Str(GetPin(kept).at("info"), "deals").find(":slashed"), std::string::npos)
      << json::serialize(GetPin(kept));
  auto events = HttpRequest(port_, "GET", "/pins/" + kept + "/events?limit=1000",
                            {"Authorization: Bearer " + token_});
  EXPECT_NE(events.body.find("\"type\":\"deal_slashed\""), std::string::npos) << events.body;
  EXPECT_NE(events.body.find("\"type\":\"repaired\""), std::string::npos) << events.body;
  const int gone_total = of_piece(gone_piece).total;
  EXPECT_EQ(gone_total, 2) << "the deleted pin's lost replica is not repaired";

  // Renewal: jump to within the margin of both running deals' ends.
  const PieceDeals running = of_piece(kept_piece);
  ASSERT_LT(running.last_end - running.first_end, 1000) << "both must be within the margin at once";
  const auto head = devnet_->Call("Filecoin.ChainHead").at("Height").to_number<int64_t>();
  devnet_->Call("Devnet.Advance", {running.last_end - 1000 - head});
  int fewest = 2;
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        auto p = of_piece(kept_piece);
        fewest = std::min(fewest, p.active);
        return p.active >= 4;
      },
      120s))
      << json::serialize(DevnetDeals());
  // Past the old deals' end: they expire, the renewals carry the pin.
  const auto now = devnet_->Call("Filecoin.ChainHead").at("Height").to_number<int64_t>();
  devnet_->Call("Devnet.Advance", {running.last_end - now});
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        auto p = of_piece(kept_piece);
        fewest = std::min(fewest, p.active);
        return p.active == 2 && p.first_end > running.last_end &&
               Str(GetPin(kept).at("info"), "filecoin") == "active 2/2";
      },
      120s))
      << json::serialize(DevnetDeals()) << json::serialize(GetPin(kept));
  EXPECT_EQ(fewest, 2) << "the piece never had fewer than 2 active deals";
  // Cairn records the expiries once the finalized tipset is past the end.
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        events = HttpRequest(port_, "GET", "/pins/" + kept + "/events?limit=1000",
                             {"Authorization: Bearer " + token_});
        return count(events.body, "\"type\":\"deal_expired\"") == 2;
      },
      60s))
      << events.body;
  EXPECT_EQ(count(events.body, "\"type\":\"renewed\""), 2u) << events.body;
  EXPECT_EQ(count(events.body, "\"type\":\"repaired\""), 1u) << events.body;
  EXPECT_EQ(Str(GetPin(kept).at("info"), "filecoin"), "active 2/2");
  EXPECT_EQ(of_piece(gone_piece).total, gone_total) << "the deleted pin's piece is not renewed";
  EXPECT_EQ(of_piece(gone_piece).active, 0);
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Kill -9 during a repair and during a renewal (issue 11 §7): each time the server dies as soon
// as the new proposal reached a provider; after the restart every deal a provider had is still
// Cairn's, nothing is proposed twice, and the piece is back to 2 active deals (then 4 during the
// renewal's overlap).
TEST_F(DealsE2e, KillDuringRepairAndRenewalNeitherDuplicatesNorLosesDeals) {
  WriteFile(repo_ + "/config.toml",
            ReadFile(repo_ + "/config.toml") + "renew_margin_epochs = 1000\n");
  const std::string cid = AddContent("kill-repair.txt", 30000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  json::value pin;
  ASSERT_TRUE(UntilFilecoin(id, "active 2/2", pin, 120s)) << json::serialize(pin);
  const std::string piece = Str(pin.at("info"), "piece_cid");
  auto piece_deals = [&] {
    json::array out;
    for (const auto& d : DevnetDeals()) {
      if (Str(d, "PieceCID") == piece && !Str(d, "UUID").empty()) out.push_back(d);
    }
    return out;
  };
  auto count_state = [](const json::array& deals, const std::string& state) {
    return std::count_if(deals.begin(), deals.end(),
                         [&](const json::value& d) { return Str(d, "State") == state; });
  };
  // Every deal in `before` is still on the pin, shown by Cairn.
  auto all_known = [&](const json::array& before) {
    const std::string shown = Str(GetPin(id).at("info"), "deals");
    for (const auto& d : before) {
      const std::string provider = Str(d, "Provider");
      EXPECT_NE(shown.find("t" + provider.substr(1) + ":"), std::string::npos)
          << shown << " lacks " << json::serialize(d);
    }
  };

  // Repair: one provider loses the data; kill as soon as the replacement is proposed.
  const std::string lost = Str(piece_deals().at(0), "Provider");
  devnet_->Call("Devnet.Fault", {lost, "lose-data", json::object()});
  ASSERT_TRUE(AdvanceUntil([&] { return piece_deals().size() >= 3; }, 120s, 50ms))
      << json::serialize(piece_deals());
  EXPECT_EQ(serve->Stop(SIGKILL), 128 + SIGKILL);
  const json::array at_repair = piece_deals();
  serve = Start();
  ASSERT_NE(serve->port(), 0);
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        auto deals = piece_deals();
        return count_state(deals, "active") == 2 &&
               Str(GetPin(id).at("info"), "filecoin") == "active 2/2";
      },
      180s))
      << json::serialize(piece_deals());
  all_known(at_repair);
  std::set<std::string> providers;
  for (const auto& d : piece_deals()) {
    EXPECT_TRUE(providers.insert(Str(d, "Provider")).second)
        << "two deals with one provider: " << json::serialize(piece_deals());
  }

  // Renewal: to within the margin of both running deals; kill at the first renewal proposal.
  int64_t first_end = INT64_MAX, last_end = 0;
  for (const auto& d : piece_deals()) {
    if (Str(d, "State") != "active") continue;
    first_end = std::min(first_end, d.at("EndEpoch").to_number<int64_t>());
    last_end = std::max(last_end, d.at("EndEpoch").to_number<int64_t>());
  }
  ASSERT_LT(last_end - first_end, 1000);
  const size_t before_renewal = piece_deals().size();
  const auto head = devnet_->Call("Filecoin.ChainHead").at("Height").to_number<int64_t>();
  devnet_->Call("Devnet.Advance", {last_end - 1000 - head});
  const int64_t renewal_head = last_end - 1000;
  ASSERT_TRUE(AdvanceUntil([&] { return piece_deals().size() > before_renewal; }, 120s, 50ms));
  EXPECT_EQ(serve->Stop(SIGKILL), 128 + SIGKILL);
  const json::array at_renewal = piece_deals();
  serve = Start();
  ASSERT_NE(serve->port(), 0);
  ASSERT_TRUE(AdvanceUntil([&] { return count_state(piece_deals(), "active") >= 4; }, 180s))
      << json::serialize(piece_deals());
  all_known(at_renewal);
  // Exactly two renewal deals carry on (a transfer cut by the kill may have failed and been
  // replaced, but never two live deals for one replica).
  int live_renewals = 0;
  for (const auto& d : piece_deals()) {
    if (d.at("StartEpoch").to_number<int64_t>() <= renewal_head) continue;
    const std::string state = Str(d, "State");
    if (state != "failed" && state != "timed-out" && state != "expired" && state != "slashed") {
      ++live_renewals;
    }
  }
  EXPECT_EQ(live_renewals, 2) << json::serialize(piece_deals());
  auto events = HttpRequest(port_, "GET", "/pins/" + id + "/events?limit=1000",
                            {"Authorization: Bearer " + token_});
  EXPECT_NE(events.body.find("\"type\":\"repaired\""), std::string::npos) << events.body;
  EXPECT_NE(events.body.find("\"type\":\"renewed\""), std::string::npos) << events.body;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Re-aggregation (issue 11 §3): four pins share a piece, three are deleted; at renewal time the
// piece is not renewed as it stands: the live pin gets a new piece of its own with two new deals,
// the old piece gets none (its deals run to their end), and the pin's receipt lists the old
// placement as history — both verify with `cairn receipt verify`.
TEST_F(DealsE2e, AMostlyDeletedPieceIsReaggregatedAndTheReceiptKeepsItsHistory) {
  std::string config = ReadFile(repo_ + "/config.toml");
  config.replace(config.find("batch_wait_seconds = 1"), 22, "batch_wait_seconds = 4");
  WriteFile(repo_ + "/config.toml", config + "renew_margin_epochs = 1000\n");
  std::vector<std::string> cids;
  for (int i = 0; i < 4; ++i) cids.push_back(AddContent("reagg-" + std::to_string(i), 20000));
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  std::vector<std::string> ids;
  for (const auto& cid : cids) ids.push_back(Pin(cid));
  json::value pin;
  for (const auto& id : ids) ASSERT_TRUE(UntilFilecoin(id, "active 2/2", pin, 120s)) << id;
  const std::string old_piece = Str(GetPin(ids[0]).at("info"), "piece_cid");
  for (const auto& id : ids) ASSERT_EQ(Str(GetPin(id).at("info"), "piece_cid"), old_piece);
  for (size_t i = 1; i < ids.size(); ++i) {
    auto deleted =
        HttpRequest(port_, "DELETE", "/pins/" + ids[i], {"Authorization: Bearer " + token_});
    ASSERT_EQ(deleted.status, 202) << deleted.body;
  }
  auto deals_of = [&](const std::string& piece) {
    int n = 0;
    for (const auto& d : DevnetDeals()) n += Str(d, "PieceCID") == piece ? 1 : 0;
    return n;
  };
  const int old_deals = deals_of(old_piece);
  int64_t last_end = 0;
  for (const auto& d : DevnetDeals()) {
    if (Str(d, "PieceCID") == old_piece) {
      last_end = std::max(last_end, d.at("EndEpoch").to_number<int64_t>());
    }
  }
  const auto head = devnet_->Call("Filecoin.ChainHead").at("Height").to_number<int64_t>();
  devnet_->Call("Devnet.Advance", {last_end - 1000 - head});
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        pin = GetPin(ids[0]);
        const auto& info = pin.at("info");
        return Str(info, "piece_cid") != old_piece && Str(info, "filecoin") == "active 2/2";
      },
      120s))
      << json::serialize(pin);
  const std::string new_piece = Str(pin.at("info"), "piece_cid");
  EXPECT_EQ(deals_of(new_piece), 2);
  EXPECT_EQ(deals_of(old_piece), old_deals) << "the mostly-deleted piece was renewed";
  auto receipt = HttpRequest(port_, "GET", "/pins/" + ids[0] + "/receipt",
                             {"Authorization: Bearer " + token_});
  ASSERT_EQ(receipt.status, 200) << receipt.body;
  const json::value r = json::parse(receipt.body);
  EXPECT_EQ(Str(r.at("aggregate"), "pieceCid"), new_piece);
  ASSERT_EQ(r.at("history").as_array().size(), 1u) << receipt.body;
  const json::value& old = r.at("history").as_array()[0];
  EXPECT_EQ(Str(old.at("aggregate"), "pieceCid"), old_piece);
  WriteFile(dir_ / "receipt.json", receipt.body);
  WriteFile(dir_ / "old-receipt.json", json::serialize(old));
  auto verify = Cairn("receipt verify " + ShellQuote(dir_ / "receipt.json"));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto verify_old = Cairn("receipt verify " + ShellQuote(dir_ / "old-receipt.json"));
  EXPECT_EQ(verify_old.exit_code, 0) << verify_old.out << verify_old.err;
  auto events = HttpRequest(port_, "GET", "/pins/" + ids[0] + "/events?limit=1000",
                            {"Authorization: Bearer " + token_});
  EXPECT_NE(events.body.find("\"type\":\"reaggregated\""), std::string::npos) << events.body;
  EXPECT_EQ(events.body.find("\"type\":\"renewed\""), std::string::npos) << events.body;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// `never-seal`: the provider publishes the deal but its sector never proves it; once the start
// epoch passes the market drops it, and the pin gets a replacement deal at another provider.
TEST_F(DealsE2e, ADealThatNeverSealsIsReplacedAfterItsStartEpoch) {
  devnet_->Call("Devnet.Fault", {"f01000", "never-seal", json::object()});
  const std::string cid = AddContent("never-seal.txt", 25000);
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  json::value pin;
  // Published at f01000, never active there.
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        pin = GetPin(id);
        const std::string deals = Str(pin.at("info"), "deals");  // t01000:<id>:published,…
        return deals.rfind("t01000:", 0) == 0 &&
               deals.substr(0, deals.find(',')).find(":published") != std::string::npos;
      },
      120s))
      << json::serialize(pin);
  EXPECT_EQ(Str(pin.at("info"), "filecoin").rfind("dealing ", 0), 0u) << json::serialize(pin);
  // Past its start epoch (head + 200 when proposed).
  devnet_->Call("Devnet.Advance", {220});
  ASSERT_TRUE(UntilFilecoin(id, "active 2/2", pin, 120s))
      << json::serialize(pin) << json::serialize(DevnetDeals());
  const std::string deals = Str(pin.at("info"), "deals");
  EXPECT_EQ(deals.rfind("t01000:", 0), 0u) << deals;
  EXPECT_NE(deals.substr(0, deals.find(',')).find(":failed"), std::string::npos) << deals;
  auto events = HttpRequest(port_, "GET", "/pins/" + id + "/events?limit=1000",
                            {"Authorization: Bearer " + token_});
  EXPECT_NE(events.body.find("was not activated by its start epoch"), std::string::npos)
      << events.body;
  EXPECT_NE(events.body.find("\"type\":\"repaired\""), std::string::npos) << events.body;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Retrieval probes: a provider that starts serving corrupted bytes (`corrupt-retrieval`) has its
// deal failed by the next probe, and the pin is repaired at another provider.
TEST_F(DealsE2e, AProviderServingCorruptedBytesIsCaughtByAProbeAndReplaced) {
  WriteFile(repo_ + "/config.toml",
            ReadFile(repo_ + "/config.toml") + "probe_interval_seconds = 1\n");
  const std::string cid = AddContent("probed.txt", 300000);  // a root and two leaves
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  json::value pin;
  ASSERT_TRUE(UntilFilecoin(id, "active 2/2", pin, 120s)) << json::serialize(pin);
  const std::string before = Str(pin.at("info"), "deals");
  const std::string liar = "f" + before.substr(1, before.find(':') - 1);  // t01000 → f01000
  devnet_->Call("Devnet.Fault", {liar, "corrupt-retrieval", json::object()});
  const std::string prefix = "t" + liar.substr(1) + ":";
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        pin = GetPin(id);
        const std::string deals = Str(pin.at("info"), "deals");
        return deals.find(prefix) != std::string::npos &&
               deals.substr(deals.find(prefix)).find(":failed") ==
                   deals.substr(deals.find(prefix)).find(':', prefix.size()) &&
               Str(pin.at("info"), "filecoin") == "active 2/2";
      },
      120s))
      << json::serialize(pin);
  auto events = HttpRequest(port_, "GET", "/pins/" + id + "/events?limit=1000",
                            {"Authorization: Bearer " + token_});
  EXPECT_NE(events.body.find("retrieval probe: served corrupted bytes"), std::string::npos)
      << events.body;
  EXPECT_NE(events.body.find("\"type\":\"repaired\""), std::string::npos) << events.body;
  auto metrics = HttpRequest(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("cairn_cold_probe_replaced_deals_total 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("cairn_cold_probes_total{outcome=\"corrupt\"} 0"), std::string::npos)
      << metrics;
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
}

// Issue 11 §4, the source of a repair: a pin whose hot copy is gone (every block removed with the
// server stopped) loses one of its two providers (`lose-data`); the repair deal's data is read
// back from the surviving provider's /piece, verified block by block, served to the new provider
// and written back to the hot store on the way.
TEST_F(DealsE2e, AColdOnlyPinIsRepairedFromItsSurvivingReplica) {
  const std::string cid = AddContent("cold-only.txt", 600000);  // a root and three leaves
  auto serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string id = Pin(cid);
  json::value pin;
  auto active = [&] { return UntilFilecoin(id, "active 2/2", pin, 120s); };
  ASSERT_TRUE(active()) << json::serialize(pin);
  ASSERT_EQ(serve->Stop(), 0) << serve->output();

  auto exported = Cairn("car export " + cid + " -o " + ShellQuote(dir_ / "pin.car"));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto listed = Cairn("car ls " + ShellQuote(dir_ / "pin.car"));
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const std::vector<std::string> blocks = Lines(listed.out);
  ASSERT_EQ(blocks.size(), 4u) << listed.out;
  for (const auto& b : blocks) ASSERT_EQ(Cairn("block rm " + b).exit_code, 0) << b;
  ASSERT_NE(Cairn("block stat " + blocks[0]).exit_code, 0) << "the root is still hot";

  serve = Start();
  ASSERT_NE(serve->port(), 0);
  const std::string deals = Str(GetPin(id).at("info"), "deals");  // t01000:1:active,t01001:2:…
  const std::string lost = "f" + deals.substr(1, deals.find(':') - 1);
  const std::string second = deals.substr(deals.find(',') + 1);
  const std::string survivor = "f" + second.substr(1, second.find(':') - 1);
  const auto served_before =
      devnet_->Call("Devnet.Stats", {survivor}).at("BytesServed").to_number<int64_t>();
  devnet_->Call("Devnet.Fault", {lost, "lose-data", json::object()});
  ASSERT_TRUE(AdvanceUntil(
      [&] {
        pin = GetPin(id);
        const std::string now = Str(pin.at("info"), "deals");
        return now.find(":slashed") != std::string::npos &&
               Str(pin.at("info"), "filecoin") == "active 2/2";
      },
      120s))
      << json::serialize(pin) << "\n"
      << json::serialize(DevnetDeals());
  // The repair's bytes came from the survivor (every block, verified), not from a hot copy.
  const auto served =
      devnet_->Call("Devnet.Stats", {survivor}).at("BytesServed").to_number<int64_t>() -
      served_before;
  EXPECT_GE(served, 600000) << "the survivor served " << served << " bytes";
  EXPECT_EQ(serve->Stop(), 0) << serve->output();
  // Read back on the way, the blocks are hot again.
  for (const auto& b : blocks) EXPECT_EQ(Cairn("block stat " + b).exit_code, 0) << b;
}

}  // namespace
}  // namespace cairn::testing
