#include "blockstore/fallback_blockstore.hpp"

#include "common/log.hpp"

namespace cairn::blockstore {

namespace {

std::string KeyOf(const Cid& cid) {
  const Bytes encoded = cid.hash().Encode();
  return std::string(encoded.begin(), encoded.end());
}

}  // namespace

FallbackBlockstore::FallbackBlockstore(Blockstore& hot, ipld::BlockGetter& fallback,
                                       FallbackOptions options)
    : hot_(hot), fallback_(fallback), options_(options) {
  if (options_.prefetch_threads > 0) {
    pool_ = std::make_unique<WorkerPool>(options_.prefetch_threads);
  }
}

FallbackBlockstore::~FallbackBlockstore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  // Queued batches see stopping_ and settle their blocks at once; running ones finish.
  if (pool_) pool_->Stop();
}

Result<std::shared_ptr<const Bytes>> FallbackBlockstore::Admit(const Cid& cid, Result<Bytes> got) {
  if (!got) return Err(got.error());
  auto bytes = std::make_shared<const Bytes>(std::move(*got));
  auto ok = fallback_.VerifiesBlocks() ? Result<void>(Ok()) : cid.hash().Verify(*bytes);
  if (!ok) {
    return Err(ErrorCode::kCorruption, "blockstore: the fallback's block " + cid.ToString() +
                                           " does not match its CID: " + ok.error().message());
  }
  if (auto put = hot_.PutLater(cid, bytes); !put) {
    log::Warn("blockstore.rewarm_failed",
              {{"cid", cid.ToString()}, {"error", put.error().message()}});
  }
  return bytes;
}

std::optional<Result<std::shared_ptr<const Bytes>>> FallbackBlockstore::TakePrefetched(
    const std::string& key) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return std::nullopt;
    pending = it->second;
    ++stats_.waited;
  }
  std::optional<Result<std::shared_ptr<const Bytes>>> result;
  {
    std::unique_lock lock(pending->mu);
    pending->cv.wait(lock, [&] { return pending->result.has_value(); });
    result = *pending->result;
  }
  std::lock_guard lock(mu_);
  Forget(key, pending.get());
  return result;
}

Result<std::shared_ptr<const Bytes>> FallbackBlockstore::Read(const Cid& cid) {
  if (!pool_) {  // no prefetching: hot, else the fallback
    auto hot = hot_.GetShared(cid);
    if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
    return Admit(cid, fallback_.Get(cid));
  }
  // A prefetched block first: it is in memory (and in the hot store too, written back).
  const std::string key = KeyOf(cid);
  if (auto got = TakePrefetched(key)) return std::move(*got);
  auto hot = hot_.GetShared(cid);
  if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
  // A hint may have come between the two looks.
  if (auto got = TakePrefetched(key)) return std::move(*got);
  return Admit(cid, fallback_.Get(cid));
}

Result<Bytes> FallbackBlockstore::Get(const Cid& cid) { return Bytes(*CAIRN_TRY(Read(cid))); }

Result<std::shared_ptr<const Bytes>> FallbackBlockstore::GetShared(const Cid& cid) {
  return Read(cid);
}

Result<Bytes> FallbackBlockstore::GetIntact(const Cid& cid) {
  auto hot = hot_.GetIntact(cid);
  if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
  return Get(cid);
}

void FallbackBlockstore::Prefetch(std::span<const Cid> cids) {
  if (!pool_ || cids.empty()) return;
  std::vector<Cid> wanted;
  std::vector<std::string> keys;
  for (const Cid& cid : cids) {
    auto has = hot_.Has(cid);
    if (!has || *has) continue;  // hot (or the hot store failing: the read will say so)
    wanted.push_back(cid);
    keys.push_back(KeyOf(cid));
  }
  if (wanted.empty()) return;
  std::vector<Cid> batch;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queued_ >= options_.max_queued_batches) {
      ++stats_.dropped;
      return;
    }
    for (size_t i = 0; i < wanted.size(); ++i) {
      auto [it, inserted] = in_flight_.try_emplace(keys[i]);
      if (!inserted) continue;  // already on its way (or ready)
      it->second = std::make_shared<Pending>();
      it->second->generation = ++generations_;
      batch.push_back(wanted[i]);
    }
    if (batch.empty()) return;
    ++queued_;
  }
  const std::vector<Cid> unrun = batch;  // settled here if the pool refuses the batch
  const bool submitted = pool_->Submit([this, batch = std::move(batch)] { RunBatch(batch); });
  if (!submitted) {  // the pool is stopping: nobody will run it, and reads may wait on it
    {
      std::lock_guard lock(mu_);
      --queued_;
      ++stats_.dropped;
    }
    for (const Cid& cid : unrun) {
      Settle(KeyOf(cid),
             Err(ErrorCode::kUnavailable, "blockstore: the store closed before " + cid.ToString() +
                                              " was read from the fallback"));
    }
  }
}

void FallbackBlockstore::RunBatch(const std::vector<Cid>& cids) {
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    --queued_;
    stopping = stopping_;
    if (!stopping) ++stats_.batches;
  }
  if (stopping) {
    for (const Cid& cid : cids) {
      Settle(KeyOf(cid),
             Err(ErrorCode::kUnavailable, "blockstore: the store closed before " + cid.ToString() +
                                              " was read from the fallback"));
    }
    return;
  }
  std::vector<std::string> keys;
  keys.reserve(cids.size());
  for (const Cid& cid : cids) keys.push_back(KeyOf(cid));
  std::vector<bool> settled(cids.size(), false);
  fallback_.GetMany(cids, [&](const Cid& cid, Result<Bytes> got) {
    const std::string key = KeyOf(cid);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (settled[i] || keys[i] != key) continue;
      settled[i] = true;
      auto admitted = Admit(cid, std::move(got));
      if (admitted) {
        std::lock_guard lock(mu_);
        ++stats_.blocks;
      }
      Settle(key, std::move(admitted));
      return;
    }
  });
  // A getter that broke GetMany's promise must not leave readers waiting forever.
  for (size_t i = 0; i < cids.size(); ++i) {
    if (settled[i]) continue;
    Settle(keys[i], Err(ErrorCode::kInternal,
                        "blockstore: the fallback did not answer for " + cids[i].ToString()));
  }
}

void FallbackBlockstore::Forget(const std::string& key, const Pending* pending) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end() || it->second.get() != pending) return;
  ready_bytes_ -= it->second->ready_bytes;
  in_flight_.erase(it);
}

void FallbackBlockstore::Settle(const std::string& key,
                                Result<std::shared_ptr<const Bytes>> result) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;
    pending = it->second;
    // Ready for its read; the oldest ready blocks make room (they are in the hot store too).
    pending->settled = true;
    pending->ready_bytes = result ? (*result)->size() : 0;
    ready_bytes_ += pending->ready_bytes;
    ready_.emplace_back(key, pending->generation);
    while (!ready_.empty() &&
           (ready_bytes_ > options_.max_ready_bytes || ready_.size() > options_.max_ready_blocks)) {
      auto [old_key, generation] = std::move(ready_.front());
      ready_.pop_front();
      auto old = in_flight_.find(old_key);
      if (old != in_flight_.end() && old->second->generation == generation) {
        Forget(old_key, old->second.get());
      }
    }
  }
  {
    std::lock_guard lock(pending->mu);
    pending->result = std::move(result);
  }
  pending->cv.notify_all();
}

Result<void> FallbackBlockstore::Delete(const Cid& cid) {
  if (pool_) {
    const std::string key = KeyOf(cid);
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    // A fetch still running settles its readers first; only a ready copy is dropped.
    if (it != in_flight_.end() && it->second->settled) Forget(key, it->second.get());
  }
  return hot_.Delete(cid);
}

Result<bool> FallbackBlockstore::Has(const Cid& cid) {
  if (CAIRN_TRY(hot_.Has(cid))) return true;
  auto size = fallback_.Size(cid);
  if (size) return true;
  if (size.error().code() == ErrorCode::kNotFound) return false;
  return Err(size.error());
}

Result<uint64_t> FallbackBlockstore::Size(const Cid& cid) {
  auto hot = hot_.Size(cid);
  if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
  return fallback_.Size(cid);
}

FallbackBlockstore::PrefetchStats FallbackBlockstore::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::blockstore
