// Seeds a fresh repo's metadata (<repo>/cairn.db) for scripts/bench-serve.sh before `cairn serve`
// starts: the fastest honest way to reach 1M pins, writing through the same repositories the
// service uses (metadata::AccountStore, metadata::PinStore and its group commit) instead of 1M
// HTTP round trips. What it writes:
//   - account "big" with one token and --pins pins (names file-0 … file-999, meta {"app":"bench"}),
//     9 in 10 `pinned` and 1 in 10 `failed`, none `queued` (so no worker goes looking for them);
//   - --accounts accounts "acct-N", each with one token and one pinned pin of an identity CID
//     (the block is in the CID, so nothing is fetched), all rendering to PinStatus bodies of
//     the same size.
// Output files in --out:
//   big.token           the big account's token
//   big.created         "<oldest created µs> <newest created µs>" of the big account's pins
//   big.cid             one CID of the big account (for the cid filter)
//   small.tokens        "<token> <requestid>" per line, one per small account
// Durability while seeding: synchronous=NORMAL (the database is thrown away after the run, and
// what is measured is the service, not the seeding); the database is closed cleanly at the end.
//
// Usage: serve_seed_repo --repo DIR --out DIR [--pins N] [--accounts N]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "bench/bench_support.hpp"
#include "common/clock.hpp"
#include "metadata/accounts.hpp"
#include "metadata/open.hpp"
#include "metadata/pins.hpp"
#include "multiformats/cid.hpp"

namespace {

using namespace cairn;
using SteadyClock = std::chrono::steady_clock;

using bench::Die;
using bench::Must;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) Die("cannot write " + path.string());
}

// A CIDv1 raw block of the big account: sha2-256 of a per-pin string (never fetched: every
// seeded big-account pin is pinned or failed already).
multiformats::Cid BigCid(int64_t i) {
  return Must(multiformats::Cid::Compute(1, 0x55, 0x12, AsBytes("bench pin " + std::to_string(i))),
              "cid");
}

// An identity CID of fixed length, so every small account's PinStatus body has the same size.
multiformats::Cid SmallCid(int64_t i) {
  char text[32];
  std::snprintf(text, sizeof(text), "small-pin-%08lld", static_cast<long long>(i));
  return Must(multiformats::Cid::Compute(1, 0x55, 0x00, AsBytes(text)), "identity cid");
}

}  // namespace

int main(int argc, char** argv) {
  cairn::bench::ProgramName() = "serve_seed_repo";
  std::string repo;
  std::string out;
  int64_t pins = 1'000'000;
  int64_t accounts = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--repo") {
      repo = argv[i + 1];
    } else if (flag == "--out") {
      out = argv[i + 1];
    } else if (flag == "--pins") {
      pins = std::atoll(argv[i + 1]);
    } else if (flag == "--accounts") {
      accounts = std::atoll(argv[i + 1]);
    } else {
      Die("unknown flag " + flag);
    }
  }
  if (repo.empty() || out.empty() || pins < 1 || accounts < 1) {
    Die("usage: serve_seed_repo --repo DIR --out DIR [--pins N] [--accounts N]");
  }
  std::filesystem::create_directories(repo);
  std::filesystem::create_directories(out);
  const Clock& clock = SystemClock::Instance();
  auto db = Must(metadata::OpenSqliteMetadata((std::filesystem::path(repo) / "cairn.db").string(),
                                              {.synchronous_full = false}),
                 "open metadata");
  metadata::AccountStore account_store(*db, clock);
  auto start = SteadyClock::now();
  auto seconds = [&start] {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  };

  // Small accounts: one token and one pinned pin each.
  std::string small_lines;
  {
    metadata::PinStore pin_store(*db, clock);
    for (int64_t i = 0; i < accounts; ++i) {
      auto account = Must(account_store.CreateAccount("acct-" + std::to_string(i)), "account");
      auto token =
          Must(account_store.CreateToken(account.id, metadata::ScopeSet::Default(), std::nullopt),
               "token");
      char name[32];
      std::snprintf(name, sizeof(name), "small-%08lld", static_cast<long long>(i));
      auto pin = Must(pin_store.Create(account.id, {SmallCid(i).ToString(), name, {}, {}}), "pin");
      Must(pin_store.UpdateStatus(pin.requestid, metadata::PinStatus::kPinned, {}, 0), "status");
      small_lines += token.secret + " " + pin.requestid + "\n";
    }
  }
  WriteFile(std::filesystem::path(out) / "small.tokens", small_lines);
  std::printf("seeded %lld accounts with a token and a pin each in %.1f s\n",
              static_cast<long long>(accounts), seconds());

  // The big account: `pins` pins through the group-commit queue.
  auto big = Must(account_store.CreateAccount("big"), "big account");
  auto big_token = Must(
      account_store.CreateToken(big.id, metadata::ScopeSet::Default(), std::nullopt), "big token");
  WriteFile(std::filesystem::path(out) / "big.token", big_token.secret + "\n");
  WriteFile(std::filesystem::path(out) / "big.cid", BigCid(pins / 2).ToString() + "\n");
  {
    metadata::PinStore pin_store(*db, clock);
    std::atomic<int64_t> done{0};
    std::atomic<int64_t> failed{0};
    const metadata::StringMap meta = {{"app", "bench"}};
    auto fill_start = seconds();
    for (int64_t i = 0; i < pins; ++i) {
      pin_store.CreateAsync(big.id,
                            {BigCid(i).ToString(), "file-" + std::to_string(i % 1000), {}, meta},
                            [&](const Result<metadata::PinRecord>& r) {
                              if (!r) ++failed;
                              ++done;
                            });
      while (i - done.load() > 20000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while (done.load() < pins) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (failed.load() != 0) Die(std::to_string(failed.load()) + " pin creates failed");
    std::printf("seeded %lld pins in %.1f s\n", static_cast<long long>(pins),
                seconds() - fill_start);
  }
  // Statuses: 9 in 10 pinned, the rest failed (the pin_counts triggers follow).
  Must(db->Write([&](metadata::SqlSession& s) -> Result<void> {
    std::array<metadata::SqlValue, 1> p = {big.id};
    CAIRN_TRY(
        s.Exec("UPDATE pins SET status = 'pinned' WHERE account_id = ? AND created % 10 <> 0", p));
    CAIRN_TRY(
        s.Exec("UPDATE pins SET status = 'failed' WHERE account_id = ? AND created % 10 = 0", p));
    return Ok();
  }),
       "statuses");
  std::vector<metadata::SqlRow> rows;
  Must(db->Read([&](metadata::SqlSession& s) -> Result<void> {
    std::array<metadata::SqlValue, 1> p = {big.id};
    rows =
        CAIRN_TRY(s.Query("SELECT min(created), max(created) FROM pins WHERE account_id = ?", p));
    return Ok();
  }),
       "created range");
  WriteFile(std::filesystem::path(out) / "big.created",
            std::to_string(rows.at(0).Int(0)) + " " + std::to_string(rows.at(0).Int(1)) + "\n");
  std::printf("seeding done in %.1f s\n", seconds());
  return 0;
}
