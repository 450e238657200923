// Per-key token-bucket rate limiting for the API (keys are account names or token ids). Sized so
// Kubo's `ipfs pin remote` — which polls GET /pins/{id} every 0.5 s per pin and pages GET /pins —
// never hits it in normal use, while a runaway client gets 429 with Retry-After.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace cairn::api {

struct RateLimit {
  double per_second = 50;  // sustained rate
  double burst = 200;      // bucket size
};

class RateLimiter {
 public:
  RateLimiter(RateLimit limit, const Clock& clock) : limit_(limit), clock_(clock) {}

  // Takes one token for `key`. Returns 0 when allowed, otherwise the whole seconds (≥ 1) the
  // caller should wait before retrying (the Retry-After value). Thread-safe.
  int64_t Acquire(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    int64_t last_micros;
  };
  RateLimit limit_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::api
