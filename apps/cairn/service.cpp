#include "apps/cairn/service.hpp"

#include <string>

namespace cairn::app {

struct Service::Impl {
  explicit Impl(blockstore::Blockstore& b) : blocks(b) {}
  blockstore::Blockstore& blocks;
};

Service::Service(blockstore::Blockstore& blocks) : impl_(std::make_unique<Impl>(blocks)) {}
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
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "no route for " + path));
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
  http::Response r;
  r.SetHeader("Content-Type", "text/plain; version=0.0.4");
  r.body = std::move(out);
  return r;
}

}  // namespace cairn::app
