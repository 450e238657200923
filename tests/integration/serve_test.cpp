#include <gtest/gtest.h>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

TEST(Serve, StartsOnEmbeddedDefaultsAndAnswersHealthAndMetrics) {
  TempDir dir;
  ServeProcess serve(dir / "repo");
  ASSERT_NE(serve.port(), 0) << serve.output();
  auto health = HttpRequest(serve.port(), "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "{\"status\":\"ok\"}\n");
  auto metrics = HttpRequest(serve.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("cairn_http_requests_total "), std::string::npos) << metrics.body;
  auto missing = HttpRequest(serve.port(), "GET", "/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"reason\":\"NOT_FOUND\""), std::string::npos);
  EXPECT_EQ(serve.Stop(SIGTERM), 0) << serve.output();
  EXPECT_NE(serve.output().find("stopped"), std::string::npos) << serve.output();
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
