// Providing pinned content on the DHT, sized for millions of keys: new pins are announced as they
// come, and every key is announced again on a schedule (22 h, Kubo's Reprovider.Interval, inside
// the 48 h record expiry) — batched by key-space region, so a pass costs about one lookup per
// region of the key space, not one per key. The scheme and its cost model are written in
// docs/architecture.md ("Providing: every pinned root, batched by key-space region").
//
// A batch of keys (sorted by their position, SHA-256 of the key) is walked region by region: a
// region is the run of keys that share the leading `prefix_bits` bits; one FIND_NODE lookup for a
// key in the middle of the region finds the peers around it, and each key of the region whose k
// closest peers are provably among those found (by the triangle inequality of XOR distance) is
// sent (ADD_PROVIDER) to them, every peer's keys on one stream; the other keys, near the region's
// edge, wait for a further round of regions made of the keys left.
// `prefix_bits` adapts to the network: after each lookup it becomes the common prefix length of
// the target and the k-th closest peer found, i.e. regions about as wide as the span k peers
// cover (the first region is a single key, to measure it). A network of fewer than k peers is one
// region.
//
// A full pass reads the keys from a KeySource in pages, never holding more than
// 2 × max_keys_in_memory: it first counts them, then splits the key space into 2^w windows (the
// leading w bits) so that a window holds about max_keys_in_memory keys, and for each window reads
// the source again, keeping that window's keys (a window that still overflows is processed in
// pieces). Cost: 1 + 2^w reads of the key source, per pass.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dht/routing_table.hpp"
#include "multiformats/cid.hpp"

namespace cairn::dht {

// Provider records to send to one peer: ADD_PROVIDER for each key, on one stream.
struct ProviderBatch {
  PeerRef peer;
  std::vector<Bytes> keys;
};

// The keys to provide, in pages: Page(after, limit) gives up to `limit` CIDs strictly after
// `after` (nullopt: from the start) in a stable order, an empty page at the end. Called from the
// reprovider's thread.
class KeySource {
 public:
  virtual ~KeySource() = default;
  virtual Result<std::vector<multiformats::Cid>> Page(const std::optional<multiformats::Cid>& after,
                                                      size_t limit) = 0;
};

// What providing needs of the DHT (dht::Node implements it; tests use a fake). Blocking calls.
class ProvideRouting {
 public:
  virtual ~ProvideRouting() = default;
  // The peers that answered a FIND_NODE lookup of `key`, closest first.
  virtual Result<std::vector<PeerRef>> FindClosestPeers(const Bytes& key) = 0;
  // ADD_PROVIDER of each batch's keys to its peer; the number of records taken.
  virtual Result<size_t> SendProviderRecords(std::vector<ProviderBatch> batches) = 0;
  virtual size_t k() const = 0;
};

struct ProvideStats {
  uint64_t keys = 0;          // keys walked
  uint64_t regions = 0;       // regions (each one lookup)
  uint64_t failed_keys = 0;   // keys of regions whose lookup found nobody
  uint64_t records = 0;       // ADD_PROVIDER records peers took
  uint64_t windows = 0;       // key-space windows of a full pass
  uint64_t source_reads = 0;  // passes over the key source

  ProvideStats& operator+=(const ProvideStats& o);
};

// One key with its key-space position.
struct PlacedKey {
  KadId kad;
  Bytes key;
  friend bool operator<(const PlacedKey& a, const PlacedKey& b) { return a.kad < b.kad; }
};

// Provides `keys` (sorted by kad) region by region, in rounds, as described above. `prefix_bits`
// carries the region width between calls (start with kKeyBits); it never drops below
// `min_prefix_bits`. `cancel` (may be null) stops between regions.
ProvideStats ProvideSorted(const std::vector<PlacedKey>& keys, ProvideRouting& routing,
                           size_t& prefix_bits, size_t min_prefix_bits,
                           const std::atomic<bool>* cancel);

struct ReprovideOptions {
  std::chrono::milliseconds interval{std::chrono::hours(22)};
  std::chrono::milliseconds first_pass_after{std::chrono::minutes(1)};
  size_t page = 1000;
  size_t max_keys_in_memory = 1u << 16;
  size_t max_queued = 1u << 16;  // new pins waiting; beyond, they wait for the next pass
};

// One full pass over `source` (windows as described above).
Result<ProvideStats> ReprovideAll(KeySource& source, ProvideRouting& routing,
                                  const ReprovideOptions& options, const std::atomic<bool>* cancel);

// The provider: a thread that announces queued new keys at once (batched the same way) and runs a
// full pass first_pass_after the start, then every `interval`. Everything passed must outlive it.
class Reprovider {
 public:
  Reprovider(KeySource& source, ProvideRouting& routing, ReprovideOptions options);
  ~Reprovider();  // Stop()
  Reprovider(const Reprovider&) = delete;
  Reprovider& operator=(const Reprovider&) = delete;

  void Start();
  // Stops after the current region. Idempotent.
  void Stop();
  // Queues a newly pinned root (thread-safe); identity-multihash CIDs are skipped here and in
  // full passes (their data is in the CID). Dropped with a log line when max_queued are
  // waiting: the next full pass provides it.
  void Enqueue(const multiformats::Cid& cid);

  struct Totals {
    std::atomic<uint64_t> passes{0};
    std::atomic<uint64_t> keys{0};
    std::atomic<uint64_t> regions{0};
    std::atomic<uint64_t> records{0};
    std::atomic<uint64_t> failed_keys{0};
  };
  const Totals& totals() const { return totals_; }

 private:
  void Run();
  void Account(const ProvideStats& s);

  KeySource& source_;
  ProvideRouting& routing_;
  const ReprovideOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<multiformats::Cid> queue_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  size_t prefix_bits_ = kKeyBits;  // the reprovider thread's
  Totals totals_;
  std::thread thread_;
};

}  // namespace cairn::dht
