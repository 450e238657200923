#include "blockstore/cached_blockstore.hpp"

#include "blockstore/internal/keys.hpp"

namespace cairn::blockstore {

using internal::IsIdentity;
using internal::KeyOf;

CachedBlockstore::CachedBlockstore(Blockstore& base, uint64_t capacity_bytes)
    : base_(base), capacity_(capacity_bytes) {}

Result<void> CachedBlockstore::Put(const Cid& cid, ByteSpan data) { return base_.Put(cid, data); }

std::shared_ptr<const Bytes> CachedBlockstore::Lookup(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.block;
}

void CachedBlockstore::Insert(const std::string& key, Block block, uint64_t epoch) {
  std::lock_guard lock(mu_);
  // A Delete ran, or is running, while the block was read: it may be this one. (A reader that
  // sampled the counter after a Delete's first bump may finish before that Delete's store
  // delete, so the counter alone cannot tell.)
  if (epoch != deletes_ || deletes_in_flight_ > 0) return;
  if (entries_.count(key)) return;
  lru_.push_front(key);
  bytes_ += block->size();
  entries_.emplace(key, Entry{std::move(block), lru_.begin()});
  EvictLocked();
}

void CachedBlockstore::EvictLocked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.block->size();
    entries_.erase(it);
    lru_.pop_back();
  }
}

Result<std::shared_ptr<const Bytes>> CachedBlockstore::GetShared(const Cid& cid) {
  if (capacity_ == 0 || cid.empty() || IsIdentity(cid)) return base_.GetShared(cid);
  std::string key = KeyOf(cid);
  if (auto hit = Lookup(key)) return hit;
  uint64_t epoch;
  {
    std::lock_guard lock(mu_);
    epoch = deletes_;
  }
  auto block = CAIRN_TRY(base_.GetShared(cid));  // read from storage and verified there
  if (block->size() <= capacity_ / 8) Insert(key, block, epoch);
  return block;
}

Result<Bytes> CachedBlockstore::Get(const Cid& cid) {
  if (capacity_ == 0 || cid.empty() || IsIdentity(cid)) return base_.Get(cid);
  auto block = CAIRN_TRY(GetShared(cid));
  return Bytes(*block);
}

Result<Bytes> CachedBlockstore::GetIntact(const Cid& cid) {
  if (capacity_ == 0 || cid.empty() || IsIdentity(cid)) return base_.GetIntact(cid);
  if (auto hit = Lookup(KeyOf(cid))) return Bytes(*hit);
  return base_.GetIntact(cid);
}

Result<bool> CachedBlockstore::Has(const Cid& cid) { return base_.Has(cid); }

Result<uint64_t> CachedBlockstore::Size(const Cid& cid) { return base_.Size(cid); }

Result<void> CachedBlockstore::Delete(const Cid& cid) {
  if (!cid.empty() && !IsIdentity(cid)) {
    std::string key = KeyOf(cid);
    std::lock_guard lock(mu_);
    ++deletes_;
    ++deletes_in_flight_;
    if (auto it = entries_.find(key); it != entries_.end()) {
      bytes_ -= it->second.block->size();
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  auto deleted = base_.Delete(cid);
  if (!cid.empty() && !IsIdentity(cid)) {
    // Again once the block is gone: a Get that sampled the counter between the first bump and
    // the store's delete may have read the block, and must not insert it.
    std::lock_guard lock(mu_);
    --deletes_in_flight_;
    ++deletes_;
  }
  return deleted;
}

Result<void> CachedBlockstore::ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) {
  return base_.ForEach(fn);
}

Result<void> CachedBlockstore::Sync() { return base_.Sync(); }

BlockCacheStats CachedBlockstore::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, misses_, entries_.size(), bytes_};
}

}  // namespace cairn::blockstore
