// The hot tier as a cache (issue 11 §2; docs/architecture.md "The hot tier as a cache"): when the
// hot store holds more than `hot.max_bytes`, pins whose data is safe on Filecoin give up their
// hot blocks, the coldest first (pinning/eviction_policy.hpp), and are read back from the
// providers when asked for (blockstore::FallbackBlockstore).
//
// Contract:
// - The unit is a pin's data segment (its DAG as recorded in the segment's block index). A pin
//   may lose its hot blocks only when it is `pinned`, its meta has no `hot=always`, and its
//   aggregate has at least as many `active` deals as its replicas (meta `filecoin.replicas`,
//   else the service's). Pins not yet aggregated, in flight (queued, pinning) or uploading have
//   no segment or hold leases, and are never evicted.
// - A block is removed only when no other holder needs it hot: every other segment whose index
//   holds it is evictable or evicted already, no pin in flight or not yet segmented reaches it
//   (their DAGs are walked through the hot store at each eviction pass), and no lease holds it
//   (blockstore/leases.hpp; removal goes through DeleteUnlessHeld).
// - Eviction never runs beside garbage collection: a pass runs inside PinService::RunExclusive
//   (a pass that finds a collection running is skipped). Garbage collection keeps the blocks of
//   evicted pins that reads brought back (PinServiceOptions::also_live = ForEachEvictedBlock).
//   A read running while its blocks are evicted reads the rest from cold: reads never fail
//   because of an eviction, they only get slower.
// - Crash safety: a segment is recorded evicted (info.hot = "cold-only", the `evicted` event) in
//   one transaction before its blocks are deleted, so a kill -9 leaves at worst blocks still hot
//   for a pin that says cold-only (reads serve them; the next read of the pin that finds it
//   wholly hot records it cached again), and never a second `evicted` event for one eviction.
//   `cached` means "not evicted as a whole": a block a cached pin shares with an evicted one may
//   be gone (when both may leave, the block goes with the first), and is read from cold.
// - A pass that finds 100,000 or more pinned pins still without a segment evicts nothing (their
//   DAGs could not all be walked to protect what they share); pins found not evictable are
//   passed over for the next 10 passes' time, so that they cannot hold back the pins behind
//   them.
// - Accesses: every block served by the read path (gateway, Kubo RPC, bitswap server) is
//   recorded in an AccessLog (TouchingBlockstore), and so is every block the cold tier writes
//   back for deal data (a repair), so that it can go again. A pass maps them to their segments and
//   updates the order. An evicted pin whose blocks are all hot again (reads re-warm what they
//   touch) is recorded cached (the `rewarmed` event).
// - The order lives in memory: after a restart every resident pin is equally cold (ordered by
//   segment id, oldest first) until it is read again.
//
// Thread-safe: Touched() from any thread; RunOnce() from one thread at a time (the loop's).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "blockstore/blockstore.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/deals.hpp"
#include "metadata/pins.hpp"
#include "pinning/eviction_policy.hpp"
#include "pinning/pin_service.hpp"

namespace cairn::pinning {

using multiformats::Cid;

// The blocks served to readers since the last pass: a bounded set of multihashes (beyond
// kMaxPending distinct blocks between two passes, the rest are dropped and counted). Cheap and
// thread-safe: the read path calls Touched() for every block it serves.
class AccessLog {
 public:
  static constexpr size_t kMaxPending = 1 << 16;

  void Touched(const Cid& cid);
  // The multihashes recorded since the last call.
  std::unordered_set<std::string> Drain();
  uint64_t dropped() const { return dropped_.load(); }

 private:
  std::mutex mu_;
  std::unordered_set<std::string> touched_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> dropped_{0};
};

struct HotCacheOptions {
  uint64_t max_bytes = 0;            // hot.max_bytes; 0 = unlimited (accesses still tracked)
  int policy_k = 2;                  // hot.policy: 2 = lru-2, 1 = lru
  int default_replicas = 2;          // filecoin.replicas
  int64_t interval_us = 10'000'000;  // hot.check_interval_seconds
  int64_t correlated_period_s = 60;  // reads of one pin closer than this are one reference
  // An eviction pass stops once the hot store is down to this share of max_bytes, so that it
  // does not run again for every block written.
  double low_watermark = 0.9;
};

struct HotCacheStats {
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> evicted_pins{0};
  std::atomic<uint64_t> evicted_blocks{0};
  std::atomic<uint64_t> evicted_bytes{0};
  std::atomic<uint64_t> kept_shared_blocks{0};  // blocks of an evicted pin another holder needs
  std::atomic<uint64_t> rewarmed_pins{0};
  std::atomic<uint64_t> skipped_passes{0};  // a collection was running
};

struct EvictionReport {
  uint64_t pins = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  uint64_t hot_bytes_before = 0;
  uint64_t hot_bytes_after = 0;
};

class HotCache {
 public:
  // Everything must outlive the cache. `hot` is the hot store alone (never the read path's
  // fallback store); `hot_bytes` says how many bytes it holds now; `accesses` is what the read
  // path records (TouchingBlockstore).
  HotCache(metadata::DealStore& deals, metadata::PinStore& pins, blockstore::Blockstore& hot,
           PinService& service, AccessLog& accesses, const Clock& clock,
           std::function<uint64_t()> hot_bytes, HotCacheOptions options);
  ~HotCache();  // Stop()

  // Runs RunOnce every interval on its own thread until Stop (errors logged).
  void Start();
  void Stop();

  // One pass: takes the accesses recorded since the last one, then, when the hot store holds
  // more than max_bytes, evicts until it is down to the low watermark or nothing evictable is
  // left. Unavailable (and nothing evicted) when a collection is running.
  Result<EvictionReport> RunOnce();

  const HotCacheStats& stats() const { return stats_; }
  const HotCacheOptions& options() const { return options_; }
  // Bytes evicted per account id since start (for /metrics).
  std::map<int64_t, uint64_t> EvictedBytesByAccount() const;
  // Per account, the pins that are cold-only now and their bytes (for /metrics), as of the last
  // pass that refreshed it (at most one query a minute: it reads every evicted segment).
  std::vector<metadata::DealStore::ColdOnlyUsage> ColdOnlyUsage() const;

 private:
  // Loads segments created since the last call into the order (resident ones Admit()ted).
  Result<void> LoadNewSegments();
  // Maps the touched blocks to their segments and updates the order; re-warmed pins recorded.
  Result<void> ApplyTouches();
  Result<bool> EvictableFacts(const metadata::DealStore::EvictionFacts& f) const;
  // The multihashes that pins in flight or not yet segmented reach through the hot store.
  Result<std::unordered_set<std::string>> InFlightBlocks();
  Result<void> Evict(EvictionReport& report, uint64_t target);
  void Loop();

  metadata::DealStore& deals_;
  metadata::PinStore& pins_;
  blockstore::Blockstore& hot_;
  PinService& service_;
  AccessLog& accesses_;
  const Clock& clock_;
  std::function<uint64_t()> hot_bytes_;
  const HotCacheOptions options_;
  HotCacheStats stats_;

  // Owned by the pass (one at a time).
  EvictionOrder order_;
  int64_t loaded_after_ = 0;                            // segments up to this id are in the order
  std::unordered_set<int64_t> evicted_;                 // segments recorded evicted
  std::unordered_map<int64_t, int64_t> recheck_after_;  // segment → monotonic µs (see Evict)

  mutable std::mutex account_mu_;
  std::map<int64_t, uint64_t> evicted_by_account_;             // GUARDED_BY(account_mu_)
  std::vector<metadata::DealStore::ColdOnlyUsage> cold_only_;  // GUARDED_BY(account_mu_)
  int64_t cold_only_at_us_ = INT64_MIN;  // when cold_only_ was read (pass thread only)

  std::mutex loop_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(loop_mu_)
  std::thread thread_;
};

// A store with its accesses recorded in `log`: with kReads, every Get/GetShared that succeeds
// (the read path: what users read); with kWrites, every Put that succeeds (the cold tier's deal
// data source, whose write-backs of blocks read from a replica must become evictable again).
// Everything else is `inner`'s. Both must outlive it.
class TouchingBlockstore final : public blockstore::Blockstore {
 public:
  enum class Record { kReads, kWrites };
  TouchingBlockstore(blockstore::Blockstore& inner, AccessLog& log, Record record = Record::kReads)
      : inner_(inner), cache_(log), record_(record) {}

  Result<void> Put(const Cid& cid, ByteSpan data) override {
    auto r = inner_.Put(cid, data);
    if (r && record_ == Record::kWrites) cache_.Touched(cid);
    return r;
  }
  Result<Bytes> Get(const Cid& cid) override {
    auto r = inner_.Get(cid);
    if (r && record_ == Record::kReads) cache_.Touched(cid);
    return r;
  }
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override {
    auto r = inner_.GetShared(cid);
    if (r && record_ == Record::kReads) cache_.Touched(cid);
    return r;
  }
  Result<Bytes> GetIntact(const Cid& cid) override {
    auto r = inner_.GetIntact(cid);
    if (r && record_ == Record::kReads) cache_.Touched(cid);
    return r;
  }
  Result<bool> Has(const Cid& cid) override { return inner_.Has(cid); }
  Result<uint64_t> Size(const Cid& cid) override { return inner_.Size(cid); }
  Result<void> Delete(const Cid& cid) override { return inner_.Delete(cid); }
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return inner_.ForEach(fn);
  }
  Result<void> Sync() override { return inner_.Sync(); }
  void Prefetch(std::span<const Cid> cids) override { inner_.Prefetch(cids); }

 private:
  blockstore::Blockstore& inner_;
  AccessLog& cache_;
  Record record_;
};

}  // namespace cairn::pinning
