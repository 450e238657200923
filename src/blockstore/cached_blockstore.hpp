// CachedBlockstore: a bounded in-memory cache of verified blocks in front of another block store
// (the hot file a gateway serves again and again is read and hashed once, not on every request).
//
// Contract, on top of Blockstore's:
// - Only blocks that came out of the underlying store's Get() — read from storage and verified
//   against their CID there — enter the cache. Put() never fills it (its bytes are not
//   re-hashed), so every byte Get() returns was verified when it was read from storage; a hit
//   is served from memory without hashing again.
// - Delete() removes the block from the cache before it returns, and a Get() that was reading
//   the block while it was deleted does not put it back: after Delete returns, Get answers
//   NotFound (unless the block is stored again).
// - The cache holds at most `capacity_bytes` of block data (least recently used blocks go
//   first); blocks larger than an eighth of it are never cached. Capacity 0 turns it off.
// - Keyed by multihash like the store itself; identity CIDs pass through.
// - Thread-safe; the underlying store must outlive this one.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "blockstore/blockstore.hpp"

namespace cairn::blockstore {

struct BlockCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t blocks = 0;  // now in the cache
  uint64_t bytes = 0;   // now in the cache
};

class CachedBlockstore final : public Blockstore {
 public:
  CachedBlockstore(Blockstore& base, uint64_t capacity_bytes);

  Result<void> Put(const Cid& cid, ByteSpan data) override;
  Result<Bytes> Get(const Cid& cid) override;
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override;
  // A cached (verified) copy when there is one; else the base store's GetIntact, not cached:
  // the cache holds verified bytes only.
  Result<Bytes> GetIntact(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  Result<void> Delete(const Cid& cid) override;
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override;
  Result<void> Sync() override;

  BlockCacheStats stats() const;

 private:
  using Block = std::shared_ptr<const Bytes>;
  struct Entry {
    Block block;
    std::list<std::string>::iterator lru;  // position in lru_ (front = most recent)
  };

  std::shared_ptr<const Bytes> Lookup(const std::string& key);
  void Insert(const std::string& key, Block block, uint64_t epoch);
  void EvictLocked();

  Blockstore& base_;
  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::list<std::string> lru_;                      // GUARDED_BY(mu_)
  uint64_t bytes_ = 0;                              // GUARDED_BY(mu_)
  uint64_t deletes_ = 0;  // GUARDED_BY(mu_): bumped by every Delete (stale reads don't insert)
  uint64_t deletes_in_flight_ = 0;  // GUARDED_BY(mu_): Deletes between their two bumps
  uint64_t hits_ = 0;               // GUARDED_BY(mu_)
  uint64_t misses_ = 0;             // GUARDED_BY(mu_)
};

}  // namespace cairn::blockstore
