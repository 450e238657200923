#include "apps/cairn/cold_tier.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "apps/cairn/mk12_transport.hpp"
#include "apps/cairn/piece_http.hpp"
#include "apps/cairn/prometheus_text.hpp"
#include "apps/cairn/rpc_transport.hpp"
#include "blockstore/fallback_blockstore.hpp"
#include "common/json_string.hpp"
#include "common/log.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "filecoin/chain/message_sender.hpp"
#include "filecoin/deals/deal_engine.hpp"
#include "filecoin/deals/mk12_client.hpp"
#include "filecoin/retrieval/cold_reader.hpp"
#include "filecoin/retrieval/prober.hpp"
#include "filecoin/wallet/wallet.hpp"
#include "metadata/deals.hpp"
#include "metadata/provider_stats.hpp"

namespace cairn::app {

namespace {

constexpr std::string_view kPiecePrefix = "/filecoin/piece/";

std::string ProviderLabel(const std::string& provider) { return "provider=\"" + provider + "\""; }

// The counters of fil_provider_stats, by event name (docs/filecoin.md "Provider scores").
std::vector<std::pair<const char*, int64_t>> ProviderCounters(const metadata::ProviderStats& s) {
  return {{"proposals", s.proposals},
          {"accepted", s.accepted},
          {"rejected", s.rejected},
          {"timeouts", s.timeouts},
          {"transfer_failures", s.transfer_failures},
          {"never_published", s.never_published},
          {"not_activated", s.not_activated},
          {"mismatches", s.mismatches},
          {"slashed", s.slashed},
          {"other_failures", s.other_failures},
          {"retrieval_failures", s.retrieval_failures},
          {"active", s.active}};
}

// cairn_provider_score, cairn_provider_deal_events_total and
// cairn_provider_time_to_active_seconds_total, one family after the other.
void WriteProviderMetrics(PrometheusText& m,
                          const std::vector<filecoin::deals::ProviderView>& providers) {
  for (const auto& p : providers) {
    m.GaugeReal("cairn_provider_score",
                "Score of a storage provider (0..1, higher gets deals first).", p.score,
                ProviderLabel(p.provider));
  }
  for (const auto& p : providers) {
    for (const auto& [event, n] : ProviderCounters(p.stats)) {
      m.Counter("cairn_provider_deal_events_total",
                "Deal events per storage provider (proposals, answers, failures, activations).",
                static_cast<uint64_t>(n), ProviderLabel(p.provider) + ",event=\"" + event + "\"");
    }
  }
  for (const auto& p : providers) {
    m.Counter("cairn_provider_time_to_active_seconds_total",
              "Sum over a provider's active deals of the time from proposal to active.",
              static_cast<uint64_t>(p.stats.active_us_total / 1000000), ProviderLabel(p.provider));
  }
}

// The banner's line about the network the chain endpoint serves: plain words for the local
// devnet (scripts/devnet.sh, network name "cairn-devnet"), whose deals store nothing real.
std::string NetworkLine(filecoin::chain::ChainClient& chain) {
  auto name = chain.StateNetworkName();
  if (!name) {
    return "cold tier: network unknown for now (the chain endpoint did not answer: " +
           name.error().ToString() + "); deals start once it does";
  }
  if (*name == "cairn-devnet") {
    return "cold tier: network cairn-devnet, the LOCAL SIMULATED Filecoin network "
           "(scripts/devnet.sh): its deals store nothing real";
  }
  return "cold tier: network " + *name;
}

// Byte ranges of pieces from providers (GET /piece/{cid} with Range) over the Beast client, on
// connections kept alive per provider (a cold read sends one range request per batch of blocks).
class BeastPieceRangeFetcher : public filecoin::retrieval::PieceRangeFetcher {
 public:
  Result<Bytes> Fetch(const std::string& base_url, const std::string& piece_cid, uint64_t offset,
                      uint64_t length, std::chrono::milliseconds deadline) override {
    Bytes out;
    out.reserve(length);
    CAIRN_TRY(FetchTo(base_url, piece_cid, offset, length, deadline, [&out](ByteSpan data) {
      out.insert(out.end(), data.begin(), data.end());
      return Ok();
    }));
    return out;
  }

  Result<void> FetchTo(const std::string& base_url, const std::string& piece_cid, uint64_t offset,
                       uint64_t length, std::chrono::milliseconds deadline,
                       const ByteSinkFn& sink) override {
    if (length == 0) return Ok();
    http::ClientRequest req;
    req.url = base_url + "/piece/" + piece_cid;
    req.headers = {
        {"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
    req.timeout = deadline;
    req.pool = &pool_;
    // A provider that ignores Range is cut off here instead of sending the whole piece.
    req.max_body_bytes = length;
    // The status is judged before a byte of the body reaches the sink.
    req.on_head = [offset](const http::ClientResponse& head) -> Result<void> {
      if (head.status == 404) {
        return Err(ErrorCode::kNotFound, "404: the provider lacks the piece");
      }
      if (head.status == 429 || head.status >= 500) {  // overloaded or failing: not a lie
        return Err(ErrorCode::kUnavailable,
                   "/piece answered status " + std::to_string(head.status));
      }
      if (head.status != 206 && !(head.status == 200 && offset == 0)) {
        return Err(ErrorCode::kCorruption,
                   "/piece answered status " + std::to_string(head.status) + " to a range");
      }
      return Ok();
    };
    uint64_t got = 0;
    auto res = http::Fetch(req, [&](ByteSpan data) -> Result<void> {
      got += data.size();
      return sink(data);
    });
    if (!res) {
      if (res.error().code() == ErrorCode::kResourceExhausted) {
        return Err(ErrorCode::kCorruption,
                   "/piece answered more than the " + std::to_string(length) + " bytes asked for");
      }
      return Err(res.error());
    }
    if (got != length) {
      return Err(ErrorCode::kCorruption, "/piece answered " + std::to_string(got) +
                                             " bytes for a range of " + std::to_string(length));
    }
    return Ok();
  }

 private:
  http::ConnectionPool pool_;
};

}  // namespace

Result<filecoin::deals::ServicePolicy> ServicePolicyOf(const ServeConfig& config) {
  filecoin::deals::ServicePolicy d;
  for (const auto& p : config.filecoin_providers) {
    auto a = filecoin::Address::Parse(p);
    if (!a) return Err(a.error().WithContext("filecoin.providers: "));
    d.providers.push_back(*a);
  }
  d.replicas = static_cast<int>(config.filecoin_replicas);
  d.duration_days = config.filecoin_duration_days;
  d.verified = config.filecoin_verified;
  if (!config.filecoin_max_price.empty()) {
    auto price = filecoin::BigInt::Parse(config.filecoin_max_price);
    if (!price) return Err(price.error().WithContext("filecoin.max_price: "));
    d.max_price = *price;
  }
  return d;
}

void AppendProviderJson(std::string& out, const filecoin::deals::ProviderView& p) {
  out += "{\"provider\":";
  AppendJsonString(out, p.provider);
  out += ",\"transport\":";
  AppendJsonString(out, p.transport);
  char score[32];
  std::snprintf(score, sizeof score, "%.6g", p.score);
  out += std::string(",\"score\":") + score;
  for (const auto& [event, n] : ProviderCounters(p.stats)) {
    out += std::string(",\"") + event + "\":" + std::to_string(n);
  }
  out += ",\"time_to_active_seconds_total\":" + std::to_string(p.stats.active_us_total / 1000000);
  out += "}";
}

namespace {

// ColdTier::held_reader(): asks the index (Size, which counts nothing) before reading.
class HeldOnlyReader final : public ipld::BlockGetter {
 public:
  explicit HeldOnlyReader(filecoin::retrieval::ColdReader& reader) : reader_(reader) {}
  Result<Bytes> Get(const multiformats::Cid& cid) override {
    CAIRN_TRY(reader_.Size(cid));
    return reader_.Get(cid);
  }

 private:
  filecoin::retrieval::ColdReader& reader_;
};

}  // namespace

struct ColdTier::Impl {
  ServeConfig config;
  blockstore::Blockstore& blocks;
  std::unique_ptr<filecoin::wallet::Wallet> wallet;
  BeastRpcTransport rpc_transport;
  AppMk12Transport mk12_transport;
  std::unique_ptr<filecoin::chain::ChainClient> chain;
  std::unique_ptr<filecoin::chain::MessageSender> sender;
  std::unique_ptr<filecoin::deals::Mk12Client> mk12;
  // The retrieval transports query, under the cold read deadline (not mk12's 60 s).
  std::unique_ptr<filecoin::deals::Mk12Client> retrieval_mk12;
  std::unique_ptr<metadata::DealStore> deals;
  std::unique_ptr<metadata::ProviderStatsStore> provider_stats;
  std::unique_ptr<filecoin::deals::DealEngine> engine;
  BeastPieceRangeFetcher piece_fetcher;
  std::unique_ptr<filecoin::retrieval::ChainRetrievalEndpoints> endpoints;
  std::unique_ptr<filecoin::retrieval::ColdReader> reader;
  std::unique_ptr<ipld::BlockGetter> held_reader;  // `reader`, for the pin workers
  // What deal data is served from: the hot store, then a surviving replica read back from its
  // provider and verified (a repair of a pin whose hot copy is gone; re-warmed as it is read).
  std::unique_ptr<blockstore::FallbackBlockstore> source;
  std::unique_ptr<filecoin::retrieval::RetrievalProber> prober;
  // The probe thread: one pass every filecoin.probe_interval_seconds until stopped.
  std::thread probe_thread;
  std::mutex probe_mu;
  std::condition_variable probe_cv;
  bool probe_stop = false;  // GUARDED_BY(probe_mu)
  std::string client_text;
  filecoin::Address client;
  // The paying wallet's funds for /metrics, asked of the chain at most every 30 s.
  std::mutex funds_mu;
  std::optional<filecoin::chain::WalletFunds> funds;  // GUARDED_BY(funds_mu)
  std::chrono::steady_clock::time_point funds_at;     // GUARDED_BY(funds_mu)
  std::string network_line;                           // what the chain says it is, for the banner

  Impl(const ServeConfig& c, blockstore::Blockstore& b, net::Host* host)
      : config(c), blocks(b), mk12_transport(host) {}
};

ColdTier::ColdTier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ColdTier::~ColdTier() { Stop(); }

Result<std::unique_ptr<ColdTier>> ColdTier::Create(const GlobalOptions& global,
                                                   const ServeConfig& config,
                                                   metadata::Database& db, metadata::PinStore& pins,
                                                   metadata::EventStore& events,
                                                   blockstore::Blockstore& blocks,
                                                   net::Host* host) {
  if (config.filecoin_providers.empty()) return std::unique_ptr<ColdTier>();
  if (config.filecoin_rpc.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "cold tier: filecoin.providers is set but filecoin.rpc (the chain endpoint) is not");
  }
  if (config.filecoin_public_url.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "cold tier: filecoin.providers is set but filecoin.public_url (where providers "
               "pull deal data from this server) is not");
  }
  // The margin lies between the start delay (a renewal must be able to start before the deal it
  // replaces ends) and the shortest deal minus that delay (else a deal would be "expiring" from
  // its start and renewed again and again).
  constexpr int64_t kShortestDealEpochs = 180 * 2880;  // the market's minimum duration
  if (config.filecoin_renew_margin_epochs <= config.filecoin_start_delay_epochs ||
      config.filecoin_renew_margin_epochs + config.filecoin_start_delay_epochs >=
          kShortestDealEpochs) {
    return Err(ErrorCode::kInvalidArgument,
               "cold tier: filecoin.renew_margin_epochs (" +
                   std::to_string(config.filecoin_renew_margin_epochs) +
                   ") must exceed filecoin.start_delay_epochs (" +
                   std::to_string(config.filecoin_start_delay_epochs) +
                   ": a renewal must be active before the deal it replaces ends) and leave room "
                   "for it within the shortest deal (margin + start delay < " +
                   std::to_string(kShortestDealEpochs) + " epochs, 180 days)");
  }
  auto impl = std::make_unique<Impl>(config, blocks, host);
  const auto network =
      config.filecoin_testnet ? filecoin::Network::kTestnet : filecoin::Network::kMainnet;
  impl->wallet = CAIRN_TRY(OpenRepoWallet(global));
  std::optional<filecoin::Address> wanted;
  if (!config.filecoin_wallet.empty()) {
    wanted = CAIRN_TRY(filecoin::Address::Parse(config.filecoin_wallet));
  }
  auto client = impl->wallet->Resolve(wanted);
  if (!client) {
    return Err(client.error().WithContext(
        "cold tier: the paying wallet (create one with `cairn wallet new`): "));
  }
  impl->client_text = client->ToString(network);
  impl->client = *client;
  impl->chain = std::make_unique<filecoin::chain::ChainClient>(
      impl->rpc_transport,
      filecoin::chain::ChainClientOptions{.url = config.filecoin_rpc,
                                          .token = config.filecoin_rpc_token,
                                          .network = network,
                                          .head_ttl = std::chrono::milliseconds(500)});
  filecoin::chain::SenderOptions sender_options;
  sender_options.poll_interval = std::chrono::milliseconds(500);
  impl->sender = std::make_unique<filecoin::chain::MessageSender>(
      *impl->chain, *impl->wallet, Env::Default(),
      std::filesystem::path(global.repo) / "wallet" / "pending", sender_options);
  impl->network_line = NetworkLine(*impl->chain);
  impl->mk12 = std::make_unique<filecoin::deals::Mk12Client>(impl->mk12_transport);
  impl->deals = std::make_unique<metadata::DealStore>(db, SystemClock::Instance());
  impl->provider_stats = std::make_unique<metadata::ProviderStatsStore>(db);

  filecoin::deals::DealEngineConfig ec;
  const auto defaults = CAIRN_TRY(ServicePolicyOf(config));
  ec.providers = defaults.providers;
  ec.replicas = defaults.replicas;
  ec.duration_days = defaults.duration_days;
  ec.verified = defaults.verified;
  ec.max_price = defaults.max_price;
  ec.piece_size = static_cast<uint64_t>(config.filecoin_piece_size);
  ec.batch_wait = std::chrono::seconds(config.filecoin_batch_wait_seconds);
  ec.public_url = config.filecoin_public_url;
  ec.start_delay_epochs = config.filecoin_start_delay_epochs;
  ec.poll_interval = std::chrono::seconds(config.filecoin_poll_seconds);
  ec.renew_margin_epochs = config.filecoin_renew_margin_epochs;
  ec.reaggregate_below = config.filecoin_reaggregate_below;
  ec.client = *client;
  impl->engine = std::make_unique<filecoin::deals::DealEngine>(
      std::move(ec), *impl->deals, *impl->provider_stats, pins, blocks, *impl->chain, *impl->sender,
      *impl->wallet, *impl->mk12);
  impl->retrieval_mk12 = std::make_unique<filecoin::deals::Mk12Client>(
      impl->mk12_transport,
      filecoin::deals::Mk12ClientOptions{
          .timeout = std::chrono::milliseconds(config.filecoin_retrieval_deadline_ms)});
  impl->endpoints = std::make_unique<filecoin::retrieval::ChainRetrievalEndpoints>(
      *impl->chain, SystemClock::Instance(),
      host != nullptr ? impl->retrieval_mk12.get() : nullptr);
  impl->reader = std::make_unique<filecoin::retrieval::ColdReader>(
      *impl->deals, &events, *impl->endpoints, impl->piece_fetcher, SystemClock::Instance(),
      filecoin::retrieval::ColdReaderOptions{
          .provider_deadline = std::chrono::milliseconds(config.filecoin_retrieval_deadline_ms)});
  impl->held_reader = std::make_unique<HeldOnlyReader>(*impl->reader);
  impl->source = std::make_unique<blockstore::FallbackBlockstore>(blocks, *impl->reader);
  if (config.filecoin_probe_interval_seconds > 0) {
    impl->prober = std::make_unique<filecoin::retrieval::RetrievalProber>(
        *impl->deals, *impl->endpoints, impl->piece_fetcher,
        filecoin::retrieval::ProberOptions{
            .deadline = std::chrono::milliseconds(config.filecoin_retrieval_deadline_ms)},
        std::random_device{}());
  }
  return std::unique_ptr<ColdTier>(new ColdTier(std::move(impl)));
}

void ColdTier::Start() {
  impl_->engine->Start();
  if (!impl_->prober) return;
  Impl* impl = impl_.get();
  impl->probe_thread = std::thread([impl] {
    const auto interval = std::chrono::seconds(impl->config.filecoin_probe_interval_seconds);
    std::unique_lock lock(impl->probe_mu);
    while (!impl->probe_cv.wait_for(lock, interval, [impl] { return impl->probe_stop; })) {
      lock.unlock();
      auto r = impl->prober->Pass([impl] {
        std::lock_guard stop_lock(impl->probe_mu);
        return impl->probe_stop;
      });
      if (!r) log::Warn("cold.probe_pass_failed", {{"error", r.error().message()}});
      lock.lock();
    }
  });
}
ipld::BlockGetter& ColdTier::reader() { return *impl_->reader; }
ipld::BlockGetter& ColdTier::held_reader() { return *impl_->held_reader; }
void ColdTier::Stop() {
  if (impl_ && impl_->probe_thread.joinable()) {
    {
      std::lock_guard lock(impl_->probe_mu);
      impl_->probe_stop = true;
    }
    impl_->probe_cv.notify_all();
    impl_->probe_thread.join();
  }
  if (impl_ && impl_->engine) impl_->engine->Stop();
}

bool ColdTier::Handles(std::string_view path) { return path.rfind(kPiecePrefix, 0) == 0; }

http::Response ColdTier::HandlePiece(const http::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = http::ErrorResponse(
        Error(ErrorCode::kInvalidArgument, "filecoin piece: only GET and HEAD"));
    r.status = 405;
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  std::string uuid = request.path.substr(kPiecePrefix.size());
  std::string token;
  if (auto auth = request.Header("Authorization"); auth && auth->rfind("Bearer ", 0) == 0) {
    token = std::string(auth->substr(7));
  }
  auto opened = impl_->engine->OpenPiece(uuid, token);
  if (!opened) {
    if (opened.error().code() == ErrorCode::kCorruption) {
      log::Error("deals.piece_unservable", {{"deal", uuid}, {"error", opened.error().message()}});
    }
    return http::ErrorResponse(opened.error());
  }
  return PieceResponse(request, opened->view, *impl_->source);
}

std::vector<std::string> ColdTier::BannerLines() const {
  const auto& c = impl_->config;
  // In the network's spelling, as the wallet and the deals are shown (t0… on a test network).
  std::string providers;
  for (const auto& p : c.filecoin_providers) {
    auto address = filecoin::Address::Parse(p);
    providers += (providers.empty() ? "" : ",") +
                 (address ? address->ToString(impl_->chain->options().network) : p);
  }
  return {"cold tier on: " + std::to_string(c.filecoin_replicas) + " deals per piece with " +
              providers + ", paid by " + impl_->client_text + ", chain " + c.filecoin_rpc,
          impl_->network_line,
          "cold tier: providers pull deal data from " + c.filecoin_public_url +
              "/filecoin/piece/<deal>"};
}

namespace {

// attoFIL (or DataCap bytes) as a double, for a gauge: Prometheus samples are floats anyway.
double AsDouble(const filecoin::BigInt& v) { return std::strtod(v.ToString().c_str(), nullptr); }

}  // namespace

void ColdTier::WriteFundsMetrics(PrometheusText& m) {
  std::optional<filecoin::chain::WalletFunds> funds;
  bool refresh = false;
  {
    std::lock_guard lock(impl_->funds_mu);
    const auto now = std::chrono::steady_clock::now();
    if (impl_->funds_at == std::chrono::steady_clock::time_point{} ||
        now - impl_->funds_at > std::chrono::seconds(30)) {
      impl_->funds_at = now;  // claimed: concurrent scrapes use the last answer meanwhile
      refresh = true;
    }
    funds = impl_->funds;
  }
  if (refresh) {  // the chain call runs without the lock; a failure waits 30 s like a success
    auto fresh = impl_->chain->Funds(impl_->client);
    if (fresh) {
      std::lock_guard lock(impl_->funds_mu);
      impl_->funds = *fresh;
      funds = std::move(*fresh);
    } else {
      log::Warn("cold.funds_unavailable", {{"error", fresh.error().message()}});
    }
  }
  if (!funds) return;  // the chain has not answered yet: no sample rather than a wrong one
  const std::string label = "wallet=\"" + impl_->client_text + "\"";
  m.GaugeReal("cairn_wallet_balance_attofil", "The paying wallet's balance, attoFIL.",
              AsDouble(funds->balance), label);
  m.GaugeReal("cairn_market_escrow_attofil", "The paying wallet's storage market escrow, attoFIL.",
              AsDouble(funds->market.escrow), label);
  m.GaugeReal("cairn_market_locked_attofil",
              "Escrow locked by the paying wallet's published deals, attoFIL.",
              AsDouble(funds->market.locked), label);
  m.GaugeReal("cairn_datacap_bytes",
              "The paying wallet's DataCap, bytes (0 when it is not a verified client).",
              funds->datacap ? AsDouble(*funds->datacap) : 0.0, label);
}

void ColdTier::WriteMetrics(PrometheusText& m) {
  auto status = impl_->engine->Status();
  for (const char* state : {"proposing", "accepted", "published", "active", "rejected", "failed",
                            "slashed", "expired"}) {
    auto it = status.deals_by_state.find(state);
    m.Gauge("cairn_deals", "Storage deals by state.",
            it == status.deals_by_state.end() ? 0 : it->second,
            std::string("state=\"") + state + "\"");
  }
  m.Gauge("cairn_deal_aggregates", "Aggregate pieces made for deals.", status.aggregates);
  m.Gauge("cairn_deal_segments_waiting", "Pinned DAGs waiting to be aggregated.",
          status.segments_waiting);
  WriteProviderMetrics(m, status.providers);
  auto reads = impl_->reader->Stats();
  m.Counter("cairn_cold_reads_total", "Blocks read back from providers and verified.", reads.reads);
  m.Counter("cairn_cold_read_bytes_total", "Bytes of blocks read back from providers.",
            reads.bytes);
  m.Counter("cairn_cold_read_misses_total",
            "Blocks asked of the cold tier that no active deal holds.", reads.misses);
  for (const auto& [provider, n] : reads.reads_by_provider) {
    m.Counter("cairn_cold_reads_by_provider_total", "Cold block reads served, by provider.", n,
              "provider=\"" + provider + "\"");
  }
  for (const auto& [provider, n] : reads.failures_by_provider) {
    m.Counter("cairn_cold_read_failures_total",
              "Cold block reads a provider failed (unreachable, wrong bytes, too slow).", n,
              "provider=\"" + provider + "\"");
  }
  if (auto held = impl_->deals->ColdBytesHeld()) {
    m.Gauge("cairn_cold_payload_bytes",
            "Bytes of pinned DAGs (CAR) in aggregates with at least one active deal.",
            held->payload);
    m.Gauge("cairn_cold_stored_bytes",
            "Padded piece bytes summed over active deals (replicas included).", held->stored);
  }
  WriteFundsMetrics(m);
  if (impl_->prober) {
    auto probes = impl_->prober->Stats();
    const char* help = "Retrieval probes of active deals, by outcome.";
    m.Counter("cairn_cold_probes_total", help, probes.ok, "outcome=\"ok\"");
    m.Counter("cairn_cold_probes_total", help, probes.failed, "outcome=\"failed\"");
    m.Counter("cairn_cold_probes_total", help, probes.corrupt, "outcome=\"corrupt\"");
    m.Counter("cairn_cold_probe_replaced_deals_total",
              "Active deals failed by the retrieval probe (and so repaired elsewhere).",
              probes.replaced);
  }
}

std::string ColdTier::HealthJson() {
  auto status = impl_->engine->Status();
  std::string out =
      "{\"state\":\"on\",\"segments_waiting\":" + std::to_string(status.segments_waiting) +
      ",\"aggregates\":" + std::to_string(status.aggregates) + ",\"deals\":{";
  bool first = true;
  for (const auto& [state, n] : status.deals_by_state) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(out, state);
    out += ":" + std::to_string(n);
  }
  out += "},\"skipped_providers\":{";
  first = true;
  for (const auto& [p, reason] : status.skipped_providers) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(out, p);
    out += ":";
    AppendJsonString(out, reason);
  }
  out += "},\"providers\":[";
  first = true;
  for (const auto& p : status.providers) {
    if (!first) out += ",";
    first = false;
    AppendProviderJson(out, p);
  }
  out += "],\"last_error\":";
  AppendJsonString(out, status.last_error);
  out += "}";
  return out;
}

}  // namespace cairn::app
