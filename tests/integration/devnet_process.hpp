// The devnet (devnet/, Node) as a child process for end-to-end tests: started with
// `--epoch-ms 0` so that time moves only through Devnet.Advance, a short publish period, seal
// delay and finality, so that a deal goes through every state in a few dozen epochs. Skips (see
// skip()) when node or devnet/node_modules is missing. Its control API (devnet/README.md
// "Control API") is reached with Call.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/cairn/rpc_transport.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "tests/integration/run.hpp"

namespace cairn::testing {

class DevnetProcess {
 public:
  // `providers` storage providers, alternately curio (f01000, f01002, …: HTTP mk12 and /piece)
  // and boost (f01001, …: libp2p mk12).
  DevnetProcess(const std::string& seed, int providers) {
    const std::string devnet = SourceDir() + "/devnet";
    if (std::system("command -v node >/dev/null 2>&1") != 0) {
      skip_ = "node is not installed";
      return;
    }
    if (!std::filesystem::exists(devnet + "/node_modules")) {
      skip_ = "devnet/node_modules is missing (npm install in devnet/)";
      return;
    }
    int out[2];
    if (::pipe(out) != 0) return;
    const std::string count = std::to_string(providers);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      ::execlp("node", "node", (devnet + "/src/main.js").c_str(), "--epoch-ms", "0", "--providers",
               count.c_str(), "--publish-period", "2", "--seal-delay", "5", "--finality", "10",
               "--seed", seed.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    try {
      rpc_ = std::string(boost::json::parse(line).at("rpc").as_string());
    } catch (...) {
      rpc_.clear();
    }
    chain_ = std::make_unique<filecoin::chain::ChainClient>(
        transport_, filecoin::chain::ChainClientOptions{.url = rpc_});
  }
  ~DevnetProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  DevnetProcess(const DevnetProcess&) = delete;
  DevnetProcess& operator=(const DevnetProcess&) = delete;

  const std::string& skip() const { return skip_; }
  const std::string& rpc() const { return rpc_; }
  // A JSON-RPC call; a failure is a test failure (and a null value).
  boost::json::value Call(const std::string& method, boost::json::array params = {}) {
    auto r = chain_->Call(method, std::move(params));
    EXPECT_TRUE(r.has_value()) << method << ": " << r.error().ToString();
    return r ? *r : boost::json::value();
  }

 private:
  pid_t pid_ = -1;
  std::string skip_;
  std::string rpc_;
  app::BeastRpcTransport transport_;
  std::unique_ptr<filecoin::chain::ChainClient> chain_;
};

}  // namespace cairn::testing
