#include "apps/cairn/service.hpp"

#include <string>


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
    http::Response r;
    r.SetHeader("Content-Type", "application/json");
    r.SetHeader("Cache-Control", "no-store");
    r.body = "{\"status\":\"ok\"}\n";
    return r;
  }
  if (path == "/metrics") return Metrics();
  auto& ctx = impl_->ctx;
  if (api::KuboRpc::Handles(path)) return ctx.kubo_rpc.Handle(request);
  if (api::PinningApi::Handles(path)) return ctx.pinning_api.Handle(request);
  if (path.rfind("/ipfs/", 0) == 0 || path == "/ipfs") {
    if (!ctx.gateway_public) {
      auto token = api::BearerToken(request.Header("Authorization"));
      if (!token) return http::ErrorResponse(token.error());
      auto who = ctx.accounts.Authenticate(*token, ctx.clock.WallMicros());
      if (!who) return http::ErrorResponse(who.error());
    }
    return ctx.gateway.Handle(request);
  }
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "no route for " + path));
}

std::unique_ptr<http::BodyConsumer> Service::StreamUpload(const http::Request& request) {
  if (!api::KuboRpc::Handles(request.path)) return nullptr;
  return impl_->ctx.kubo_rpc.StreamUpload(request);
}

http::Response Service::Metrics() const {
  std::string out;
  auto counter = [&out](const char* name, const char* help, const std::string& labels,
                        uint64_t value, bool header) {
    if (header) {
      out += std::string("# HELP ") + name + " " + help + "\n";
      out += std::string("# TYPE ") + name + " counter\n";
    }
    out += name + (labels.empty() ? std::string() : "{" + labels + "}") + " " +
           std::to_string(value) + "\n";
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
    out += "# HELP cairn_http_open_connections Open HTTP connections.\n";
    out += "# TYPE cairn_http_open_connections gauge\n";
    out += "cairn_http_open_connections " + std::to_string(s.open_connections.load()) + "\n";
  }
  const auto& ps = impl_->ctx.pin_service.stats();
  counter("cairn_pins_pinned_total", "Pins that reached pinned.", "", ps.pinned, true);
  counter("cairn_pins_failed_total", "Pins that failed.", "", ps.failed, true);
  counter("cairn_pin_retries_total", "Pin fetch retries.", "", ps.retries, true);
  counter("cairn_blocks_fetched_total", "Blocks fetched from gateways and origins.", "",
          ps.blocks_fetched, true);
  counter("cairn_gc_blocks_removed_total", "Blocks removed by garbage collection.", "",
          ps.gc_blocks_removed, true);
  out += "# HELP cairn_pin_retry_backlog Pins waiting for a retry.\n";
  out += "# TYPE cairn_pin_retry_backlog gauge\n";
  out += "cairn_pin_retry_backlog " + std::to_string(impl_->ctx.pin_service.retry_backlog()) + "\n";
  http::Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4");
  r.body = std::move(out);
  return r;
}

}  // namespace cairn::app
