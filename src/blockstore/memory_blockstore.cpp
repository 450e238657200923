#include "blockstore/memory_blockstore.hpp"

#include <utility>
#include <vector>

#include "blockstore/internal/keys.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {

using internal::IsIdentity;
using internal::KeyOf;

Result<void> MemoryBlockstore::Put(const Cid& cid, ByteSpan data) {
  CAIRN_TRY(internal::CheckPut(cid, data));
  if (IsIdentity(cid)) return Ok();
  std::string key = KeyOf(cid);
  std::lock_guard lock(mu_);
  blocks_.try_emplace(std::move(key), data.begin(), data.end());
  return Ok();
}

Result<Bytes> MemoryBlockstore::Get(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) {
    auto d = cid.hash().digest();
    return Bytes(d.begin(), d.end());
  }
  Bytes data;
  {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(KeyOf(cid));
    if (it == blocks_.end()) {
      return Err(ErrorCode::kNotFound, "blockstore: block " + cid.ToString() + " not found");
    }
    data = it->second;
  }
  auto ok = cid.hash().Verify(data);
  if (!ok) {
    return Err(ok.error().WithContext("blockstore: block " + cid.ToString() + ": "));
  }
  return data;
}

Result<bool> MemoryBlockstore::Has(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return true;
  std::lock_guard lock(mu_);
  return blocks_.count(KeyOf(cid)) > 0;
}

Result<uint64_t> MemoryBlockstore::Size(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return static_cast<uint64_t>(cid.hash().digest().size());
  std::lock_guard lock(mu_);
  auto it = blocks_.find(KeyOf(cid));
  if (it == blocks_.end()) {
    return Err(ErrorCode::kNotFound, "blockstore: block " + cid.ToString() + " not found");
  }
  return static_cast<uint64_t>(it->second.size());
}

Result<void> MemoryBlockstore::Delete(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return Ok();
  std::lock_guard lock(mu_);
  blocks_.erase(KeyOf(cid));
  return Ok();
}

Result<void> MemoryBlockstore::ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) {
  // Snapshot first so `fn` may call back into the store.
  std::vector<std::pair<std::string, uint64_t>> snapshot;
  {
    std::lock_guard lock(mu_);
    snapshot.reserve(blocks_.size());
    for (const auto& [key, data] : blocks_) snapshot.emplace_back(key, data.size());
  }
  for (const auto& [key, size] : snapshot) {
    auto mh = multiformats::Multihash::Decode(AsBytes(key));
    // Keys were encoded from valid multihashes by Put.
    CAIRN_CHECK(mh.has_value());
    if (!fn(Cid::V1(multiformats::codec::kRaw, *mh), size)) break;
  }
  return Ok();
}

Result<void> MemoryBlockstore::Sync() { return Ok(); }

size_t MemoryBlockstore::BlockCount() {
  std::lock_guard lock(mu_);
  return blocks_.size();
}

Result<void> MemoryBlockstore::CorruptForTest(const Cid& cid) {
  std::lock_guard lock(mu_);
  auto it = blocks_.find(KeyOf(cid));
  if (it == blocks_.end()) return Err(ErrorCode::kNotFound, "blockstore: block not found");
  if (it->second.empty()) {
    it->second.push_back(0);
  } else {
    it->second[0] ^= 1;
  }
  return Ok();
}

}  // namespace cairn::blockstore
