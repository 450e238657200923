#include "filecoin/retrieval/prober.hpp"

#include <vector>

#include "common/log.hpp"
#include "filecoin/aggregation/segment.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::retrieval {

RetrievalProber::RetrievalProber(metadata::DealStore& deals, RetrievalEndpoints& endpoints,
                                 PieceRangeFetcher& fetcher, ProberOptions options, uint64_t seed)
    : deals_(deals), endpoints_(endpoints), fetcher_(fetcher), options_(options), rng_(seed) {}

Result<void> RetrievalProber::Pass(const std::function<bool()>& stopping) {
  auto batch = CAIRN_TRY(deals_.ActiveDealsAfter(cursor_, options_.deals_per_pass));
  if (batch.size() < options_.deals_per_pass && !cursor_.empty()) {
    // The end of the table: wrap around (the first deals again, up to the pass's budget).
    auto more = CAIRN_TRY(deals_.ActiveDealsAfter("", options_.deals_per_pass - batch.size()));
    for (auto& d : more) {
      if (d.uuid > cursor_) break;  // already in this batch
      batch.push_back(std::move(d));
    }
  }
  struct Probed {
    const metadata::DealRecord* deal;
    Outcome outcome;
    std::string why;
  };
  std::vector<Probed> probed;
  for (const auto& d : batch) {
    if (stopping && stopping()) break;
    cursor_ = d.uuid;
    std::string why;
    auto outcome = Probe(d, &why);
    if (!outcome) return Err(outcome.error());
    probed.push_back({&d, *outcome, std::move(why)});
  }
  // Every provider failing at once (none answered, none lied) says more about this node's
  // network than about them: nothing is counted against anyone.
  size_t answered = 0, failed = 0;
  for (const auto& p : probed) {
    if (p.outcome == Outcome::kSkipped) continue;
    ++answered;
    if (p.outcome == Outcome::kFailed) ++failed;
  }
  if (answered >= 2 && failed == answered) {
    log::Warn("cold.probe_pass_ignored",
              {{"probes", std::to_string(answered)},
               {"reason", "every probe failed: assuming this node cannot reach the providers"},
               {"first_error", probed.front().why}});
    std::lock_guard lock(mu_);
    stats_.probes += answered;
    stats_.failed += answered;
    return Ok();
  }
  for (const auto& p : probed) CAIRN_TRY(Record(*p.deal, p.outcome, p.why));
  return Ok();
}

Result<RetrievalProber::Outcome> RetrievalProber::Probe(const metadata::DealRecord& d,
                                                        std::string* why) {
  auto agg = CAIRN_TRY(deals_.GetAggregate(d.aggregate_id));
  // A random range of the piece: the segment placed there (by bytes, so a large pin is sampled
  // in proportion; two indexed reads, whatever the number of segments), then one of its blocks.
  const uint64_t at = agg.padded_size ? rng_() % agg.padded_size : 0;
  auto found = CAIRN_TRY(deals_.SegmentAtOffset(d.aggregate_id, at));
  if (!found) return Outcome::kSkipped;
  const metadata::SegmentRecord& seg = *found;
  auto block = CAIRN_TRY(deals_.SegmentBlockAt(seg.id, rng_()));
  if (!block) return Outcome::kSkipped;  // no index to check against
  auto hash = multiformats::Multihash::Decode(block->multihash);
  if (!hash || block->length > options_.max_block_size) return Outcome::kSkipped;
  // Where the provider serves /piece: a failure to find out (the chain, this node's libp2p host,
  // a provider without the transports protocol) is not the provider failing a retrieval.
  auto base = endpoints_.BaseUrl(d.provider);
  if (!base) {
    *why = base.error().message();
    return Outcome::kSkipped;
  }
  const uint64_t offset = aggregation::UnpaddedSize(seg.piece_offset) + block->offset;
  const std::string range = "piece " + agg.piece_cid + " bytes " + std::to_string(offset) + "+" +
                            std::to_string(block->length) + ": ";
  auto bytes = fetcher_.Fetch(*base, agg.piece_cid, offset, block->length, options_.deadline);
  if (!bytes) {
    *why = range + bytes.error().message();
    return bytes.error().code() == ErrorCode::kCorruption ? Outcome::kCorrupt : Outcome::kFailed;
  }
  if (bytes->size() != block->length || !hash->Verify(*bytes)) {
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
  if (failures_.size() >= 100000) failures_.clear();  // deals that left `active` meanwhile
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
