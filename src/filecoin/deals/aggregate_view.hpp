// The bytes of a deal's aggregate piece as a view over the block store (issue 10 §4: no staged
// copy, bounded memory): the unpadded FRC-0058 aggregate payload is, in order, for each data
// segment (placement order) zeros up to its unpadded offset, then the CARv1 export of its DAG
// (car/car_writer.hpp ExportDag — the bytes whose CommP is the segment's commitment — or, for a
// CAR shard, ExportDagSections over the shard's sections), zeros to
// the end of the segment; zeros up to the index area; then the index area
// (filecoin/aggregation/aggregate.hpp WriteAggregatePayload describes the same layout).
//
// Any byte range is produced on the fly: regions before the range are skipped without I/O except
// the CAR exports of segments the range starts inside, which are re-exported from their start
// and discarded up to the range (CPU proportional to the skipped part of that one segment;
// memory one block at a time plus the exporter's bookkeeping). The range ends as soon as its last
// byte is written.
//
// Thread-compatible: an AggregateView is immutable; WriteRange may run on many threads at once
// when the getter allows it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "car/car_writer.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin::deals {

// One data segment of an aggregate as recorded (metadata::SegmentRecord).
struct SegmentSource {
  multiformats::Cid root;  // DAG root = the CAR's only root
  // The sections of the DAG's export this segment holds (car::ExportDagSections): the whole
  // export, or one CAR shard of it (docs/formats/car-shards.md).
  car::SectionRange sections;
  uint64_t car_size = 0;         // bytes of the CARv1 (of the shard)
  aggregation::PieceInfo piece;  // its commitment and padded size
  uint64_t offset = 0;           // padded offset in the aggregate, as recorded
};

class AggregateView {
 public:
  // Rebuilds the aggregate of `segments` (any order) in a deal of padded size `deal_size` and
  // checks it against what was recorded: every segment must be placed at its recorded offset,
  // and the aggregate commitment must be `expected_root`. Corruption naming the mismatch
  // otherwise (the records and this code disagree: never serve such bytes); PlacePieces' errors
  // for impossible inputs.
  static Result<AggregateView> Make(std::vector<SegmentSource> segments, uint64_t deal_size,
                                    const aggregation::Node& expected_root);

  // UnpaddedSize(deal_size): the Transfer.Size of the deal.
  uint64_t payload_size() const;
  const aggregation::Aggregate& aggregate() const { return aggregate_; }

  using Sink = std::function<Result<void>(ByteSpan)>;
  // Writes bytes [start, start + length) of the payload to `sink`, in order, reading the
  // segments' blocks through `getter` (each verified against its CID by the exporter).
  // InvalidArgument when the range exceeds payload_size(); Corruption when a segment's export
  // is not exactly its recorded car_size (the DAG changed under the record); the getter's errors
  // (NotFound for a missing block) and the sink's errors as they are, with the segment as
  // context.
  Result<void> WriteRange(uint64_t start, uint64_t length, ipld::BlockGetter& getter,
                          const Sink& sink) const;
  // The same into a ByteSink: large blocks (and the zero runs) reach it through
  // ByteSink::WriteShared with their owner, so a sink that queues bytes need not copy them.
  Result<void> WriteRange(uint64_t start, uint64_t length, ipld::BlockGetter& getter,
                          ByteSink& sink) const;

 private:
  AggregateView(std::vector<SegmentSource> segments, aggregation::Aggregate aggregate, Bytes index)
      : segments_(std::move(segments)),
        aggregate_(std::move(aggregate)),
        index_(std::move(index)) {}

  std::vector<SegmentSource> segments_;  // placement order
  aggregation::Aggregate aggregate_;
  Bytes index_;  // IndexAreaUnpadded()
};

}  // namespace cairn::filecoin::deals
