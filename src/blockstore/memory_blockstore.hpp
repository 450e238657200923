// MemoryBlockstore: the in-memory fake of the block store (blockstore.hpp), for tests of every
// layer above. It keeps the whole contract, including verification on every Get (so tests can
// inject corruption with CorruptForTest) and identity-CID handling. Nothing is persisted; Sync()
// is Ok and does nothing.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "blockstore/blockstore.hpp"

namespace cairn::blockstore {

class MemoryBlockstore final : public Blockstore {
 public:
  MemoryBlockstore() = default;

  Result<void> Put(const Cid& cid, ByteSpan data) override;
  Result<Bytes> Get(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  Result<void> Delete(const Cid& cid) override;
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override;
  Result<void> Sync() override;

  // Number of stored blocks (identity CIDs are never stored).
  size_t BlockCount();
  // Flips one bit of the stored bytes of `cid` (tests of the Corruption path). NotFound when
  // absent.
  Result<void> CorruptForTest(const Cid& cid);

 private:
  std::mutex mu_;
  // Encoded multihash → block bytes. GUARDED_BY(mu_).
  std::map<std::string, Bytes> blocks_;
};

}  // namespace cairn::blockstore
