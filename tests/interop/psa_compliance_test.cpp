// The official Pinning Service API compliance suite (@ipfs-shipyard/pinning-service-compliance
// 1.8.1, https://github.com/ipfs-shipyard/pinning-service-compliance) against the real
// `cairn serve` on 127.0.0.1:0, with a fresh repo and token. tests/interop/psa_compliance.mjs runs
// the suite offline (spec from tests/interop/specs/pinning-service-api.yaml, no gateways, reports
// in a temporary directory) and prints its JSON report; the suite itself always exits 0, so this
// test passes only when the report says 9 of 9 checks passed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "tests/integration/serve_process.hpp"

namespace cairn::testing {
namespace {

std::string Tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "…" + text.substr(text.size() - n);
}

TEST(PsaCompliance, OfficialSuitePassesAllNineChecks) {
  const std::string interop = InteropDir();
  ASSERT_TRUE(std::filesystem::exists(
      interop + "/node_modules/@ipfs-shipyard/pinning-service-compliance/package.json"))
      << "run scripts/install-deps.sh (npm ci --ignore-scripts in tests/interop)";
  TempDir dir;
  const std::string repo = dir / "repo";
  auto account = RunCairn("--repo '" + repo + "' account create compliance");
  ASSERT_EQ(account.exit_code, 0) << account.err;
  auto token = RunCairn("--repo '" + repo + "' token create --account compliance");
  ASSERT_EQ(token.exit_code, 0) << token.err;
  std::string secret = token.out.substr(0, token.out.find('\n'));
  // No gateways: the suite's random CIDs stay queued/pinning (never fetched from the internet).
  WriteFile(dir / "cairn.toml", "[pinning]\ngateways = []\n");
  ServeProcess serve(repo, {"--config", dir / "cairn.toml"});
  ASSERT_NE(serve.port(), 0) << serve.output();

  std::filesystem::create_directories(dir / "work");
  std::string endpoint = "http://127.0.0.1:" + std::to_string(serve.port());
  CommandResult run = RunNodeDriver(
      "psa_compliance.mjs", ShellQuote(endpoint) + " " + ShellQuote(secret) + " " +
                                ShellQuote(interop + "/specs/pinning-service-api.yaml") + " " +
                                ShellQuote(dir / "work") + " 2>" + ShellQuote(dir / "driver.err"));
  const std::string& report = run.out;
  std::string diagnostics = "driver stderr:\n" + Tail(ReadFile(dir / "driver.err"), 4000) +
                            "\nsuite report:\n" + Tail(ReadFile(dir / "work/report.md"), 20000) +
                            "\nsuite log:\n" + Tail(ReadFile(dir / "work/suite.log"), 8000);
  ASSERT_EQ(run.exit_code, 0) << diagnostics;

  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(report, ec);
  ASSERT_FALSE(ec) << "report is not JSON: " << report << "\n" << diagnostics;
  ASSERT_TRUE(v.is_object()) << report;
  const auto& o = v.get_object();
  ASSERT_TRUE(o.contains("total") && o.contains("passed") && o.contains("failed")) << report;
  EXPECT_EQ(o.at("total").to_number<int64_t>(), 9) << report << "\n" << diagnostics;
  EXPECT_EQ(o.at("passed").to_number<int64_t>(), 9) << report << "\n" << diagnostics;
  EXPECT_EQ(o.at("failed").to_number<int64_t>(), 0) << report;
  EXPECT_EQ(o.at("success"), true) << report;
  EXPECT_EQ(serve.Stop(), 0) << serve.output();
}

}  // namespace
}  // namespace cairn::testing
