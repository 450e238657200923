#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"

namespace cairn::testing {
namespace {

TEST(RunCommand, CapturesStdoutAndExitStatus) {
  CommandResult r = RunCommand("printf 'a\\nb'; echo ignored >&2; exit 3");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "a\nb");
}

TEST(RunCommand, CapturesOutputLargerThanOneRead) {
  CommandResult r = RunCommand("head -c 300000 /dev/zero");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 300000u);
}

TEST(RunCommand, ReportsDeathBySignalAs128PlusSignal) {
  EXPECT_EQ(RunCommand("kill -TERM $$").exit_code, 128 + 15);
}

TEST(RunCommand, MissingProgramIsTheShells127) {
  EXPECT_EQ(RunCommand("/nonexistent/cairn-no-such-program 2>/dev/null").exit_code, 127);
}

TEST(RunNodeDriver, RunsTheScriptInTheInteropFolder) {
  const TempDir src("cairn-testing-src");
  std::filesystem::create_directories(src.path() / "tests/interop");
  std::ofstream(src / "tests/interop/probe.mjs")
      << "console.log(process.cwd(), process.argv.slice(2).join(','))\n";
  const char* saved = std::getenv("CAIRN_SOURCE_DIR");
  const std::string old = saved != nullptr ? saved : "";
  ::setenv("CAIRN_SOURCE_DIR", src.path().c_str(), 1);
  CommandResult r = RunNodeDriver("probe.mjs", "a 'b c'");
  if (saved != nullptr) {
    ::setenv("CAIRN_SOURCE_DIR", old.c_str(), 1);
  } else {
    ::unsetenv("CAIRN_SOURCE_DIR");
  }
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, std::filesystem::canonical(src.path() / "tests/interop").string() + " a,b c\n");
}

TEST(Lines, SplitsOnNewlinesAndSkipsEmptyLines) {
  EXPECT_EQ(Lines("a\n\nbc\nd"), (std::vector<std::string>{"a", "bc", "d"}));
  EXPECT_EQ(Lines("a\n"), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(Lines("").empty());
  EXPECT_TRUE(Lines("\n\n").empty());
}

TEST(ShellQuote, SurvivesTheShellUnchanged) {
  const std::string tricky = "it's a \"test\" $HOME `x` \\ ;|&";
  CommandResult r = RunCommand("printf %s " + ShellQuote(tricky));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, tricky);
}

TEST(TempDir, CreatesAFreshDirectoryAndRemovesItWithItsContents) {
  std::filesystem::path path;
  {
    TempDir a("cairn-testing-test");
    TempDir b("cairn-testing-test");
    path = a.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_EQ(path.filename().string().rfind("cairn-testing-test-", 0), 0u) << path;
    std::filesystem::create_directories(path / "sub");
    std::ofstream(a / "sub/file") << "x";
    EXPECT_EQ(a / "sub/file", (path / "sub/file").string());
    EXPECT_TRUE(std::filesystem::exists(path / "sub/file"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace cairn::testing
