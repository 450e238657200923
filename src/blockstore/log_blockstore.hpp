// LogBlockstore: the persistent block store (blockstore.hpp), built for millions of blocks and
// terabytes. Blocks are appended to segment files; an in-memory index maps each multihash to its
// record. Sealed segments carry an index file, so opening the store reads index files plus the
// one active segment's log, never the terabytes of data. Deletes append tombstones; Compact()
// rewrites segments whose live ratio has fallen below a threshold (the active one included, by
// sealing it first, when that pays). The on-disk format, recovery
// and compaction are specified in docs/formats/blockstore.md.
//
// Durability is the contract's: Sync() is the group commit (fdatasync of the active segment; a
// segment is also synced when it is sealed). After kill -9 or power loss, Open() truncates a torn
// tail, and every block whose Put returned before a successful Sync() is readable. Get() checks
// every block against its multihash, so a damaged record reads as Corruption, never as wrong
// bytes.
//
// Concurrency: any number of threads may call any method. Reads take the index lock only to
// look up a location and then pread without it; appends (Put, Delete, compaction copies) are
// serialised by a write lock. One process at a time: Open() takes an exclusive flock on
// <dir>/LOCK and fails with Unavailable while another process holds it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "blockstore/blockstore.hpp"
#include "common/env.hpp"

namespace cairn::blockstore {

struct LogBlockstoreOptions {
  // A segment is sealed (synced, its index file written) and a new one started once an append
  // would take it past this size (at least 4096). A block larger than this gets a segment of its
  // own.
  uint64_t segment_size = uint64_t{1} << 30;
  // Create `dir` (and its parents) when missing; otherwise a missing dir is NotFound.
  bool create_if_missing = true;
  // Compact() seals the active segment, to rewrite it like a sealed one, when that frees at
  // least this many bytes (and its live ratio is below Compact's threshold).
  uint64_t seal_min_reclaim = uint64_t{1} << 20;
  // Space set aside in <dir>/BALLAST (0 = none). When a delete's tombstone or a compaction finds
  // the disk full, the ballast is removed and the write retried, so that on a full disk deletes
  // and compaction can still run and free space (new blocks never use it: a Put on a full disk
  // is StorageFull). Compact() recreates the ballast once space is free.
  uint64_t ballast_bytes = uint64_t{4} << 20;
  // The file system (nullptr: Env::Default(), the real one). Tests pass a MemEnv to inject
  // faults. Must outlive the store.
  Env* env = nullptr;
};

// What Open() found and repaired.
struct RecoveryReport {
  uint32_t segments = 0;             // segment files opened
  uint32_t segments_from_index = 0;  // sealed segments loaded from their index file
  uint64_t records_scanned = 0;      // records read from segment logs (no usable index file)
  uint64_t truncated_bytes = 0;      // torn or invalid tail cut from the last segment
  // One line per problem: a torn tail, a bad record header, a bad index file (rebuilt from the
  // log), an unreadable segment ("blockstore: segment 3 offset 8123: header checksum mismatch").
  std::vector<std::string> problems;
};

struct LogBlockstoreStats {
  uint64_t blocks = 0;          // live blocks
  uint64_t live_bytes = 0;      // bytes of live records (headers + data)
  uint64_t disk_bytes = 0;      // bytes of all segment files
  uint32_t segments = 0;        // segment files, including the active one
  uint64_t active_segment = 0;  // id of the segment appends go to
  uint64_t syncs = 0;           // fdatasync calls Sync() made since open (a Sync with nothing
                                // appended since the last successful one makes none)
};

struct CompactionStats {
  uint32_t segments_compacted = 0;  // segment files rewritten and removed
  uint64_t blocks_moved = 0;        // live blocks copied into the active segment
  uint64_t tombstones_moved =
      0;  // tombstones carried forward (an older segment may still need them)
  uint64_t bytes_reclaimed = 0;  // disk bytes freed (removed files minus bytes copied)
  uint64_t corrupt_dropped = 0;  // live records whose data failed its checksum: dropped
};

class LogBlockstore final : public Blockstore {
 public:
  // Opens (or creates) the store in `dir` and recovers it (see RecoveryReport). IoError when the
  // directory or a file cannot be read or written; Unavailable when another process holds it;
  // Corruption when a file in it is not a Cairn segment at all (wrong magic on a sealed one).
  static Result<std::unique_ptr<LogBlockstore>> Open(const std::filesystem::path& dir,
                                                     LogBlockstoreOptions options = {});
  // Syncs (best effort) and closes the files.
  ~LogBlockstore() override;
  LogBlockstore(const LogBlockstore&) = delete;
  LogBlockstore& operator=(const LogBlockstore&) = delete;

  // Blockstore. Put refuses NotSupported hashes (no Get could ever verify them) and blocks of
  // 4 GiB or more (InvalidArgument). A full disk is StorageFull (after the ballast, above). A
  // failed write cuts its partial record off the segment; if even that cut fails, the store
  // refuses further appends with IoError until reopened, so a half-written record is never
  // followed by acknowledged ones.
  Result<void> Put(const Cid& cid, ByteSpan data) override;
  Result<Bytes> Get(const Cid& cid) override;
  // Reads the whole record (header, multihash, data) in one pread and checks its magic, type,
  // header CRC, multihash and data CRC-32C (docs/formats/blockstore.md), not the CID's hash.
  Result<Bytes> GetIntact(const Cid& cid) override;
  Result<bool> Has(const Cid& cid) override;
  Result<uint64_t> Size(const Cid& cid) override;
  Result<void> Delete(const Cid& cid) override;
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override;
  Result<void> Sync() override;

  // Seals the active segment when that pays (see seal_min_reclaim), then
  // rewrites every sealed segment whose live bytes are below `max_live_ratio` of its size:
  // copies its live blocks (and the tombstones an older segment may still need) into the active
  // segment, syncs, then deletes the old files. Safe beside concurrent readers and writers; one
  // compaction runs at a time (a second caller waits). Blocks deleted while it runs stay deleted.
  Result<CompactionStats> Compact(double max_live_ratio = 0.5);

  LogBlockstoreStats Stats();
  const RecoveryReport& recovery() const;

  struct Impl;

 private:
  explicit LogBlockstore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::blockstore
