#include "blockstore/write_behind_blockstore.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <unordered_set>
#include <vector>

#include "common/log.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {

namespace {

std::string KeyOf(const Cid& cid) {
  const Bytes encoded = cid.hash().Encode();
  return std::string(encoded.begin(), encoded.end());
}

bool IsIdentity(const Cid& cid) { return cid.hash().code() == multiformats::codec::kIdentity; }

}  // namespace

WriteBehindBlockstore::WriteBehindBlockstore(Blockstore& base, WriteBehindOptions options)
    : base_(base), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
}

WriteBehindBlockstore::~WriteBehindBlockstore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  writer_.join();  // the writer leaves only once the queue is empty
}

std::shared_ptr<const Bytes> WriteBehindBlockstore::Lookup(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.data;
}

void WriteBehindBlockstore::TakeOut(std::unique_lock<std::mutex>& lock, const std::string& key) {
  for (;;) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    if (!it->second.writing) {
      bytes_ -= it->second.data->size();
      entries_.erase(it);  // its pair in order_ is now stale
      ++stats_.cancelled;
      done_cv_.notify_all();  // a Flush may have been waiting for it
      return;
    }
    done_cv_.wait(lock);
  }
}

Result<void> WriteBehindBlockstore::Put(const Cid& cid, ByteSpan data) {
  if (!IsIdentity(cid)) {
    const std::string key = KeyOf(cid);
    std::unique_lock lock(mu_);
    TakeOut(lock, key);
  }
  return base_.Put(cid, data);
}

Result<void> WriteBehindBlockstore::PutLater(const Cid& cid, std::shared_ptr<const Bytes> data) {
  if (IsIdentity(cid)) return base_.Put(cid, *data);
  std::string key = KeyOf(cid);
  {
    std::lock_guard lock(mu_);
    if (entries_.count(key)) return Ok();  // already on its way
    const bool full =
        bytes_ + data->size() > options_.max_bytes || entries_.size() >= options_.max_blocks;
    if (!stopping_ && !full) {
      const uint64_t seq = next_seq_++;
      bytes_ += data->size();
      order_.emplace_back(seq, key);
      entries_.emplace(std::move(key), Entry{cid, std::move(data), seq, false});
      ++stats_.queued;
      work_cv_.notify_one();
      return Ok();
    }
    ++stats_.direct;
  }
  return base_.Put(cid, *data);
}

void WriteBehindBlockstore::WriterLoop() {
  if (options_.writer_nice != 0) {
    // Linux: a nice value set by thread id applies to this thread alone.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.writer_nice);
  }
  std::vector<std::pair<std::string, Entry>> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !order_.empty(); });
    if (order_.empty()) return;  // stopping, and everything is written
    batch.clear();
    while (!order_.empty() && batch.size() < options_.batch_blocks) {
      auto [seq, key] = std::move(order_.front());
      order_.pop_front();
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second.seq != seq) continue;  // cancelled
      it->second.writing = true;
      batch.emplace_back(std::move(key), it->second);
    }
    if (batch.empty()) continue;
    ++stats_.batches;
    lock.unlock();
    for (auto& [key, entry] : batch) {
      auto put = base_.Put(entry.cid, *entry.data);
      if (!put) {
        log::Warn("blockstore.write_behind_failed",
                  {{"cid", entry.cid.ToString()}, {"error", put.error().message()}});
      }
      lock.lock();
      // Only the writer removes an entry marked writing, so it is still this one.
      bytes_ -= entry.data->size();
      entries_.erase(key);
      ++(put ? stats_.written : stats_.failed);
      lock.unlock();
      done_cv_.notify_all();
      entry.data.reset();
    }
    lock.lock();
  }
}

void WriteBehindBlockstore::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = next_seq_;
  done_cv_.wait(lock, [&] {
    for (const auto& [key, entry] : entries_) {
      if (entry.seq < target) return false;
    }
    return true;
  });
}

Result<Bytes> WriteBehindBlockstore::Get(const Cid& cid) {
  if (auto data = Lookup(KeyOf(cid))) return Bytes(*data);
  return base_.Get(cid);
}

Result<std::shared_ptr<const Bytes>> WriteBehindBlockstore::GetShared(const Cid& cid) {
  if (auto data = Lookup(KeyOf(cid))) return data;
  return base_.GetShared(cid);
}

Result<Bytes> WriteBehindBlockstore::GetIntact(const Cid& cid) {
  if (auto data = Lookup(KeyOf(cid))) return Bytes(*data);  // verified when it was fetched
  return base_.GetIntact(cid);
}

Result<bool> WriteBehindBlockstore::Has(const Cid& cid) {
  if (Lookup(KeyOf(cid))) return true;
  return base_.Has(cid);
}

Result<uint64_t> WriteBehindBlockstore::Size(const Cid& cid) {
  if (auto data = Lookup(KeyOf(cid))) return static_cast<uint64_t>(data->size());
  return base_.Size(cid);
}

Result<void> WriteBehindBlockstore::Delete(const Cid& cid) {
  if (!IsIdentity(cid)) {
    const std::string key = KeyOf(cid);
    std::unique_lock lock(mu_);
    TakeOut(lock, key);
  }
  return base_.Delete(cid);
}

Result<void> WriteBehindBlockstore::ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) {
  std::vector<std::pair<Cid, uint64_t>> queued;
  std::unordered_set<std::string> keys;
  {
    std::lock_guard lock(mu_);
    queued.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) {
      queued.emplace_back(Cid::V1(multiformats::codec::kRaw, entry.cid.hash()), entry.data->size());
      keys.insert(key);
    }
  }
  for (const auto& [cid, size] : queued) {
    if (!fn(cid, size)) return Ok();
  }
  return base_.ForEach(
      [&](const Cid& cid, uint64_t size) { return keys.count(KeyOf(cid)) ? true : fn(cid, size); });
}

WriteBehindStats WriteBehindBlockstore::Stats() const {
  std::lock_guard lock(mu_);
  WriteBehindStats out = stats_;
  out.queue_bytes = bytes_;
  out.queue_blocks = entries_.size();
  return out;
}

}  // namespace cairn::blockstore
