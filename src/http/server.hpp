// HttpServer: HTTP/1.1 on Boost.Beast with C++20 coroutines. One listener, keep-alive sessions,
// each a read–handle–write loop with a per-request read deadline and a header/body size limit.
// Each I/O thread runs its own event loop; a connection stays on the thread that accepted it
// (connections are dealt out in turn), and its handler runs there. A handler must not block for
// long: while it runs, the other connections of its thread wait (slow work goes in a
// Response::deferred). Streamed bodies are pulled from Response::stream chunk by chunk. HEAD
// requests get the GET response without the body. Stop() stops accepting, lets in-flight responses
// finish (bounded by a grace period) and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "http/http_types.hpp"

namespace cairn::http {

// Receives a request body chunk by chunk (uploads too large to buffer). Created per request by a
// StreamHandler; OnData runs on the I/O thread as data arrives; Finish gives the response once the
// whole body was delivered. When OnData fails, its error becomes the response and the connection
// is closed (the rest of the body is not read).
class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  virtual Result<void> OnData(ByteSpan chunk) = 0;
  virtual Response Finish() = 0;
};

// Decides, from a request's headers (body empty), whether its body is streamed: returns a
// consumer to stream it, or nullptr to buffer it (up to max_body_bytes) and call the Handler.
using StreamHandler = std::function<std::unique_ptr<BodyConsumer>(const Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                               // 0 = any free port
  size_t threads = 2;                              // I/O threads
  uint64_t max_body_bytes = 1 << 20;               // larger buffered bodies get 413
  uint64_t max_stream_bytes = 64ull << 30;         // larger streamed bodies get 413
  std::chrono::seconds read_timeout{30};           // per request (headers and body)
  std::chrono::seconds write_timeout{300};         // per response write step
  std::chrono::milliseconds shutdown_grace{5000};  // Stop() waits this long for sessions
  std::string server_header = "cairn";
  // Open connections at most (0 = no limit of our own). The limit is also kept below the
  // process's open-file limit (RLIMIT_NOFILE less `reserved_fds` for the store, database and
  // spool files). A connection beyond it is answered 503 with Retry-After and closed, so the
  // server sheds load before accept() fails with EMFILE.
  size_t max_connections = 0;
  size_t reserved_fds = 64;
  // Called with a request's headers (body not yet read) when the request has a body. A response
  // returned is sent at once instead of reading the body (an unauthenticated upload or POST is
  // refused before anything is buffered), and the connection is closed after reading and
  // discarding at most 64 KiB of the body for up to 1 s (so the client can read the answer).
  std::function<std::optional<Response>(const Request&)> admit;
};

struct ServerStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_2xx{0};
  std::atomic<uint64_t> responses_3xx{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> connections_shed{0};  // answered 503 at the connection limit
  std::atomic<uint64_t> accept_errors{0};     // accept() failures (EMFILE, ENFILE, ENOBUFS, …)
  std::atomic<uint64_t> handler_micros{0};    // total time spent in the handler
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler, StreamHandler stream_handler = nullptr);
  ~HttpServer();  // calls Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound port. IoError when the address
  // cannot be bound (in use, bad host). An accept() that fails (EMFILE and the like) is retried
  // after a backoff (10 ms doubling to 1 s, reset by the next success), never in a busy loop.
  Result<uint16_t> Start();
  // The connection limit in force (ServerOptions::max_connections bounded by RLIMIT_NOFILE);
  // valid after Start().
  size_t connection_limit() const;
  // Idempotent. Returns when every I/O thread has exited.
  void Stop();

  const ServerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
