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
  m.Counter("cairn_hot_evictions_total", "Pins evicted from the hot tier.", s.evicted_pins);
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

}  // namespace

http::Response Service::Metrics() const {
  PrometheusText m;
  if (server_stats_) WriteHttpMetrics(m, *server_stats_);
  WritePinMetrics(m, impl_->ctx.pin_service, impl_->ctx.pins);
  WriteStoreMetrics(m, impl_->ctx.blocks, impl_->ctx.block_cache);
  if (impl_->ctx.cold_tier) impl_->ctx.cold_tier->WriteMetrics(m);
  if (impl_->ctx.hot_cache) WriteHotCacheMetrics(m, *impl_->ctx.hot_cache);
  http::Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4");
  r.body = m.Take();
  return r;
}

}  // namespace cairn::app
