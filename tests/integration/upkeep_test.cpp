// Garbage collection and compaction on the real binary: blocks no pin needs go (by `cairn gc`
// on a stopped repo, and by `cairn serve`'s periodic upkeep), pinned blocks stay, and /metrics
// reports pins by status and the store's size.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// "name value" of an unlabelled or labelled sample in Prometheus text, or -1.
int64_t Metric(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

std::string AddFile(const std::string& repo, const std::string& path) {
  auto added = RunCairn("--repo '" + repo + "' add -Q --cid-version=1 '" + path + "'");
  EXPECT_EQ(added.exit_code, 0) << added.err;
  std::string cid = added.out;
  while (!cid.empty() && (cid.back() == '\n' || cid.back() == '\r')) cid.pop_back();
  return cid;
}

bool HasBlock(const std::string& repo, const std::string& cid) {
  return RunCairn("--repo '" + repo + "' block stat " + cid).exit_code == 0;
}

// Pins `cid` over the API and waits (bounded) until it is pinned.
void PinAndWait(uint16_t port, const std::string& token, const std::string& cid) {
  std::vector<std::string> auth = {"Authorization: Bearer " + token,
                                   "Content-Type: application/json"};
  auto created = HttpRequest(port, "POST", "/pins", auth, R"({"cid":")" + cid + R"("})");
  ASSERT_EQ(created.status, 202) << created.body;
  for (int i = 0; i < 200; ++i) {
    auto listed = HttpRequest(port, "GET", "/pins?status=pinned&cid=" + cid, auth);
    if (listed.body.find("\"count\":1") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "pin of " << cid << " never reached pinned";
}

class Upkeep : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    WriteFile(dir_ / "keep", RandomBytes(700'000, 1));  // 3 leaves + root
    WriteFile(dir_ / "drop", RandomBytes(900'000, 2));  // 4 leaves + root
    keep_ = AddFile(repo_, dir_ / "keep");
    drop_ = AddFile(repo_, dir_ / "drop");
    ASSERT_EQ(RunCairn("--repo '" + repo_ + "' account create alice").exit_code, 0);
    auto token = RunCairn("--repo '" + repo_ + "' token create --account alice");
    ASSERT_EQ(token.exit_code, 0) << token.err;
    token_ = token.out.substr(0, token.out.find('\n'));
  }
  TempDir dir_;
  std::string repo_, keep_, drop_, token_;
};

TEST_F(Upkeep, GcRemovesWhatNoPinNeedsAndKeepsPinnedBlocks) {
  WriteFile(dir_ / "cfg.toml", "[pinning]\ngateways = []\ngc_interval_seconds = 0\n");
  {
    ServeProcess serve(repo_, {"--config", dir_ / "cfg.toml"});
    ASSERT_NE(serve.port(), 0) << serve.output();
    PinAndWait(serve.port(), token_, keep_);
    auto metrics = HttpRequest(serve.port(), "GET", "/metrics").body;
    EXPECT_EQ(Metric(metrics, "cairn_pins{status=\"pinned\"}"), 1) << metrics;
    EXPECT_EQ(Metric(metrics, "cairn_pins{status=\"queued\"}"), 0) << metrics;
    EXPECT_EQ(Metric(metrics, "cairn_pin_queue_depth"), 0) << metrics;
    EXPECT_EQ(Metric(metrics, "cairn_store_blocks"), 9) << metrics;  // 4 + 5, nothing collected
    EXPECT_GT(Metric(metrics, "cairn_store_disk_bytes"), 1'600'000) << metrics;
    ASSERT_EQ(serve.Stop(), 0) << serve.output();
  }
  auto gc = RunCairn("--repo '" + repo_ + "' gc");
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed 5 blocks"), std::string::npos) << gc.out;
  EXPECT_TRUE(HasBlock(repo_, keep_));
  EXPECT_FALSE(HasBlock(repo_, drop_));
  auto cat = RunCairn("--repo '" + repo_ + "' cat " + keep_);
  EXPECT_EQ(cat.out, ReadFile(dir_ / "keep"));
  // Nothing left to collect: a second round removes nothing.
  auto again = RunCairn("--repo '" + repo_ + "' gc");
  EXPECT_NE(again.out.find("removed 0 blocks"), std::string::npos) << again.out;
}

TEST_F(Upkeep, ServeCollectsPeriodically) {
  WriteFile(dir_ / "cfg.toml", "[pinning]\ngateways = []\ngc_interval_seconds = 1\n");
  ServeProcess serve(repo_, {"--config", dir_ / "cfg.toml"});
  ASSERT_NE(serve.port(), 0) << serve.output();
  PinAndWait(serve.port(), token_, keep_);
  // Read the unpinned file first, so its blocks sit in the block cache when they are collected:
  // after the collection it must be gone from the gateway too.
  auto before = HttpRequest(serve.port(), "GET", "/ipfs/" + drop_);
  int64_t blocks = -1;
  for (int i = 0; i < 300 && blocks != 4; ++i) {  // bounded: 30 s
    blocks = Metric(HttpRequest(serve.port(), "GET", "/metrics").body, "cairn_store_blocks");
    if (blocks != 4) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(blocks, 4);
  auto got = HttpRequest(serve.port(), "GET", "/ipfs/" + keep_);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, ReadFile(dir_ / "keep"));
  // Read again: every one of its 4 blocks now comes from the block cache.
  auto metrics = HttpRequest(serve.port(), "GET", "/metrics").body;
  int64_t hits = Metric(metrics, "cairn_block_cache_hits_total");
  EXPECT_EQ(HttpRequest(serve.port(), "GET", "/ipfs/" + keep_).body, got.body);
  metrics = HttpRequest(serve.port(), "GET", "/metrics").body;
  EXPECT_GE(Metric(metrics, "cairn_block_cache_hits_total"), hits + 4) << metrics;
  EXPECT_GT(Metric(metrics, "cairn_block_cache_bytes"), 700'000) << metrics;
  EXPECT_EQ(HttpRequest(serve.port(), "GET", "/ipfs/" + drop_ + "?format=raw").status, 404);
  if (before.status == 200) {
    EXPECT_EQ(HttpRequest(serve.port(), "GET", "/ipfs/" + drop_).status, 404);
  }
  ASSERT_EQ(serve.Stop(), 0) << serve.output();
}

}  // namespace
}  // namespace cairn::testing
