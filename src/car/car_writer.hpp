// Streaming CAR writers (../shared/specs/ipld/carv1.md, carv2.md) and the DAG exporter that
// `cairn car export`, pin packing and the gateway use.
//
// CarWriter writes a CARv1 to any ByteSink, one section at a time (constant memory).
// CarV2Writer writes a CARv2 the way go-car's ReadWrite blockstore does: pragma, header with no
// characteristics set, the CARv1 payload right after the header (data offset 51), then a
// MultihashIndexSorted index of every block except identity CIDs, right after the payload. It
// needs a SeekableSink because the header (payload size, index offset) is only known at the end;
// it keeps one IndexEntry per block in memory (digest + offset) until Finish().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "car/car_format.hpp"
#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/cid.hpp"

namespace cairn::car {

// The writers push to the common byte seam (common/io.hpp); the name is kept here for callers
// that spell it car::ByteSink.
using cairn::ByteSink;

class CarWriter {
 public:
  // Writes the CARv1 header with `roots` (may be empty) to `sink`, which must outlive the writer.
  static Result<CarWriter> Create(ByteSink& sink, const std::vector<Cid>& roots);

  // Appends the section cid | data. The caller vouches that `data` matches `cid` (the writer
  // does not hash). Sink errors are returned as they are.
  Result<void> Put(const Cid& cid, ByteSpan data);
  // Put, with the block's owner passed on to the sink (ByteSink::WriteShared) for large blocks,
  // so a sink that queues bytes need not copy them.
  Result<void> PutShared(const Cid& cid, const std::shared_ptr<const Bytes>& block);

  // Bytes written so far (header included): the CARv1 payload size once done.
  uint64_t size() const { return size_; }

 private:
  explicit CarWriter(ByteSink& sink) : sink_(&sink) {}
  Result<void> PutSection(const Cid& cid, ByteSpan data, const std::shared_ptr<const void>& owner);
  ByteSink* sink_;
  uint64_t size_ = 0;
  Bytes scratch_;
};

class CarV2Writer {
 public:
  // Writes the pragma, a placeholder header and the inner CARv1 header to `sink` (which must be
  // empty and outlive the writer).
  static Result<CarV2Writer> Create(SeekableSink& sink, const std::vector<Cid>& roots);

  // As CarWriter::Put; also records the block in the index (identity CIDs are not indexed).
  Result<void> Put(const Cid& cid, ByteSpan data);

  // Writes the index and fills in the header. No Put after Finish.
  Result<void> Finish();

 private:
  CarV2Writer(SeekableSink& sink, CarWriter inner) : sink_(&sink), inner_(std::move(inner)) {}
  SeekableSink* sink_;
  CarWriter inner_;
  std::vector<IndexEntry> entries_;
  bool finished_ = false;
};

// Told of every block ExportDag writes: its CID, and where the block's bytes (the bytes its CID
// hashes, after the section's length varint and CID) sit in the CAR: `data_offset` from the first
// byte of the CAR, `data_length` bytes. An error stops the export and is returned as it is.
using BlockPlacedFn =
    std::function<Result<void>(const Cid& cid, uint64_t data_offset, uint64_t data_length)>;

struct ExportStats {
  uint64_t blocks = 0;  // sections written
  uint64_t bytes = 0;   // CAR bytes written
};

// Writes the DAG under `root` as a CARv1, exactly as `ipfs dag export` does: header roots=[root],
// then every block reachable from root in depth-first pre-order following ipld::Links() order,
// each block once (repeats skipped). Blocks with identity CIDs are not written (Kubo's export
// skips them), but their links are followed. Errors: NotFound for a missing block, Corruption for
// a block that does not match its CID, NotSupported for a codec whose links cannot be read, each
// naming the CID; sink errors as they are. On error the sink holds a truncated CAR. Every block
// the getter returns is verified against its CID, so an untrusted getter is fine, unless the
// getter promises it did that already (ipld::BlockGetter::VerifiesBlocks: the block store through
// ipld::BlockGetterFor<blockstore::Blockstore>, whose reads are verified), when it is trusted and
// not hashed a second time. `on_block`, when set, is
// called after each block's section is written, in CAR order (the block index of a deal segment).
Result<ExportStats> ExportDag(const Cid& root, ipld::BlockGetter& getter, ByteSink& sink,
                              const BlockPlacedFn& on_block = {});

// A run of consecutive sections of a DAG's export, in ExportDag's order (blocks with identity
// CIDs are not sections): `count` sections from index `first` (0 = the first section written
// after the header).
struct SectionRange {
  uint64_t first = 0;
  uint64_t count = UINT64_MAX;
};

// The CARv1 of the sections of `range` of the DAG's export (docs/formats/car-shards.md): header
// roots=[root] (the DAG's root, whether or not the range holds its block), then exactly the
// sections ExportDag would write at those indexes, in the same order. The blocks before the range
// are read only to follow their links (raw blocks, which have none, are not read); the walk stops
// after the range's last section. A range past the end gives the header alone. With the whole
// range it is ExportDag, byte for byte. `on_block` offsets count from this CAR's first byte.
// Errors as ExportDag.
Result<ExportStats> ExportDagSections(const Cid& root, SectionRange range,
                                      ipld::BlockGetter& getter, ByteSink& sink,
                                      const BlockPlacedFn& on_block = {});

// One CAR shard of a DAG's export (ExportDagShards).
struct ShardInfo {
  uint64_t first_section = 0;  // index of its first section in the whole export
  uint64_t sections = 0;       // how many
  uint64_t bytes = 0;          // its CARv1 bytes, header included
};

// Where ExportDagShards writes each shard: Begin(k) gives the sink of shard k (it must stay valid
// until End(k)), End(k) is told the shard's extent once its last section is written. Shards are
// written one after the other (End(k) before Begin(k + 1)). An error from either stops the export
// and is returned as it is.
class ShardSinks {
 public:
  virtual ~ShardSinks() = default;
  virtual Result<ByteSink*> Begin(size_t shard) = 0;
  virtual Result<void> End(size_t shard, const ShardInfo& info) = 0;
};

// As BlockPlacedFn, with the shard the block is in; offsets count from that shard's first byte.
using ShardBlockPlacedFn = std::function<Result<void>(size_t shard, const Cid& cid,
                                                      uint64_t data_offset, uint64_t data_length)>;

// The DAG's export cut into CARv1 shards of at most `max_shard_bytes` each, in one walk
// (docs/formats/car-shards.md): every shard has the header roots=[root], and shard k is exactly
// ExportDagSections(root, {first_section, sections}) — consecutive runs of the export's sections,
// cut greedily (a shard takes the next section while it still fits). One shard when the whole
// export fits, and then it is ExportDag's bytes. Returns the shards in order. InvalidArgument
// (naming the block) when a block's section does not fit a shard on its own; otherwise errors as
// ExportDag. On error the shards written so far are truncated or incomplete.
Result<std::vector<ShardInfo>> ExportDagShards(const Cid& root, uint64_t max_shard_bytes,
                                               ipld::BlockGetter& getter, ShardSinks& sinks,
                                               const ShardBlockPlacedFn& on_block = {});

}  // namespace cairn::car
