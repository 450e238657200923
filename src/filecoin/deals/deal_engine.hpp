// The deal engine: turns pinned pins into Filecoin storage deals and tracks them (DESIGN.md "Life
// of a pin" step 4; issue 10 §4–§5; ../shared/FILECOIN.md §3.1 mk12, §3.7 the tracking loop).
//
// One pass (Tick) does, in order:
// 1. Track: every deal in `proposing` or `accepted` is asked about by DealUUID at its provider's
//    status endpoint (this is also the reconciliation after a restart: a `proposing` row whose
//    answer was lost is never proposed again — the provider either knows the UUID, and the deal
//    goes on, or it does not, and the deal is `failed` and replaced). A provider error, a
//    transfer or CommP failure is recorded verbatim in last_error. Once the provider reports a
//    ChainDealID, the deal is read on chain (StateMarketStorageDeal, batched with every other
//    deal, at the shared head) and every field of the on-chain proposal is compared with what was
//    signed: equal → `published`; different → `failed` ("on-chain proposal differs: <field>").
//    Published deals are read on chain each pass: activated (SectorStartEpoch set) *at the
//    finalized tipset* → `active`; slashed → `slashed`; gone from the market before
//    activation → `failed`; active past EndEpoch → `expired`.
// 2. Segment: each `pinned` pin without a segment gets one: the CommP of its DAG's CARv1 export
//    (filecoin/dealdata), computed from the block store. A DAG whose export does not fit one
//    piece (MaxSegmentCarBytes) gets one segment per CAR shard (docs/formats/car-shards.md), all
//    written together; each shard is aggregated and dealt for like any segment. A pin whose
//    segment cannot be made (a block missing or corrupt, a block larger than a segment) shows
//    "segment failed: <reason>" in info.filecoin and is tried again after 1 min, doubling up to
//    1 h, behind the pins that are due.
// 3. Aggregate: waiting segments are grouped by their effective policy (the pin's PSA meta keys
//    filecoin.replicas, filecoin.duration_days, filecoin.providers, then its account's policy,
//    then this configuration; pin_policy.hpp) and each
//    group is packed (FRC-0058, largest first) into one aggregate of at most `piece_size` padded
//    bytes once they fill it, or once the group's oldest has waited `batch_wait`; the aggregate is
//    at least the largest minimum piece size the providers ask for. A segment that fits no
//    aggregate with others gets one of its own.
// 4. Deal: each aggregate with fewer than its policy's `replicas` live deals gets proposals to
//    its policy's providers (the pin's filecoin.providers, else its account's, else `providers`;
//    never one the account denies), lasting its
//    policy's duration_days, from those it has no deal with yet (in any state: a provider that
//    rejected or failed is replaced, never asked twice for the same aggregate), best score first
//    (provider_score.hpp; configuration order breaks ties). A provider's mk12 endpoint comes from
//    its on-chain StateMinerInfo (Mk12EndpointOf): HTTP where a multiaddr names one (Curio), else
//    libp2p to its PeerId at its TCP multiaddrs (Boost); a provider with neither is skipped with
//    that reason. The ask is checked where the provider publishes one (price ≤ the policy's
//    max_price, piece size within its bounds). The escrow is topped up (one AddBalance,
//    MessageSender) to cover every deal not yet published. The deal row (`proposing`, with the
//    signed proposal, price and collateral) is written *before* the proposal is sent; the answer
//    moves it to `accepted` or `rejected` (the provider's Message kept verbatim).
// 5. Show: the pins of every aggregate get info.filecoin (out of its policy's replicas:
//    "aggregating", "dealing 1/2",
//    "active 2/2", "degraded 1/2"), info.piece_cid and info.deals ("f01000:12:active,…"). A pin
//    in several CAR shards shows its least advanced shard (the worst state, the fewest active
//    replicas; "aggregating" while one waits), every shard's piece CID and deals in shard order,
//    and info.shards (their number).
//
// Provider statistics: every deal change that says something about its provider is counted in
// fil_provider_stats in the same transaction (metadata/provider_stats.hpp): a proposal written; an
// acceptance or a rejection; a proposal without a usable answer (timeout); a failure the provider
// reports before publishing (transfer, CommP); not published by the start epoch; published but
// never activated; published with another proposal; slashed; active (with the time since the
// proposal). Status() shows them with each configured provider's score.
//
// Data transfer: each deal carries Transfer{Type "http", URL <public_url>/filecoin/piece/<uuid>,
// Headers {"Authorization": "Bearer <token>"}} with a random per-deal token whose SHA-256 is
// stored; OpenPiece authenticates a request and returns the aggregate as a view over the block
// store (docs/formats/piece-serving.md).
//
// Thread-safety: Tick runs on one thread at a time (Start runs it on the engine's own thread);
// OpenPiece, Status and Stop may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blockstore/blockstore.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "filecoin/chain/message_sender.hpp"
#include "filecoin/deals/aggregate_view.hpp"
#include "filecoin/deals/mk12_client.hpp"
#include "filecoin/deals/pin_policy.hpp"
#include "filecoin/wallet/wallet.hpp"
#include "metadata/deals.hpp"
#include "metadata/pins.hpp"
#include "metadata/provider_stats.hpp"

namespace cairn::filecoin::deals {

inline constexpr int64_t kEpochsPerDay = 2880;

struct DealEngineConfig {
  std::vector<Address> providers;  // f0 ids, in order of preference
  int replicas = 2;
  int64_t duration_days = 180;  // the market's minimum deal duration
  // The service's defaults below (providers also bounds every policy; replicas, duration_days,
  // verified and max_price may be set per account and the first two per pin: pin_policy.hpp).
  // Verified (FIL+) deals: each one spends the piece's padded size of the client's DataCap. A
  // deal is proposed verified only while the DataCap left (the chain's, less what proposed and
  // accepted verified deals will spend at publishing) covers its piece; otherwise it is proposed
  // unverified, at the provider's unverified price (within max_price), and deals.datacap_short
  // is logged once per pass.
  bool verified = false;
  std::optional<BigInt> max_price;   // attoFIL per GiB per epoch; none = any ask
  uint64_t piece_size = 1ull << 30;  // padded bytes of an aggregate (a power of two)
  std::chrono::seconds batch_wait{3600};
  std::string public_url;             // base URL providers pull from, no trailing '/'
  int64_t start_delay_epochs = 5760;  // StartEpoch = head + this (Boost's default: 2 days)
  // Renewal: a live deal whose EndEpoch is within this many epochs of the head no longer counts
  // toward `replicas`, so its replacement is made while it still runs (must exceed
  // start_delay_epochs, or the new deal cannot be active before the old one ends).
  int64_t renew_margin_epochs = 17280;
  // Re-aggregation: an aggregate that needs a renewal or a repair while its live pins hold less
  // than this share of its segments' bytes is not renewed as it stands: its live pins leave it
  // for a new piece (metadata::DealStore::Reaggregate). 0 = never.
  double reaggregate_below = 0.5;
  std::chrono::milliseconds poll_interval{30000};
  Address client;  // the wallet address that pays and signs
};

// A configured provider as the engine sees it.
struct ProviderView {
  std::string provider;   // f0… / t0…
  std::string transport;  // "http", "libp2p" or "" (not known yet, or skipped)
  double score = 0;
  metadata::ProviderStats stats;
};

// What `cairn serve` shows at start and in /healthz.
struct DealEngineStatus {
  uint64_t segments_waiting = 0;
  uint64_t aggregates = 0;
  std::map<std::string, uint64_t> deals_by_state;
  std::map<std::string, std::string> skipped_providers;  // provider → reason
  std::vector<ProviderView> providers;                   // configuration order
  std::string last_error;
};

// A deal's piece, opened for serving.
struct OpenedPiece {
  std::string piece_cid;
  std::shared_ptr<const AggregateView> view;
};

class DealEngine {
 public:
  // Every reference must outlive the engine.
  DealEngine(DealEngineConfig config, metadata::DealStore& deals,
             metadata::ProviderStatsStore& provider_stats, metadata::PinStore& pins,
             blockstore::Blockstore& blocks, chain::ChainClient& chain,
             chain::MessageSender& sender, const wallet::Wallet& wallet, Mk12Client& mk12,
             const Clock& clock = SystemClock::Instance());
  ~DealEngine();  // stops the thread
  DealEngine(const DealEngine&) = delete;
  DealEngine& operator=(const DealEngine&) = delete;

  // Runs Tick every poll_interval on the engine's thread until Stop.
  void Start();
  void Stop();
  // Wakes the engine now (a pin became pinned).
  void Notify();

  // One pass (see above). Errors of one deal or provider are recorded on it and do not stop the
  // pass; the Result is the first error that stopped a step (the chain unreachable, the
  // database failing), which the next pass retries.
  Result<void> Tick();

  // The piece of deal `uuid` for a provider presenting `token`: Unauthenticated when the token
  // is not the deal's (or the deal is unknown: indistinguishable), PermissionDenied once the
  // deal no longer needs its data (published, active or ended), Corruption when the recorded
  // aggregate cannot be rebuilt from its segments.
  Result<OpenedPiece> OpenPiece(const std::string& uuid, const std::string& token);

  DealEngineStatus Status();
  const DealEngineConfig& config() const { return config_; }

  // The most CAR bytes one segment holds: a DAG whose export is larger is cut into CAR shards of
  // at most this (the largest piece that fits alone in an aggregate of piece_size).
  uint64_t MaxSegmentCarBytes() const;

 private:
  struct ProviderInfo {
    std::optional<Mk12Endpoint> endpoint;
    std::optional<StorageAsk> ask;
    std::string skip_reason;  // non-empty: not dealt with
    int64_t fetched_us = 0;
  };

  Result<void> Track();
  Result<void> TrackOnChain(std::vector<metadata::DealRecord>& deals);
  // What the head shows for one deal, as a step that waits for the finalized tipset; only
  // `published` needs no confirmation and is set here. A deal under the deal's ID whose proposal
  // differs from the signed one is kMismatch: until final, a reorganisation may have renumbered
  // the deals (a publish message included again after other ones gets other IDs).
  enum class ChainStep { kActive, kGone, kSlashed, kExpired, kMismatch };
  std::optional<ChainStep> ReadAtHead(metadata::DealRecord& d,
                                      const Result<chain::MarketDeal>& at_head,
                                      int64_t head_height);
  // Sets the deal's state when the finalized tipset confirms `step`. True when it does not
  // confirm a kMismatch: the deal's ID is then asked of its provider again (RefreshDealId).
  bool ApplyFinalized(metadata::DealRecord& d, ChainStep step,
                      const Result<chain::MarketDeal>& at_final, int64_t finalized_height);
  // The mk12 status request for deal `d`: its DealUUID signed by the paying wallet.
  Result<DealStatusRequest> SignedStatusRequest(const metadata::DealRecord& d);
  // Asks the deal's provider for its chain deal ID and takes it when it is another one (the
  // publish message was included again after a reorganisation); the next pass reads it.
  void RefreshDealId(metadata::DealRecord& d);
  Result<void> Segment();
  Result<void> Aggregate();
  // Packs one policy's waiting segments (oldest first) into an aggregate when they fill one or
  // the oldest has waited batch_wait; whether it made one.
  Result<bool> PackGroup(const std::vector<const metadata::SegmentRecord*>& segments);
  // The service's defaults (the configuration's providers, replicas, duration_days, verified and
  // max_price).
  ServicePolicy Defaults() const;
  // A segment's policy: its pin's meta, its account's policy (either invalid as stored: that
  // level is ignored, with a warning), the defaults; an aggregate's, from a segment whose pin
  // still exists.
  EffectivePolicy PolicyOfSegment(const metadata::SegmentRecord& segment);
  EffectivePolicy PolicyOfAggregate(const std::vector<metadata::SegmentRecord>& segments);
  // What an aggregate's segments say, read again only when its pins_changed moved (a pin
  // deleted or its meta changed): a tick does not read every segment of every aggregate.
  struct AggregateFacts {
    int64_t pins_changed = 0;
    bool any_live = false;        // a pin of its segments still exists
    bool mostly_deleted = false;  // live bytes below reaggregate_below of all
    EffectivePolicy policy;
  };
  Result<AggregateFacts> FactsOf(const metadata::AggregateRecord& aggregate);
  Result<void> MakeDeals();
  // The client's DataCap not yet promised: the chain's (StateVerifiedClientStatus; none = 0)
  // less the piece sizes of verified deals proposed or accepted (DataCap is spent at
  // publishing).
  Result<BigInt> DataCapLeft();
  // `purpose`: "" for an aggregate's first deals, "renewal" or "repair" (recorded as events).
  // `verified`: propose a verified deal (the caller checked the DataCap).
  Result<void> Propose(const metadata::AggregateRecord& aggregate, const Address& provider,
                       const ProviderInfo& info, const EffectivePolicy& policy, std::string purpose,
                       bool verified);
  // Why the provider's ask (verified or not) is above the policy's max_price, or "".
  static std::string PriceRefusal(const ProviderInfo& info, const EffectivePolicy& policy,
                                  bool verified);
  Result<void> ShowOnPins();
  Result<ProviderInfo> Provider(const Address& provider);
  uint64_t MinPieceSize();
  // The most CAR bytes one segment holds: a DAG whose export is larger is cut into CAR shards of
  // at most this (the largest piece that fits alone in an aggregate of piece_size).
  // What ShowOnPins shows for one aggregate's pins.
  struct AggregateSummary {
    std::string summary;    // info.filecoin
    std::string piece_cid;  // info.piece_cid
    std::string deals;      // info.deals
    int active = 0;
    int replicas = 0;
  };
  // Shows a pin in several CAR shards from every shard's aggregate (`summaries`).
  Result<void> ShowShardedPin(const std::string& requestid,
                              const std::map<int64_t, AggregateSummary>& summaries);
  Result<BigInt> UnpublishedCost();
  // Sets and stores the deal's state, counting `event` for its provider; without one, a change
  // to accepted, rejected, active or slashed counts as that (failures name theirs).
  void SetDeal(metadata::DealRecord& deal, metadata::DealState state, std::string error = {},
               std::optional<metadata::ProviderEvent> event = std::nullopt);
  // The statistics of each of `providers`, in their order (zeros when none).
  Result<std::vector<metadata::ProviderStats>> StatsOf(std::span<const Address> providers);
  // `providers` (a policy's, or config_.providers), best score first (their order breaks ties).
  Result<std::vector<Address>> ProvidersByScore(std::span<const Address> providers);
  void Loop();

  DealEngineConfig config_;
  metadata::DealStore& deals_;
  metadata::ProviderStatsStore& provider_stats_;
  metadata::PinStore& pins_;
  blockstore::Blockstore& blocks_;
  chain::ChainClient& chain_;
  chain::MessageSender& sender_;
  const wallet::Wallet& wallet_;
  Mk12Client& mk12_;
  const Clock& clock_;

  std::mutex mu_;
  std::map<std::string, ProviderInfo> providers_;  // GUARDED_BY(mu_)
  // What was written into the info of pins whose segments wait for an aggregate (at most the
  // candidates of one pass); aggregated pins' is fil_aggregates.shown.
  std::map<std::string, std::map<std::string, std::string>> shown_;  // GUARDED_BY(mu_)
  // Failed segment attempts per pin, for the retry delay (Tick's thread only).
  std::map<std::string, int> segment_failures_;
  std::map<int64_t, AggregateFacts> facts_;                        // GUARDED_BY(mu_)
  std::map<int64_t, std::shared_ptr<const AggregateView>> views_;  // GUARDED_BY(mu_)
  std::string last_error_;                                         // GUARDED_BY(mu_)
  bool wake_ = false;                                              // GUARDED_BY(mu_)
  bool stop_ = false;                                              // GUARDED_BY(mu_)
  std::condition_variable cv_;
  std::thread thread_;
};

// Decimal `value` × num / den, rounded up (amounts have no division in BigInt). InvalidArgument
// for a value that is not a non-negative decimal.
Result<BigInt> MulDivCeil(const BigInt& value, uint64_t num, uint64_t den);

// The first field where `onchain` differs from `signed_proposal`, or "" when they are equal.
std::string ProposalDifference(const DealProposal& signed_proposal, const DealProposal& onchain);

}  // namespace cairn::filecoin::deals
