#include "filecoin/deals/receipt.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/aggregation/inclusion_proof.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "filecoin/types/market.hpp"

namespace cairn::filecoin::deals {

namespace {

namespace json = boost::json;
using metadata::DealState;

Result<aggregation::PieceInfo> SegmentPiece(const metadata::SegmentRecord& s) {
  aggregation::PieceInfo info;
  if (s.comm_p.size() != info.commitment.size()) {
    return Err(ErrorCode::kCorruption, "receipt: segment " + std::to_string(s.id) +
                                           " has a commitment of " +
                                           std::to_string(s.comm_p.size()) + " bytes");
  }
  std::copy(s.comm_p.begin(), s.comm_p.end(), info.commitment.begin());
  info.size = s.padded_size;
  return info;
}

// Rebuilds the aggregate's tree from its recorded segments (given by increasing offset, so the
// largest-first placement sees them in the order it placed them) and proves `segment` in it.
Result<Bytes> ProveSegment(const metadata::AggregateRecord& agg,
                           const std::vector<metadata::SegmentRecord>& segments,
                           const metadata::SegmentRecord& segment) {
  std::vector<aggregation::PieceInfo> pieces;
  pieces.reserve(segments.size());
  for (const auto& s : segments) pieces.push_back(CAIRN_TRY(SegmentPiece(s)));
  auto built = aggregation::Aggregate::Build(pieces, agg.padded_size);
  if (!built) {
    return Err(ErrorCode::kCorruption, "receipt: aggregate " + agg.piece_cid +
                                           " cannot be rebuilt: " + built.error().message());
  }
  if (piece::PieceCidV1(built->root()).ToString() != agg.piece_cid) {
    return Err(ErrorCode::kCorruption, "receipt: the recorded segments of aggregate " +
                                           agg.piece_cid + " rebuild to " +
                                           piece::PieceCidV1(built->root()).ToString());
  }
  const auto& placed = built->placement().pieces;
  std::optional<size_t> entry;
  for (size_t i = 0; i < placed.size(); ++i) {
    const auto& s = segments[placed[i].input_index];
    if (placed[i].offset != s.piece_offset) {
      return Err(ErrorCode::kCorruption, "receipt: segment " + std::to_string(s.id) +
                                             " is recorded at offset " +
                                             std::to_string(s.piece_offset) + " but placed at " +
                                             std::to_string(placed[i].offset));
    }
    if (s.id == segment.id) entry = i;
  }
  if (!entry) {
    return Err(ErrorCode::kCorruption, "receipt: segment " + std::to_string(segment.id) +
                                           " is not among the segments of aggregate " +
                                           agg.piece_cid);
  }
  auto proof = CAIRN_TRY(built->ProveEntry(*entry));
  return aggregation::EncodeInclusionProof(proof);
}

Result<std::vector<ReceiptDeal>> ReceiptDeals(metadata::DealStore& deals, int64_t aggregate_id) {
  std::vector<ReceiptDeal> out;
  for (const auto& d : CAIRN_TRY(deals.DealsOfAggregate(aggregate_id))) {
    if (d.state == DealState::kRejected || d.state == DealState::kFailed) continue;
    ReceiptDeal r;
    r.provider = d.provider;
    auto signed_proposal = ClientDealProposal::Decode(d.signed_proposal);
    if (!signed_proposal) {
      return Err(ErrorCode::kCorruption, "receipt: deal " + d.uuid + ": stored proposal: " +
                                             signed_proposal.error().message());
    }
    auto net = Address::ParseWithNetwork(d.provider);
    r.client = signed_proposal->proposal.client.ToString(net ? net->second : Network::kMainnet);
    r.deal_id = d.deal_id;
    r.proposal_cid = d.proposal_cid;
    r.publish_cid = d.publish_cid;
    r.start_epoch = d.start_epoch;
    r.end_epoch = d.end_epoch;
    r.state = std::string(metadata::DealStateName(d.state));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

namespace {

// The receipt of `segment` placed at `offset` in aggregate `aggregate_id` (no history).
Result<Receipt> PlacedReceipt(metadata::DealStore& deals, metadata::SegmentRecord segment,
                              int64_t aggregate_id, uint64_t offset) {
  auto agg = CAIRN_TRY(deals.GetAggregate(aggregate_id));
  auto segments = CAIRN_TRY(deals.Segments(agg.id));
  segment.aggregate_id = aggregate_id;
  segment.piece_offset = offset;
  Receipt r;
  r.cid = CAIRN_TRY(multiformats::Cid::FromBytes(segment.root_cid)).ToV1();
  auto seg_piece = CAIRN_TRY(SegmentPiece(segment));
  auto seg_info = CAIRN_TRY(
      piece::PieceInfo::Make(seg_piece.commitment, segment.padded_size, segment.car_size));
  r.segment_piece_cid = CAIRN_TRY(piece::PieceCidV2(seg_info));
  r.segment_offset = segment.piece_offset;
  r.segment_size = segment.padded_size;
  r.aggregate_piece_cid = CAIRN_TRY(multiformats::Cid::Parse(agg.piece_cid));
  r.aggregate_piece_cid_v2 = CAIRN_TRY(piece::PieceCidV1ToV2(
      r.aggregate_piece_cid, agg.padded_size, aggregation::UnpaddedSize(agg.padded_size)));
  r.aggregate_padded_size = agg.padded_size;
  r.inclusion_proof = CAIRN_TRY(ProveSegment(agg, segments, segment));
  r.deals = CAIRN_TRY(ReceiptDeals(deals, agg.id));
  return r;
}

}  // namespace

namespace {

// The receipt of one segment (shard) with its history; NotFound while it waits for an aggregate
// and never had one.
Result<Receipt> SegmentReceipt(metadata::DealStore& deals, const metadata::SegmentRecord& segment,
                               std::string_view requestid) {
  std::vector<Receipt> history;
  for (const auto& past : CAIRN_TRY(deals.PastPlacements(segment.id))) {
    history.push_back(
        CAIRN_TRY(PlacedReceipt(deals, segment, past.aggregate_id, past.piece_offset)));
  }
  Receipt r;
  if (!segment.aggregate_id) {
    if (history.empty()) {
      std::string which;
      if (segment.shards > 1) {
        which = " (shard " + std::to_string(segment.shard) + " of " +
                std::to_string(segment.shards) + ")";
      }
      return Err(ErrorCode::kNotFound, "receipt: pin " + std::string(requestid) + which +
                                           " is waiting to be aggregated (info.filecoin "
                                           "\"aggregating\"); its receipt exists once it is");
    }
    // Re-aggregated, and waiting for its new piece: the last placement is still the one whose
    // deals hold the data.
    r = std::move(history.back());
    history.pop_back();
  } else {
    r = CAIRN_TRY(PlacedReceipt(deals, segment, *segment.aggregate_id, segment.piece_offset));
  }
  r.history = std::move(history);
  r.shard = segment.shard;
  r.shard_count = segment.shards;
  r.first_section = segment.first_section;
  r.sections = segment.sections;
  for (auto& h : r.history) {
    h.shard = r.shard;
    h.shard_count = r.shard_count;
    h.first_section = r.first_section;
    h.sections = r.sections;
  }
  return r;
}

}  // namespace

Result<Receipt> BuildReceipt(metadata::DealStore& deals, std::string_view requestid) {
  auto segments = CAIRN_TRY(deals.SegmentsOfPin(requestid));
  if (segments.empty()) {
    return Err(ErrorCode::kNotFound,
               "receipt: pin " + std::string(requestid) +
                   " has no Filecoin segment yet (it is not pinned, or the cold tier has not "
                   "reached it; see info.filecoin)");
  }
  if (segments.size() != segments.front().shards) {
    return Err(ErrorCode::kCorruption, "receipt: pin " + std::string(requestid) + " has " +
                                           std::to_string(segments.size()) + " of its " +
                                           std::to_string(segments.front().shards) + " shards");
  }
  Receipt first = CAIRN_TRY(SegmentReceipt(deals, segments.front(), requestid));
  for (size_t i = 1; i < segments.size(); ++i) {
    first.shards.push_back(CAIRN_TRY(SegmentReceipt(deals, segments[i], requestid)));
  }
  return first;
}

namespace {

json::object ReceiptObject(const Receipt& r) {
  json::array deals;
  for (const auto& d : r.deals) {
    json::object o;
    o["provider"] = d.provider;
    o["client"] = d.client;
    if (d.deal_id) {
      o["dealId"] = *d.deal_id;
    } else {
      o["dealId"] = nullptr;
    }
    o["proposalCid"] = d.proposal_cid;
    o["publishCid"] = d.publish_cid;
    o["startEpoch"] = d.start_epoch;
    o["endEpoch"] = d.end_epoch;
    o["state"] = d.state;
    deals.push_back(std::move(o));
  }
  json::object out;
  out["cid"] = r.cid.ToString();
  out["segment"] = json::object{{"pieceCid", r.segment_piece_cid.ToString()},
                                {"offset", r.segment_offset},
                                {"size", r.segment_size}};
  out["aggregate"] = json::object{{"pieceCid", r.aggregate_piece_cid.ToString()},
                                  {"pieceCidV2", r.aggregate_piece_cid_v2.ToString()},
                                  {"paddedSize", r.aggregate_padded_size}};
  out["inclusionProof"] = HexEncode(r.inclusion_proof);
  out["deals"] = std::move(deals);
  json::array history;
  for (const auto& h : r.history) history.push_back(ReceiptObject(h));
  out["history"] = std::move(history);
  json::object shard{
      {"index", r.shard}, {"count", r.shard_count}, {"firstSection", r.first_section}};
  if (r.sections) {
    shard["sections"] = *r.sections;
  } else {
    shard["sections"] = nullptr;
  }
  out["shard"] = std::move(shard);
  if (r.shard == 0) {
    json::array shards;
    for (const auto& other : r.shards) shards.push_back(ReceiptObject(other));
    out["shards"] = std::move(shards);
  }
  return out;
}

}  // namespace

std::string RenderReceipt(const Receipt& r) { return json::serialize(ReceiptObject(r)); }

// ---- Parsing --------------------------------------------------------------------------------

namespace {

Error Bad(const std::string& field, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "receipt: " + field + ": " + what);
}

Result<const json::object*> Obj(const json::object& in, const char* key, const std::string& path) {
  const auto* v = in.if_contains(key);
  if (!v || !v->is_object()) return Err(Bad(path + key, "missing or not an object"));
  return &v->as_object();
}

Result<std::string> Str(const json::object& in, const char* key, const std::string& path) {
  const auto* v = in.if_contains(key);
  if (!v || !v->is_string()) return Err(Bad(path + key, "missing or not a string"));
  return std::string(v->as_string());
}

Result<int64_t> Int(const json::object& in, const char* key, const std::string& path) {
  const auto* v = in.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64() && v->as_uint64() <= INT64_MAX)
    return static_cast<int64_t>(v->as_uint64());
  return Err(Bad(path + key, "missing or not an integer"));
}

Result<uint64_t> Uint(const json::object& in, const char* key, const std::string& path) {
  const auto* v = in.if_contains(key);
  if (v && v->is_uint64()) return v->as_uint64();
  if (v && v->is_int64() && v->as_int64() >= 0) return static_cast<uint64_t>(v->as_int64());
  return Err(Bad(path + key, "missing or not an unsigned integer"));
}

Result<multiformats::Cid> CidField(const json::object& in, const char* key,
                                   const std::string& path) {
  auto text = CAIRN_TRY(Str(in, key, path));
  auto cid = multiformats::Cid::Parse(text);
  if (!cid) return Err(Bad(path + key, "not a CID: " + cid.error().message()));
  return *cid;
}

Result<ReceiptDeal> ParseDeal(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Err(Bad(path, "not an object"));
  const auto& o = v.as_object();
  ReceiptDeal d;
  d.provider = CAIRN_TRY(Str(o, "provider", path));
  d.client = CAIRN_TRY(Str(o, "client", path));
  const auto* id = o.if_contains("dealId");
  if (!id) return Err(Bad(path + "dealId", "missing (null before the deal is published)"));
  if (!id->is_null()) d.deal_id = CAIRN_TRY(Int(o, "dealId", path));
  d.proposal_cid = CAIRN_TRY(Str(o, "proposalCid", path));
  d.publish_cid = CAIRN_TRY(Str(o, "publishCid", path));
  d.start_epoch = CAIRN_TRY(Int(o, "startEpoch", path));
  d.end_epoch = CAIRN_TRY(Int(o, "endEpoch", path));
  d.state = CAIRN_TRY(Str(o, "state", path));
  if (!metadata::DealStateFromName(d.state)) return Err(Bad(path + "state", "unknown state"));
  return d;
}

}  // namespace

namespace {

Result<Receipt> ParseReceiptObject(const json::object& o, const std::string& at) {
  Receipt r;
  r.cid = CAIRN_TRY(CidField(o, "cid", at));
  const auto* seg = CAIRN_TRY(Obj(o, "segment", at));
  r.segment_piece_cid = CAIRN_TRY(CidField(*seg, "pieceCid", at + "segment."));
  r.segment_offset = CAIRN_TRY(Uint(*seg, "offset", at + "segment."));
  r.segment_size = CAIRN_TRY(Uint(*seg, "size", at + "segment."));
  const auto* agg = CAIRN_TRY(Obj(o, "aggregate", at));
  r.aggregate_piece_cid = CAIRN_TRY(CidField(*agg, "pieceCid", at + "aggregate."));
  r.aggregate_piece_cid_v2 = CAIRN_TRY(CidField(*agg, "pieceCidV2", at + "aggregate."));
  r.aggregate_padded_size = CAIRN_TRY(Uint(*agg, "paddedSize", at + "aggregate."));
  auto proof_hex = CAIRN_TRY(Str(o, "inclusionProof", at));
  auto proof = HexDecode(proof_hex);
  if (!proof) return Err(Bad(at + "inclusionProof", "not hex: " + proof.error().message()));
  r.inclusion_proof = std::move(*proof);
  const auto* deals = o.if_contains("deals");
  if (!deals || !deals->is_array()) return Err(Bad(at + "deals", "missing or not an array"));
  if (deals->as_array().size() > kMaxReceiptDeals) {
    return Err(Bad(at + "deals", "more than " + std::to_string(kMaxReceiptDeals)));
  }
  for (size_t i = 0; i < deals->as_array().size(); ++i) {
    r.deals.push_back(
        CAIRN_TRY(ParseDeal(deals->as_array()[i], at + "deals[" + std::to_string(i) + "].")));
  }
  // Receipts from before CAR shards have no "shard": one shard, the whole export.
  if (const auto* shard = o.if_contains("shard")) {
    if (!shard->is_object()) return Err(Bad(at + "shard", "not an object"));
    const auto& so = shard->as_object();
    const std::string sp = at + "shard.";
    const uint64_t index = CAIRN_TRY(Uint(so, "index", sp));
    const uint64_t count = CAIRN_TRY(Uint(so, "count", sp));
    if (count == 0 || count > kMaxReceiptShards || index >= count) {
      return Err(Bad(sp + "index", std::to_string(index) + " of " + std::to_string(count) +
                                       " shards (at most " + std::to_string(kMaxReceiptShards) +
                                       ")"));
    }
    r.shard = static_cast<uint32_t>(index);
    r.shard_count = static_cast<uint32_t>(count);
    r.first_section = CAIRN_TRY(Uint(so, "firstSection", sp));
    const auto* sections = so.if_contains("sections");
    if (!sections) return Err(Bad(sp + "sections", "missing (null: through the end)"));
    if (!sections->is_null()) r.sections = CAIRN_TRY(Uint(so, "sections", sp));
  }
  return r;
}

}  // namespace

Result<Receipt> ParseReceipt(std::string_view text) {
  if (text.size() > kMaxReceiptBytes) {
    return Err(Bad("size", std::to_string(text.size()) + " bytes, more than " +
                               std::to_string(kMaxReceiptBytes)));
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Err(Bad("json", ec.message()));
  if (!v.is_object()) return Err(Bad("json", "not an object"));
  Receipt r = CAIRN_TRY(ParseReceiptObject(v.as_object(), ""));
  const auto* history = v.as_object().if_contains("history");
  if (!history) return r;  // receipts from before re-aggregation have none
  if (!history->is_array()) return Err(Bad("history", "not an array"));
  if (history->as_array().size() > kMaxReceiptHistory) {
    return Err(Bad("history", "more than " + std::to_string(kMaxReceiptHistory)));
  }
  for (size_t i = 0; i < history->as_array().size(); ++i) {
    const std::string path = "history[" + std::to_string(i) + "]";
    const auto& entry = history->as_array()[i];
    if (!entry.is_object()) return Err(Bad(path, "not an object"));
    r.history.push_back(CAIRN_TRY(ParseReceiptObject(entry.as_object(), path + ".")));
  }
  const auto* shards = v.as_object().if_contains("shards");
  if (!shards) return r;  // receipts from before CAR shards have none
  if (!shards->is_array()) return Err(Bad("shards", "not an array"));
  if (shards->as_array().size() >= kMaxReceiptShards) {
    return Err(Bad("shards", "more than " + std::to_string(kMaxReceiptShards - 1)));
  }
  for (size_t i = 0; i < shards->as_array().size(); ++i) {
    const std::string path = "shards[" + std::to_string(i) + "]";
    const auto& entry = shards->as_array()[i];
    if (!entry.is_object()) return Err(Bad(path, "not an object"));
    Receipt shard = CAIRN_TRY(ParseReceiptObject(entry.as_object(), path + "."));
    if (const auto* h = entry.as_object().if_contains("history")) {
      if (!h->is_array()) return Err(Bad(path + ".history", "not an array"));
      if (h->as_array().size() > kMaxReceiptHistory) {
        return Err(Bad(path + ".history", "more than " + std::to_string(kMaxReceiptHistory)));
      }
      for (size_t j = 0; j < h->as_array().size(); ++j) {
        const std::string hp = path + ".history[" + std::to_string(j) + "]";
        if (!h->as_array()[j].is_object()) return Err(Bad(hp, "not an object"));
        shard.history.push_back(
            CAIRN_TRY(ParseReceiptObject(h->as_array()[j].as_object(), hp + ".")));
      }
    }
    r.shards.push_back(std::move(shard));
  }
  return r;
}

Result<void> ShardsConsistent(const Receipt& r) {
  if (r.shard != 0) return Err(Bad("shard.index", "the receipt of a pin starts with shard 0"));
  if (r.shards.size() + 1 != r.shard_count) {
    return Err(Bad("shards", std::to_string(r.shards.size() + 1) + " shards listed, but " +
                                 "shard.count says " + std::to_string(r.shard_count)));
  }
  const Receipt* before = &r;
  for (size_t i = 0; i < r.shards.size(); ++i) {
    const Receipt& s = r.shards[i];
    const std::string path = "shards[" + std::to_string(i) + "].";
    if (s.cid != r.cid) return Err(Bad(path + "cid", "is not the DAG's root " + r.cid.ToString()));
    if (s.shard != i + 1 || s.shard_count != r.shard_count) {
      return Err(Bad(path + "shard", "shard " + std::to_string(s.shard) + " of " +
                                         std::to_string(s.shard_count) + ", expected " +
                                         std::to_string(i + 1) + " of " +
                                         std::to_string(r.shard_count)));
    }
    if (!before->sections || before->first_section + *before->sections != s.first_section) {
      return Err(Bad(path + "shard.firstSection",
                     std::to_string(s.first_section) + " does not follow the shard before it"));
    }
    before = &s;
  }
  return Ok();
}

// ---- Checks ---------------------------------------------------------------------------------

Result<VerifiedInclusion> VerifyReceiptInclusion(const Receipt& r) {
  auto seg = piece::ParsePieceCidV2(r.segment_piece_cid);
  if (!seg) return Err(Bad("segment.pieceCid", "not a v2 piece CID: " + seg.error().message()));
  if (seg->padded_size() != r.segment_size) {
    return Err(Bad("segment.size", std::to_string(r.segment_size) + ", but the piece CID says " +
                                       std::to_string(seg->padded_size())));
  }
  auto agg_root = piece::ParsePieceCidV1(r.aggregate_piece_cid);
  if (!agg_root) {
    return Err(Bad("aggregate.pieceCid", "not a v1 piece CID: " + agg_root.error().message()));
  }
  auto agg_v2 = piece::ParsePieceCidV2(r.aggregate_piece_cid_v2);
  if (!agg_v2) {
    return Err(Bad("aggregate.pieceCidV2", "not a v2 piece CID: " + agg_v2.error().message()));
  }
  if (agg_v2->root != *agg_root) {
    return Err(Bad("aggregate.pieceCidV2", "names another root than aggregate.pieceCid"));
  }
  if (agg_v2->padded_size() != r.aggregate_padded_size) {
    return Err(Bad("aggregate.paddedSize", std::to_string(r.aggregate_padded_size) +
                                               ", but pieceCidV2 says " +
                                               std::to_string(agg_v2->padded_size())));
  }
  auto proof = aggregation::DecodeInclusionProof(r.inclusion_proof);
  if (!proof) return Err(Bad("inclusionProof", proof.error().message()));
  const aggregation::PieceInfo segment{seg->root, r.segment_size};
  if (proof->subtree.index * r.segment_size != r.segment_offset) {
    return Err(Bad("segment.offset", std::to_string(r.segment_offset) +
                                         ", but the proof places the segment at " +
                                         std::to_string(proof->subtree.index * r.segment_size)));
  }
  auto verified =
      aggregation::VerifyInclusion(*proof, segment, {*agg_root, r.aggregate_padded_size});
  if (!verified) return Err(Bad("inclusionProof", verified.error().message()));
  return VerifiedInclusion{seg->payload_size(), agg_v2->payload_size()};
}

std::vector<std::string> CheckDealOnChain(const Receipt& r, const ReceiptDeal& d,
                                          const chain::MarketDeal& onchain) {
  std::vector<std::string> diffs;
  const DealProposal& p = onchain.proposal;
  if (p.piece_cid != r.aggregate_piece_cid) {
    diffs.push_back("piece CID: on chain " + p.piece_cid.ToString() + ", receipt " +
                    r.aggregate_piece_cid.ToString());
  }
  if (p.piece_size != r.aggregate_padded_size) {
    diffs.push_back("piece size: on chain " + std::to_string(p.piece_size) + ", receipt " +
                    std::to_string(r.aggregate_padded_size));
  }
  auto address_diff = [&diffs](const char* what, const Address& chain, const std::string& text) {
    auto parsed = Address::ParseWithNetwork(text);
    if (!parsed || parsed->first != chain) {
      diffs.push_back(std::string(what) + ": on chain " +
                      chain.ToString(parsed ? parsed->second : Network::kMainnet) + ", receipt " +
                      text);
    }
  };
  address_diff("provider", p.provider, d.provider);
  address_diff("client", p.client, d.client);
  if (p.start_epoch != d.start_epoch) {
    diffs.push_back("start epoch: on chain " + std::to_string(p.start_epoch) + ", receipt " +
                    std::to_string(d.start_epoch));
  }
  if (p.end_epoch != d.end_epoch) {
    diffs.push_back("end epoch: on chain " + std::to_string(p.end_epoch) + ", receipt " +
                    std::to_string(d.end_epoch));
  }
  if (d.state == "active") {
    if (onchain.state.sector_start_epoch == -1) {
      diffs.push_back("state: receipt says active, the chain shows no sector start epoch");
    }
    if (onchain.state.slash_epoch != -1) {
      diffs.push_back("state: receipt says active, the chain shows it slashed at epoch " +
                      std::to_string(onchain.state.slash_epoch));
    }
  }
  return diffs;
}

}  // namespace cairn::filecoin::deals
