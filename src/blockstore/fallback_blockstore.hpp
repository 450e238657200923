// Hot first, then cold (issue 11 §1): a block store whose reads go to the hot store and, for a
// block it does not hold, to a fallback getter (the cold tier's reader, which fetches the block
// from a storage provider). The user never has to know which one answered.
//
// Contract (on top of blockstore.hpp's):
// - Get/GetShared: the hot store's answer unless it is NotFound; then the fallback's. A block
//   from the fallback is verified against its CID here (unless the fallback says it verified it
//   itself: ipld::BlockGetter::VerifiesBlocks, as the cold tier's reader does), written back to
//   the hot store (re-warmed: the next read is hot) with Blockstore::PutLater, so a hot store
//   with a background writer (WriteBehindBlockstore) writes it off the read's path, and
//   returned. A failed write-back is logged and the verified bytes are served anyway. Bytes that do
//   not match the CID are Corruption and are neither stored nor returned.
// - Prefetch (a reader's hint of the blocks it reads next): the hinted blocks the hot store lacks
//   are read from the fallback in the background, as one batch (ipld::BlockGetter::GetMany: the
//   cold reader fetches adjacent blocks of a piece in one range request), on at most
//   `prefetch_threads` threads, each block verified and written back as it arrives. A Get of a
//   block being prefetched waits for that fetch instead of starting its own, and gets its answer
//   (bytes, or the fallback's error); a block fetched before its Get came is kept in memory for
//   it (at most `max_ready_bytes`, oldest dropped first; dropped ones are read from the hot
//   store), so the reader does not read back from disk what it just fetched. Hints beyond
//   `max_queued_batches` waiting batches are dropped (the reads then fetch for themselves), so a
//   flood of hints costs bounded memory and never delays a read by more than the batches already
//   queued. Blocks hinted but then not read (a reader that stopped early) were fetched and
//   re-warmed all the same: at most one hint window per reader.
// - Has/Size: the hot store's answer, else whether the fallback can produce the block and its
//   size (the fallback answers from its index, without fetching).
// - Put, Delete, ForEach and Sync are the hot store's alone (Delete also drops a ready prefetched
//   copy): the fallback is read-only, and
//   ForEach lists hot blocks only (garbage collection and compaction see the hot tier).
// Thread-safe when both are (every Blockstore is; the fallback says so in its contract). The
// destructor drops queued hints (their waiting reads get Unavailable) and waits for the running
// ones.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "blockstore/blockstore.hpp"
#include "common/worker_pool.hpp"
#include "ipld/blocks.hpp"

namespace cairn::blockstore {

struct FallbackOptions {
  // Background batches fetched at once; 0 ignores hints.
  size_t prefetch_threads = 4;
  // Batches waiting for a thread; hints beyond are dropped.
  size_t max_queued_batches = 8;
  // Prefetched blocks kept in memory until their Get (see above).
  uint64_t max_ready_bytes = 64u << 20;
  size_t max_ready_blocks = 4096;
};

class FallbackBlockstore final : public Blockstore {
 public:
  // Both must outlive this store.
  FallbackBlockstore(Blockstore& hot, ipld::BlockGetter& fallback, FallbackOptions options = {});
  ~FallbackBlockstore() override;
  FallbackBlockstore(const FallbackBlockstore&) = delete;
  FallbackBlockstore& operator=(const FallbackBlockstore&) = delete;

  Result<void> Put(const Cid& cid, ByteSpan data) override { return hot_.Put(cid, data); }
  Result<Bytes> Get(const Cid& cid) override;
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override;
  // The hot store's GetIntact unless it is NotFound; then Get (the fallback's block, verified).
  Result<Bytes> GetIntact(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  // Also drops the block's prefetched copy, if one is ready.
  Result<void> Delete(const Cid& cid) override;
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return hot_.ForEach(fn);
  }
  Result<void> Sync() override { return hot_.Sync(); }
  void Prefetch(std::span<const Cid> cids) override;

  // Counters since start (tests, metrics).
  struct PrefetchStats {
    uint64_t batches = 0;  // batches run
    uint64_t blocks = 0;   // blocks they fetched and verified
    uint64_t waited = 0;   // reads that found their block being prefetched
    uint64_t dropped = 0;  // hints dropped (queue full, or stopping)
  };
  PrefetchStats Stats() const;

 private:
  // A block being fetched in the background; `result` is set once, then `cv` is notified. It
  // stays in `in_flight_` (ready) until a read takes it or it is dropped for room.
  struct Pending {
    uint64_t generation = 0;  // tells apart two fetches of one block over time
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<std::shared_ptr<const Bytes>>> result;  // GUARDED_BY(mu)
    bool settled = false;                                        // GUARDED_BY(mu_)
    uint64_t ready_bytes = 0;  // counted in ready_bytes_ once settled; GUARDED_BY(mu_)
  };
  // The fallback's answer for `cid`, verified and written back.
  Result<std::shared_ptr<const Bytes>> Admit(const Cid& cid, Result<Bytes> got);
  // The answer of the prefetch of `key` (waiting for it if it is still running), taken out of
  // the ready set; nullopt when no prefetch has it.
  std::optional<Result<std::shared_ptr<const Bytes>>> TakePrefetched(const std::string& key);
  // The block: prefetched, else hot, else the fallback.
  Result<std::shared_ptr<const Bytes>> Read(const Cid& cid);
  // Runs one batch of hinted blocks (a pool thread).
  void RunBatch(const std::vector<Cid>& cids);
  // Sets the result of the pending fetch of `key`; keeps it ready for its read.
  void Settle(const std::string& key, Result<std::shared_ptr<const Bytes>> result);
  // Forgets `key`'s entry if it is still `pending`.
  void Forget(const std::string& key, const Pending* pending);  // REQUIRES(mu_)

  Blockstore& hot_;
  ipld::BlockGetter& fallback_;
  const FallbackOptions options_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Pending>> in_flight_;  // by multihash; mu_
  std::deque<std::pair<std::string, uint64_t>> ready_;  // settled, oldest first; GUARDED_BY(mu_)
  uint64_t ready_bytes_ = 0;                            // GUARDED_BY(mu_)
  uint64_t generations_ = 0;                            // GUARDED_BY(mu_)
  size_t queued_ = 0;                                   // GUARDED_BY(mu_)
  bool stopping_ = false;                               // GUARDED_BY(mu_)
  PrefetchStats stats_;                                 // GUARDED_BY(mu_)
  std::unique_ptr<WorkerPool> pool_;                    // last: its threads stop first
};

}  // namespace cairn::blockstore
