// End-to-end tests of `cairn account ...` and `cairn token ...` against a fresh repo.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "metadata/accounts.hpp"
#include "metadata/open.hpp"
#include "tests/integration/run.hpp"

namespace cairn::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
  return out;
}

class AccountCli : public ::testing::Test {
 protected:
  RunResult Cairn(const std::string& args) {
    return RunCairn("--repo '" + (dir_ / "repo") + "' " + args);
  }
  // Authenticates `token` directly against the repo's database (what `cairn serve` will do).
  Result<metadata::Principal> Authenticate(const std::string& token) {
    auto db = metadata::OpenSqliteMetadata(dir_ / "repo/cairn.db");
    if (!db) return Err(db.error());
    metadata::AccountStore store(**db, SystemClock::Instance());
    return store.Authenticate(token, SystemClock::Instance().WallMicros());
  }
  TempDir dir_;
};

TEST_F(AccountCli, CreatesAccountsAndListsThem) {
  auto r = Cairn("account create alice");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("alice"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "repo/cairn.db")) << "database created on first use";
  ASSERT_EQ(Cairn("account create bob").exit_code, 0);
  auto list = Cairn("account list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 3u) << list.out;
  EXPECT_EQ(Fields(lines[0])[1], "NAME");
  EXPECT_EQ(Fields(lines[1])[1], "alice");
  EXPECT_EQ(Fields(lines[2])[1], "bob");
  EXPECT_EQ(Fields(lines[2])[3], "no");
}

TEST_F(AccountCli, ReportsDuplicateAndInvalidAccounts) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto dup = Cairn("account create alice");
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  auto bad = Cairn("account create 'Not Valid'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("account name"), std::string::npos) << bad.err;
  auto unknown = Cairn("token create --account nobody");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no account named 'nobody'"), std::string::npos) << unknown.err;
  EXPECT_TRUE(unknown.out.empty());
}

TEST_F(AccountCli, TokenCreatePrintsOnlyAWorkingToken) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto r = Cairn("token create --account alice");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string token = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(r.out, token + "\n") << "stdout holds the token alone";
  EXPECT_EQ(token.rfind("cairn_", 0), 0u);
  EXPECT_NE(r.err.find("not shown again"), std::string::npos);
  auto p = Authenticate(token);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->account.name, "alice");
  EXPECT_EQ(p->scopes.ToText(), "pins:read pins:write upload");

  auto scoped = Cairn("token create --account alice --scope pins:read --scope admin --expires 30d");
  ASSERT_EQ(scoped.exit_code, 0) << scoped.err;
  auto sp = Authenticate(scoped.out.substr(0, scoped.out.find('\n')));
  ASSERT_TRUE(sp) << sp.error().ToString();
  EXPECT_EQ(sp->scopes.ToText(), "pins:read admin");

  auto list = Cairn("token list --account alice");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 3u) << list.out;
  EXPECT_EQ(list.out.find(token.substr(6)), std::string::npos) << "never the secret";
  auto first = Fields(lines[1]);
  auto second = Fields(lines[2]);
  ASSERT_EQ(first.size(), 6u);
  EXPECT_EQ(first[0], p->token_id);
  EXPECT_EQ(first[1], "pins:read,pins:write,upload");
  EXPECT_EQ(first[3], "never");
  EXPECT_NE(first[4], "never") << "authentication recorded the last use";
  EXPECT_EQ(first[5], "no");
  EXPECT_EQ(second[1], "pins:read,admin");
  EXPECT_NE(second[3], "never");
}

TEST_F(AccountCli, RevokedTokenStopsAuthenticating) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto r = Cairn("token create --account alice --scope pins:read,pins:write");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string token = r.out.substr(0, r.out.find('\n'));
  auto p = Authenticate(token);
  ASSERT_TRUE(p);
  auto revoke = Cairn("token revoke " + p->token_id);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto after = Authenticate(token);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().message(), "metadata: token revoked");
  auto list = Cairn("token list --account alice");
  EXPECT_NE(Fields(Lines(list.out)[1])[5], "no");
  auto unknown = Cairn("token revoke tok_doesnotexist");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no token"), std::string::npos) << unknown.err;
}

TEST_F(AccountCli, RejectsBadScopesAndExpiries) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto scope = Cairn("token create --account alice --scope pins:delete");
  EXPECT_EQ(scope.exit_code, 1);
  EXPECT_NE(scope.err.find("unknown scope 'pins:delete'"), std::string::npos) << scope.err;
  for (const char* bad : {"soon", "30x", "0d", "2001-01-01T00:00:00Z", "-5d"}) {
    auto r = Cairn(std::string("token create --account alice --expires=") + bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_NE(r.err.find("expires"), std::string::npos) << bad << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << bad;
  }
  auto ok = Cairn("token create --account alice --expires 2099-12-31T23:59:59Z");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto list = Cairn("token list --account alice");
  ASSERT_EQ(Lines(list.out).size(), 2u) << "only the valid token was created: " << list.out;
  EXPECT_EQ(Fields(Lines(list.out)[1])[3], "2099-12-31T23:59:59.000000Z");
}

TEST_F(AccountCli, DisabledAccountCannotAuthenticateOrGetTokens) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto r = Cairn("token create --account alice");
  std::string token = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(Cairn("account disable alice").exit_code, 0);
  auto p = Authenticate(token);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "metadata: account disabled");
  auto more = Cairn("token create --account alice");
  EXPECT_EQ(more.exit_code, 1);
  EXPECT_NE(more.err.find("disabled"), std::string::npos) << more.err;
}

// Issue 10 §9: global options are accepted before or after a subcommand's name, at any depth,
// in both spellings — as a new user types them.
TEST_F(AccountCli, PolicyIsShownSetCheckedAgainstTheConfigAndCleared) {
  ASSERT_EQ(Cairn("account create alice").exit_code, 0);
  auto none = Cairn("account policy alice");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("no policy"), std::string::npos) << none.out;
  // Checked against the repo's [filecoin] section: three providers.
  {
    std::ofstream config(dir_ / "repo/config.toml");
    config << "[filecoin]\nproviders = [\"f01000\", \"f01001\", \"f01002\"]\n";
  }
  auto set = Cairn(
      "account policy alice --set replicas=2 --set filecoin.deny=f01000 --set "
      "verified=true");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto lines = Lines(set.out);
  ASSERT_EQ(lines.size(), 4u) << set.out;
  EXPECT_EQ(lines[1], "filecoin.deny\tf01000");
  EXPECT_EQ(lines[2], "filecoin.replicas\t2");
  EXPECT_EQ(lines[3], "filecoin.verified\ttrue");
  // Refused, naming the key; the stored policy is unchanged.
  for (const auto& [args, reason] : std::vector<std::pair<std::string, std::string>>{
           {"--set replicas=3",
            "account policy filecoin.replicas: 3 replicas need as many "
            "distinct providers; 2 can be used"},
           {"--set providers=f01001,f09999", "f09999 is not one of this service's providers"},
           {"--set verified=yes", "account policy filecoin.verified: 'yes' is not true or false"},
           {"--set colour=blue", "account policy: unknown key 'filecoin.colour'"},
           {"--set replicas", "is not KEY=VALUE"}}) {
    auto r = Cairn("account policy alice " + args);
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_NE(r.err.find(reason), std::string::npos) << args << ": " << r.err;
  }
  EXPECT_EQ(Cairn("account policy alice").out, set.out);
  auto unset = Cairn("account policy alice --unset deny --unset filecoin.verified");
  ASSERT_EQ(unset.exit_code, 0) << unset.err;
  EXPECT_EQ(Lines(unset.out).size(), 2u) << unset.out;
  auto cleared = Cairn("account policy alice --clear");
  ASSERT_EQ(cleared.exit_code, 0) << cleared.err;
  EXPECT_NE(cleared.out.find("no policy"), std::string::npos) << cleared.out;
  auto unknown = Cairn("account policy nobody --set replicas=1");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no account named 'nobody'"), std::string::npos) << unknown.err;
}

TEST(GlobalOptions, RepoIsAcceptedBeforeOrAfterTheSubcommandsName) {
  TempDir dir;
  const std::string repo = ShellQuote(dir / "repo");
  auto created = RunCairn("account create alice --repo " + repo);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "repo/cairn.db")) << "the repo given after the name";
  for (const std::string& args :
       {"account --repo " + repo + " create bob", "account create carol --repo=" + repo,
        "--repo " + repo + " account create dave"}) {
    auto r = RunCairn(args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }
  for (const std::string& args : {"account list --repo " + repo, "account --repo " + repo + " list",
                                  "deals list --repo " + repo + " --json"}) {
    auto r = RunCairn(args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    if (args.rfind("account", 0) == 0) {
      EXPECT_EQ(Lines(r.out).size(), 5u) << args << ": " << r.out;  // header + 4 accounts
    } else {
      EXPECT_EQ(r.out, "[]\n") << args;
    }
  }
  auto bad = RunCairn("account create erin --repo");
  EXPECT_NE(bad.exit_code, 0) << "--repo without its value is refused";
}

}  // namespace
}  // namespace cairn::testing
