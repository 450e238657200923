// End-to-end tests of `cairn wallet …` (and of global options after a subcommand's name) against
// the real binary, and of the wallet and chain client against the real devnet (Node, devnet/):
// funding, `cairn wallet balance`, and an escrow top-up with EnsureMarketBalance.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "apps/cairn/rpc_transport.hpp"
#include "filecoin/chain/message_sender.hpp"
#include "tests/integration/run.hpp"

namespace cairn::testing {
namespace {

namespace json = boost::json;

TEST(WalletCli, GlobalOptionsAreAcceptedAfterTheSubcommand) {
  TempDir dir;
  const std::string repo = ShellQuote(dir / "repo");
  auto created = RunCairn("account create alice --repo " + repo);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto listed = RunCairn("account list --repo=" + repo);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("alice"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "repo/cairn.db")) << "the repo given after the name";
  auto token = RunCairn("token create --account alice --repo " + repo);
  ASSERT_EQ(token.exit_code, 0) << token.err;
  auto unknown = RunCairn("account list --no-such-flag --repo " + repo);
  EXPECT_NE(unknown.exit_code, 0) << "unknown options are still refused";
}

TEST(WalletCli, NewListDefaultAndKeysNeverPrinted) {
  TempDir dir;
  const std::string repo = ShellQuote(dir / "repo");
  auto a = RunCairn("wallet new --repo " + repo);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string first = Lines(a.out).at(0);
  EXPECT_EQ(first.rfind("f1", 0), 0u) << a.out;
  auto b = RunCairn("--repo " + repo + " wallet new");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string second = Lines(b.out).at(0);
  EXPECT_NE(first, second);

  auto list = RunCairn("wallet list --repo " + repo);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(first + "\tdefault"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(second), std::string::npos);

  auto set = RunCairn("wallet default " + second + " --repo " + repo);
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto shown = RunCairn("wallet default --repo " + repo);
  EXPECT_EQ(Lines(shown.out), std::vector<std::string>{second});
  auto bad = RunCairn("wallet default f01234 --repo " + repo);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no key for f01234"), std::string::npos) << bad.err;

  // Files: a 0700 directory, 0600 key files; no key material in anything printed.
  struct stat st {};
  ASSERT_EQ(::stat((dir / "repo/wallet").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string key_path = dir / ("repo/wallet/" + first + ".key");
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = json::parse(ReadFile(key_path));
  const std::string secret(key.at("PrivateKey").as_string());
  ASSERT_EQ(secret.size(), 44u);
  for (const auto& r : {a, b, list, set, shown, bad}) {
    EXPECT_EQ(r.out.find(secret.substr(0, 12)), std::string::npos);
    EXPECT_EQ(r.err.find(secret.substr(0, 12)), std::string::npos);
  }

  auto no_rpc = RunCairn("wallet balance --repo " + repo);
  EXPECT_NE(no_rpc.exit_code, 0);
  EXPECT_NE(no_rpc.err.find("filecoin.rpc"), std::string::npos) << no_rpc.err;
}

// The devnet (scripts/devnet.sh's node program) as a child process on 127.0.0.1.
class Devnet {
 public:
  Devnet() {
    const std::string devnet = SourceDir() + "/devnet";
    if (std::system("command -v node >/dev/null 2>&1") != 0) {
      skip_ = "node is not installed";
      return;
    }
    if (!std::filesystem::exists(devnet + "/node_modules")) {
      skip_ =
          "devnet/node_modules is missing (run scripts/devnet.sh once, or npm install in devnet/)";
      return;
    }
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      ::execlp("node", "node", (devnet + "/src/main.js").c_str(), "--epoch-ms", "100", "--seed",
               "wallet-test", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    try {
      rpc_ = std::string(json::parse(line).at("rpc").as_string());
    } catch (...) {
      rpc_.clear();
    }
  }
  ~Devnet() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& skip() const { return skip_; }
  const std::string& rpc() const { return rpc_; }

 private:
  pid_t pid_ = -1;
  std::string skip_;
  std::string rpc_;
};

TEST(WalletDevnet, FundBalanceAndOneEscrowTopUp) {
  Devnet devnet;
  if (!devnet.skip().empty()) GTEST_SKIP() << "devnet not available: " << devnet.skip();
  ASSERT_FALSE(devnet.rpc().empty()) << "the devnet did not start";
  TempDir dir;
  const std::string repo = ShellQuote(dir / "repo");
  auto created = RunCairn("wallet new --repo " + repo);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string text = Lines(created.out).at(0);
  auto address = *filecoin::Address::Parse(text);

  app::BeastRpcTransport transport;
  filecoin::chain::ChainClient chain(transport, {.url = devnet.rpc(),
                                                 .network = filecoin::Network::kTestnet,
                                                 .head_ttl = std::chrono::milliseconds(50)});
  auto funded = chain.Call("Devnet.Fund", json::array{text, "5000000000000000000"});
  ASSERT_TRUE(funded) << funded.error().ToString();

  auto balance = RunCairn("wallet balance --rpc " + ShellQuote(devnet.rpc()) + " --repo " + repo);
  ASSERT_EQ(balance.exit_code, 0) << balance.err;
  EXPECT_NE(balance.out.find("balance: 5 FIL (5000000000000000000 attoFIL)"), std::string::npos)
      << balance.out;
  EXPECT_NE(balance.out.find("market escrow: 0 FIL"), std::string::npos) << balance.out;
  EXPECT_NE(balance.out.find("datacap: none"), std::string::npos) << balance.out;

  // The head and the finalized tipset (v2 tag; the devnet's finality lag is 900).
  auto head = chain.Head();
  ASSERT_TRUE(head) << head.error().ToString();
  auto finalized = chain.Finalized();
  ASSERT_TRUE(finalized) << finalized.error().ToString();
  EXPECT_LE(finalized->height, head->height);

  // One AddBalance, signed by the repo's wallet, awaited until on chain.
  auto wallet = filecoin::wallet::Wallet::Open(Env::Default(), dir.path() / "repo/wallet");
  ASSERT_TRUE(wallet) << wallet.error().ToString();
  filecoin::chain::MessageSender sender(
      chain, **wallet, Env::Default(), dir.path() / "repo/wallet/pending",
      {.poll_interval = std::chrono::milliseconds(100), .wait_timeout = std::chrono::seconds(60)});
  const auto needed = *filecoin::BigInt::Parse("1000000000000000000");
  auto topped = sender.EnsureMarketBalance(address, needed);
  ASSERT_TRUE(topped) << topped.error().ToString();
  ASSERT_TRUE(*topped) << "a top-up was needed";
  EXPECT_EQ((*topped)->exit_code, 0);
  auto market = chain.StateMarketBalance(address);
  ASSERT_TRUE(market) << market.error().ToString();
  EXPECT_EQ(market->available(), needed);
  EXPECT_FALSE(
      std::filesystem::exists(dir / ("repo/wallet/pending/" + address.ToString() + ".json")));
  auto again = sender.EnsureMarketBalance(address, needed);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(*again) << "enough escrow: nothing sent";

  auto after = RunCairn("wallet balance --rpc " + ShellQuote(devnet.rpc()) + " --repo " + repo);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("market escrow: 1 FIL (available 1 FIL, locked 0 FIL)"),
            std::string::npos)
      << after.out;
}

}  // namespace
}  // namespace cairn::testing
