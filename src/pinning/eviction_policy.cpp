#include "pinning/eviction_policy.hpp"

#include <algorithm>
#include <string>

namespace cairn::pinning {

Result<int> EvictionPolicyK(std::string_view name) {
  if (name == "lru-2") return 2;
  if (name == "lru") return 1;
  return Err(ErrorCode::kInvalidArgument,
             "hot.policy: '" + std::string(name) + "' is not a policy (lru-2 or lru)");
}

EvictionOrder::EvictionOrder(EvictionOptions options) : options_(options) {
  if (options_.k < 1) options_.k = 1;
  if (options_.k > 2) options_.k = 2;
}

EvictionOrder::OrderKey EvictionOrder::KeyOf(uint64_t key, const Entry& e) const {
  return {e.hist[options_.k - 1], e.hist[0], key};
}

void EvictionOrder::Touch(uint64_t key, int64_t now) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (e.resident) {
    order_.erase(KeyOf(key, e));
  } else if (!inserted) {
    --retained_;  // was retained: its retired_ item goes stale
  }
  if (e.hist[0] != kNever && now >= e.hist[0] && now - e.hist[0] <= options_.correlated_period) {
    // The same reference: the period runs from its first access, so that a pin read steadily
    // more often than the period still gets a new reference once per period.
  } else {
    e.hist[1] = e.hist[0];
    e.hist[0] = now;
  }
  e.resident = true;
  e.retired_seq = 0;
  order_.insert(KeyOf(key, e));
}

void EvictionOrder::Admit(uint64_t key) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (e.resident) return;
  if (!inserted) --retained_;
  e.resident = true;
  e.retired_seq = 0;
  order_.insert(KeyOf(key, e));
}

void EvictionOrder::Evicted(uint64_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.resident) return;
  Entry& e = it->second;
  order_.erase(KeyOf(key, e));
  e.resident = false;
  e.retired_seq = next_seq_++;
  retired_.emplace_back(key, e.retired_seq);
  ++retained_;
  TrimRetained();
}

void EvictionOrder::Forget(uint64_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.resident) {
    order_.erase(KeyOf(key, it->second));
  } else {
    --retained_;
  }
  entries_.erase(it);
}

void EvictionOrder::TrimRetained() {
  while (retained_ > options_.retained_keys && !retired_.empty()) {
    auto [key, seq] = retired_.front();
    retired_.pop_front();
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.resident || it->second.retired_seq != seq) continue;
    entries_.erase(it);
    --retained_;
  }
  // Stale items cannot outnumber the live ones by much: drop them from the front as they come.
  while (!retired_.empty()) {
    auto it = entries_.find(retired_.front().first);
    if (it != entries_.end() && !it->second.resident &&
        it->second.retired_seq == retired_.front().second) {
      break;
    }
    retired_.pop_front();
  }
  // Stale items in the middle (keys evicted, then touched again) are dropped once they are most
  // of the queue, so it stays within twice the retained keys.
  if (retired_.size() > 2 * retained_ + 1024) {
    std::deque<std::pair<uint64_t, uint64_t>> live;
    for (const auto& [key, seq] : retired_) {
      auto it = entries_.find(key);
      if (it != entries_.end() && !it->second.resident && it->second.retired_seq == seq) {
        live.emplace_back(key, seq);
      }
    }
    retired_.swap(live);
  }
}

bool EvictionOrder::Resident(uint64_t key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.resident;
}

void EvictionOrder::ForEachVictim(const std::function<bool(uint64_t)>& fn) const {
  for (const auto& k : order_) {
    if (!fn(std::get<2>(k))) return;
  }
}

}  // namespace cairn::pinning
