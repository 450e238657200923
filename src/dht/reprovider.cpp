#include "dht/reprovider.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "common/log.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::dht {

ProvideStats& ProvideStats::operator+=(const ProvideStats& o) {
  keys += o.keys;
  regions += o.regions;
  failed_keys += o.failed_keys;
  records += o.records;
  windows += o.windows;
  source_reads += o.source_reads;
  return *this;
}

namespace {

// The k peers of `peers` closest to `kad` (indices into `peers`).
std::vector<size_t> ClosestAmong(const KadId& kad, const std::vector<PeerRef>& peers, size_t k) {
  std::vector<size_t> idx(peers.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  size_t n = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
                    [&](size_t a, size_t b) { return Closer(peers[a].kad, peers[b].kad, kad); });
  idx.resize(n);
  return idx;
}

// a + b <= limit, as 256-bit big-endian numbers (a + b may carry past 256 bits: then false).
bool SumAtMost(const KadId& a, const KadId& b, const KadId& limit) {
  std::array<uint8_t, 32> sum{};
  unsigned carry = 0;
  for (size_t i = sum.size(); i-- > 0;) {
    unsigned v = unsigned{a.bytes[i]} + b.bytes[i] + carry;
    sum[i] = static_cast<uint8_t>(v);
    carry = v >> 8;
  }
  return carry == 0 && sum <= limit.bytes;
}

// One region of `keys` (`region`: indices, the lookup's target in the middle): one lookup, then
// each key whose k closest peers are certainly among those found is sent to them; the others are
// appended to `deferred`. Certainly: with r the distance from the target to the farthest peer
// found and d the distance from the key to its k-th closest found, d(key, target) + d <= r puts
// every peer closer to the key than d within r of the target (XOR obeys the triangle
// inequality), so the lookup found it.
ProvideStats ProvideRegion(const std::vector<PlacedKey>& keys, const std::vector<size_t>& region,
                           ProvideRouting& routing, size_t& prefix_bits, size_t min_prefix_bits,
                           std::vector<size_t>& deferred) {
  ProvideStats stats;
  stats.regions = 1;
  const size_t middle = region[region.size() / 2];
  const PlacedKey& target = keys[middle];
  auto peers = routing.FindClosestPeers(target.key);
  if (!peers || peers->empty()) {
    stats.keys = stats.failed_keys = region.size();
    log::Info("dht_provide_region_failed",
              {{"keys", static_cast<uint64_t>(region.size())},
               {"error", peers ? std::string("no peer answered") : peers.error().message()}});
    return stats;
  }
  const size_t k = routing.k();
  const bool everybody = peers->size() < k;  // fewer than k answered: they are all there is
  KadId reach{};
  for (const auto& p : *peers) reach = std::max(reach, Distance(p.kad, target.kad));
  // Regions about as wide as the span of the k closest peers (the whole window when the
  // network has fewer than k peers).
  size_t width = 0;
  if (!everybody) {
    width =
        CommonPrefixLength(target.kad, (*peers)[ClosestAmong(target.kad, *peers, k).back()].kad);
  }
  prefix_bits = std::max(width, min_prefix_bits);
  std::map<size_t, std::vector<Bytes>> per_peer;
  for (size_t i : region) {
    auto closest = ClosestAmong(keys[i].kad, *peers, k);
    KadId kth = Distance(keys[i].kad, (*peers)[closest.back()].kad);
    if (!everybody && i != middle && !SumAtMost(Distance(keys[i].kad, target.kad), kth, reach)) {
      deferred.push_back(i);
      continue;
    }
    ++stats.keys;
    for (size_t p : closest) per_peer[p].push_back(keys[i].key);
  }
  std::vector<ProviderBatch> batches;
  batches.reserve(per_peer.size());
  for (auto& [p, ks] : per_peer) batches.push_back({(*peers)[p], std::move(ks)});
  auto sent = routing.SendProviderRecords(std::move(batches));
  if (sent) stats.records = *sent;
  return stats;
}

}  // namespace

ProvideStats ProvideSorted(const std::vector<PlacedKey>& keys, ProvideRouting& routing,
                           size_t& prefix_bits, size_t min_prefix_bits,
                           const std::atomic<bool>* cancel) {
  ProvideStats stats;
  prefix_bits = std::max(prefix_bits, min_prefix_bits);
  std::vector<size_t> todo(keys.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  // Each round walks the keys left, in position order, region by region; the keys a region's
  // lookup could not vouch for go to the next round. A region's middle key is always done, so
  // every round leaves fewer.
  while (!todo.empty()) {
    std::vector<size_t> deferred;
    for (size_t i = 0; i < todo.size();) {
      if (cancel != nullptr && cancel->load()) return stats;
      size_t j = i + 1;
      while (j < todo.size() &&
             CommonPrefixLength(keys[todo[i]].kad, keys[todo[j]].kad) >= prefix_bits) {
        ++j;
      }
      std::vector<size_t> region(todo.begin() + static_cast<std::ptrdiff_t>(i),
                                 todo.begin() + static_cast<std::ptrdiff_t>(j));
      stats += ProvideRegion(keys, region, routing, prefix_bits, min_prefix_bits, deferred);
      i = j;
    }
    todo = std::move(deferred);
  }
  return stats;
}

namespace {

// Reads every page of `source`, handing each CID to `take`; stops early when `cancel` is set.
Result<void> ForEachKey(KeySource& source, size_t page, const std::atomic<bool>* cancel,
                        const std::function<void(const multiformats::Cid&)>& take) {
  std::optional<multiformats::Cid> after;
  for (;;) {
    if (cancel != nullptr && cancel->load()) return Ok();
    auto cids = CAIRN_TRY(source.Page(after, page));
    if (cids.empty()) return Ok();
    for (const auto& c : cids) take(c);
    after = cids.back();
  }
}

// An identity-multihash CID carries its data: nobody needs a provider for it (Kubo skips them too).
bool IsInline(const multiformats::Cid& cid) {
  return cid.hash().code() == multiformats::codec::kIdentity;
}

// The window of `kad`: its leading `bits` bits (bits ≤ 16).
size_t WindowOf(const KadId& kad, size_t bits) {
  size_t top = (size_t{kad.bytes[0]} << 8) | kad.bytes[1];
  return bits == 0 ? 0 : top >> (16 - bits);
}

}  // namespace

Result<ProvideStats> ReprovideAll(KeySource& source, ProvideRouting& routing,
                                  const ReprovideOptions& options,
                                  const std::atomic<bool>* cancel) {
  ProvideStats stats;
  uint64_t total = 0;
  CAIRN_TRY(ForEachKey(source, options.page, cancel, [&](const multiformats::Cid&) { ++total; }));
  stats.source_reads = 1;
  size_t window_bits = 0;
  while (window_bits < 16 && (total >> window_bits) > options.max_keys_in_memory) ++window_bits;
  size_t prefix_bits = kKeyBits;
  const size_t flush_at = 2 * std::max<size_t>(options.max_keys_in_memory, 1);
  for (size_t w = 0; w < (size_t{1} << window_bits); ++w) {
    std::vector<PlacedKey> keys;
    auto flush = [&] {
      std::sort(keys.begin(), keys.end());
      stats += ProvideSorted(keys, routing, prefix_bits, window_bits, cancel);
      keys.clear();
    };
    CAIRN_TRY(ForEachKey(source, options.page, cancel, [&](const multiformats::Cid& cid) {
      if (IsInline(cid)) return;
      Bytes key = ProviderKey(cid);
      KadId kad = KadId::Of(key);
      if (WindowOf(kad, window_bits) != w) return;
      keys.push_back({kad, std::move(key)});
      if (keys.size() >= flush_at) flush();
    }));
    stats.source_reads++;
    stats.windows++;
    flush();
    if (cancel != nullptr && cancel->load()) break;
  }
  return stats;
}

Reprovider::Reprovider(KeySource& source, ProvideRouting& routing, ReprovideOptions options)
    : source_(source), routing_(routing), options_(options) {}

Reprovider::~Reprovider() { Stop(); }

void Reprovider::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Reprovider::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Reprovider::Enqueue(const multiformats::Cid& cid) {
  if (IsInline(cid)) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_queued) {
      log::Info("dht_provide_queue_full", {{"cid", cid.ToString()}});
      return;
    }
    queue_.push_back(cid);
  }
  cv_.notify_all();
}

void Reprovider::Account(const ProvideStats& s) {
  totals_.keys += s.keys;
  totals_.regions += s.regions;
  totals_.records += s.records;
  totals_.failed_keys += s.failed_keys;
}

void Reprovider::Run() {
  auto next_pass = std::chrono::steady_clock::now() + options_.first_pass_after;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_until(lock, next_pass, [&] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    if (!queue_.empty()) {
      std::vector<PlacedKey> keys;
      while (!queue_.empty() && keys.size() < options_.max_keys_in_memory) {
        Bytes key = ProviderKey(queue_.front());
        queue_.pop_front();
        keys.push_back({KadId::Of(key), std::move(key)});
      }
      lock.unlock();
      std::sort(keys.begin(), keys.end());
      Account(ProvideSorted(keys, routing_, prefix_bits_, 0, &stop_));
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() < next_pass) continue;
    lock.unlock();
    auto pass = ReprovideAll(source_, routing_, options_, &stop_);
    if (pass) {
      Account(*pass);
      totals_.passes++;
      log::Info("dht_reprovide_pass", {{"keys", pass->keys},
                                       {"regions", pass->regions},
                                       {"records", pass->records},
                                       {"failed_keys", pass->failed_keys},
                                       {"windows", pass->windows}});
    } else {
      log::Warn("dht_reprovide_failed", {{"error", pass.error().message()}});
    }
    next_pass = std::chrono::steady_clock::now() + options_.interval;
    lock.lock();
  }
}

}  // namespace cairn::dht
