#include "apps/cairn/service.hpp"

#include <boost/json.hpp>
#include <string>

#include "multiformats/multibase.hpp"

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
  if (path.rfind("/api/v0/", 0) == 0) return KuboRpc(request);
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "no route for " + path));
}

// The Kubo RPC subset. Kubo's RPC takes every call as POST (kubo-rpc-client sends POST);
// anything else is 405, as Kubo answers.
http::Response Service::KuboRpc(const http::Request& request) {
  if (request.method != "POST") {
    http::Response r = http::ErrorResponse(
        Error(ErrorCode::kInvalidArgument, "rpc: " + request.method + " not allowed; use POST"));
    r.status = 405;
    r.SetHeader("Allow", "POST");
    return r;
  }
  namespace json = boost::json;
  http::Response r;
  r.SetHeader("Content-Type", "application/json");
  if (request.path == "/api/v0/version") {
    json::object o;
    o["Version"] = "0.1.0";
    o["Commit"] = "";
    o["Repo"] = "cairn";
    o["System"] = "amd64/linux";
    o["Golang"] = "";
    r.body = json::serialize(o) + "\n";
    return r;
  }
  if (request.path == "/api/v0/id") {
    const auto& id = impl_->ctx.identity;
    json::object o;
    o["ID"] = id.peer_id().ToString();
    Bytes pub = id.PublicKeyProto();
    std::string b64 = multiformats::EncodeBase(multiformats::Multibase::kBase64, pub);
    while (b64.size() % 4 != 0) b64.push_back('=');  // Kubo prints padded std base64
    o["PublicKey"] = b64;
    json::array addrs;
    for (const auto& d : impl_->ctx.delegates) addrs.emplace_back(d);
    o["Addresses"] = std::move(addrs);
    o["AgentVersion"] = "cairn/0.1.0";
    o["Protocols"] = json::array();
    r.body = json::serialize(o) + "\n";
    return r;
  }
  return http::ErrorResponse(Error(ErrorCode::kNotFound, "rpc: no command " + request.path));
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
