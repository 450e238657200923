// The block store: the hot tier's storage of IPLD blocks, keyed by multihash.
//
// Contract shared by every implementation (the in-memory fake and the persistent store):
// - Blocks are addressed by CID but keyed by the CID's multihash: the same bytes stored under a
//   raw and a dag-pb CID are one block. Identity CIDs are never stored: Has() is true and Get()
//   returns the digest.
// - Put() does not re-hash: the caller must have computed the CID from the bytes (importers) or
//   verified it (fetchers, CAR import). Get() verifies the bytes against the CID's multihash on
//   every read from storage and returns Corruption instead of wrong bytes; a store that keeps
//   blocks in memory (CachedBlockstore) keeps only bytes verified that way and may hand them out
//   again without hashing them again.
// - Durability: a Put is durable once a later Sync() has returned Ok (writes are batched; Sync is
//   the group commit). After a crash, every block whose Put was followed by a successful Sync is
//   readable, and no read ever returns partial or wrong bytes.
// - Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::blockstore {

using multiformats::Cid;

class Blockstore {
 public:
  // Every implementation keeps the contract above: what Get returns matches the CID. Read by
  // ipld::BlockGetterFor, whose getters then promise ipld::BlockGetter::VerifiesBlocks.
  static constexpr bool kVerifiesReads = true;

  virtual ~Blockstore() = default;

  // Stores `data` under `cid`'s multihash. Storing a block that is already present is Ok and
  // writes nothing.
  virtual Result<void> Put(const Cid& cid, ByteSpan data) = 0;
  // Put(), for a caller that need not wait for the write (a cold read's write-back): a store with
  // a background writer (WriteBehindBlockstore) queues `data` (shared, not copied) and returns;
  // the block is readable through this store at once, and stored unless its write fails, which
  // is logged, not returned. The default writes it now with Put. (`data` by value: the stores
  // that queue it take it over.)
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual Result<void> PutLater(const Cid& cid, std::shared_ptr<const Bytes> data) {
    return Put(cid, *data);
  }
  // The block's bytes. NotFound when absent; Corruption when the stored bytes do not match the
  // CID; NotSupported when the CID's hash cannot be computed.
  virtual Result<Bytes> Get(const Cid& cid) = 0;
  // Get(), shared: a store that keeps blocks in memory hands out its own verified copy without
  // copying it. The default reads with Get().
  virtual Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) {
    return std::make_shared<const Bytes>(CAIRN_TRY(Get(cid)));
  }
  // The block's bytes for a reader whose consumer checks them end to end (a deal's piece: the
  // storage provider computes the CommP of every byte it pulls and refuses a mismatch, so wrong
  // bytes fail the deal and are never stored). A store that keeps a checksum of its own per
  // record may check that instead of hashing the block against its CID (LogBlockstore: the
  // record's CRC-32C, hardware-accelerated, far cheaper than SHA-256): damage on disk is still
  // Corruption, never wrong bytes. Errors as Get. The default is Get (verified).
  virtual Result<Bytes> GetIntact(const Cid& cid) { return Get(cid); }
  virtual Result<bool> Has(const Cid& cid) = 0;
  // The block's size in bytes. NotFound when absent.
  virtual Result<uint64_t> Size(const Cid& cid) = 0;
  // Removes the block. Removing an absent block is Ok.
  virtual Result<void> Delete(const Cid& cid) = 0;
  // Calls `fn(cid, size)` for every stored block, in no particular order, with a raw-codec CIDv1
  // of the stored multihash. Stops early when `fn` returns false. Blocks added or removed during
  // the walk may or may not be seen.
  virtual Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) = 0;
  // Makes every Put and Delete that returned before this call durable.
  virtual Result<void> Sync() = 0;
  // A hint that these blocks are about to be read, in this order (ipld::BlockGetter::Prefetch):
  // a store with a slow tier behind it (FallbackBlockstore) may start fetching the blocks it
  // lacks in the background. Never fails, never waits; the default ignores it.
  virtual void Prefetch(std::span<const Cid> cids) { (void)cids; }
};

}  // namespace cairn::blockstore
