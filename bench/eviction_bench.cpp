// Hot-hit ratio of the hot tier's eviction order (pinning::EvictionOrder) against LRU, on skewed
// access traces of 100k pins, measured in one run (docs/benchmarks.md "Hot tier as a cache").
//
//   eviction_bench [pins=100000] [requests=2000000] [cache_share=0.1] [seed=1]
//
// Pins have log-uniform sizes from 4 KiB to 4 MiB; popularity is Zipf over a random permutation
// of the pins. The cache holds `cache_share` of all the pins' bytes; a miss brings the pin in
// and evicts in the order's sequence until the bytes fit (what HotCache does, without the I/O).
// Traces:
//   zipf-0.8, zipf-1.0: independent requests with Zipf exponent 0.8 / 1.0;
//   zipf-0.8+scan:      the zipf-0.8 trace with a scan every 50k requests: 5k pins never read
//                       otherwise, read once each in a row (a crawler, a backup, an audit).
// Prints one line per trace and policy: object hit ratio and byte hit ratio, then the ratios of
// LRU-2 to LRU. Each reference is its own access (no correlated-reference period).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "pinning/eviction_policy.hpp"

namespace {

using cairn::pinning::EvictionOptions;
using cairn::pinning::EvictionOrder;

struct Workload {
  std::vector<uint64_t> sizes;     // per pin
  std::vector<uint32_t> requests;  // pin ids
};

struct Outcome {
  double hit_ratio = 0;
  double byte_hit_ratio = 0;
};

std::vector<uint32_t> ZipfTrace(size_t pins, size_t requests, double s, std::mt19937_64& rng) {
  std::vector<double> cdf(pins);
  double total = 0;
  for (size_t r = 0; r < pins; ++r) {
    total += 1.0 / std::pow(static_cast<double>(r + 1), s);
    cdf[r] = total;
  }
  std::vector<uint32_t> pin_of_rank(pins);
  std::iota(pin_of_rank.begin(), pin_of_rank.end(), 0);
  std::shuffle(pin_of_rank.begin(), pin_of_rank.end(), rng);
  std::uniform_real_distribution<double> u(0, total);
  std::vector<uint32_t> out(requests);
  for (auto& id : out) {
    size_t rank = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
    id = pin_of_rank[std::min(rank, pins - 1)];
  }
  return out;
}

// Inserts scans of `scan_len` pins every `every` requests; scanned pins are fresh ids beyond
// `pins` (sizes appended), each read once.
void AddScans(Workload& w, size_t every, size_t scan_len, std::mt19937_64& rng,
              const std::vector<uint64_t>& size_pool) {
  std::vector<uint32_t> out;
  std::uniform_int_distribution<size_t> pick(0, size_pool.size() - 1);
  for (size_t i = 0; i < w.requests.size(); ++i) {
    if (i > 0 && i % every == 0) {
      for (size_t k = 0; k < scan_len; ++k) {
        out.push_back(static_cast<uint32_t>(w.sizes.size()));
        w.sizes.push_back(size_pool[pick(rng)]);
      }
    }
    out.push_back(w.requests[i]);
  }
  w.requests = std::move(out);
}

Outcome Simulate(const Workload& w, uint64_t capacity, int k) {
  EvictionOrder order(EvictionOptions{.k = k, .correlated_period = 0});
  std::vector<bool> resident(w.sizes.size(), false);
  uint64_t bytes = 0, hits = 0, hit_bytes = 0, all_bytes = 0;
  int64_t now = 0;
  for (uint32_t id : w.requests) {
    ++now;
    all_bytes += w.sizes[id];
    if (resident[id]) {
      ++hits;
      hit_bytes += w.sizes[id];
    } else {
      resident[id] = true;
      bytes += w.sizes[id];
    }
    order.Touch(id, now);
    while (bytes > capacity) {
      uint64_t victim = 0;
      order.ForEachVictim([&](uint64_t key) {
        victim = key;
        return false;
      });
      order.Evicted(victim);
      resident[victim] = false;
      bytes -= w.sizes[victim];
    }
  }
  return {static_cast<double>(hits) / static_cast<double>(w.requests.size()),
          static_cast<double>(hit_bytes) / static_cast<double>(all_bytes)};
}

}  // namespace

int main(int argc, char** argv) {
  const size_t pins = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  const size_t requests = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2'000'000;
  const double share = argc > 3 ? std::strtod(argv[3], nullptr) : 0.1;
  const uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> sizes(pins);
  std::uniform_real_distribution<double> log_size(std::log(4096.0), std::log(4.0 * 1024 * 1024));
  for (auto& s : sizes) s = static_cast<uint64_t>(std::exp(log_size(rng)));
  const uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
  const auto capacity = static_cast<uint64_t>(static_cast<double>(total) * share);
  std::printf("pins %zu, requests %zu, cache %.0f%% of %.1f GiB\n", pins, requests, share * 100,
              static_cast<double>(total) / (1 << 30));

  struct Trace {
    std::string name;
    Workload w;
  };
  std::vector<Trace> traces;
  traces.push_back({"zipf-0.8", {sizes, ZipfTrace(pins, requests, 0.8, rng)}});
  traces.push_back({"zipf-1.0", {sizes, ZipfTrace(pins, requests, 1.0, rng)}});
  Trace scan{"zipf-0.8+scan", {sizes, traces[0].w.requests}};
  AddScans(scan.w, 50'000, 5'000, rng, sizes);
  traces.push_back(std::move(scan));

  for (const auto& t : traces) {
    const Outcome lru = Simulate(t.w, capacity, 1);
    const Outcome lru2 = Simulate(t.w, capacity, 2);
    std::printf("%-14s lru   hit %.4f  byte-hit %.4f\n", t.name.c_str(), lru.hit_ratio,
                lru.byte_hit_ratio);
    std::printf("%-14s lru-2 hit %.4f  byte-hit %.4f  (x%.3f hits, x%.3f bytes vs lru)\n",
                t.name.c_str(), lru2.hit_ratio, lru2.byte_hit_ratio, lru2.hit_ratio / lru.hit_ratio,
                lru2.byte_hit_ratio / lru.byte_hit_ratio);
  }
  return 0;
}
