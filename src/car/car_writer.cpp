#include "car/car_writer.hpp"

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

Result<void> CarWriter::Put(const Cid& cid, ByteSpan data) {
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
    CAIRN_TRY(sink_->Write(data));
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

Result<ExportStats> ExportDag(const Cid& root, ipld::BlockGetter& getter, ByteSink& sink,
                              const BlockPlacedFn& on_block) {
  CarWriter writer = CAIRN_TRY(CarWriter::Create(sink, {root}));
  const bool verified_by_getter = getter.VerifiesBlocks();
  ExportStats stats;
  std::unordered_set<Cid> seen;
  std::vector<Cid> stack{root};
  while (!stack.empty()) {
    Cid cid = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(cid).second) continue;
    Bytes data;
    const bool identity = cid.hash().code() == codec::kIdentity;
    if (identity) {
      const ByteSpan d = cid.hash().digest();
      data.assign(d.begin(), d.end());
    } else {
      auto got = getter.Get(cid);
      if (!got) return Err(got.error().WithContext("car: export: " + cid.ToString() + ": "));
      data = std::move(*got);
      if (!verified_by_getter) {
        auto ok = cid.hash().Verify(data);
        if (!ok) {
          return Err(ok.error().code(), "car: export: block " + cid.ToString() +
                                            " does not match its CID: " + ok.error().message());
        }
      }
      CAIRN_TRY(writer.Put(cid, data));
      ++stats.blocks;
      // The section ends with the block's bytes.
      if (on_block) CAIRN_TRY(on_block(cid, writer.size() - data.size(), data.size()));
    }
    auto links = ipld::Links(cid, data);
    if (!links) return Err(links.error().WithContext("car: export: "));
    for (auto it = links->rbegin(); it != links->rend(); ++it) {
      if (!seen.contains(*it)) stack.push_back(std::move(*it));
    }
  }
  stats.bytes = writer.size();
  return stats;
}

}  // namespace cairn::car
