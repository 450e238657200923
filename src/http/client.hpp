// A small blocking HTTP/1.1 client (Boost.Beast) for fetching from trustless gateways and
// storage providers: http:// and https:// (TLS with system CA verification and SNI), a deadline
// for the whole exchange, a cap on the body size, and optional streaming of the body to a sink.
// Each call opens its own connection on its own io_context, so it is safe from any thread and
// never touches the server's I/O threads. No redirects are followed (callers see 3xx).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "http/http_types.hpp"

namespace cairn::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;
  std::string target;  // path and query, starting with '/'
};

// Parses an absolute http(s) URL. InvalidArgument otherwise.
Result<Url> ParseUrl(std::string_view text);

struct ClientResponse;

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // whole exchange
  uint64_t max_body_bytes = 64ull << 20;     // longer bodies fail with ResourceExhausted
  // When set, called once the status and headers are in (the response's body still empty),
  // before any body byte is read; an error it returns stops the exchange and is returned (a
  // caller that streams the body to a sink refuses a wrong status here, before its sink sees
  // the error page as data).
  std::function<Result<void>(const ClientResponse&)> on_head;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;  // empty when a sink consumed it
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Receives the body in pieces; returning an error aborts the exchange with that error.
using BodySink = std::function<Result<void>(ByteSpan)>;

// Performs one exchange. Unavailable when the host cannot be reached (DNS, refused, TLS),
// Timeout when the deadline passes, ResourceExhausted when the body exceeds the cap. A non-2xx
// status is not an error: callers decide.
Result<ClientResponse> Fetch(const ClientRequest& request, const BodySink& sink = nullptr);

}  // namespace cairn::http
