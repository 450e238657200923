#include "filecoin/retrieval/prober.hpp"

#include "common/log.hpp"
#include "filecoin/aggregation/segment.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::retrieval {

RetrievalProber::RetrievalProber(metadata::DealStore& deals, RetrievalEndpoints& endpoints,
                                 PieceRangeFetcher& fetcher, ProberOptions options, uint64_t seed)
    : deals_(deals), endpoints_(endpoints), fetcher_(fetcher), options_(options), rng_(seed) {}

Result<void> RetrievalProber::Pass() {
  auto batch = CAIRN_TRY(deals_.ActiveDealsAfter(cursor_, options_.deals_per_pass));
  if (batch.size() < options_.deals_per_pass && !cursor_.empty()) {
    // The end of the table: wrap around (the first deals again, up to the pass's budget).
    auto more = CAIRN_TRY(deals_.ActiveDealsAfter("", options_.deals_per_pass - batch.size()));
    for (auto& d : more) {
      if (d.uuid > cursor_) break;  // already in this batch
      batch.push_back(std::move(d));
    }
  }
  for (const auto& d : batch) {
    cursor_ = d.uuid;
    std::string why;
    auto outcome = Probe(d, &why);
    if (!outcome) return Err(outcome.error());
    CAIRN_TRY(Record(d, *outcome, why));
  }
  return Ok();
}

Result<RetrievalProber::Outcome> RetrievalProber::Probe(const metadata::DealRecord& d,
                                                        std::string* why) {
  auto agg = CAIRN_TRY(deals_.GetAggregate(d.aggregate_id));
  auto segments = CAIRN_TRY(deals_.Segments(d.aggregate_id));
  if (segments.empty()) return Outcome::kSkipped;
  const auto& seg = segments[std::uniform_int_distribution<size_t>(0, segments.size() - 1)(rng_)];
  auto blocks = CAIRN_TRY(deals_.SegmentBlocks(seg.id));
  if (blocks.empty()) return Outcome::kSkipped;  // no index to check against
  const auto& block = blocks[std::uniform_int_distribution<size_t>(0, blocks.size() - 1)(rng_)];
  auto hash = multiformats::Multihash::Decode(block.multihash);
  if (!hash || block.length > options_.max_block_size) return Outcome::kSkipped;
  auto base = endpoints_.BaseUrl(d.provider);
  if (!base) {
    *why = base.error().message();
    return base.error().code() == ErrorCode::kNotFound ? Outcome::kSkipped : Outcome::kFailed;
  }
  const uint64_t offset = aggregation::UnpaddedSize(seg.piece_offset) + block.offset;
  const std::string range = "piece " + agg.piece_cid + " bytes " + std::to_string(offset) + "+" +
                            std::to_string(block.length) + ": ";
  auto bytes = fetcher_.Fetch(*base, agg.piece_cid, offset, block.length, options_.deadline);
  if (!bytes) {
    *why = range + bytes.error().message();
    return bytes.error().code() == ErrorCode::kCorruption ? Outcome::kCorrupt : Outcome::kFailed;
  }
  if (bytes->size() != block.length || !hash->Verify(*bytes)) {
    *why = range + "the bytes do not hash to the block the index names";
    return Outcome::kCorrupt;
  }
  return Outcome::kOk;
}

Result<void> RetrievalProber::Record(const metadata::DealRecord& d, Outcome outcome,
                                     const std::string& why) {
  if (outcome == Outcome::kSkipped) return Ok();
  {
    std::lock_guard lock(mu_);
    ++stats_.probes;
    if (outcome == Outcome::kOk) ++stats_.ok;
    if (outcome == Outcome::kFailed) ++stats_.failed;
    if (outcome == Outcome::kCorrupt) ++stats_.corrupt;
  }
  if (outcome == Outcome::kOk) {
    failures_.erase(d.uuid);
    return Ok();
  }
  const int count = ++failures_[d.uuid];
  log::Warn("cold.probe_failed", {{"deal", d.uuid},
                                  {"provider", d.provider},
                                  {"error", why},
                                  {"consecutive", std::to_string(count)}});
  if (outcome != Outcome::kCorrupt && count < options_.failures_to_replace) return Ok();
  const std::string reason =
      outcome == Outcome::kCorrupt
          ? "retrieval probe: served corrupted bytes (" + why + ")"
          : "retrieval probe: failed " + std::to_string(count) + " times in a row (" + why + ")";
  failures_.erase(d.uuid);
  if (CAIRN_TRY(deals_.FailActiveDeal(d.uuid, reason))) {
    std::lock_guard lock(mu_);
    ++stats_.replaced;
    log::Error("cold.deal_failed_by_probe",
               {{"deal", d.uuid}, {"provider", d.provider}, {"error", reason}});
  }
  return Ok();
}

ProbeStats RetrievalProber::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::filecoin::retrieval
