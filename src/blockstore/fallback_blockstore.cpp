#include "blockstore/fallback_blockstore.hpp"

#include "common/log.hpp"

namespace cairn::blockstore {

Result<std::shared_ptr<const Bytes>> FallbackBlockstore::FromFallback(const Cid& cid) {
  auto got = fallback_.GetShared(cid);
  if (!got) return Err(got.error());
  auto ok = cid.hash().Verify(**got);
  if (!ok) {
    return Err(ErrorCode::kCorruption, "blockstore: the fallback's block " + cid.ToString() +
                                           " does not match its CID: " + ok.error().message());
  }
  if (auto put = hot_.Put(cid, **got); !put) {
    log::Warn("blockstore.rewarm_failed",
              {{"cid", cid.ToString()}, {"error", put.error().message()}});
  }
  return *got;
}

Result<Bytes> FallbackBlockstore::Get(const Cid& cid) {
  auto hot = hot_.Get(cid);
  if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
  return Bytes(*CAIRN_TRY(FromFallback(cid)));
}

Result<std::shared_ptr<const Bytes>> FallbackBlockstore::GetShared(const Cid& cid) {
  auto hot = hot_.GetShared(cid);
  if (hot || hot.error().code() != ErrorCode::kNotFound) return hot;
  return FromFallback(cid);
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

}  // namespace cairn::blockstore
