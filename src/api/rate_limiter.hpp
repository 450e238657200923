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

// The bucket of an account's pin writes: PSA creates, replaces and deletes, and the pins that
// uploads create.
inline std::string PinWriteBucket(int64_t account_id) {
  return "account:" + std::to_string(account_id) + ":write";
}

class RateLimiter {
 public:
  RateLimiter(RateLimit limit, const Clock& clock) : limit_(limit), clock_(clock) {}

  // Takes one token for `key`. Returns 0 when allowed, otherwise the whole seconds (≥ 1) the
  // caller should wait before retrying (the Retry-After value). Thread-safe.
  int64_t Acquire(const std::string& key);
  // Takes `n` tokens for `key` unconditionally: a bucket holding fewer goes into debt, and
  // Acquire waits until it has refilled. For work already admitted (by an Acquire) whose cost is
  // known only as it completes: the pins an upload creates, one per root. Thread-safe.
  void Charge(const std::string& key, double n);

 private:
  struct Bucket {
    double tokens;
    int64_t last_micros;
  };
  Bucket& Refill(const std::string& key, int64_t now);  // REQUIRES(mu_)
  RateLimit limit_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::api
