#include "filecoin/deals/deal_engine.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>
#include <future>
#include <optional>
#include <set>

#include "common/log.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "filecoin/deals/provider_score.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::deals {

namespace {

using metadata::DealRecord;
using metadata::DealState;

constexpr int64_t kProviderInfoTtlUs = 600'000'000;  // StateMinerInfo and ask: 10 minutes
// Pins read per batch; a batch's segments are written in one transaction (one sync), or sooner
// when they hold kSegmentFlushBlocks index rows or took kSegmentFlushAfter to compute. Large
// batches matter: the block index and the queue are keyed by hashes, so a transaction dirties
// index pages all over; 4,096 pins per write rewrite each page for more rows than 1,024 did
// (docs/benchmarks.md "100,000 pins of 4 KiB").
constexpr size_t kSegmentBatch = 4096;
constexpr size_t kSegmentFlushBlocks = 65536;
constexpr std::chrono::seconds kSegmentFlushAfter{1};
constexpr std::chrono::seconds kSegmentBudget{5};
// A pin whose segment failed is tried again after 1 min, then 2, 4 … up to 1 h.
constexpr std::chrono::microseconds kSegmentRetryFirst = std::chrono::minutes(1);
constexpr std::chrono::microseconds kSegmentRetryMax = std::chrono::hours(1);
// Waiting segments read per pass: a 1 GiB aggregate's index holds 8,192 entries (FRC-0058), so
// small pins can fill it.
constexpr size_t kAggregateCandidates = 8192;

Bytes Random(size_t n) {
  Bytes out(n);
  // RAND_bytes fails only without an entropy source, which the process cannot run without.
  CAIRN_CHECK(RAND_bytes(out.data(), static_cast<int>(n)) == 1);
  return out;
}

std::string UuidText(const DealUuid& u) {
  std::string hex = HexEncode(ByteSpan(u.data(), u.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

Result<DealUuid> UuidFromText(const std::string& text) {
  std::string hex;
  for (char c : text) {
    if (c != '-') hex += c;
  }
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != 16) {
    return Err(ErrorCode::kCorruption, "deals: stored DealUUID '" + text + "' is not a UUID");
  }
  DealUuid u{};
  std::copy(bytes->begin(), bytes->end(), u.begin());
  return u;
}

DealUuid NewUuid() {
  Bytes b = Random(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  DealUuid u{};
  std::copy(b.begin(), b.end(), u.begin());
  return u;
}

Bytes TokenHash(std::string_view token) {
  auto digest = multiformats::Sha256(AsBytes(token));
  return Bytes(digest.begin(), digest.end());
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

uint64_t NextPowerOfTwo(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

Result<BigInt> MulDivCeil(const BigInt& value, uint64_t num, uint64_t den) {
  if (den == 0 || value.is_negative()) {
    return Err(ErrorCode::kInvalidArgument, "deals: MulDivCeil needs a non-negative value and den");
  }
  std::string digits = (value * num).ToString();
  std::string quotient;
  unsigned __int128 rem = 0;
  for (char c : digits) {
    rem = rem * 10 + static_cast<unsigned>(c - '0');
    quotient += static_cast<char>('0' + static_cast<int>(rem / den));
    rem %= den;
  }
  size_t first = quotient.find_first_not_of('0');
  quotient = first == std::string::npos ? "0" : quotient.substr(first);
  BigInt q = CAIRN_TRY(BigInt::Parse(quotient));
  if (rem != 0) q = q + BigInt::FromUint(1);
  return q;
}

std::string ProposalDifference(const DealProposal& a, const DealProposal& b) {
  if (a.piece_cid != b.piece_cid) return "PieceCID";
  if (a.piece_size != b.piece_size) return "PieceSize";
  if (a.verified_deal != b.verified_deal) return "VerifiedDeal";
  if (a.client != b.client) return "Client";
  if (a.provider != b.provider) return "Provider";
  if (a.label != b.label) return "Label";
  if (a.start_epoch != b.start_epoch) return "StartEpoch";
  if (a.end_epoch != b.end_epoch) return "EndEpoch";
  if (a.storage_price_per_epoch != b.storage_price_per_epoch) return "StoragePricePerEpoch";
  if (a.provider_collateral != b.provider_collateral) return "ProviderCollateral";
  if (a.client_collateral != b.client_collateral) return "ClientCollateral";
  return "";
}

DealEngine::DealEngine(DealEngineConfig config, metadata::DealStore& deals,
                       metadata::ProviderStatsStore& provider_stats, metadata::PinStore& pins,
                       blockstore::Blockstore& blocks, chain::ChainClient& chain,
                       chain::MessageSender& sender, const wallet::Wallet& wallet, Mk12Client& mk12,
                       const Clock& clock)
    : config_(std::move(config)),
      deals_(deals),
      provider_stats_(provider_stats),
      pins_(pins),
      blocks_(blocks),
      chain_(chain),
      sender_(sender),
      wallet_(wallet),
      mk12_(mk12),
      clock_(clock) {}

DealEngine::~DealEngine() { Stop(); }

void DealEngine::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void DealEngine::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DealEngine::Notify() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void DealEngine::Loop() {
  while (true) {
    auto r = Tick();
    {
      std::unique_lock lock(mu_);
      if (!r) {
        last_error_ = r.error().message();
        log::Warn("deals.tick_failed", {{"error", r.error().message()}});
      }
      cv_.wait_for(lock, config_.poll_interval, [this] { return stop_ || wake_; });
      wake_ = false;
      if (stop_) return;
    }
  }
}

Result<void> DealEngine::Tick() {
  // Each step runs even when an earlier one failed; the first error is returned.
  std::optional<Error> first;
  auto note = [&first](Result<void> r) {
    if (!r && !first) first = r.error();
  };
  note(Track());
  note(Segment());
  note(Aggregate());
  note(MakeDeals());
  note(ShowOnPins());
  if (first) return Err(*first);
  return Ok();
}

void DealEngine::SetDeal(DealRecord& deal, DealState state, std::string error,
                         std::optional<metadata::ProviderEvent> event) {
  DealState before = deal.state;
  deal.state = state;
  if (!error.empty()) deal.last_error = std::move(error);
  if (!event && before != state) {
    if (state == DealState::kAccepted) event = metadata::ProviderEvent::kAccepted;
    if (state == DealState::kRejected) event = metadata::ProviderEvent::kRejected;
    if (state == DealState::kActive) event = metadata::ProviderEvent::kActive;
    if (state == DealState::kSlashed) event = metadata::ProviderEvent::kSlashed;
  }
  auto r = deals_.UpdateDeal(deal, event);
  if (!r) {
    log::Error("deals.update_failed", {{"deal", deal.uuid}, {"error", r.error().message()}});
    return;
  }
  if (before != state) {
    log::Info("deals.state", {{"deal", deal.uuid},
                              {"provider", deal.provider},
                              {"from", std::string(metadata::DealStateName(before))},
                              {"to", std::string(metadata::DealStateName(state))},
                              {"deal_id", deal.deal_id.value_or(0)},
                              {"error", deal.last_error}});
  }
}

Result<DealEngine::ProviderInfo> DealEngine::Provider(const Address& provider) {
  const std::string key = provider.ToString(chain_.options().network);
  const int64_t now = clock_.WallMicros();
  {
    std::lock_guard lock(mu_);
    auto it = providers_.find(key);
    if (it != providers_.end() && now - it->second.fetched_us < kProviderInfoTtlUs) {
      return it->second;
    }
  }
  ProviderInfo info;
  info.fetched_us = now;
  auto miner = chain_.StateMinerInfo(provider);
  if (!miner) return Err(miner.error().WithContext("deals: provider " + key + ": "));
  info.endpoint = Mk12EndpointOf(miner->peer_id, miner->multiaddrs, &info.skip_reason);
  if (info.endpoint) {
    auto ask = mk12_.Ask(*info.endpoint, provider);
    if (!ask) {
      // A provider whose ask cannot be read is still asked for deals: its answer will say why.
      log::Warn("deals.ask_failed", {{"provider", key}, {"error", ask.error().message()}});
    } else {
      info.ask = *ask;
    }
  }
  if (!info.skip_reason.empty()) {
    log::Info("deals.provider_skipped", {{"provider", key}, {"reason", info.skip_reason}});
  }
  std::lock_guard lock(mu_);
  providers_[key] = info;
  return info;
}

std::string DealEngine::PriceRefusal(const ProviderInfo& info, const EffectivePolicy& policy,
                                     bool verified) {
  if (!info.ask || !policy.max_price) return {};
  const BigInt& price = verified ? info.ask->verified_price : info.ask->price;
  if (price <= *policy.max_price) return {};
  return std::string(verified ? "its verified ask " : "its ask ") + price.ToString() +
         " attoFIL/GiB/epoch is above max_price " + policy.max_price->ToString();
}

uint64_t DealEngine::MaxSegmentCarBytes() const {
  // The largest padded piece that fits alone, with the FRC-0058 index, in an aggregate of
  // piece_size; a CAR of at most its unpadded size has a piece no larger.
  for (uint64_t padded = config_.piece_size; padded >= aggregation::kMinPieceSize; padded /= 2) {
    const aggregation::PieceInfo alone{{}, padded};
    if (aggregation::PlacePieces(std::span(&alone, 1), config_.piece_size)) {
      return aggregation::UnpaddedSize(padded);
    }
  }
  return aggregation::UnpaddedSize(aggregation::kMinPieceSize);
}

uint64_t DealEngine::MinPieceSize() {
  uint64_t min = 256;
  for (const auto& p : config_.providers) {
    auto info = Provider(p);
    if (info && info->skip_reason.empty() && info->ask) {
      min = std::max(min, info->ask->min_piece_size);
    }
  }
  return NextPowerOfTwo(min);
}

// ---- 1. Track -------------------------------------------------------------------------------

Result<void> DealEngine::Track() {
  {
    // Views are cached for the requests of one pull (Boost: a HEAD and 5 ranges); a pass drops
    // them, so memory holds only aggregates being transferred now.
    std::lock_guard lock(mu_);
    views_.clear();
  }
  std::array<DealState, 4> live = {DealState::kProposing, DealState::kAccepted,
                                   DealState::kPublished, DealState::kActive};
  auto deals = CAIRN_TRY(deals_.DealsInStates(live));
  std::vector<DealRecord> on_chain;
  for (auto& d : deals) {
    if (d.state == DealState::kPublished || d.state == DealState::kActive) {
      on_chain.push_back(std::move(d));
      continue;
    }
    auto provider = Address::Parse(d.provider);
    if (!provider) continue;
    auto info = Provider(*provider);
    if (!info) {
      log::Warn("deals.status_skipped", {{"deal", d.uuid}, {"error", info.error().message()}});
      continue;
    }
    if (!info->endpoint) continue;
    auto status = mk12_.Status(*info->endpoint, CAIRN_TRY(SignedStatusRequest(d)));
    if (!status) {
      d.last_error = status.error().message();
      SetDeal(d, d.state);
      continue;
    }
    if (!status->error.empty()) {
      if (d.state == DealState::kProposing && Contains(status->error, "no storage deal found")) {
        // Not counted again: a proposal whose answer was lost counted as a timeout then.
        SetDeal(d, DealState::kFailed,
                "the provider has no record of the proposal (it never arrived): " + status->error);
      } else {
        SetDeal(d, DealState::kFailed, status->error, metadata::ProviderEvent::kTransferFailed);
      }
      continue;
    }
    if (!status->deal_status) {
      if (d.state == DealState::kProposing) SetDeal(d, DealState::kAccepted);
      continue;
    }
    const DealStatus& ds = *status->deal_status;
    if (!ds.error.empty()) {
      SetDeal(d, DealState::kFailed, ds.error, metadata::ProviderEvent::kTransferFailed);
      continue;
    }
    if (d.state == DealState::kProposing) {
      d.provider_message = "reconciled by status: " + ds.status;
      SetDeal(d, DealState::kAccepted);
    }
    if (ds.chain_deal_id != 0) {
      d.deal_id = static_cast<int64_t>(ds.chain_deal_id);
      if (ds.publish_cid) d.publish_cid = ds.publish_cid->ToString();
      on_chain.push_back(std::move(d));
      continue;
    }
    // Not published by its start epoch (a transfer that never ends, a provider that stalls): the
    // market would refuse it now, so it can never become active.
    auto head = chain_.Head();
    if (head && head->height >= d.start_epoch) {
      SetDeal(d, DealState::kFailed,
              "not published by its start epoch " + std::to_string(d.start_epoch) +
                  " (provider status: " + ds.status + ", " +
                  std::to_string(status->n_bytes_received) + " of " +
                  std::to_string(status->transfer_size) + " bytes received)",
              metadata::ProviderEvent::kNeverPublished);
    }
  }
  return TrackOnChain(on_chain);
}

Result<void> DealEngine::TrackOnChain(std::vector<DealRecord>& deals) {
  if (deals.empty()) return Ok();
  auto head = CAIRN_TRY(chain_.Head());
  std::vector<uint64_t> ids;
  ids.reserve(deals.size());
  for (const auto& d : deals) ids.push_back(static_cast<uint64_t>(*d.deal_id));
  auto at_head = CAIRN_TRY(chain_.MarketDeals(ids, head));
  // What the head suggests; it becomes the deal's state only once the finalized tipset shows it
  // too (a reorganisation before finality can undo what the head shows).
  std::vector<std::pair<size_t, ChainStep>> pending;
  for (size_t i = 0; i < deals.size(); ++i) {
    if (auto next = ReadAtHead(deals[i], at_head[i], head.height)) pending.emplace_back(i, *next);
  }
  if (pending.empty()) return Ok();
  auto finalized = CAIRN_TRY(chain_.Finalized());
  std::vector<uint64_t> final_ids;
  final_ids.reserve(pending.size());
  for (const auto& [i, next] : pending) final_ids.push_back(ids[i]);
  auto at_final = CAIRN_TRY(chain_.MarketDeals(final_ids, finalized));
  for (size_t k = 0; k < pending.size(); ++k) {
    DealRecord& d = deals[pending[k].first];
    if (ApplyFinalized(d, pending[k].second, at_final[k], finalized.height)) RefreshDealId(d);
  }
  return Ok();
}

Result<DealStatusRequest> DealEngine::SignedStatusRequest(const DealRecord& d) {
  DealUuid uuid = CAIRN_TRY(UuidFromText(d.uuid));
  auto sig = CAIRN_TRY(wallet_.SignBytes(config_.client, ByteSpan(uuid.data(), uuid.size())));
  return DealStatusRequest{uuid, std::move(sig)};
}

void DealEngine::RefreshDealId(DealRecord& d) {
  auto fail = [&](const std::string& why) {
    log::Warn("deals.id_check_failed",
              {{"deal", d.uuid}, {"provider", d.provider}, {"error", why}});
  };
  auto provider = Address::Parse(d.provider);
  if (!provider) return fail(provider.error().message());
  auto info = Provider(*provider);
  if (!info) return fail(info.error().message());
  if (!info->endpoint) return fail("the provider has no mk12 endpoint");
  auto request = SignedStatusRequest(d);
  if (!request) return fail(request.error().message());
  auto status = mk12_.Status(*info->endpoint, *request);
  if (!status) return fail(status.error().message());
  if (!status->error.empty()) return fail(status->error);
  if (!status->deal_status || status->deal_status->chain_deal_id == 0) return;
  const auto id = static_cast<int64_t>(status->deal_status->chain_deal_id);
  if (id == d.deal_id) return;
  log::Warn(
      "deals.renumbered",
      {{"deal", d.uuid}, {"provider", d.provider}, {"from", d.deal_id.value_or(0)}, {"to", id}});
  d.deal_id = id;
  if (status->deal_status->publish_cid) {
    d.publish_cid = status->deal_status->publish_cid->ToString();
  }
  SetDeal(d, d.state);
}

std::optional<DealEngine::ChainStep> DealEngine::ReadAtHead(DealRecord& d,
                                                            const Result<chain::MarketDeal>& r,
                                                            int64_t head_height) {
  if (!r) {
    if (r.error().code() != ErrorCode::kNotFound) {
      log::Warn("deals.chain_read_failed", {{"deal", d.uuid}, {"error", r.error().message()}});
      return std::nullopt;
    }
    if (d.state == DealState::kAccepted) {
      SetDeal(d, d.state);  // the provider published; the chain does not show it yet
    } else if ((d.state == DealState::kPublished && head_height > d.start_epoch) ||
               d.state == DealState::kActive) {
      return ChainStep::kGone;
    }
    return std::nullopt;
  }
  auto signed_proposal = ClientDealProposal::Decode(d.signed_proposal);
  if (!signed_proposal) {
    SetDeal(d, DealState::kFailed,
            "stored proposal unreadable: " + signed_proposal.error().message());
    return std::nullopt;
  }
  if (!ProposalDifference(signed_proposal->proposal, r->proposal).empty()) {
    return ChainStep::kMismatch;
  }
  if (d.state == DealState::kAccepted) SetDeal(d, DealState::kPublished);
  if (r->state.slash_epoch != -1) return ChainStep::kSlashed;
  if (d.state == DealState::kActive) {
    if (head_height >= d.end_epoch) return ChainStep::kExpired;
    return std::nullopt;
  }
  if (r->state.sector_start_epoch != -1) return ChainStep::kActive;
  return std::nullopt;
}

bool DealEngine::ApplyFinalized(DealRecord& d, ChainStep step, const Result<chain::MarketDeal>& r,
                                int64_t finalized_height) {
  const std::string id = std::to_string(*d.deal_id);
  switch (step) {
    case ChainStep::kMismatch: {
      auto signed_proposal = ClientDealProposal::Decode(d.signed_proposal);
      const std::string diff =
          r && signed_proposal ? ProposalDifference(signed_proposal->proposal, r->proposal) : "";
      if (diff.empty()) {
        // The finalized tipset does not show another deal under this ID (not there yet, or
        // ours): what the head shows may be a reorganisation's renumbering.
        log::Warn("deals.mismatch_unconfirmed", {{"deal", d.uuid}, {"deal_id", *d.deal_id}});
        return true;
      }
      SetDeal(d, DealState::kFailed,
              "on-chain deal " + id + " differs from the signed proposal: " + diff,
              metadata::ProviderEvent::kMismatch);
      break;
    }
    case ChainStep::kActive: {
      auto signed_proposal = ClientDealProposal::Decode(d.signed_proposal);
      if (r && signed_proposal && r->state.sector_start_epoch != -1 && r->state.slash_epoch == -1 &&
          ProposalDifference(signed_proposal->proposal, r->proposal).empty()) {
        SetDeal(d, DealState::kActive);
      }
      break;
    }
    case ChainStep::kGone:
      if (!r && r.error().code() == ErrorCode::kNotFound) {
        if (d.state == DealState::kPublished && finalized_height > d.start_epoch) {
          SetDeal(d, DealState::kFailed,
                  "deal " + id + " was not activated by its start epoch " +
                      std::to_string(d.start_epoch) + " and left the market",
                  metadata::ProviderEvent::kNotActivated);
        } else if (d.state == DealState::kActive) {
          SetDeal(d, finalized_height >= d.end_epoch ? DealState::kExpired : DealState::kSlashed,
                  "deal " + id + " is no longer in the market");
        }
      }
      break;
    case ChainStep::kSlashed:
      if (r && r->state.slash_epoch != -1) {
        SetDeal(d, DealState::kSlashed, "slashed at epoch " + std::to_string(r->state.slash_epoch));
      }
      break;
    case ChainStep::kExpired:
      if (finalized_height >= d.end_epoch) SetDeal(d, DealState::kExpired);
      break;
  }
  return false;
}

// ---- 2. Segment -----------------------------------------------------------------------------

Result<void> DealEngine::Segment() {
  // Batches of kSegmentBatch pins, their segments written in few transactions, until no pin
  // waits or kSegmentBudget has passed (the other steps of the pass must not wait behind a
  // backlog of 100k pins).
  const auto deadline = std::chrono::steady_clock::now() + kSegmentBudget;
  std::optional<Error> first;
  // AddSegments shows the new segments' pins "aggregating" in the same write; ShowOnPins need not
  // write them again.
  const std::map<std::string, std::string> aggregating = {{"filecoin", "aggregating"}};
  // A batch is written on another thread while the next one is computed (the write is mostly
  // SQLite, the computing mostly CommP: two cores overlap them); at most one write runs, and
  // the queue is read on past the pins being written (the cursor). Every path out of this
  // function waits for the write (the future's destructor joins).
  std::future<Result<void>> writing;
  auto written_yet = [&]() -> Result<void> {
    if (!writing.valid()) return Ok();
    return writing.get();
  };
  auto flush = [&](std::vector<metadata::DealStore::NewSegment> batch) -> Result<void> {
    CAIRN_TRY(written_yet());
    writing = std::async(std::launch::async,
                         [this, &aggregating, batch = std::move(batch)]() -> Result<void> {
                           CAIRN_TRY(deals_.AddSegments(batch));
                           std::lock_guard lock(mu_);
                           for (const auto& n : batch)
                             shown_[n.segment.pin_requestid] = aggregating;
                           return Ok();
                         });
    return Ok();
  };
  std::optional<metadata::UnsegmentedCursor> cursor;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    auto pending = CAIRN_TRY(deals_.UnsegmentedPins(kSegmentBatch, clock_.WallMicros(), cursor));
    if (!pending.empty()) cursor = {pending.back().queued_at, pending.back().requestid};
    std::vector<metadata::DealStore::NewSegment> batch;
    size_t written = 0;
    size_t batch_blocks = 0;
    auto batch_start = std::chrono::steady_clock::now();
    bool out_of_time = false;
    for (const auto& p : pending) {
      if (batch_blocks >= kSegmentFlushBlocks ||
          (!batch.empty() &&
           std::chrono::steady_clock::now() - batch_start >= kSegmentFlushAfter)) {
        written += batch.size();
        CAIRN_TRY(flush(std::move(batch)));
        batch.clear();
        batch_blocks = 0;
        batch_start = std::chrono::steady_clock::now();
      }
      // Large DAGs take long to export: the budget is checked per pin, and what is done is kept.
      if (!batch.empty() && std::chrono::steady_clock::now() >= deadline) {
        out_of_time = true;
        break;
      }
      auto cid = multiformats::Cid::FromBytes(p.cid);
      if (!cid) continue;
      // One segment per CAR shard (docs/formats/car-shards.md): one for a DAG whose export fits
      // a piece, several for a larger one. Each shard's block index from the same walk.
      std::vector<std::vector<metadata::SegmentBlock>> indexes;
      auto record = [&indexes](size_t shard, const multiformats::Cid& c, uint64_t offset,
                               uint64_t length) {
        if (indexes.size() <= shard) indexes.resize(shard + 1);
        indexes[shard].push_back({c.hash().Encode(), offset, length});
        return Result<void>(Ok());
      };
      auto shards = dealdata::ComputeCarShards(*cid, blocks_, MaxSegmentCarBytes(),
                                               {.threads = 1, .on_block = record});
      if (!shards) {
        // Tried again later, behind the pins that are due (1 min, doubling up to 1 h): a pin
        // that cannot be segmented must not hold the queue, nor be retried every pass.
        int& failures = segment_failures_[p.requestid];
        const auto delay = std::min<std::chrono::microseconds>(
            kSegmentRetryMax, kSegmentRetryFirst * (int64_t{1} << std::min(failures, 10)));
        ++failures;
        log::Warn("deals.segment_failed", {{"pin", p.requestid},
                                           {"error", shards.error().message()},
                                           {"failures", failures},
                                           {"retry_in_s", delay.count() / 1'000'000}});
        CAIRN_TRY(deals_.DeferSegment(p.requestid, clock_.WallMicros() + delay.count(),
                                      shards.error().message()));
        if (!first)
          first = shards.error().WithContext("deals: segment of pin " + p.requestid + ": ");
        continue;
      }
      segment_failures_.erase(p.requestid);
      indexes.resize(shards->size());
      for (size_t k = 0; k < shards->size(); ++k) {
        const dealdata::CarShard& shard = (*shards)[k];
        metadata::DealStore::NewSegment n;
        n.segment.pin_requestid = p.requestid;
        n.segment.root_cid = p.cid;
        n.segment.shard = static_cast<uint32_t>(k);
        n.segment.shards = static_cast<uint32_t>(shards->size());
        n.segment.first_section = shard.first_section;
        n.segment.sections = shard.piece.blocks;
        n.segment.car_size = shard.piece.car_size;
        n.segment.comm_p = Bytes(shard.piece.piece.root.begin(), shard.piece.piece.root.end());
        n.segment.padded_size = shard.piece.piece.padded_size();
        n.blocks = std::move(indexes[k]);
        batch_blocks += n.blocks.size();
        log::Info("deals.segment",
                  {{"pin", p.requestid},
                   {"shard", std::to_string(k + 1) + "/" + std::to_string(shards->size())},
                   {"car_size", shard.piece.car_size},
                   {"piece", shard.piece.piece_cid_v1.ToString()}});
        batch.push_back(std::move(n));
      }
    }
    written += batch.size();
    if (!batch.empty()) CAIRN_TRY(flush(std::move(batch)));
    // A short batch was the last; a batch of failures only would come back the same.
    if (out_of_time || pending.size() < kSegmentBatch || written == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  CAIRN_TRY(written_yet());
  if (first) return Err(*first);
  return Ok();
}

// ---- 3. Aggregate ---------------------------------------------------------------------------

Result<void> DealEngine::Aggregate() {
  while (true) {
    auto segs = CAIRN_TRY(deals_.UnaggregatedSegments(kAggregateCandidates));
    if (segs.empty()) return Ok();
    // Segments with different policies never share an aggregate: its deals follow one policy
    // (filecoin/deals/pin_policy.hpp). Groups keep the oldest-first order, and are packed in
    // the order of their oldest segment: the pin that waited longest is dealt for first.
    std::map<std::string, size_t> group_of;
    std::vector<std::vector<const metadata::SegmentRecord*>> groups;
    for (const auto& s : segs) {
      auto [it, added] = group_of.try_emplace(PolicyKey(PolicyOfSegment(s)), groups.size());
      if (added) groups.emplace_back();
      groups[it->second].push_back(&s);
    }
    bool created = false;
    for (const auto& group : groups) {
      if (CAIRN_TRY(PackGroup(group))) created = true;
    }
    if (!created) return Ok();
  }
}

Result<bool> DealEngine::PackGroup(const std::vector<const metadata::SegmentRecord*>& segs) {
  std::vector<aggregation::PieceInfo> all;
  all.reserve(segs.size());
  for (const auto* s : segs) {
    aggregation::PieceInfo info;
    if (s->comm_p.size() != info.commitment.size()) {
      return Err(ErrorCode::kCorruption, "deals: segment " + std::to_string(s->id) +
                                             " has a commitment of " +
                                             std::to_string(s->comm_p.size()) + " bytes");
    }
    std::copy(s->comm_p.begin(), s->comm_p.end(), info.commitment.begin());
    info.size = s->padded_size;
    all.push_back(info);
  }
  // The longest prefix (oldest first) that fits in piece_size. Whether a prefix fits is monotone
  // in its length (fewer pieces never fit worse), so a binary search places O(log n) prefixes
  // instead of one per segment (which was quadratic in the waiting segments).
  auto fits = [&](size_t k) {
    return k == 0 ||
           aggregation::PlacePieces(std::span(all.data(), k), config_.piece_size).has_value();
  };
  size_t lo = 0;
  if (fits(all.size())) {
    lo = all.size();
  } else {
    size_t hi = all.size();  // fits(lo), !fits(hi)
    while (hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      (fits(mid) ? lo : hi) = mid;
    }
  }
  bool full = lo < all.size();
  std::vector<aggregation::PieceInfo> pieces(all.begin(), all.begin() + static_cast<long>(lo));
  std::vector<const metadata::SegmentRecord*> chosen(segs.begin(),
                                                     segs.begin() + static_cast<long>(lo));
  if (chosen.empty()) {
    // Larger than piece_size: an aggregate of its own.
    pieces = {all.front()};
    chosen = {segs.front()};
    full = true;
  }
  const bool waited =
      clock_.WallMicros() - segs.front()->created_us >=
      std::chrono::duration_cast<std::chrono::microseconds>(config_.batch_wait).count();
  if (!full && !waited) return false;
  auto minimal = CAIRN_TRY(aggregation::PlacePieces(pieces));
  uint64_t deal_size = std::max(minimal.deal_size, MinPieceSize());
  auto aggregate = CAIRN_TRY(aggregation::Aggregate::Build(pieces, deal_size));
  metadata::AggregateRecord rec;
  rec.piece_cid = piece::PieceCidV1(aggregate.root()).ToString();
  rec.padded_size = aggregate.deal_size();
  rec.payload_size = aggregation::UnpaddedSize(aggregate.deal_size());
  std::vector<std::pair<int64_t, uint64_t>> placements;
  for (const auto& placed : aggregate.placement().pieces) {
    placements.emplace_back(chosen[placed.input_index]->id, placed.offset);
  }
  CAIRN_TRY(deals_.CreateAggregate(rec, placements));
  log::Info("deals.aggregate", {{"piece", rec.piece_cid},
                                {"padded_size", rec.padded_size},
                                {"segments", chosen.size()},
                                {"policy", PolicyKey(PolicyOfSegment(*chosen.front()))}});
  return true;
}

ServicePolicy DealEngine::Defaults() const {
  ServicePolicy d;
  d.providers = config_.providers;
  d.replicas = config_.replicas;
  d.duration_days = config_.duration_days;
  d.verified = config_.verified;
  d.max_price = config_.max_price;
  return d;
}

EffectivePolicy DealEngine::PolicyOfSegment(const metadata::SegmentRecord& s) {
  auto pin = ParsePinPolicy(s.pin_policy);
  if (!pin) {
    // Only meta stored before the API checked these keys can be invalid: the defaults apply.
    log::Warn("deals.pin_policy_ignored",
              {{"pin", s.pin_requestid}, {"error", pin.error().message()}});
    pin = PinPolicy{};
  }
  auto account = ParseAccountPolicy(s.account_policy);
  if (!account) {
    // The CLI and the admin API check a policy before storing it; one edited by hand is not
    // honoured rather than half-honoured.
    log::Warn("deals.account_policy_ignored",
              {{"pin", s.pin_requestid}, {"error", account.error().message()}});
    account = AccountPolicy{};
  }
  return ResolvePolicy(*pin, *account, Defaults());
}

EffectivePolicy DealEngine::PolicyOfAggregate(const std::vector<metadata::SegmentRecord>& segs) {
  // Every segment of an aggregate had the same policy when it was packed; a pin deleted since
  // no longer has one, so the policy is read from a pin still there (none: the defaults).
  for (const auto& s : segs) {
    if (s.pin_exists) return PolicyOfSegment(s);
  }
  return ResolvePolicy({}, {}, Defaults());
}

Result<DealEngine::AggregateFacts> DealEngine::FactsOf(const metadata::AggregateRecord& agg) {
  {
    std::lock_guard lock(mu_);
    auto it = facts_.find(agg.id);
    if (it != facts_.end() && it->second.pins_changed == agg.pins_changed) return it->second;
  }
  // Read before the segments: a pin deleted meanwhile moves pins_changed past this, and the
  // next pass reads them again.
  AggregateFacts facts;
  facts.pins_changed = agg.pins_changed;
  auto liveness = CAIRN_TRY(deals_.LivenessOf(agg.id));
  facts.any_live = liveness.live_sample.has_value();
  std::vector<metadata::SegmentRecord> sample;
  if (liveness.live_sample) sample.push_back(std::move(*liveness.live_sample));
  facts.policy = PolicyOfAggregate(sample);
  facts.mostly_deleted = liveness.all_bytes > 0 &&
                         static_cast<double>(liveness.live_bytes) <
                             config_.reaggregate_below * static_cast<double>(liveness.all_bytes);
  std::lock_guard lock(mu_);
  facts_[agg.id] = facts;
  return facts;
}

// ---- 4. Deal --------------------------------------------------------------------------------

Result<BigInt> DealEngine::UnpublishedCost() {
  std::array<DealState, 2> states = {DealState::kProposing, DealState::kAccepted};
  auto deals = CAIRN_TRY(deals_.DealsInStates(states));
  BigInt total;
  for (const auto& d : deals) {
    auto price = BigInt::Parse(d.price_per_epoch);
    auto collateral = BigInt::Parse(d.client_collateral);
    if (!price || !collateral) continue;
    total = total + *price * static_cast<uint64_t>(d.end_epoch - d.start_epoch) + *collateral;
  }
  return total;
}

Result<std::vector<metadata::ProviderStats>> DealEngine::StatsOf(
    std::span<const Address> providers) {
  std::map<std::string, metadata::ProviderStats> known;
  for (auto& s : CAIRN_TRY(provider_stats_.All())) known[s.provider] = std::move(s);
  std::vector<metadata::ProviderStats> stats;
  stats.reserve(providers.size());
  for (const auto& p : providers) {
    const std::string key = p.ToString(chain_.options().network);
    auto it = known.find(key);
    metadata::ProviderStats s;
    if (it != known.end()) s = it->second;
    s.provider = key;
    stats.push_back(std::move(s));
  }
  return stats;
}

Result<std::vector<Address>> DealEngine::ProvidersByScore(std::span<const Address> providers) {
  const auto stats = CAIRN_TRY(StatsOf(providers));
  std::vector<Address> ordered;
  ordered.reserve(stats.size());
  for (size_t i : OrderByScore(stats)) ordered.push_back(providers[i]);
  return ordered;
}

namespace {

// What an aggregate's deals amount to at the head: the replicas that count (live, and not within
// the renewal margin of their end), the providers that may not take another deal for it (a live
// deal that counts, or one that failed there), and why new deals would be made.
struct Replicas {
  int counting = 0;
  int expiring = 0;   // live, but ending within the margin: being renewed
  bool lost = false;  // a deal was slashed, or published and then failed (never activated, …)
  std::set<std::string> excluded;
  std::string Purpose() const { return expiring > 0 ? "renewal" : lost ? "repair" : ""; }
};

Replicas CountReplicas(const std::vector<DealRecord>& deals, int64_t head, int64_t margin) {
  Replicas r;
  for (const auto& d : deals) {
    if (metadata::DealStateIsLive(d.state)) {
      if (d.end_epoch - head <= margin) {
        ++r.expiring;
        continue;
      }
      ++r.counting;
      r.excluded.insert(d.provider);
    } else if (d.state != DealState::kExpired) {
      r.excluded.insert(d.provider);
      if (d.state == DealState::kSlashed || (d.state == DealState::kFailed && d.deal_id)) {
        r.lost = true;
      }
    }
  }
  return r;
}

}  // namespace

Result<BigInt> DealEngine::DataCapLeft() {
  auto status = CAIRN_TRY(chain_.StateVerifiedClientStatus(config_.client));
  BigInt left = status ? *status : BigInt::FromUint(0);
  const std::array<DealState, 2> unpublished = {DealState::kProposing, DealState::kAccepted};
  for (const auto& d : CAIRN_TRY(deals_.DealsInStates(unpublished))) {
    auto signed_proposal = ClientDealProposal::Decode(d.signed_proposal);
    if (signed_proposal && signed_proposal->proposal.verified_deal) {
      left = left - BigInt::FromUint(signed_proposal->proposal.piece_size);
    }
  }
  return left;
}

Result<void> DealEngine::MakeDeals() {
  auto aggregates = CAIRN_TRY(deals_.Aggregates());
  // Every aggregate's deals in one read; an aggregate that gets a proposal is read again.
  auto by_aggregate = CAIRN_TRY(deals_.DealsByAggregate());
  std::map<int64_t, AggregateSummary> summaries;
  std::set<std::string> sharded;                         // pins in several shards to show
  std::vector<std::pair<int64_t, std::string>> changed;  // aggregates whose pins were shown
  std::optional<int64_t> head;
  std::optional<BigInt> datacap;  // read once per pass, when a verified deal is wanted
  bool datacap_short_logged = false;
  for (const auto& agg : aggregates) {
    // A superseded aggregate's live pins are in newer ones: it gets no new deal.
    if (agg.superseded_us) continue;
    const AggregateFacts facts = CAIRN_TRY(FactsOf(agg));
    // Deleted pins are not renewed or repaired: an aggregate with no live pin gets no new deal
    // (its running deals run to their end; mk12 deals cannot be cancelled).
    if (!facts.any_live) continue;
    if (!head) head = CAIRN_TRY(chain_.Head()).height;
    const EffectivePolicy& policy = facts.policy;
    Replicas replicas = CountReplicas(by_aggregate[agg.id], *head, config_.renew_margin_epochs);
    if (replicas.counting >= policy.replicas) continue;
    const std::string purpose = replicas.Purpose();
    // A renewal or repair of an aggregate that is mostly deleted pins would pay again for the
    // dead bytes: its live pins are packed into a new piece instead (re-aggregation).
    if (!purpose.empty() && facts.mostly_deleted) {
      const size_t moved = CAIRN_TRY(deals_.Reaggregate(agg.id));
      log::Info(
          "deals.reaggregated",
          {{"piece", agg.piece_cid}, {"live_segments", uint64_t{moved}}, {"instead_of", purpose}});
      continue;
    }
    // Read for each aggregate that needs deals: the previous one's answers count already.
    const std::vector<Address> providers = CAIRN_TRY(ProvidersByScore(policy.providers));
    for (const auto& provider : providers) {
      if (replicas.counting >= policy.replicas) break;
      const std::string key = provider.ToString(chain_.options().network);
      if (replicas.excluded.count(key)) continue;
      auto info = Provider(provider);
      if (!info) {
        log::Warn("deals.provider_unavailable",
                  {{"provider", key}, {"error", info.error().message()}});
        continue;
      }
      if (!info->skip_reason.empty()) continue;
      if (info->ask && (agg.padded_size < info->ask->min_piece_size ||
                        agg.padded_size > info->ask->max_piece_size)) {
        log::Info("deals.provider_skipped", {{"provider", key},
                                             {"piece", agg.piece_cid},
                                             {"reason", "piece size outside its ask"}});
        continue;
      }
      bool verified = false;
      if (policy.verified) {
        if (!datacap) datacap = CAIRN_TRY(DataCapLeft());
        verified = *datacap >= BigInt::FromUint(agg.padded_size);
        if (!verified && !datacap_short_logged) {
          log::Warn("deals.datacap_short",
                    {{"client", config_.client.ToString(chain_.options().network)},
                     {"datacap_left", datacap->ToString()},
                     {"piece_size", agg.padded_size},
                     {"action", "proposing unverified deals (paid at the unverified ask)"}});
          datacap_short_logged = true;
        }
      }
      if (std::string too_dear = PriceRefusal(*info, policy, verified); !too_dear.empty()) {
        if (!verified && policy.verified) {
          too_dear = "no DataCap left for a verified deal, and " + too_dear;
        }
        log::Info("deals.provider_skipped",
                  {{"provider", key}, {"piece", agg.piece_cid}, {"reason", too_dear}});
        continue;
      }
      auto r = Propose(agg, provider, *info, policy, purpose, verified);
      if (!r) {
        log::Warn("deals.propose_failed",
                  {{"provider", key}, {"piece", agg.piece_cid}, {"error", r.error().message()}});
        return r;  // the chain, the wallet or the database: retried next pass
      }
      if (verified) *datacap = *datacap - BigInt::FromUint(agg.padded_size);
      replicas = CountReplicas(CAIRN_TRY(deals_.DealsOfAggregate(agg.id)), *head,
                               config_.renew_margin_epochs);
    }
  }
  return Ok();
}

Result<void> DealEngine::Propose(const metadata::AggregateRecord& agg, const Address& provider,
                                 const ProviderInfo& info, const EffectivePolicy& policy,
                                 std::string purpose, bool verified) {
  const std::string key = provider.ToString(chain_.options().network);
  auto head = CAIRN_TRY(chain_.Head());
  BigInt ask_price;
  if (info.ask) {
    ask_price = verified ? info.ask->verified_price : info.ask->price;
  } else if (policy.max_price) {
    ask_price = *policy.max_price;
  }
  BigInt price = CAIRN_TRY(MulDivCeil(ask_price, agg.padded_size, uint64_t{1} << 30));
  boost::json::array bounds_params = {agg.padded_size, verified, nullptr};
  auto bounds = CAIRN_TRY(chain_.Call("Filecoin.StateDealProviderCollateralBounds", bounds_params));
  const auto* min = bounds.is_object() ? bounds.as_object().if_contains("Min") : nullptr;
  if (!min) {
    return Err(ErrorCode::kInvalidArgument,
               "deals: StateDealProviderCollateralBounds: the answer has no Min");
  }
  BigInt min_collateral = CAIRN_TRY(chain::BigIntFromJson(*min, "Min"));
  // Boost's client offers Min × 1.2, so a small change of the bound before publishing still passes.
  BigInt collateral = CAIRN_TRY(MulDivCeil(min_collateral, 6, 5));

  DealProposal p;
  auto piece_cid = CAIRN_TRY(multiformats::Cid::Parse(agg.piece_cid));
  p.piece_cid = piece_cid;
  p.piece_size = agg.padded_size;
  p.verified_deal = verified;
  p.client = config_.client;
  p.provider = provider;
  p.label = agg.piece_cid;
  p.start_epoch = head.height + config_.start_delay_epochs;
  p.end_epoch = p.start_epoch + policy.duration_days * kEpochsPerDay;
  p.storage_price_per_epoch = price;
  p.provider_collateral = collateral;
  auto sig = CAIRN_TRY(wallet_.SignBytes(config_.client, p.Encode()));
  ClientDealProposal signed_proposal{p, sig};

  BigInt cost = price * static_cast<uint64_t>(p.end_epoch - p.start_epoch);
  BigInt needed = CAIRN_TRY(UnpublishedCost()) + cost;
  CAIRN_TRY(sender_.EnsureMarketBalance(config_.client, needed));

  DealUuid uuid = NewUuid();
  std::string token = HexEncode(Random(32));
  boost::json::object transfer_params;
  transfer_params["URL"] = config_.public_url + "/filecoin/piece/" + UuidText(uuid);
  transfer_params["Headers"] = boost::json::object{{"Authorization", "Bearer " + token}};
  std::string transfer_json = boost::json::serialize(transfer_params);

  DealParams params;
  params.deal_uuid = uuid;
  params.client_deal_proposal = signed_proposal;
  params.deal_data_root = piece_cid;
  params.transfer.type = "http";
  params.transfer.params = Bytes(transfer_json.begin(), transfer_json.end());
  params.transfer.size = agg.payload_size;

  DealRecord d;
  d.uuid = UuidText(uuid);
  d.aggregate_id = agg.id;
  d.provider = key;
  d.state = DealState::kProposing;
  d.signed_proposal = signed_proposal.Encode();
  d.proposal_cid = p.GetCid().ToString();
  d.price_per_epoch = price.ToString();
  d.provider_collateral = collateral.ToString();
  d.client_collateral = p.client_collateral.ToString();
  d.start_epoch = p.start_epoch;
  d.end_epoch = p.end_epoch;
  d.token_hash = TokenHash(token);
  d.purpose = std::move(purpose);
  // Persist before sending: a crash from here on leaves a row that the next Track reconciles.
  CAIRN_TRY(deals_.CreateDeal(d));
  log::Info("deals.propose", {{"deal", d.uuid},
                              {"provider", key},
                              {"piece", agg.piece_cid},
                              {"price_per_epoch", d.price_per_epoch},
                              {"start_epoch", p.start_epoch},
                              {"purpose", d.purpose.empty() ? "first" : d.purpose}});
  auto answer = mk12_.Propose(*info.endpoint, params);
  if (!answer) {
    // Unknown whether it arrived: stays `proposing`, and the provider's status decides.
    SetDeal(d, DealState::kProposing, answer.error().message(), metadata::ProviderEvent::kTimeout);
    return Ok();
  }
  d.provider_message = answer->message;
  SetDeal(d, answer->accepted ? DealState::kAccepted : DealState::kRejected,
          answer->accepted ? "" : "rejected by the provider");
  return Ok();
}

// ---- 5. Show --------------------------------------------------------------------------------

Result<void> DealEngine::ShowOnPins() {
  // Pins waiting for an aggregate: "aggregating", written once (shown_ holds only these).
  const auto waiting = CAIRN_TRY(deals_.UnaggregatedSegments(kAggregateCandidates));
  {
    std::set<std::string> now;
    for (const auto& s : waiting) now.insert(s.pin_requestid);
    std::lock_guard lock(mu_);
    std::erase_if(shown_, [&now](const auto& entry) { return !now.count(entry.first); });
  }
  const std::map<std::string, std::string> aggregating = {{"filecoin", "aggregating"}};
  std::vector<std::string> unshown;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : waiting) {
      if (!shown_.count(s.pin_requestid)) unshown.push_back(s.pin_requestid);
    }
  }
  // One write for them all (a backlog of new pins must not cost a commit each).
  CAIRN_TRY(pins_.MergeInfoMany(unshown, aggregating));
  {
    std::lock_guard lock(mu_);
    for (auto& id : unshown) shown_[std::move(id)] = aggregating;
  }
  // Aggregated pins: each aggregate's summary; its pins are written only when it changed
  // (fil_aggregates.shown, kept across restarts).
  // Every aggregate's deals in one read (not one query per aggregate).
  auto by_aggregate = CAIRN_TRY(deals_.DealsByAggregate());
  std::map<int64_t, AggregateSummary> summaries;
  std::set<std::string> sharded;                         // pins in several shards to show
  std::vector<std::pair<int64_t, std::string>> changed;  // aggregates whose pins were shown
  for (const auto& agg : CAIRN_TRY(deals_.Aggregates())) {
    if (agg.superseded_us) continue;  // its live pins are shown by their newer aggregates
    const AggregateFacts facts = CAIRN_TRY(FactsOf(agg));
    if (!facts.any_live) continue;
    const EffectivePolicy& policy = facts.policy;
    const auto& ds = by_aggregate[agg.id];
    int active = 0, live = 0;
    std::string list;
    std::set<std::string> used;
    for (const auto& d : ds) {
      used.insert(d.provider);
    }
    bool candidates_left = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& p : policy.providers) {
        const std::string key = p.ToString(chain_.options().network);
        auto it = providers_.find(key);
        if (used.count(key) ||
            (it != providers_.end() && (!it->second.skip_reason.empty() ||
                                        !PriceRefusal(it->second, policy, false).empty()))) {
          continue;
        }
        candidates_left = true;
      }
    }
    for (const auto& d : ds) {
      if (d.state == DealState::kActive) ++active;
      if (metadata::DealStateIsLive(d.state)) ++live;
      if (d.state == DealState::kRejected) continue;
      if (!list.empty()) list += ",";
      list += d.provider + ":" + (d.deal_id ? std::to_string(*d.deal_id) : std::string()) + ":" +
              std::string(metadata::DealStateName(d.state));
    }
    const std::string x = std::to_string(policy.replicas);
    std::string summary;
    if (active >= policy.replicas) {
      summary = "active " + x + "/" + x;
    } else if (active == 0 && std::any_of(ds.begin(), ds.end(), [](const DealRecord& d) {
                 // A replica that was proven on chain and is gone (not a first deal that never
                 // activated): slashed, or failed by the retrieval probe.
                 return d.state == DealState::kSlashed ||
                        (d.state == DealState::kFailed &&
                         d.last_error.rfind("retrieval probe", 0) == 0);
               })) {
      // Every replica it had is gone: only the hot copy (while there is one) holds the data.
      summary = "at risk 0/" + x;
    } else if (live < policy.replicas && !candidates_left) {
      summary = "degraded " + std::to_string(active) + "/" + x;
    } else {
      summary = "dealing " + std::to_string(active) + "/" + x;
    }
    summaries[agg.id] = {summary, agg.piece_cid, list, active, policy.replicas};
    const std::map<std::string, std::string> keys = {
        {"filecoin", summary}, {"piece_cid", agg.piece_cid}, {"deals", list}};
    const std::string shown = summary + "\n" + agg.piece_cid + "\n" + list;
    if (shown == agg.shown) continue;
    const bool at_risk = summary.rfind("at risk", 0) == 0;
    std::vector<std::string> pins;
    for (const auto& s : CAIRN_TRY(deals_.Segments(agg.id))) {
      if (!s.pin_exists) continue;
      if (s.shards > 1) {
        sharded.insert(s.pin_requestid);  // its shards' aggregates together, below
        continue;
      }
      pins.push_back(s.pin_requestid);
    }
    // One write for all of the aggregate's pins (a commit per pin made a piece of 100k small
    // pins cost 100k syncs); pins deleted since are skipped.
    CAIRN_TRY(pins_.MergeInfoMany(pins, keys));
    if (at_risk) {
      for (const auto& pin : pins) {
        log::Error("deals.pin_at_risk", {{"pin", pin},
                                         {"piece", agg.piece_cid},
                                         {"deals", list},
                                         {"reason", "no healthy Filecoin replica is left"}});
      }
    }
    changed.emplace_back(agg.id, shown);
  }
  for (const auto& pin : sharded) CAIRN_TRY(ShowShardedPin(pin, summaries));
  // Recorded once every live pin has it: a crash before this writes them all again.
  for (const auto& [id, shown] : changed) CAIRN_TRY(deals_.SetAggregateShown(id, shown));
  return Ok();
}

Result<void> DealEngine::ShowShardedPin(const std::string& requestid,
                                        const std::map<int64_t, AggregateSummary>& summaries) {
  // The pin is as far as its least advanced shard: "aggregating" while one waits, else the
  // worst state of its shards' aggregates with the fewest active replicas; its pieces and deals
  // are listed in shard order (docs/api.md "info").
  auto segments = CAIRN_TRY(deals_.SegmentsOfPin(requestid));
  if (segments.empty()) return Ok();
  auto rank = [](const std::string& summary) {
    if (summary.rfind("at risk", 0) == 0) return 0;
    if (summary.rfind("degraded", 0) == 0) return 1;
    if (summary.rfind("dealing", 0) == 0) return 2;
    return 3;  // active
  };
  std::string pieces, deal_list, worst;
  int fewest = INT32_MAX, replicas = 0;
  bool waiting = false;
  for (const auto& seg : segments) {
    auto it = seg.aggregate_id ? summaries.find(*seg.aggregate_id) : summaries.end();
    if (it == summaries.end()) {
      waiting = true;
      continue;
    }
    const AggregateSummary& a = it->second;
    pieces += (pieces.empty() ? "" : ",") + a.piece_cid;
    if (!a.deals.empty()) deal_list += (deal_list.empty() ? "" : ",") + a.deals;
    if (worst.empty() || rank(a.summary) < rank(worst)) worst = a.summary;
    fewest = std::min({fewest, a.active, a.replicas});
    replicas = a.replicas;
  }
  std::string summary;
  if (waiting || worst.empty()) {
    summary = "aggregating";
  } else {
    const std::string kind = worst.substr(0, worst.rfind(' '));
    summary = kind + " " + std::to_string(fewest) + "/" + std::to_string(replicas);
  }
  const std::map<std::string, std::string> keys = {{"filecoin", summary},
                                                   {"piece_cid", pieces},
                                                   {"deals", deal_list},
                                                   {"shards", std::to_string(segments.size())}};
  auto r = pins_.MergeInfo(requestid, keys);
  if (!r && r.error().code() != ErrorCode::kNotFound) return Err(r.error());
  if (r && summary.rfind("at risk", 0) == 0) {
    log::Error("deals.pin_at_risk", {{"pin", requestid},
                                     {"piece", pieces},
                                     {"deals", deal_list},
                                     {"reason", "a shard has no healthy Filecoin replica left"}});
  }
  return Ok();
}

// ---- Serving --------------------------------------------------------------------------------

Result<OpenedPiece> DealEngine::OpenPiece(const std::string& uuid, const std::string& token) {
  auto deal = deals_.GetDeal(uuid);
  const Bytes presented = TokenHash(token);
  if (!deal || deal->token_hash.size() != presented.size() ||
      CRYPTO_memcmp(deal->token_hash.data(), presented.data(), presented.size()) != 0) {
    return Err(ErrorCode::kUnauthenticated, "deals: no deal data for this URL and token");
  }
  if (deal->state != DealState::kProposing && deal->state != DealState::kAccepted) {
    return Err(ErrorCode::kPermissionDenied, "deals: deal " + uuid + " is " +
                                                 std::string(metadata::DealStateName(deal->state)) +
                                                 "; its data is not served");
  }
  auto agg = CAIRN_TRY(deals_.GetAggregate(deal->aggregate_id));
  {
    std::lock_guard lock(mu_);
    auto it = views_.find(agg.id);
    if (it != views_.end()) return OpenedPiece{agg.piece_cid, it->second};
  }
  auto segs = CAIRN_TRY(deals_.Segments(agg.id));
  std::vector<SegmentSource> sources;
  for (const auto& s : segs) {
    SegmentSource src;
    src.root = CAIRN_TRY(multiformats::Cid::FromBytes(s.root_cid));
    src.sections = {s.first_section, s.sections.value_or(UINT64_MAX)};
    src.car_size = s.car_size;
    if (s.comm_p.size() != src.piece.commitment.size()) {
      return Err(ErrorCode::kCorruption,
                 "deals: segment " + std::to_string(s.id) + " has a malformed commitment");
    }
    std::copy(s.comm_p.begin(), s.comm_p.end(), src.piece.commitment.begin());
    src.piece.size = s.padded_size;
    src.offset = s.piece_offset;
    sources.push_back(src);
  }
  auto cid = CAIRN_TRY(multiformats::Cid::Parse(agg.piece_cid));
  auto root = CAIRN_TRY(piece::ParsePieceCidV1(cid));
  auto view = CAIRN_TRY(AggregateView::Make(std::move(sources), agg.padded_size, root));
  auto shared = std::make_shared<const AggregateView>(std::move(view));
  std::lock_guard lock(mu_);
  views_[agg.id] = shared;
  return OpenedPiece{agg.piece_cid, shared};
}

DealEngineStatus DealEngine::Status() {
  DealEngineStatus s;
  if (auto segs = deals_.UnaggregatedSegments(kAggregateCandidates))
    s.segments_waiting = segs->size();
  if (auto aggs = deals_.Aggregates()) s.aggregates = aggs->size();
  std::array<DealState, 8> all = {
      DealState::kProposing, DealState::kAccepted, DealState::kPublished, DealState::kActive,
      DealState::kRejected,  DealState::kFailed,   DealState::kSlashed,   DealState::kExpired};
  if (auto deals = deals_.DealsInStates(all)) {
    for (const auto& d : *deals) ++s.deals_by_state[std::string(metadata::DealStateName(d.state))];
  }
  auto stats = StatsOf(config_.providers);
  std::lock_guard lock(mu_);
  for (const auto& [p, info] : providers_) {
    if (!info.skip_reason.empty()) s.skipped_providers[p] = info.skip_reason;
  }
  if (stats) {
    for (auto& st : *stats) {
      ProviderView v;
      v.provider = st.provider;
      auto it = providers_.find(st.provider);
      if (it != providers_.end() && it->second.endpoint) {
        v.transport = it->second.endpoint->kind == Mk12Endpoint::Kind::kHttp ? "http" : "libp2p";
      }
      v.score = ProviderScoreOf(st);
      v.stats = std::move(st);
      s.providers.push_back(std::move(v));
    }
  }
  s.last_error = last_error_;
  return s;
}

}  // namespace cairn::filecoin::deals
