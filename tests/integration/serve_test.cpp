#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

TEST(Serve, StartsOnEmbeddedDefaultsAndAnswersHealthAndMetrics) {
  TempDir dir;
  ServeProcess serve(dir / "repo");
  ASSERT_NE(serve.port(), 0) << serve.output();
  auto health = HttpRequest(serve.port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  // No [filecoin] section: the cold tier is off, and /healthz says so.
  EXPECT_EQ(health.body, "{\"status\":\"ok\",\"cold_tier\":{\"state\":\"off\"}}\n");
  auto metrics = HttpRequest(serve.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("cairn_http_requests_total "), std::string::npos) << metrics.body;
  auto missing = HttpRequest(serve.port(), "GET", "/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"reason\":\"NOT_FOUND\""), std::string::npos);
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("stopped"), std::string::npos) << serve.output();
}

TEST(Serve, HasAPersistentPeerIdAndAnswersKuboRpcIdAndVersion) {
  TempDir dir;
  WriteFile(dir / "cfg.toml", "[libp2p]\nannounce = [\"/dns4/pin.example/tcp/4001\"]\n");
  std::string first_id;
  for (int run = 0; run < 2; ++run) {
    ServeProcess serve(dir / "repo", {"--config", dir / "cfg.toml"});
    ASSERT_NE(serve.port(), 0) << serve.output();
    auto id = HttpRequest(serve.port(), "POST", "/api/v0/id");
    ASSERT_EQ(id.status, 200) << id.body;
    size_t at = id.body.find("\"ID\":\"12D3KooW");
    ASSERT_NE(at, std::string::npos) << id.body;
    std::string peer = id.body.substr(at + 6, 52);
    EXPECT_NE(id.body.find("/dns4/pin.example/tcp/4001/p2p/" + peer), std::string::npos) << id.body;
    if (run == 0) first_id = peer;
    EXPECT_EQ(peer, first_id);  // the identity survives restarts
    EXPECT_EQ(HttpRequest(serve.port(), "GET", "/api/v0/id").status, 405);
    auto version = HttpRequest(serve.port(), "POST", "/api/v0/version");
    EXPECT_NE(version.body.find("\"Version\":"), std::string::npos);
    EXPECT_EQ(serve.Stop(), 0);
  }
}

TEST(Serve, AnnouncesTheBoundLibp2pPortWithItsPeerId) {
  TempDir dir;
  ServeProcess serve(dir / "repo");  // --libp2p-listen /ip4/127.0.0.1/tcp/0
  ASSERT_NE(serve.port(), 0) << serve.output();
  auto id = HttpRequest(serve.port(), "POST", "/api/v0/id");
  ASSERT_EQ(id.status, 200) << id.body;
  size_t at = id.body.find("/ip4/127.0.0.1/tcp/");
  ASSERT_NE(at, std::string::npos) << id.body;
  std::string port = id.body.substr(at + 19, id.body.find('/', at + 19) - (at + 19));
  EXPECT_NE(port, "0");
  EXPECT_NE(port, "4001");
  EXPECT_NE(serve.output().find("cairn: libp2p /ip4/127.0.0.1/tcp/" + port + "/p2p/12D3KooW"),
            std::string::npos)
      << serve.output();
  EXPECT_EQ(serve.Stop(), 0);
}

TEST(Serve, RejectsAnnounceAddressesWithPeerIds) {
  TempDir dir;
  WriteFile(dir / "cfg.toml",
            "[libp2p]\nannounce = "
            "[\"/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq\"]\n");
  auto r = RunCairn("--repo '" + (dir / "repo") + "' serve --config '" + (dir / "cfg.toml") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("must not include /p2p/"), std::string::npos) << r.err;
}

TEST(Serve, StopsCleanlyOnSigint) {
  TempDir dir;
  ServeProcess serve(dir / "repo");
  ASSERT_NE(serve.port(), 0) << serve.output();
  EXPECT_EQ(serve.Stop(SIGINT), 0) << serve.output();
}

TEST(Serve, RejectsABadConfigFileWithTheKey) {
  TempDir dir;
  WriteFile(dir / "bad.toml", "[server]\nlisten = \"127.0.0.1:0\"\nthreds = 2\n");
  auto r = RunCairn("--repo '" + (dir / "repo") + "' serve --config '" + (dir / "bad.toml") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown key server.threds"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::testing

namespace cairn::testing {
namespace {

// The repo holds every tenant's data and token hashes: private to its user whatever the umask.
TEST(Serve, RepoIsPrivateWhateverTheUmask) {
  TempDir dir;
  mode_t old = ::umask(0);  // the most permissive umask a user could have
  {
    ServeProcess serve(dir / "repo");
    ::umask(old);
    ASSERT_NE(serve.port(), 0) << serve.output();
    // A pin and an upload, so the database, its WAL and the block store all have files.
    auto account = RunCairn("--repo " + ShellQuote(dir / "repo") + " account create modes");
    ASSERT_EQ(account.exit_code, 0) << account.err;
    EXPECT_EQ(serve.Stop(SIGTERM), 0);
  }
  auto mode_of = [](const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode_of(dir / "repo"), 0700u);
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "repo")) {
    mode_t mode = mode_of(entry.path());
    if (entry.is_directory()) {
      EXPECT_EQ(mode, 0700u) << entry.path();
    } else {
      EXPECT_EQ(mode & 077, 0u) << entry.path() << " is readable by others: " << std::oct << mode;
      ++files;
    }
  }
  EXPECT_GE(files, 4u);  // cairn.db, identity.key, a segment, the block store's LOCK at least
}

}  // namespace
}  // namespace cairn::testing
