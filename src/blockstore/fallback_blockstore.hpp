// Hot first, then cold (issue 11 §1): a block store whose reads go to the hot store and, for a
// block it does not hold, to a fallback getter (the cold tier's reader, which fetches the block
// from a storage provider). The user never has to know which one answered.
//
// Contract (on top of blockstore.hpp's):
// - Get/GetShared: the hot store's answer unless it is NotFound; then the fallback's. A block
//   from the fallback is verified against its CID here (whatever the fallback claims), written
//   back to the hot store (re-warmed: the next read is hot) and returned. A failed write-back
//   is logged and the verified bytes are served anyway. Bytes that do not match the CID are
//   Corruption and are neither stored nor returned.
// - Has/Size: the hot store's answer, else whether the fallback can produce the block and its
//   size (the fallback answers from its index, without fetching).
// - Put, Delete, ForEach and Sync are the hot store's alone: the fallback is read-only, and
//   ForEach lists hot blocks only (garbage collection and compaction see the hot tier).
// Thread-safe when both are (every Blockstore is; the fallback says so in its contract).
#pragma once

#include "blockstore/blockstore.hpp"
#include "ipld/blocks.hpp"

namespace cairn::blockstore {

class FallbackBlockstore final : public Blockstore {
 public:
  // Both must outlive this store.
  FallbackBlockstore(Blockstore& hot, ipld::BlockGetter& fallback)
      : hot_(hot), fallback_(fallback) {}

  Result<void> Put(const Cid& cid, ByteSpan data) override { return hot_.Put(cid, data); }
  Result<Bytes> Get(const Cid& cid) override;
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  Result<void> Delete(const Cid& cid) override { return hot_.Delete(cid); }
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return hot_.ForEach(fn);
  }
  Result<void> Sync() override { return hot_.Sync(); }

 private:
  // The fallback's block, verified and written back.
  Result<std::shared_ptr<const Bytes>> FromFallback(const Cid& cid);

  Blockstore& hot_;
  ipld::BlockGetter& fallback_;
};

}  // namespace cairn::blockstore
