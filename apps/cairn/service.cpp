#include "apps/cairn/service.hpp"

#include <string>

#include "apps/cairn/cold_tier.hpp"
#include "apps/cairn/prometheus_text.hpp"
#include "apps/cairn/router.hpp"

namespace cairn::app {

struct Service::Impl {
  explicit Impl(ServiceContext c) : ctx(std::move(c)) {}
  ServiceContext ctx;
};

Service::Service(ServiceContext context) : impl_(std::make_unique<Impl>(std::move(context))) {}
Service::~Service() = default;

http::Response Service::Handle(const http::Request& request) {
  auto& ctx = impl_->ctx;
  switch (RouteFor(request.path)) {
    case Surface::kHealth: {
      http::Response r = http::JsonResponse(
          200,
          "{\"status\":\"ok\",\"cold_tier\":" +
              (ctx.cold_tier ? ctx.cold_tier->HealthJson() : std::string("{\"state\":\"off\"}")) +
              "}\n");
      r.SetHeader("Cache-Control", "no-store");
      return r;
    }
    case Surface::kMetrics:
      return Metrics();
    case Surface::kKuboRpc:
      return ctx.kubo_rpc.Handle(request);
    case Surface::kPinning:
      return ctx.pinning_api.Handle(request);
    case Surface::kAdmin:
      return ctx.admin_api.Handle(request);
    case Surface::kRouting:
      if (!ctx.routing_api) break;
      return ctx.routing_api->Handle(request);
    case Surface::kGateway:
      if (!ctx.gateway_public) {
        auto who = api::Authorize(ctx.accounts, ctx.clock, request, std::nullopt);
        if (!who) return http::ErrorResponse(who.error());
      }
      return ctx.gateway.Handle(request);
    case Surface::kPiece:
      if (!ctx.cold_tier) break;
      return ctx.cold_tier->HandlePiece(request);
    case Surface::kNone:
      break;
  }
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "no route for " + request.path));
}

std::optional<http::Response> Service::Admit(const http::Request& request) {
  Surface surface = RouteFor(request.path);
  if (!NeedsTokenAtAdmission(surface, request.path)) return std::nullopt;
  auto& ctx = impl_->ctx;
  auto who = api::Authorize(ctx.accounts, ctx.clock, request, std::nullopt);
  if (who) return std::nullopt;
  http::Response r = surface == Surface::kKuboRpc ? api::KuboRpc::ErrorFor(who.error())
                                                  : http::ErrorResponse(who.error());
  r.SetHeader("WWW-Authenticate", "Bearer");
  return r;
}

std::unique_ptr<http::BodyConsumer> Service::StreamUpload(const http::Request& request) {
  if (!api::KuboRpc::Handles(request.path)) return nullptr;
  return impl_->ctx.kubo_rpc.StreamUpload(request);
}

namespace {

void WriteHttpMetrics(PrometheusText& m, const http::ServerStats& s) {
  m.Counter("cairn_http_requests_total", "HTTP requests received.", s.requests);
  m.Counter("cairn_http_responses_total", "HTTP responses by status class.", s.responses_2xx,
            "class=\"2xx\"");
  m.Counter("cairn_http_responses_total", "", s.responses_3xx, "class=\"3xx\"");
  m.Counter("cairn_http_responses_total", "", s.responses_4xx, "class=\"4xx\"");
  m.Counter("cairn_http_responses_total", "", s.responses_5xx, "class=\"5xx\"");
  m.Counter("cairn_http_sent_bytes_total", "Bytes written to HTTP clients.", s.bytes_sent);
  m.Counter("cairn_http_handler_micros_total", "Microseconds spent in request handlers.",
            s.handler_micros);
  m.Gauge("cairn_http_open_connections", "Open HTTP connections.", s.open_connections);
}

void WritePinMetrics(PrometheusText& m, const pinning::PinService& service,
                     metadata::PinStore& pins) {
  const auto& ps = service.stats();
  m.Counter("cairn_pins_pinned_total", "Pins that reached pinned.", ps.pinned);
  m.Counter("cairn_pins_failed_total", "Pins that failed.", ps.failed);
  m.Counter("cairn_pin_retries_total", "Pin fetch retries.", ps.retries);
  m.Counter("cairn_blocks_fetched_total", "Blocks fetched from gateways and origins.",
            ps.blocks_fetched);
  m.Counter("cairn_gc_blocks_removed_total", "Blocks removed by garbage collection.",
            ps.gc_blocks_removed);
  if (auto by_status = pins.CountAllByStatus()) {
    for (auto status : {metadata::PinStatus::kQueued, metadata::PinStatus::kPinning,
                        metadata::PinStatus::kPinned, metadata::PinStatus::kFailed}) {
      m.Gauge("cairn_pins", "Pins of all accounts by status.",
              (*by_status)[static_cast<size_t>(status)],
              "status=\"" + std::string(metadata::PinStatusName(status)) + "\"");
    }
    m.Gauge("cairn_pin_queue_depth", "Pins waiting for or held by a worker (queued + pinning).",
            (*by_status)[static_cast<size_t>(metadata::PinStatus::kQueued)] +
                (*by_status)[static_cast<size_t>(metadata::PinStatus::kPinning)]);
  }
  m.Gauge("cairn_pin_retry_backlog", "Pins waiting for a retry.", service.retry_backlog());
  const metadata::GroupCommitStats commits = pins.commit_stats();
  m.Counter("cairn_metadata_commits_total",
            "Durable metadata transactions (each one fsync), shared by grouped writes.",
            commits.commits);
  m.Counter("cairn_metadata_writes_total", "Metadata writes committed (creates, claims, updates).",
            commits.writes);
  m.Counter("cairn_metadata_writes_failed_total", "Metadata writes that returned an error.",
            commits.failed);
}

void WriteStoreMetrics(PrometheusText& m, blockstore::LogBlockstore& blocks,
                       const blockstore::CachedBlockstore* cache) {
  auto store = blocks.Stats();
  m.Gauge("cairn_store_blocks", "Blocks in the hot store.", store.blocks);
  m.Gauge("cairn_store_live_bytes", "Bytes of live block records in the hot store.",
          store.live_bytes);
  m.Gauge("cairn_store_disk_bytes", "Bytes of the hot store's segment files on disk.",
          store.disk_bytes);
  m.Gauge("cairn_store_segments", "Segment files of the hot store.", store.segments);
  if (cache) {
    auto c = cache->stats();
    m.Counter("cairn_block_cache_hits_total", "Block reads answered from the in-memory cache.",
              c.hits);
    m.Counter("cairn_block_cache_misses_total", "Block reads that went to the store.", c.misses);
    m.Gauge("cairn_block_cache_bytes", "Bytes of verified blocks held in memory.", c.bytes);
  }
}

// The hot tier as a cache: its limit, what it evicted and brought back, and per account the pins
// that are cold-only now.
void WriteHotCacheMetrics(PrometheusText& m, const pinning::HotCache& cache) {
  const auto& s = cache.stats();
  m.Gauge("cairn_hot_max_bytes", "hot.max_bytes (0 = unlimited).", cache.options().max_bytes);
  m.Counter("cairn_hot_evictions_total",
            "Pin segments (a pin, or one CAR shard of it) evicted from the hot tier.",
            s.evicted_pins);
  m.Counter("cairn_hot_evicted_blocks_total", "Blocks removed from the hot tier by eviction.",
            s.evicted_blocks);
  m.Counter("cairn_hot_evicted_bytes_total", "Bytes removed from the hot tier by eviction.",
            s.evicted_bytes);
  m.Counter("cairn_hot_kept_shared_blocks_total",
            "Blocks of evicted pins kept hot because another pin needs them.",
            s.kept_shared_blocks);
  m.Counter("cairn_hot_rewarmed_pins_total", "Evicted pins wholly hot again through reads.",
            s.rewarmed_pins);
  m.Counter("cairn_hot_eviction_passes_total", "Passes of the hot cache.", s.passes);
  m.Counter("cairn_hot_eviction_passes_skipped_total",
            "Passes skipped because garbage collection was running.", s.skipped_passes);
  for (const auto& [account, bytes] : cache.EvictedBytesByAccount()) {
    m.Counter("cairn_hot_account_evicted_bytes_total",
              "Bytes evicted from the hot tier per account since start.", bytes,
              "account=\"" + std::to_string(account) + "\"");
  }
  for (const auto& u : cache.ColdOnlyUsage()) {
    const std::string label = "account=\"" + std::to_string(u.account_id) + "\"";
    m.Gauge("cairn_hot_account_cold_only_pins", "Pins served from Filecoin only, per account.",
            u.pins, label);
    m.Gauge("cairn_hot_account_cold_only_bytes",
            "CAR bytes of the pins served from Filecoin only, per account.", u.bytes, label);
  }
}

void WriteBitswapMetrics(PrometheusText& m, const P2pBitswap& p2p) {
  const auto& s = p2p.node().server().stats();
  m.Counter("cairn_bitswap_server_messages_sent_total", "Bitswap messages sent to peers.",
            s.messages_sent);
  m.Counter("cairn_bitswap_server_blocks_sent_total", "Blocks served over bitswap.", s.blocks_sent);
  m.Counter("cairn_bitswap_server_block_bytes_sent_total", "Block bytes served over bitswap.",
            s.block_bytes_sent);
  m.Counter("cairn_bitswap_server_haves_sent_total", "HAVE answers sent.", s.haves_sent);
  m.Counter("cairn_bitswap_server_dont_haves_sent_total", "DONT_HAVE answers sent.",
            s.dont_haves_sent);
  m.Counter("cairn_bitswap_server_wants_dropped_total", "Wants dropped over a peer's ledger limit.",
            s.wants_dropped);
  m.Counter("cairn_bitswap_server_refused_total",
            "Wants refused because the block is not pinned content.", s.refused_by_policy);
  m.Counter("cairn_bitswap_server_send_failures_total", "Bitswap messages that failed to send.",
            s.send_failures);
  const auto& c = p2p.node().client().stats();
  m.Counter("cairn_bitswap_client_blocks_received_total",
            "Wanted blocks received over bitswap, verified.", c.blocks_received);
  m.Counter("cairn_bitswap_client_duplicate_blocks_total", "Blocks received twice.",
            c.duplicate_blocks);
  m.Counter("cairn_bitswap_client_unwanted_blocks_total", "Blocks received that nobody wanted.",
            c.unwanted_blocks);
  m.Counter("cairn_bitswap_client_unverifiable_blocks_total",
            "Blocks received that could not be verified (dropped).", c.unverifiable_blocks);
  m.Counter("cairn_bitswap_client_haves_total", "HAVE answers received.", c.haves);
  m.Counter("cairn_bitswap_client_dont_haves_total", "DONT_HAVE answers received.", c.dont_haves);
  m.Counter("cairn_bitswap_client_timeouts_total", "Wants that timed out at a peer.", c.timeouts);
}

void WriteDhtMetrics(PrometheusText& m, P2pDht& dht) {
  const auto& s = dht.node().stats();
  m.Gauge("cairn_dht_routing_table_peers", "Peers in the Kademlia routing table.",
          s.routing_table_size);
  m.Counter("cairn_dht_lookups_total", "Iterative DHT lookups run.", s.lookups);
  m.Counter("cairn_dht_rpcs_sent_total", "DHT requests sent to peers.", s.rpcs_sent);
  m.Counter("cairn_dht_rpc_failures_total", "DHT requests that failed or timed out.",
            s.rpc_failures);
  m.Counter("cairn_dht_requests_served_total", "DHT requests answered (server mode).",
            s.requests_served);
  m.Counter("cairn_dht_requests_refused_total", "DHT requests refused.", s.requests_refused);
  m.Counter("cairn_dht_provider_records_sent_total", "ADD_PROVIDER records sent.",
            s.provider_records_sent);
  const auto& r = dht.reprovider().totals();
  m.Counter("cairn_dht_reprovide_passes_total", "Full reprovide passes over the pinned roots.",
            r.passes);
  m.Counter("cairn_dht_provided_keys_total", "Pinned roots provided (new and reprovided).", r.keys);
  m.Counter("cairn_dht_provide_regions_total",
            "Key-space regions provided (one closest-peers lookup each).", r.regions);
  m.Counter("cairn_dht_provide_records_total", "Provider records peers took.", r.records);
  m.Counter("cairn_dht_provide_failed_keys_total",
            "Keys whose region's lookup found no peer to provide to.", r.failed_keys);
}

}  // namespace

http::Response Service::Metrics() const {
  PrometheusText m;
  if (server_stats_) WriteHttpMetrics(m, *server_stats_);
  WritePinMetrics(m, impl_->ctx.pin_service, impl_->ctx.pins);
  WriteStoreMetrics(m, impl_->ctx.blocks, impl_->ctx.block_cache);
  if (impl_->ctx.cold_tier) impl_->ctx.cold_tier->WriteMetrics(m);
  if (impl_->ctx.hot_cache) WriteHotCacheMetrics(m, *impl_->ctx.hot_cache);
  if (impl_->ctx.bitswap) WriteBitswapMetrics(m, *impl_->ctx.bitswap);
  if (impl_->ctx.dht) WriteDhtMetrics(m, *impl_->ctx.dht);
  http::Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4");
  r.body = m.Take();
  return r;
}

}  // namespace cairn::app
