// Scale check of the pins repository (label `slow`): fills one account with CAIRN_SCALE_PINS pins
// (default 1,000,000) through the group-commit path and measures `GET /pins`-shaped pages at
// random depths, as DESIGN.md's goal states it ("GET /pins page at 1M pins: p99 <= 10 ms").
// Prints the measurements; asserts only correctness (no timed assertions in tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>

#include "metadata/accounts.hpp"
#include "metadata/internal/test_db.hpp"
#include "metadata/pins.hpp"

namespace cairn::metadata {
namespace {

using multiformats::Cid;
using Clock = std::chrono::steady_clock;

Cid RawCid(int64_t i) {
  return *Cid::Compute(1, 0x55, 0x12, AsBytes("scale " + std::to_string(i)));
}

struct Stats {
  double p50_ms, p99_ms, max_ms;
};

Stats Measure(const std::function<void(int)>& op, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    op(i);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back()};
}

void Print(const char* what, const Stats& s) {
  std::printf("[ metric ] %-44s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", what, s.p50_ms,
              s.p99_ms, s.max_ms);
}

TEST(PinStoreScale, PagesStayFastAtMillionsOfPins) {
  const char* env = std::getenv("CAIRN_SCALE_PINS");
  const int64_t n = env ? std::atoll(env) : 1'000'000;
  ASSERT_GT(n, 1000);
  testing::TempDb t;
  SystemClock& clock = SystemClock::Instance();
  AccountStore accounts(t.db(), clock);
  int64_t big = accounts.CreateAccount("big")->id;
  int64_t small = accounts.CreateAccount("small")->id;
  PinStore pins(t.db(), clock);

  // Fill: asynchronous creates keep the group-commit queue full.
  auto fill_start = Clock::now();
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> done{0};
  const StringMap meta = {{"app", "scale"}};
  for (int64_t i = 0; i < n; ++i) {
    pins.CreateAsync(i % 100 == 0 ? small : big,
                     NewPin{RawCid(i).ToString(), "file-" + std::to_string(i % 1000), {}, meta},
                     [&](Result<PinRecord> r) {
                       if (!r) ++failed;
                       ++done;
                     });
    while (i - done.load() > 20000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  while (done.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  ASSERT_EQ(failed.load(), 0);
  std::printf("[ metric ] filled %lld pins in %.1f s = %.0f durable creates/s (one producer)\n",
              static_cast<long long>(n), fill_s, n / fill_s);
  // Some pins pinned, a few failed, the rest queued.
  ASSERT_TRUE(t.db().Write([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec("UPDATE pins SET status = 'pinned' WHERE created % 10 <> 0"));
    CAIRN_TRY(s.Exec("UPDATE pins SET status = 'failed' WHERE created % 1000 = 0"));
    return Ok();
  }));

  auto newest = *pins.List(big, PinFilter{.limit = 1});
  const int64_t top = newest[0].created_us;
  int64_t bottom = 0;
  ASSERT_TRUE(t.db().Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT MIN(created) FROM pins"));
    bottom = rows[0].Int(0);
    return Ok();
  }));
  std::mt19937_64 rng(42);
  // Random depths: `before` uniformly between the oldest and the newest pin.
  std::vector<int64_t> befores;
  for (int i = 0; i < 300; ++i) {
    befores.push_back(bottom + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(top - bottom)));
  }

  Print("List limit=10, no filter, random before", Measure([&](int i) {
          PinFilter f;
          f.before_us = befores[i];
          auto r = pins.List(big, f);
          ASSERT_TRUE(r);
        }, 300));
  Print("List limit=1000, no filter, random before", Measure([&](int i) {
          PinFilter f;
          f.limit = 1000;
          f.before_us = befores[i];
          auto r = pins.List(big, f);
          ASSERT_TRUE(r);
        }, 50));
  Print("List limit=10, status=pinned", Measure([&](int i) {
          PinFilter f;
          f.statuses = {PinStatus::kPinned};
          f.before_us = befores[i];
          ASSERT_TRUE(pins.List(big, f));
        }, 300));
  Print("List limit=10, status=failed (rare)", Measure([&](int i) {
          PinFilter f;
          f.statuses = {PinStatus::kFailed};
          f.before_us = befores[i];
          ASSERT_TRUE(pins.List(big, f));
        }, 300));
  Print("List limit=10, all four statuses", Measure([&](int i) {
          PinFilter f;
          f.statuses = {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned,
                        PinStatus::kFailed};
          f.before_us = befores[i];
          auto r = pins.List(big, f);
          ASSERT_TRUE(r);
        }, 300));
  Print("List by cid (1 of n)", Measure([&](int i) {
          PinFilter f;
          f.cids = {RawCid(static_cast<int64_t>(rng() % n) | 1)};
          auto r = pins.List(big, f);
          ASSERT_TRUE(r);
          ASSERT_LE(r->size(), 1u);
          (void)i;
        }, 300));
  Print("Get(requestid)", Measure([&](int) {
          ASSERT_TRUE(pins.Get(big, newest[0].requestid));
        }, 300));
  Print("Count, no filter (counters)", Measure([&](int) {
          auto c = pins.Count(big, {});
          ASSERT_TRUE(c);
          ASSERT_EQ(*c, static_cast<uint64_t>(n - (n + 99) / 100));
        }, 5));
  Print("Count, before = middle (scan of half)", Measure([&](int) {
          PinFilter f;
          f.before_us = bottom + (top - bottom) / 2;
          ASSERT_TRUE(pins.Count(big, f));
        }, 5));
  Print("Count, status=failed", Measure([&](int) {
          ASSERT_TRUE(pins.Count(big, PinFilter{.statuses = {PinStatus::kFailed}}));
        }, 5));
}

}  // namespace
}  // namespace cairn::metadata
