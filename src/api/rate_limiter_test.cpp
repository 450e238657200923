#include "api/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

TEST(RateLimiter, AllowsBurstThenRefillsAtTheRate) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 2, .burst = 4}, clock);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Acquire("a"), 0) << i;
  EXPECT_EQ(limiter.Acquire("a"), 1);  // empty: retry after a second
  EXPECT_EQ(limiter.Acquire("b"), 0);  // keys are independent
  clock.Advance(500'000);              // half a second refills one token at 2/s
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_GE(limiter.Acquire("a"), 1);
}

TEST(RateLimiter, ChargeGoesIntoDebtAndAcquireWaitsItOut) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 2, .burst = 4}, clock);
  EXPECT_EQ(limiter.Acquire("a"), 0);  // 3 left
  limiter.Charge("a", 10);             // an upload that created 10 more pins: -7
  EXPECT_EQ(limiter.Acquire("a"), 4);  // (1 - -7) / 2 per second
  EXPECT_EQ(limiter.Acquire("b"), 0);  // other keys are not charged
  clock.Advance(4'000'000);            // refilled to 1
  EXPECT_EQ(limiter.Acquire("a"), 0);
}

TEST(RateLimiter, KuboPollingEveryHalfSecondNeverWaits) {
  FakeClock clock;
  RateLimiter limiter({}, clock);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(limiter.Acquire("kubo"), 0) << i;
    clock.Advance(500'000);
  }
}

TEST(RateLimiter, KubosPagerOverTenThousandPinsNeverWaits) {
  FakeClock clock;
  RateLimiter limiter({}, clock);
  // `ipfs pin remote ls` asks for 10 pins a page, one page right after the other (~1 ms each on
  // a fast link): 1,000 pages for 10,000 pins.
  for (int page = 0; page < 1000; ++page) {
    ASSERT_EQ(limiter.Acquire("kubo"), 0) << page;
    clock.Advance(1'000);
  }
}

TEST(RateLimiter, RetryAfterGrowsWithTheDeficitAtLowRates) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 0.1, .burst = 1}, clock);
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_EQ(limiter.Acquire("a"), 10);
}

}  // namespace
}  // namespace cairn::api
