// Block leases: the blocks that operations still in progress have stored or reused, held live
// for garbage collection until those operations have committed what keeps them (a pin) or failed.
//
// Why: an upload (`/api/v0/add`, `dag/import`) stores its blocks while its body streams and
// creates its pin only at the end; a pin worker stores a DAG's blocks before the pin is `pinned`.
// A collector that marks only what pins reach would delete such blocks in between. Every writer
// that stores blocks for a pin that does not reach them yet holds them in a Lease; the collector
// deletes a block only through DeleteUnlessHeld.
//
// Contract:
// - Lease::Hold(cid) must be called before the block is stored or found already present (a Put
//   that finds the block present stores nothing, so the block must already be held when a
//   concurrent collection decides to delete it). Holding is keyed by multihash, like the store.
// - A collection runs between BeginCollection() and EndCollection(). A block held at any moment
//   of a collection — also one whose lease ends during it — is never deleted by that collection:
//   a lease that ends mid-collection leaves its blocks protected until the collection ends, so a
//   pin committed after the collection's mark phase read the pins loses nothing.
// - Leases are independent: the same block held by two leases stays held until both end.
// - Thread-safety: every method may be called from any thread; one Lease's Hold may be called
//   from several threads at once (a DAG walk's fetchers). Moving or releasing a Lease must not
//   race with its Hold.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::blockstore {

class BlockLeases {
 public:
  BlockLeases() = default;
  BlockLeases(const BlockLeases&) = delete;
  BlockLeases& operator=(const BlockLeases&) = delete;

  // Holds blocks until destroyed (or Release()d). Movable; a moved-from lease holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }

    // Holds `cid`'s block (see the header's contract: before it is stored or reused).
    void Hold(const multiformats::Cid& cid);
    // Ends the lease: its blocks stay protected only from the collection running now, if any.
    void Release();
    size_t size() const { return held_.size(); }

   private:
    friend class BlockLeases;
    explicit Lease(BlockLeases* owner) : owner_(owner) {}
    BlockLeases* owner_ = nullptr;
    std::unordered_set<std::string> held_;  // multihash bytes; GUARDED_BY(owner_->mu_)
  };

  Lease Open() { return Lease(this); }

  // Marks the start and end of a collection. Collections do not nest (the caller serializes
  // them; pinning::PinService::CollectGarbage does).
  void BeginCollection();
  void EndCollection();

  // Calls `remove` for `cid` unless the block is held (or was held during this collection), with
  // the registry locked so no Hold can slip in between the check and the removal. Returns whether
  // `remove` ran; its error is returned as is.
  Result<bool> DeleteUnlessHeld(const multiformats::Cid& cid,
                                const std::function<Result<void>()>& remove);

  // Distinct blocks held by open leases (for tests and metrics).
  size_t held_blocks() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint32_t> held_;  // multihash → open leases; GUARDED_BY(mu_)
  bool collecting_ = false;                         // GUARDED_BY(mu_)
  std::unordered_set<std::string> released_;  // released during this collection; GUARDED_BY(mu_)
};

}  // namespace cairn::blockstore
