#include "apps/cairn/service.hpp"

#include <string>

#include "apps/cairn/cold_tier.hpp"

namespace cairn::app {

struct Service::Impl {
  explicit Impl(ServiceContext c) : ctx(std::move(c)) {}
  ServiceContext ctx;
};

Service::Service(ServiceContext context) : impl_(std::make_unique<Impl>(std::move(context))) {}
Service::~Service() = default;

http::Response Service::Handle(const http::Request& request) {
  const std::string& path = request.path;
  if (path == "/healthz") {
    auto* cold = impl_->ctx.cold_tier;
    http::Response r = http::JsonResponse(
        200, "{\"status\":\"ok\",\"cold_tier\":" +
                 (cold ? cold->HealthJson() : std::string("{\"state\":\"off\"}")) + "}\n");
    r.SetHeader("Cache-Control", "no-store");
    return r;
  }
  if (path == "/metrics") return Metrics();
  auto& ctx = impl_->ctx;
  if (api::KuboRpc::Handles(path)) return ctx.kubo_rpc.Handle(request);
  if (api::PinningApi::Handles(path)) return ctx.pinning_api.Handle(request);
  if (api::AdminApi::Handles(path)) return ctx.admin_api.Handle(request);
  if (ctx.routing_api && api::RoutingApi::Handles(path)) return ctx.routing_api->Handle(request);
  if (ctx.cold_tier && ColdTier::Handles(path)) return ctx.cold_tier->HandlePiece(request);
  if (path.rfind("/ipfs/", 0) == 0 || path == "/ipfs") {
    if (!ctx.gateway_public) {
      auto who = api::Authorize(ctx.accounts, ctx.clock, request, std::nullopt);
      if (!who) return http::ErrorResponse(who.error());
    }
    return ctx.gateway.Handle(request);
  }
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "no route for " + path));
}

std::optional<http::Response> Service::Admit(const http::Request& request) {
  const std::string& path = request.path;
  bool rpc = api::KuboRpc::Handles(path);
  if (!rpc && !api::PinningApi::Handles(path) && !api::AdminApi::Handles(path)) return std::nullopt;
  auto& ctx = impl_->ctx;
  auto who = api::Authorize(ctx.accounts, ctx.clock, request, std::nullopt);
  if (who) return std::nullopt;
  if (path == "/api/v0/version" || path == "/api/v0/id") return std::nullopt;  // need no token
  http::Response r = rpc ? api::KuboRpc::ErrorFor(who.error()) : http::ErrorResponse(who.error());
  r.SetHeader("WWW-Authenticate", "Bearer");
  return r;
}

std::unique_ptr<http::BodyConsumer> Service::StreamUpload(const http::Request& request) {
  if (!api::KuboRpc::Handles(request.path)) return nullptr;
  return impl_->ctx.kubo_rpc.StreamUpload(request);
}

http::Response Service::Metrics() const {
  std::string out;
  // One sample in the Prometheus text format; `header` adds HELP and TYPE (first sample only).
  auto sample = [&out](const char* type, const char* name, const char* help,
                       const std::string& labels, uint64_t value, bool header) {
    if (header) {
      out += std::string("# HELP ") + name + " " + help + "\n";
      out += std::string("# TYPE ") + name + " " + type + "\n";
    }
    out += name + (labels.empty() ? std::string() : "{" + labels + "}") + " " +
           std::to_string(value) + "\n";
  };
  auto counter = [&sample](const char* name, const char* help, const std::string& labels,
                           uint64_t value, bool header) {
    sample("counter", name, help, labels, value, header);
  };
  auto gauge = [&sample](const char* name, const char* help, const std::string& labels,
                         uint64_t value, bool header) {
    sample("gauge", name, help, labels, value, header);
  };
  if (server_stats_) {
    const auto& s = *server_stats_;
    counter("cairn_http_requests_total", "HTTP requests received.", "", s.requests, true);
    counter("cairn_http_responses_total", "HTTP responses by status class.", "class=\"2xx\"",
            s.responses_2xx, true);
    counter("cairn_http_responses_total", "", "class=\"3xx\"", s.responses_3xx, false);
    counter("cairn_http_responses_total", "", "class=\"4xx\"", s.responses_4xx, false);
    counter("cairn_http_responses_total", "", "class=\"5xx\"", s.responses_5xx, false);
    counter("cairn_http_sent_bytes_total", "Bytes written to HTTP clients.", "", s.bytes_sent,
            true);
    counter("cairn_http_handler_micros_total",
            "Microseconds spent in request handlers.", "", s.handler_micros, true);
    gauge("cairn_http_open_connections", "Open HTTP connections.", "", s.open_connections, true);
  }
  const auto& ps = impl_->ctx.pin_service.stats();
  counter("cairn_pins_pinned_total", "Pins that reached pinned.", "", ps.pinned, true);
  counter("cairn_pins_failed_total", "Pins that failed.", "", ps.failed, true);
  counter("cairn_pin_retries_total", "Pin fetch retries.", "", ps.retries, true);
  counter("cairn_blocks_fetched_total", "Blocks fetched from gateways and origins.", "",
          ps.blocks_fetched, true);
  counter("cairn_gc_blocks_removed_total", "Blocks removed by garbage collection.", "",
          ps.gc_blocks_removed, true);
  if (auto by_status = impl_->ctx.pins.CountAllByStatus()) {
    bool first = true;
    for (auto status : {metadata::PinStatus::kQueued, metadata::PinStatus::kPinning,
                        metadata::PinStatus::kPinned, metadata::PinStatus::kFailed}) {
      gauge("cairn_pins", "Pins of all accounts by status.",
            "status=\"" + std::string(metadata::PinStatusName(status)) + "\"",
            (*by_status)[static_cast<size_t>(status)], first);
      first = false;
    }
    gauge("cairn_pin_queue_depth", "Pins waiting for or held by a worker (queued + pinning).", "",
          (*by_status)[static_cast<size_t>(metadata::PinStatus::kQueued)] +
              (*by_status)[static_cast<size_t>(metadata::PinStatus::kPinning)],
          true);
  }
  const metadata::GroupCommitStats commits = impl_->ctx.pins.commit_stats();
  counter("cairn_metadata_commits_total",
          "Durable metadata transactions (each one fsync), shared by grouped writes.", "",
          commits.commits, true);
  counter("cairn_metadata_writes_total", "Metadata writes committed (creates, claims, updates).",
          "", commits.writes, true);
  counter("cairn_metadata_writes_failed_total", "Metadata writes that returned an error.", "",
          commits.failed, true);
  auto store = impl_->ctx.blocks.Stats();
  gauge("cairn_store_blocks", "Blocks in the hot store.", "", store.blocks, true);
  gauge("cairn_store_live_bytes", "Bytes of live block records in the hot store.", "",
        store.live_bytes, true);
  gauge("cairn_store_disk_bytes", "Bytes of the hot store's segment files on disk.", "",
        store.disk_bytes, true);
  gauge("cairn_store_segments", "Segment files of the hot store.", "", store.segments, true);
  gauge("cairn_pin_retry_backlog", "Pins waiting for a retry.", "",
        impl_->ctx.pin_service.retry_backlog(), true);
  if (impl_->ctx.block_cache) {
    auto cache = impl_->ctx.block_cache->stats();
    counter("cairn_block_cache_hits_total", "Block reads answered from the in-memory cache.", "",
            cache.hits, true);
    counter("cairn_block_cache_misses_total", "Block reads that went to the store.", "",
            cache.misses, true);
    gauge("cairn_block_cache_bytes", "Bytes of verified blocks held in memory.", "", cache.bytes,
          true);
  }
  http::Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4");
  r.body = std::move(out);
  return r;
}

}  // namespace cairn::app
