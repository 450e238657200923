// A small blocking HTTP/1.1 client (Boost.Beast) for fetching from trustless gateways and
// storage providers: http:// and https:// (TLS with system CA verification and SNI), a deadline
// for the whole exchange, a cap on the body size, and optional streaming of the body to a sink.
// Each call runs on its own io_context, so it is safe from any thread and never touches the
// server's I/O threads. A call opens its own connection, or, given a ConnectionPool, reuses one
// kept alive by an earlier call to the same http:// origin. No redirects are followed (callers
// see 3xx).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
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

// Kept-alive HTTP/1.1 connections to plain http:// origins (a storage provider's /piece), shared
// by the calls that pass it (ClientRequest::pool). Fetch gives a connection back only after a
// complete response that did not say `Connection: close` and left no stray bytes; a connection
// that failed, was cut short (an error, a refused head, a sink that said no) or was refused by
// the server is closed. A connection is reused at most `idle_timeout` after its last response
// (servers close idle ones: Node after 5 s), and no longer than the server's own `Keep-Alive:
// timeout=N` less 250 ms when it sends one; when a reused connection turns out to be closed
// before any byte of the response came, Fetch retries the request once on a new connection
// (so only requests that may be sent twice, as the GETs of a range read, should use a pool).
// At most `max_idle_per_origin` and `max_idle` connections are kept (the oldest are closed).
// https:// requests do not use the pool. Thread-safe; closes its idle connections when destroyed.
class ConnectionPool {
 public:
  struct Options {
    size_t max_idle_per_origin = 8;
    size_t max_idle = 64;
    std::chrono::milliseconds idle_timeout{2000};
  };
  ConnectionPool() : ConnectionPool(Options{}) {}
  explicit ConnectionPool(Options options) : options_(options) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A connected socket (its descriptor, now owned by the caller) to `origin` ("host:port") kept
  // since at most idle_timeout, most recent first; nullopt when none.
  struct Connection {
    int fd = -1;
    bool v6 = false;
  };
  std::optional<Connection> Take(const std::string& origin);
  // Keeps `connection` (ownership passes to the pool) for a later Take, for at most idle_timeout
  // and at most `server_keep` (the server's Keep-Alive timeout less a margin), or closes it when
  // the pool is full or `server_keep` is not positive.
  void Give(const std::string& origin, Connection connection,
            std::optional<std::chrono::milliseconds> server_keep = std::nullopt);

  size_t IdleCount() const;
  uint64_t Reused() const;  // connections handed out again by Take since construction

 private:
  struct Idle {
    Connection connection;
    std::chrono::steady_clock::time_point since;
    std::chrono::steady_clock::time_point expires;
  };
  void CloseExpiredLocked(std::chrono::steady_clock::time_point now);  // REQUIRES(mu_)

  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Idle>> idle_;  // by origin, oldest first; GUARDED_BY(mu_)
  size_t idle_count_ = 0;                         // GUARDED_BY(mu_)
  uint64_t reused_ = 0;                           // GUARDED_BY(mu_)
};

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
  // Kept-alive connections to use and give back (see ConnectionPool); null: a connection of
  // this call's own, closed at its end. Must outlive the call.
  ConnectionPool* pool = nullptr;
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
