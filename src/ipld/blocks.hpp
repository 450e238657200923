// Blocks in and out: the one seam between the layers that read or build DAGs (unixfs, car,
// filecoin/dealdata, gateway) and whatever holds blocks (the block store, a fetcher, a test map).
// A getter answers "the bytes of this CID"; a sink receives blocks as they are built. Layers
// below the block store take these interfaces; the templates at the end adapt any store with the
// matching member functions, so no layer here depends on the store.
#pragma once

#include <functional>
#include <memory>
#include <span>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::ipld {

using multiformats::Cid;

// Where blocks are read from. Thread-safety is the implementation's; a consumer that reads from
// several threads says so in its own contract.
class BlockGetter {
 public:
  virtual ~BlockGetter() = default;
  // The bytes of the block `cid` names; NotFound when the block is not available; other errors
  // (IoError, Unavailable, ...) are the getter's own. Whether the bytes are checked against the
  // CID is the getter's business: each consumer states whether it verifies them (car::ExportDag
  // does, the unixfs::Exporter trusts its getter).
  virtual Result<Bytes> Get(const Cid& cid) = 0;
  // The same bytes, shared: a getter that keeps blocks in memory hands out its own copy (no
  // copy for the caller). The default calls Get().
  virtual Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) {
    return std::make_shared<const Bytes>(CAIRN_TRY(Get(cid)));
  }
  // The size of the block `cid` names, NotFound when it is not available. A getter that can
  // answer without reading the bytes (a block store's index) does so, so presence questions
  // (bitswap HAVE) cost no block read; the bytes are then not verified. The default reads the
  // block with GetShared().
  virtual Result<uint64_t> Size(const Cid& cid) { return CAIRN_TRY(GetShared(cid))->size(); }
  // A hint: the blocks `cids` names are about to be read, in this order. A getter whose reads
  // are slow (the cold tier's providers) may start fetching them in the background, so that the
  // Get that follows finds them ready; the hint never fails, may be ignored (the default) and
  // must return without waiting for the fetch. Callers hint only blocks they are about to read
  // (a reader of a byte range hints the children that overlap the range, never the whole DAG).
  virtual void Prefetch(std::span<const Cid> cids) { (void)cids; }
  // The blocks `cids` names, each handed to `each` exactly once (with its bytes, or the error
  // Get would have given), on the calling thread, in any order; returns when every one was
  // answered. A getter that can read several blocks in one exchange (adjacent ranges of one
  // piece) does so; the default calls Get for each in turn.
  using EachBlock = std::function<void(const Cid&, Result<Bytes>)>;
  // True when every block this getter returns (Get, GetShared, GetMany) was checked against its
  // CID already, so a consumer that must verify (blockstore::FallbackBlockstore) need not hash
  // it a second time. The default promises nothing. One getter bends this on purpose: the one
  // that reads a deal's piece for its storage provider (apps/cairn/piece_http.cpp) checks the
  // block store's record checksum instead (blockstore::Blockstore::GetIntact), because the
  // provider checks the CommP of every byte; it is never a FallbackBlockstore's fallback.
  virtual bool VerifiesBlocks() const { return false; }
  virtual void GetMany(std::span<const Cid> cids, const EachBlock& each) {
    for (const Cid& cid : cids) each(cid, Get(cid));
  }
};

// Where blocks go as they are built (the UnixFS importer's output). Thread-safety is the
// implementation's; a producer states which threads it calls from.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  // Receives one block and its CID (the producer computed the CID from exactly these bytes).
  // `bytes` is valid only during the call. The same block may be put more than once (identical
  // chunks). An error stops the producer, which returns it unchanged.
  virtual Result<void> Put(const Cid& cid, ByteSpan bytes) = 0;
  // False for sinks that want only CIDs: a producer may then skip assembling (copying) blocks
  // whose bytes nobody needs, and not Put them (the importer does so for a file's leaves).
  virtual bool WantsBytes() const { return true; }
};

// Drops every block and wants no bytes (`add --only-hash`).
class DiscardSink final : public BlockSink {
 public:
  Result<void> Put(const Cid&, ByteSpan) override { return Ok(); }
  bool WantsBytes() const override { return false; }
};

// Adapts anything with `Result<Bytes> Get(const Cid&)` (blockstore::Blockstore, a test map, a
// fetcher) to a BlockGetter; its `GetShared(const Cid&)` and `Size(const Cid&)`, when it has
// them, are used too. The store
// must outlive the getter.
// A store that declares `static constexpr bool kVerifiesReads = true` (blockstore::Blockstore: its
// contract checks every block read from storage against its CID) makes the getter promise
// VerifiesBlocks, so a consumer that must verify (car::ExportDag) does not hash the block again.
template <typename Store>
class BlockGetterFor final : public BlockGetter {
 public:
  explicit BlockGetterFor(Store& store) : store_(store) {}
  bool VerifiesBlocks() const override {
    if constexpr (requires { Store::kVerifiesReads; }) {
      return Store::kVerifiesReads;
    } else {
      return false;
    }
  }
  Result<Bytes> Get(const Cid& cid) override { return store_.Get(cid); }
  Result<std::shared_ptr<const Bytes>> GetShared(const Cid& cid) override {
    if constexpr (requires { store_.GetShared(cid); }) {
      return store_.GetShared(cid);
    } else {
      return BlockGetter::GetShared(cid);
    }
  }
  Result<uint64_t> Size(const Cid& cid) override {
    if constexpr (requires { store_.Size(cid); }) {
      return store_.Size(cid);
    } else {
      return BlockGetter::Size(cid);
    }
  }
  void Prefetch(std::span<const Cid> cids) override {
    if constexpr (requires { store_.Prefetch(cids); }) store_.Prefetch(cids);
  }

 private:
  Store& store_;
};

// Adapts anything with `Result<void> Put(const Cid&, ByteSpan)` (blockstore::Blockstore) to a
// BlockSink that wants bytes. The store must outlive the sink.
template <typename Store>
class StoreSink final : public BlockSink {
 public:
  explicit StoreSink(Store& store) : store_(store) {}
  Result<void> Put(const Cid& cid, ByteSpan bytes) override { return store_.Put(cid, bytes); }

 private:
  Store& store_;
};

}  // namespace cairn::ipld
