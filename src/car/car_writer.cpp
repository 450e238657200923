#include "car/car_writer.hpp"

#include <optional>
#include <unordered_set>

#include "ipld/links.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::car {

namespace codec = multiformats::codec;

Result<CarWriter> CarWriter::Create(ByteSink& sink, const std::vector<Cid>& roots) {
  CarWriter w(sink);
  const Bytes header = EncodeCarV1Header(roots);
  multiformats::AppendVarint(w.scratch_, header.size());
  w.scratch_.insert(w.scratch_.end(), header.begin(), header.end());
  CAIRN_TRY(sink.Write(w.scratch_));
  w.size_ = w.scratch_.size();
  return w;
}

Result<void> CarWriter::Put(const Cid& cid, ByteSpan data) { return PutSection(cid, data, {}); }

Result<void> CarWriter::PutShared(const Cid& cid, const std::shared_ptr<const Bytes>& block) {
  return PutSection(cid, *block, block);
}

Result<void> CarWriter::PutSection(const Cid& cid, ByteSpan data,
                                   const std::shared_ptr<const void>& owner) {
  // Small blocks go out as one write; large ones avoid copying the data.
  scratch_.clear();
  const Bytes cid_bytes = cid.ToBytes();
  multiformats::AppendVarint(scratch_, cid_bytes.size() + data.size());
  scratch_.insert(scratch_.end(), cid_bytes.begin(), cid_bytes.end());
  if (data.size() <= 4096) {
    scratch_.insert(scratch_.end(), data.begin(), data.end());
    CAIRN_TRY(sink_->Write(scratch_));
  } else {
    CAIRN_TRY(sink_->Write(scratch_));
    CAIRN_TRY(owner ? sink_->WriteShared(data, owner) : sink_->Write(data));
  }
  size_ +=
      cid_bytes.size() + data.size() + multiformats::VarintSize(cid_bytes.size() + data.size());
  return Ok();
}

Result<CarV2Writer> CarV2Writer::Create(SeekableSink& sink, const std::vector<Cid>& roots) {
  CAIRN_TRY(sink.Write(kCarV2Pragma));
  CAIRN_TRY(sink.Write(CarV2Header{}.Encode()));  // placeholder, rewritten by Finish()
  CarWriter inner = CAIRN_TRY(CarWriter::Create(sink, roots));
  return CarV2Writer(sink, std::move(inner));
}

Result<void> CarV2Writer::Put(const Cid& cid, ByteSpan data) {
  if (finished_) return Err(ErrorCode::kInternal, "car: Put after Finish");
  const uint64_t offset = inner_.size();
  CAIRN_TRY(inner_.Put(cid, data));
  if (cid.hash().code() != codec::kIdentity) {
    const ByteSpan digest = cid.hash().digest();
    entries_.push_back({cid.hash().code(), Bytes(digest.begin(), digest.end()), offset});
  }
  return Ok();
}

Result<void> CarV2Writer::Finish() {
  if (finished_) return Err(ErrorCode::kInternal, "car: Finish called twice");
  finished_ = true;
  CarV2Header header;
  header.data_offset = kCarV2DataOffset;
  header.data_size = inner_.size();
  header.index_offset = kCarV2DataOffset + inner_.size();
  CAIRN_TRY(sink_->Write(EncodeMultihashIndexSorted(std::move(entries_))));
  CAIRN_TRY(sink_->WriteAt(kCarV2Pragma.size(), header.Encode()));
  return Ok();
}

namespace {

// Visits the sections of the DAG's export in order (ExportDag's walk: depth-first pre-order in
// ipld::Links() order, each block once, identity-CID blocks followed but not sections).
// `visit(cid, block, index)` is called for the sections with index in [first, end), with their
// verified bytes (shared: ipld::BlockGetter::GetShared, so a getter that holds blocks in memory
// lends them and a queueing sink can keep them without a copy); the sections before `first` are
// read only to follow their links (raw blocks, which have none, are not read); the walk stops at
// section `end`.
using SectionVisit =
    std::function<Result<void>(const Cid&, const std::shared_ptr<const Bytes>&, uint64_t)>;

Result<void> WalkSections(const Cid& root, ipld::BlockGetter& getter, uint64_t first, uint64_t end,
                          const SectionVisit& visit) {
  const bool verified_by_getter = getter.VerifiesBlocks();
  std::unordered_set<Cid> seen;
  std::vector<Cid> stack{root};
  uint64_t next_section = 0;
  while (!stack.empty()) {
    Cid cid = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(cid).second) continue;
    std::shared_ptr<const Bytes> data;
    if (cid.hash().code() == codec::kIdentity) {
      const ByteSpan d = cid.hash().digest();
      data = std::make_shared<const Bytes>(d.begin(), d.end());
    } else {
      const uint64_t index = next_section++;
      if (index >= end) return Ok();
      const bool in_range = index >= first;
      // A raw block before the range has no links to follow: nothing to read.
      if (!in_range && cid.codec() == codec::kRaw) continue;
      auto got = getter.GetShared(cid);
      if (!got) return Err(got.error().WithContext("car: export: " + cid.ToString() + ": "));
      data = std::move(*got);
      if (!verified_by_getter) {
        auto ok = cid.hash().Verify(*data);
        if (!ok) {
          return Err(ok.error().code(), "car: export: block " + cid.ToString() +
                                            " does not match its CID: " + ok.error().message());
        }
      }
      if (in_range) CAIRN_TRY(visit(cid, data, index));
    }
    auto links = ipld::Links(cid, *data);
    if (!links) return Err(links.error().WithContext("car: export: "));
    for (auto it = links->rbegin(); it != links->rend(); ++it) {
      if (!seen.contains(*it)) stack.push_back(std::move(*it));
    }
  }
  return Ok();
}

// Bytes CarWriter::Put writes for the section cid | data.
uint64_t SectionSize(const Cid& cid, uint64_t data_size) {
  const uint64_t body = cid.ToBytes().size() + data_size;
  return multiformats::VarintSize(body) + body;
}

}  // namespace

Result<ExportStats> ExportDag(const Cid& root, ipld::BlockGetter& getter, ByteSink& sink,
                              const BlockPlacedFn& on_block) {
  return ExportDagSections(root, SectionRange{}, getter, sink, on_block);
}

Result<ExportStats> ExportDagSections(const Cid& root, SectionRange range,
                                      ipld::BlockGetter& getter, ByteSink& sink,
                                      const BlockPlacedFn& on_block) {
  CarWriter writer = CAIRN_TRY(CarWriter::Create(sink, {root}));
  ExportStats stats;
  const uint64_t end =
      range.count > UINT64_MAX - range.first ? UINT64_MAX : range.first + range.count;
  CAIRN_TRY(WalkSections(
      root, getter, range.first, end,
      [&](const Cid& cid, const std::shared_ptr<const Bytes>& data, uint64_t) -> Result<void> {
        CAIRN_TRY(writer.PutShared(cid, data));
        ++stats.blocks;
        // The section ends with the block's bytes.
        if (on_block) {
          CAIRN_TRY(on_block(cid, writer.size() - data->size(), data->size()));
        }
        return Ok();
      }));
  stats.bytes = writer.size();
  return stats;
}

Result<std::vector<ShardInfo>> ExportDagShards(const Cid& root, uint64_t max_shard_bytes,
                                               ipld::BlockGetter& getter, ShardSinks& sinks,
                                               const ShardBlockPlacedFn& on_block) {
  const Bytes header = EncodeCarV1Header({root});
  const uint64_t header_size = multiformats::VarintSize(header.size()) + header.size();
  if (header_size >= max_shard_bytes) {
    return Err(ErrorCode::kInvalidArgument,
               "car: export: a shard of " + std::to_string(max_shard_bytes) +
                   " bytes cannot hold the CAR header (" + std::to_string(header_size) + " bytes)");
  }
  std::vector<ShardInfo> shards;
  std::optional<CarWriter> writer;
  ShardInfo current;
  auto begin = [&](uint64_t first_section) -> Result<void> {
    ByteSink* sink = CAIRN_TRY(sinks.Begin(shards.size()));
    writer.emplace(CAIRN_TRY(CarWriter::Create(*sink, {root})));
    current = ShardInfo{first_section, 0, writer->size()};
    return Ok();
  };
  auto end = [&]() -> Result<void> {
    current.bytes = writer->size();
    CAIRN_TRY(sinks.End(shards.size(), current));
    shards.push_back(current);
    return Ok();
  };
  CAIRN_TRY(begin(0));
  CAIRN_TRY(WalkSections(
      root, getter, 0, UINT64_MAX,
      [&](const Cid& cid, const std::shared_ptr<const Bytes>& block,
          uint64_t index) -> Result<void> {
        const Bytes& data = *block;
        const uint64_t section = SectionSize(cid, data.size());
        if (header_size + section > max_shard_bytes) {
          return Err(ErrorCode::kInvalidArgument, "car: export: block " + cid.ToString() + " (" +
                                                      std::to_string(data.size()) +
                                                      " bytes) does not fit a shard of " +
                                                      std::to_string(max_shard_bytes) + " bytes");
        }
        if (current.sections > 0 && writer->size() + section > max_shard_bytes) {
          CAIRN_TRY(end());
          CAIRN_TRY(begin(index));
        }
        CAIRN_TRY(writer->Put(cid, data));
        ++current.sections;
        if (on_block) {
          CAIRN_TRY(on_block(shards.size(), cid, writer->size() - data.size(), data.size()));
        }
        return Ok();
      }));
  CAIRN_TRY(end());
  return shards;
}

}  // namespace cairn::car
