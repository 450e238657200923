#include "pinning/hot_cache.hpp"

#include <charconv>
#include <map>
#include <optional>
#include <vector>

#include "common/log.hpp"
#include "ipld/links.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::pinning {

namespace {

constexpr size_t kSegmentPage = 4096;
constexpr size_t kVictimBatch = 64;
// Victims looked at per pass beyond which a pass gives up (everything coldest is not evictable
// yet: deals still in progress); the next pass looks again.
constexpr size_t kMaxVictimsLooked = 4096;
constexpr size_t kUnsegmentedLimit = 100'000;
// A pin found not evictable is passed over for this many passes before it is looked at again.
constexpr int64_t kRecheckPasses = 10;

std::string Key(ByteSpan mh) { return std::string(mh.begin(), mh.end()); }

Result<multiformats::Cid> RawCidOf(ByteSpan mh) {
  auto hash = CAIRN_TRY(multiformats::Multihash::Decode(mh));
  return multiformats::Cid::V1(multiformats::codec::kRaw, std::move(hash));
}

}  // namespace

HotCache::HotCache(metadata::DealStore& deals, metadata::PinStore& pins,
                   blockstore::Blockstore& hot, PinService& service, AccessLog& accesses,
                   const Clock& clock, std::function<uint64_t()> hot_bytes, HotCacheOptions options)
    : deals_(deals),
      pins_(pins),
      hot_(hot),
      service_(service),
      accesses_(accesses),
      clock_(clock),
      hot_bytes_(std::move(hot_bytes)),
      options_(options),
      order_(EvictionOptions{.k = options.policy_k,
                             .correlated_period = options.correlated_period_s}) {}

HotCache::~HotCache() { Stop(); }

void HotCache::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void HotCache::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HotCache::Loop() {
  for (;;) {
    {
      std::unique_lock lock(loop_mu_);
      if (wake_.wait_for(lock, std::chrono::microseconds(options_.interval_us),
                         [this] { return stopping_; })) {
        return;
      }
    }
    auto report = RunOnce();
    if (!report) {
      if (report.error().code() != ErrorCode::kUnavailable) {
        log::Error("hot.evict_failed", {{"error", report.error().ToString()}});
      }
      continue;
    }
    if (report->pins > 0) {
      log::Info("hot.evicted", {{"pins", report->pins},
                                {"blocks", report->blocks},
                                {"bytes", report->bytes},
                                {"hot_bytes_before", report->hot_bytes_before},
                                {"hot_bytes_after", report->hot_bytes_after}});
    }
  }
}

void AccessLog::Touched(const Cid& cid) {
  if (cid.hash().code() == multiformats::codec::kIdentity) return;
  const Bytes mh = cid.hash().Encode();
  std::string key = Key(mh);
  std::lock_guard lock(mu_);
  if (touched_.size() >= kMaxPending && !touched_.count(key)) {
    dropped_++;
    return;
  }
  touched_.insert(std::move(key));
}

std::unordered_set<std::string> AccessLog::Drain() {
  std::unordered_set<std::string> out;
  std::lock_guard lock(mu_);
  out.swap(touched_);
  return out;
}

std::map<int64_t, uint64_t> HotCache::EvictedBytesByAccount() const {
  std::lock_guard lock(account_mu_);
  return evicted_by_account_;
}

std::vector<metadata::DealStore::ColdOnlyUsage> HotCache::ColdOnlyUsage() const {
  std::lock_guard lock(account_mu_);
  return cold_only_;
}

Result<void> HotCache::LoadNewSegments() {
  for (;;) {
    const auto page = CAIRN_TRY(deals_.SegmentsAfter(loaded_after_, kSegmentPage));
    if (page.empty()) return Ok();
    for (const auto& s : page) {
      loaded_after_ = s.segment_id;
      if (s.evicted) {
        evicted_.insert(s.segment_id);
      } else {
        order_.Admit(static_cast<uint64_t>(s.segment_id));
      }
    }
  }
}

Result<void> HotCache::ApplyTouches() {
  const std::unordered_set<std::string> touched = accesses_.Drain();
  if (touched.empty()) return Ok();
  const int64_t now_s = clock_.WallMicros() / 1'000'000;
  std::unordered_set<int64_t> segments;
  for (const auto& mh : touched) {
    const ByteSpan span(reinterpret_cast<const uint8_t*>(mh.data()), mh.size());
    for (int64_t id : CAIRN_TRY(deals_.SegmentsHolding(span))) segments.insert(id);
  }
  for (int64_t id : segments) {
    order_.Touch(static_cast<uint64_t>(id), now_s);
    if (!evicted_.count(id)) continue;
    // An evicted pin read again: recorded cached once every block of it is hot again.
    bool all_hot = true;
    for (const auto& b : CAIRN_TRY(deals_.SegmentBlocks(id))) {
      auto cid = RawCidOf(b.multihash);
      if (!cid || !CAIRN_TRY(hot_.Has(*cid))) {
        all_hot = false;
        break;
      }
    }
    if (!all_hot) continue;
    if (CAIRN_TRY(deals_.MarkCached(id))) stats_.rewarmed_pins++;
    evicted_.erase(id);
  }
  return Ok();
}

Result<bool> HotCache::EvictableFacts(const metadata::DealStore::EvictionFacts& f) const {
  if (!f.pin_exists || !f.pinned || f.hot_meta == "always") return false;
  int replicas = options_.default_replicas;
  if (!f.replicas_meta.empty()) {
    int v = 0;
    auto [end, ec] =
        std::from_chars(f.replicas_meta.data(), f.replicas_meta.data() + f.replicas_meta.size(), v);
    if (ec != std::errc() || end != f.replicas_meta.data() + f.replicas_meta.size() || v < 1) {
      return false;  // not a policy the deal engine honours: keep the pin hot
    }
    replicas = v;
  }
  return f.active_deals >= replicas;
}

Result<std::unordered_set<std::string>> HotCache::InFlightBlocks() {
  std::vector<multiformats::Cid> roots;
  const metadata::PinStatus in_flight[] = {metadata::PinStatus::kQueued,
                                           metadata::PinStatus::kPinning};
  std::optional<multiformats::Cid> after;
  for (;;) {
    auto page = CAIRN_TRY(pins_.ListCids(in_flight, after, 1000));
    if (page.empty()) break;
    after = page.back();
    roots.insert(roots.end(), page.begin(), page.end());
  }
  const auto unsegmented = CAIRN_TRY(deals_.UnsegmentedPins(kUnsegmentedLimit));
  if (unsegmented.size() >= kUnsegmentedLimit) {
    // Not all of them can be walked in one pass: none is protected for sure, so nothing goes.
    return Err(ErrorCode::kResourceExhausted,
               "hot cache: " + std::to_string(kUnsegmentedLimit) +
                   " or more pinned pins wait for their segment; eviction waits for the cold "
                   "tier to catch up");
  }
  for (const auto& p : unsegmented) {
    auto cid = multiformats::Cid::FromBytes(p.cid);
    if (cid) roots.push_back(std::move(*cid));
  }
  std::unordered_set<std::string> reached;
  std::vector<multiformats::Cid> stack = std::move(roots);
  while (!stack.empty()) {
    multiformats::Cid cid = std::move(stack.back());
    stack.pop_back();
    if (!reached.insert(Key(cid.hash().Encode())).second) continue;
    auto data = hot_.Get(cid);
    if (!data) continue;  // not hot: nothing below it to protect
    auto links = ipld::Links(cid, *data);
    if (!links) continue;
    for (auto& l : *links) stack.push_back(std::move(l));
  }
  return reached;
}

Result<EvictionReport> HotCache::RunOnce() {
  EvictionReport report;
  CAIRN_TRY(LoadNewSegments());
  CAIRN_TRY(ApplyTouches());
  stats_.passes++;
  if (const int64_t now = clock_.MonotonicMicros();
      cold_only_at_us_ == INT64_MIN || now - cold_only_at_us_ >= 60'000'000) {
    auto usage = CAIRN_TRY(deals_.ColdOnlyByAccount());
    cold_only_at_us_ = now;
    std::lock_guard lock(account_mu_);
    cold_only_ = std::move(usage);
  }
  report.hot_bytes_before = report.hot_bytes_after = hot_bytes_();
  if (options_.max_bytes == 0 || report.hot_bytes_before <= options_.max_bytes) return report;
  const auto target =
      static_cast<uint64_t>(static_cast<double>(options_.max_bytes) * options_.low_watermark);
  auto ran = service_.RunExclusive([&] { return Evict(report, target); });
  if (!ran) {
    if (ran.error().code() == ErrorCode::kUnavailable) stats_.skipped_passes++;
    return Err(ran.error());
  }
  report.hot_bytes_after = hot_bytes_();
  if (report.pins > 0) cold_only_at_us_ = INT64_MIN;  // refresh the usage below
  return report;
}

Result<void> HotCache::Evict(EvictionReport& report, uint64_t target) {
  // Walked once per pass, and only once a victim may go.
  std::optional<std::unordered_set<std::string>> in_flight;
  // Facts of every segment looked at in this pass (victims and other holders of their blocks).
  std::map<int64_t, std::optional<metadata::DealStore::EvictionFacts>> facts;
  auto facts_of = [&](std::span<const int64_t> ids) -> Result<void> {
    std::vector<int64_t> missing;
    for (int64_t id : ids) {
      if (!facts.count(id)) missing.push_back(id);
    }
    if (missing.empty()) return Ok();
    for (int64_t id : missing) facts[id] = std::nullopt;
    for (auto& f : CAIRN_TRY(deals_.EvictionFactsOf(missing))) facts[f.segment_id] = std::move(f);
    return Ok();
  };
  // A holder that needs the block hot: its pin exists, it is not evicted and may not be.
  auto needs_hot = [&](int64_t id) -> Result<bool> {
    const auto& f = facts.at(id);
    if (!f || !f->pin_exists || f->evicted || evicted_.count(id)) return false;
    return !CAIRN_TRY(EvictableFacts(*f));
  };

  const int64_t now = clock_.MonotonicMicros();
  std::unordered_set<uint64_t> looked;
  while (hot_bytes_() > target && looked.size() < kMaxVictimsLooked) {
    std::vector<int64_t> batch;
    order_.ForEachVictim([&](uint64_t key) {
      if (looked.count(key)) return true;
      // Found not evictable (deals not all active, hot=always) a short while ago: passed over
      // without a look, so that such pins cannot hold back the pins behind them.
      auto skip = recheck_after_.find(static_cast<int64_t>(key));
      if (skip != recheck_after_.end()) {
        if (now < skip->second) return true;
        recheck_after_.erase(skip);
      }
      batch.push_back(static_cast<int64_t>(key));
      return batch.size() < kVictimBatch;
    });
    if (batch.empty()) break;
    CAIRN_TRY(facts_of(batch));
    for (int64_t id : batch) {
      if (hot_bytes_() <= target) break;
      looked.insert(static_cast<uint64_t>(id));
      const auto& f = facts.at(id);
      if (!f || !f->pin_exists) {
        order_.Forget(static_cast<uint64_t>(id));  // its pin was deleted
        recheck_after_.erase(id);
        continue;
      }
      if (!CAIRN_TRY(EvictableFacts(*f))) {
        // Stays hot, in its place in the order; looked at again kRecheckPasses passes later.
        recheck_after_[id] = now + kRecheckPasses * options_.interval_us;
        continue;
      }
      if (!in_flight) in_flight = CAIRN_TRY(InFlightBlocks());
      // Plan: the segment's blocks that are hot and that nothing else needs hot.
      std::vector<std::pair<multiformats::Cid, uint64_t>> plan;
      uint64_t planned_bytes = 0;
      for (const auto& b : CAIRN_TRY(deals_.SegmentBlocks(id))) {
        if (in_flight->count(Key(b.multihash))) {
          stats_.kept_shared_blocks++;
          continue;
        }
        auto cid = RawCidOf(b.multihash);
        if (!cid || !CAIRN_TRY(hot_.Has(*cid))) continue;
        const auto holders = CAIRN_TRY(deals_.SegmentsHolding(b.multihash));
        CAIRN_TRY(facts_of(holders));
        bool shared = false;
        for (int64_t h : holders) {
          if (h != id && CAIRN_TRY(needs_hot(h))) {
            shared = true;
            break;
          }
        }
        if (shared) {
          stats_.kept_shared_blocks++;
          continue;
        }
        plan.emplace_back(std::move(*cid), b.length);
        planned_bytes += b.length;
      }
      if (plan.empty()) {
        // Nothing of it is hot, or every hot block is needed by another holder: no eviction to
        // record. Out of the order until it is read again (a read admits it again).
        order_.Evicted(static_cast<uint64_t>(id));
        continue;
      }
      // Recorded first (see the header: a crash leaves hot blocks behind a cold-only pin, never
      // the reverse), then deleted under the leases.
      CAIRN_TRY(deals_.MarkEvicted(id, plan.size(), planned_bytes));
      evicted_.insert(id);
      order_.Evicted(static_cast<uint64_t>(id));
      uint64_t removed_blocks = 0, removed_bytes = 0;
      for (const auto& [cid_ref, size] : plan) {
        const multiformats::Cid& cid = cid_ref;
        bool removed =
            CAIRN_TRY(service_.leases().DeleteUnlessHeld(cid, [&] { return hot_.Delete(cid); }));
        if (!removed) continue;
        ++removed_blocks;
        removed_bytes += size;
      }
      CAIRN_TRY(hot_.Sync());
      report.pins++;
      report.blocks += removed_blocks;
      report.bytes += removed_bytes;
      stats_.evicted_pins++;
      stats_.evicted_blocks += removed_blocks;
      stats_.evicted_bytes += removed_bytes;
      std::lock_guard lock(account_mu_);
      evicted_by_account_[f->account_id] += removed_bytes;
    }
  }
  return Ok();
}

}  // namespace cairn::pinning
