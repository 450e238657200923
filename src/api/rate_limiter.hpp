// Per-key token-bucket rate limiting for the API (the PSA keys a bucket per account and kind:
// reads and writes apart). Sized so Kubo's `ipfs pin remote` never hits it in normal use: `add`
// polls GET /pins/{id} every 0.5 s per pin, and `ls` pages GET /pins ten pins a page as fast as
// the link allows (10,000+ pins fit in the burst); a runaway client gets 429 with Retry-After.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace cairn::api {

struct RateLimit {
  double per_second = 200;  // sustained rate
  double burst = 2000;      // bucket size
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
