#include "api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace cairn::api {

RateLimiter::Bucket& RateLimiter::Refill(const std::string& key, int64_t now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{limit_.burst, now});
  Bucket& b = it->second;
  double elapsed = static_cast<double>(now - b.last_micros) / 1e6;
  b.tokens = std::min(limit_.burst, b.tokens + elapsed * limit_.per_second);
  b.last_micros = now;
  return b;
}

void RateLimiter::Charge(const std::string& key, double n) {
  int64_t now = clock_.MonotonicMicros();
  std::lock_guard lock(mu_);
  Refill(key, now).tokens -= n;
}

int64_t RateLimiter::Acquire(const std::string& key) {
  int64_t now = clock_.MonotonicMicros();
  std::lock_guard lock(mu_);
  // Forget idle buckets now and then so the map stays bounded by the active keys.
  if (buckets_.size() > 100000) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.last_micros > 60'000'000 ? buckets_.erase(it) : std::next(it);
    }
  }
  Bucket& b = Refill(key, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = (1.0 - b.tokens) / limit_.per_second;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
}

}  // namespace cairn::api
