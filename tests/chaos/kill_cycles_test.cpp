// Chaos: kill -9 at random moments while clients upload files, import CARs, create, replace and
// delete pins, with garbage collection every second. After the last cycle the server is started
// cleanly and everything acknowledged is checked:
// - every acknowledged upload (add, dag/import) reads back byte-identical through the gateway;
// - every acknowledged pin still exists and reaches `pinned`;
// - every acknowledged delete (and the pin a replace removed) stayed deleted.
// A request whose answer was lost (the server died under it) is acknowledged by nobody: its pin
// is left out of the checks, both ways.
//
// Short by default (CI); CAIRN_CHAOS_CYCLES and CAIRN_CHAOS_CLIENTS choose a long run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "tests/chaos/chaos_support.hpp"

namespace cairn::chaos {
namespace {

struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> files;   // root CID → content (acknowledged adds)
  std::map<std::string, std::string> blocks;  // CID → bytes (acknowledged dag/imports)
  std::map<std::string, std::string> pins;    // requestid → CID (acknowledged, live)
  std::set<std::string> deleted;              // requestids acknowledged gone
  std::set<std::string> uncertain;            // a delete or replace whose answer was lost
  uint64_t acknowledged = 0;                  // operations answered 2xx
  uint64_t unanswered = 0;                    // operations cut by a kill
};

class Client {
 public:
  Client(Ledger& ledger, std::atomic<uint16_t>& port, std::string token, uint64_t seed)
      : ledger_(ledger), port_(port), token_(std::move(token)), rng_(seed) {}

  void Step() {
    uint16_t port = port_.load();
    if (port == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return;
    }
    int dice = static_cast<int>(rng_() % 100);
    if (dice < 45) {
      Add(port);
    } else if (dice < 60) {
      Import(port);
    } else if (dice < 80) {
      CreatePin(port);
    } else if (dice < 90) {
      DeletePin(port);
    } else {
      ReplacePin(port);
    }
  }

 private:
  void Add(uint16_t port) {
    std::string content = RandomBytes(rng_, 1024 + rng_() % (1536 * 1024));
    auto r = HttpRequest(port, "POST", "/api/v0/add?cid-version=1", UploadHeaders(token_),
                         MultipartFile("f", content));
    std::lock_guard lock(ledger_.mu);
    if (r.status != 200) {
      ++ledger_.unanswered;
      return;
    }
    std::string cid = JsonField(r.body, "Hash");
    ASSERT_FALSE(cid.empty()) << r.body;
    ledger_.files[cid] = std::move(content);
    ++ledger_.acknowledged;
  }

  void Import(uint16_t port) {
    std::vector<std::pair<multiformats::Cid, std::string>> blocks;
    std::vector<multiformats::Cid> roots;
    for (int k = 0; k < 3; ++k) {
      std::string data = RandomBytes(rng_, 100 + rng_() % 20000);
      roots.push_back(RawCid(data));
      blocks.emplace_back(roots.back(), std::move(data));
    }
    auto r =
        HttpRequest(port, "POST", "/api/v0/dag/import",
                    {"Authorization: Bearer " + token_, "Content-Type: application/vnd.ipld.car"},
                    CarV1(roots, blocks));
    std::lock_guard lock(ledger_.mu);
    if (r.status != 200) {
      ++ledger_.unanswered;
      return;
    }
    for (auto& [cid, data] : blocks) ledger_.blocks[cid.ToString()] = std::move(data);
    ++ledger_.acknowledged;
  }

  // A CID this client may pin: one of the acknowledged uploads (present locally, so its pin
  // completes without the network).
  std::string SomeUploadedCid() {
    std::lock_guard lock(ledger_.mu);
    if (ledger_.files.empty()) return "";
    auto it = ledger_.files.begin();
    std::advance(it, static_cast<long>(rng_() % ledger_.files.size()));
    return it->first;
  }

  std::string SomeLivePin() {
    std::lock_guard lock(ledger_.mu);
    if (ledger_.pins.empty()) return "";
    auto it = ledger_.pins.begin();
    std::advance(it, static_cast<long>(rng_() % ledger_.pins.size()));
    return it->first;
  }

  void CreatePin(uint16_t port) {
    std::string cid = SomeUploadedCid();
    if (cid.empty()) return;
    auto r = HttpRequest(port, "POST", "/pins",
                         {"Authorization: Bearer " + token_, "Content-Type: application/json"},
                         "{\"cid\":\"" + cid + "\",\"name\":\"chaos\"}");
    std::lock_guard lock(ledger_.mu);
    if (r.status != 202) {
      ++ledger_.unanswered;
      return;
    }
    ledger_.pins[JsonField(r.body, "requestid")] = cid;
    ++ledger_.acknowledged;
  }

  void DeletePin(uint16_t port) {
    std::string id = SomeLivePin();
    if (id.empty()) return;
    auto r = HttpRequest(port, "DELETE", "/pins/" + id, {"Authorization: Bearer " + token_});
    std::lock_guard lock(ledger_.mu);
    if (!ledger_.pins.count(id)) return;  // another client removed it meanwhile
    ledger_.pins.erase(id);
    if (r.status == 202) {
      ledger_.deleted.insert(id);
      ++ledger_.acknowledged;
    } else {
      ledger_.uncertain.insert(id);
      ++ledger_.unanswered;
    }
  }

  void ReplacePin(uint16_t port) {
    std::string id = SomeLivePin();
    std::string cid = SomeUploadedCid();
    if (id.empty() || cid.empty()) return;
    auto r = HttpRequest(port, "POST", "/pins/" + id,
                         {"Authorization: Bearer " + token_, "Content-Type: application/json"},
                         "{\"cid\":\"" + cid + "\"}");
    std::lock_guard lock(ledger_.mu);
    if (!ledger_.pins.count(id)) return;
    ledger_.pins.erase(id);
    if (r.status == 202) {
      ledger_.deleted.insert(id);
      ledger_.pins[JsonField(r.body, "requestid")] = cid;
      ++ledger_.acknowledged;
    } else {
      ledger_.uncertain.insert(id);
      ++ledger_.unanswered;
    }
  }

  Ledger& ledger_;
  std::atomic<uint16_t>& port_;
  std::string token_;
  std::mt19937_64 rng_;
};

TEST(ChaosKill, KillNineUnderLoadLosesNothingAcknowledged) {
  const int cycles = static_cast<int>(EnvInt("CAIRN_CHAOS_CYCLES", 6));
  const int clients = static_cast<int>(EnvInt("CAIRN_CHAOS_CLIENTS", 3));
  testing::TempDir dir;
  std::string repo = dir / "repo";
  std::string config = dir / "config.toml";
  testing::WriteFile(
      config,
      "[pinning]\ngc_interval_seconds = 1\ngateways = []\nfind_deadline_seconds = 3600\n"
      "[api]\nrate_per_second = 100000\nrate_burst = 100000\n");
  std::string token = CreateAccountToken(repo, "chaos");
  ASSERT_FALSE(token.empty());

  Ledger ledger;
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(ledger, port, token, 1000 + static_cast<uint64_t>(c));
      while (!stop) client.Step();
    });
  }
  std::mt19937_64 rng(7);
  uint64_t acknowledged_before = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    auto server =
        std::make_unique<testing::ServeProcess>(repo, std::vector<std::string>{"--config", config});
    ASSERT_NE(server->port(), 0) << "cycle " << cycle
                                 << ": serve did not start: " << server->output();
    port = server->port();
    // Run until some operations were acknowledged in this cycle (whatever the machine's speed),
    // then a little longer, then kill at a random moment.
    for (int i = 0; i < 3000; ++i) {
      {
        std::lock_guard lock(ledger.mu);
        if (ledger.acknowledged >= acknowledged_before + 5) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 2500));
    port = 0;
    EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
    std::lock_guard lock(ledger.mu);
    acknowledged_before = ledger.acknowledged;
  }
  stop = true;
  for (auto& t : threads) t.join();

  // A clean start, then every promise is checked.
  testing::ServeProcess server(repo, {"--config", config});
  ASSERT_NE(server.port(), 0) << server.output();
  uint64_t lost = 0;
  for (const auto& [cid, content] : ledger.files) {
    auto r = HttpRequest(server.port(), "GET", "/ipfs/" + cid);
    if (r.status != 200 || r.body != content) {
      ++lost;
      ADD_FAILURE() << "upload " << cid << " lost: status " << r.status << ", " << r.body.size()
                    << " of " << content.size() << " bytes";
    }
  }
  for (const auto& [cid, data] : ledger.blocks) {
    auto r = HttpRequest(server.port(), "GET", "/ipfs/" + cid + "?format=raw");
    if (r.status != 200 || r.body != data) {
      ++lost;
      ADD_FAILURE() << "imported block " << cid << " lost: status " << r.status;
    }
  }
  for (const auto& [id, cid] : ledger.pins) {
    std::string status;
    for (int i = 0; i < 600 && status != "pinned"; ++i) {  // bounded: 60 s
      auto r = HttpRequest(server.port(), "GET", "/pins/" + id, {"Authorization: Bearer " + token});
      if (r.status != 200) {
        ++lost;
        ADD_FAILURE() << "pin " << id << " (" << cid << ") lost: status " << r.status;
        break;
      }
      status = JsonField(r.body, "status");
      if (status != "pinned") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(status == "pinned" || status.empty()) << "pin " << id << " stayed " << status;
  }
  for (const auto& id : ledger.deleted) {
    auto r = HttpRequest(server.port(), "GET", "/pins/" + id, {"Authorization: Bearer " + token});
    EXPECT_EQ(r.status, 404) << "deleted pin " << id << " came back";
    if (r.status != 404) ++lost;
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  std::printf(
      "chaos: %d kill -9 cycles, %d clients: %llu operations acknowledged (%zu uploads, "
      "%zu imported blocks, %zu live pins, %zu deletes), %llu cut by a kill, lost %llu\n",
      cycles, clients, static_cast<unsigned long long>(ledger.acknowledged), ledger.files.size(),
      ledger.blocks.size(), ledger.pins.size(), ledger.deleted.size(),
      static_cast<unsigned long long>(ledger.unanswered), static_cast<unsigned long long>(lost));
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(ledger.acknowledged, static_cast<uint64_t>(cycles) * 5);
}

}  // namespace
}  // namespace cairn::chaos
