// WriteBehindBlockstore: writes that the caller need not wait for (Blockstore::PutLater), off the
// read path. A cold read re-warms the hot tier with every block it fetched (issue 11 §1); the
// write (CRC-32C and a pwrite in LogBlockstore) was a fifth of the read's CPU, on the thread
// that serves the block. Here the block is queued and written by one background thread at low
// priority, in batches, while the read goes on.
//
// Contract, on top of Blockstore's (every method is the underlying store's, plus the queue):
// - PutLater(cid, data): `data` is queued (shared, not copied) and the call returns at once. From
//   then on Get/GetShared/Has/Size/ForEach see the block as stored, until the writer has put it
//   into the underlying store (then it is read from there) or its write failed (logged and
//   counted; the block is then absent: a write-back is a cache fill, not a promise). When the
//   queue already holds `max_bytes` or `max_blocks`, or the store is stopping, the block is
//   written now, on the caller's thread (bounded memory; nothing is dropped).
// - Put is synchronous as in every store: a block queued for it is taken out of the queue and
//   written now; one the writer is writing is waited for. When Put returns Ok, the block is in
//   the underlying store (and durable after a later Sync) whatever the queue did.
// - Delete is ordered after every PutLater of the block that returned before it: a queued write
//   is cancelled, a write in progress is waited for and then deleted. So an eviction or a garbage
//   collection never has a deleted block written back behind it by a write-back queued earlier.
//   (A PutLater that starts after the Delete returned stores the block again, as a Put would.)
// - Sync() is the underlying store's: it makes Puts and Deletes durable and does not wait for
//   the queue (a queued write-back lost to a crash is read from the cold tier again). Flush()
//   waits until every block queued before it has been written (or failed).
// - The destructor writes what is still queued, then stops the writer. Thread-safe; the
//   underlying store must outlive this one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "blockstore/blockstore.hpp"

namespace cairn::blockstore {

struct WriteBehindOptions {
  // Queued blocks (by data bytes and by count) beyond which PutLater writes on its caller's thread.
  uint64_t max_bytes = 64u << 20;
  size_t max_blocks = 8192;
  // Most blocks the writer takes out of the queue for one batch.
  size_t batch_blocks = 256;
  // The writer thread's nice value (setpriority; 0 leaves it at the process's priority): it
  // yields the CPU to the reads that queued the blocks.
  int writer_nice = 10;
};

struct WriteBehindStats {
  uint64_t queued = 0;       // PutLater calls that queued their block
  uint64_t written = 0;      // queued blocks the writer stored
  uint64_t failed = 0;       // queued blocks whose write failed (dropped, logged)
  uint64_t cancelled = 0;    // queued blocks a Delete (or a Put) took out of the queue
  uint64_t direct = 0;       // PutLater calls that wrote on the caller's thread (queue full)
  uint64_t batches = 0;      // batches the writer ran
  uint64_t queue_bytes = 0;  // now queued or being written
  uint64_t queue_blocks = 0;
};

class WriteBehindBlockstore final : public Blockstore {
 public:
  // Starts the writer thread. `base` must outlive this store.
  explicit WriteBehindBlockstore(Blockstore& base, WriteBehindOptions options = {});
  ~WriteBehindBlockstore() override;
  WriteBehindBlockstore(const WriteBehindBlockstore&) = delete;
  WriteBehindBlockstore& operator=(const WriteBehindBlockstore&) = delete;

  Result<void> Put(const Cid& cid, ByteSpan data) override;
  Result<void> PutLater(const Cid& cid, std::shared_ptr<const Bytes> data) override;
  Result<Bytes> Get(const Cid& cid) override;
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override;
  // A queued block's bytes (verified when fetched), else the underlying store's GetIntact.
  Result<Bytes> GetIntact(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  Result<void> Delete(const Cid& cid) override;
  // Queued blocks first, then the underlying store's (each block once).
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override;
  Result<void> Sync() override { return base_.Sync(); }
  void Prefetch(std::span<const Cid> cids) override { base_.Prefetch(cids); }

  // Returns once every block queued before the call has been written or has failed.
  void Flush();
  WriteBehindStats Stats() const;

 private:
  struct Entry {
    Cid cid;
    std::shared_ptr<const Bytes> data;
    uint64_t seq = 0;      // order of queueing; the writer takes entries in this order
    bool writing = false;  // taken by the writer: only it may remove the entry
  };

  // The queued block's bytes, if `key` is queued or being written.
  std::shared_ptr<const Bytes> Lookup(const std::string& key) const;
  // Waits until `key` is not being written, then cancels its queued write if there is one.
  void TakeOut(std::unique_lock<std::mutex>& lock, const std::string& key);  // REQUIRES(mu_)
  void WriterLoop();

  Blockstore& base_;
  const WriteBehindOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for entries or stopping_
  std::condition_variable done_cv_;  // Delete/Put/Flush wait for the writer's progress
  std::unordered_map<std::string, Entry> entries_;  // by multihash; GUARDED_BY(mu_)
  // (seq, key) of queued entries, oldest first; an entry cancelled since (gone, or queued again
  // with a newer seq) leaves a stale pair that the writer skips. GUARDED_BY(mu_)
  std::deque<std::pair<uint64_t, std::string>> order_;
  uint64_t next_seq_ = 1;   // GUARDED_BY(mu_)
  uint64_t bytes_ = 0;      // data bytes in entries_; GUARDED_BY(mu_)
  bool stopping_ = false;   // GUARDED_BY(mu_)
  WriteBehindStats stats_;  // GUARDED_BY(mu_)
  std::thread writer_;      // last: started once everything above exists
};

}  // namespace cairn::blockstore
