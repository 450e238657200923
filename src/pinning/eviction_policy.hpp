// The order in which the hot tier gives up pins (issue 11 §2; docs/architecture.md "The hot tier
// as a cache"): which resident pin to evict next, from the accesses seen so far.
//
// Policies (config `hot.policy`):
// - "lru-2" (default): LRU-K with K = 2 (O'Neil, O'Neil and Weikum, SIGMOD 1993). The victim is
//   the resident key whose second most recent access is the oldest; keys accessed only once go
//   first (their second access is at minus infinity), the least recently used of them first. A
//   key read once by a scan therefore leaves before one read twice, however long ago, and the
//   order approaches LFU on a stationary skewed workload, where LRU keeps whatever came last.
//   - Correlated references: accesses within `correlated_period` of a reference's first access
//     are that reference (a file read as a burst of block reads is one access, not many), so a
//     single burst does not pass for frequency; a pin read steadily gets one new reference per
//     period.
//   - Retained history: a key evicted keeps its access history (up to `retained_keys` evicted
//     keys, the oldest forgotten first), so a pin read again after its eviction is recognised
//     as read before.
// - "lru": least recently used (K = 1), the baseline the benchmark compares against.
//
// The order knows keys and times only; sizes and whether a key may be evicted at all are the
// caller's (pinning::HotCache). Times are any increasing integer (HotCache uses seconds).
//
// Pure. Not thread-safe: the caller serialises.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "common/result.hpp"

namespace cairn::pinning {

struct EvictionOptions {
  int k = 2;                       // 1 = LRU, 2 = LRU-2
  int64_t correlated_period = 0;   // accesses within this of the last one are the same reference
  size_t retained_keys = 1 << 20;  // evicted keys whose history is kept
};

// "lru-2" → k = 2, "lru" → k = 1; InvalidArgument naming `hot.policy` otherwise.
Result<int> EvictionPolicyK(std::string_view name);

class EvictionOrder {
 public:
  explicit EvictionOrder(EvictionOptions options);

  // An access at `now`: the key becomes resident (again) with this access in its history.
  void Touch(uint64_t key, int64_t now);
  // The key is resident without a known access (found at start): it goes before every key with
  // an access; a retained history, if any, is kept. No-op when already resident.
  void Admit(uint64_t key);
  // The key is no longer resident; its history is retained.
  void Evicted(uint64_t key);
  // The key is gone for good (its pin deleted): resident or not, forgotten.
  void Forget(uint64_t key);

  bool Resident(uint64_t key) const;
  size_t resident() const { return order_.size(); }
  size_t tracked() const { return entries_.size(); }

  // Resident keys in eviction order (the next victim first) while `fn` returns true. `fn` must
  // not change the order.
  void ForEachVictim(const std::function<bool(uint64_t)>& fn) const;

 private:
  static constexpr int64_t kNever = INT64_MIN;
  struct Entry {
    int64_t hist[2] = {kNever, kNever};  // most recent access first
    bool resident = false;
    uint64_t retired_seq = 0;  // which retired_ item stands for this key while evicted
  };
  // (K-th most recent access, most recent access, key): ascending = eviction order.
  using OrderKey = std::tuple<int64_t, int64_t, uint64_t>;
  OrderKey KeyOf(uint64_t key, const Entry& e) const;
  void TrimRetained();

  EvictionOptions options_;
  std::unordered_map<uint64_t, Entry> entries_;
  std::set<OrderKey> order_;  // resident keys only
  // Evicted keys, oldest first, as (key, seq); an item whose seq is not its entry's any more is
  // stale (the key was touched or forgotten since).
  std::deque<std::pair<uint64_t, uint64_t>> retired_;
  uint64_t next_seq_ = 1;
  size_t retained_ = 0;  // tracked entries that are not resident
};

}  // namespace cairn::pinning
