#include "http/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"

namespace cairn::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {
// Suspends the session until a deferred response completes (Response::deferred), then resumes
// it on `executor` (the session's); the I/O thread is free meanwhile. Deliberately not a
// coroutine itself: g++ 12 destroys a by-value std::function parameter of a coroutine twice.
template <typename Executor>
net::awaitable<Response> AwaitDeferred(std::function<void(std::function<void(Response)>)> start,
                                       Executor executor) {
  return net::async_initiate<decltype(net::use_awaitable), void(Response)>(
      [start = std::move(start), executor](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared, executor](Response response) {
          net::post(executor, [shared, response = std::move(response)]() mutable {
            auto handler = std::move(*shared);  // completion handlers are invoked as rvalues
            std::move(handler)(std::move(response));
          });
        });
      },
      net::use_awaitable);
}

// Sessions suspended until their streamed body's next piece is ready. Once the event loops have
// stopped, Stop() hands each one back to its loop (ResumeAll), where it is destroyed with the
// loop, its stream cancelling and joining the producer; without this, a parked session would be
// owned only by its stream's wake callback and never destroyed.
struct ParkedStreams {
  std::mutex mu;
  bool stopping = false;                                       // GUARDED_BY(mu)
  uint64_t next_id = 0;                                        // GUARDED_BY(mu)
  std::unordered_map<uint64_t, std::function<void()>> resume;  // GUARDED_BY(mu)

  void ResumeAll() {
    std::unordered_map<uint64_t, std::function<void()>> all;
    {
      std::lock_guard lock(mu);
      stopping = true;
      all.swap(resume);
    }
    for (auto& [id, r] : all) r();
  }
};

// Suspends the session until `stream` has its next piece ready (BodyStream::ReadyOrNotify), then
// resumes it on `executor`: a producer that is behind does not hold the I/O thread. Resumed once,
// by the stream or by ParkedStreams::ResumeAll, whichever comes first.
template <typename Executor>
net::awaitable<void> AwaitStreamReady(BodyStream& stream, Executor executor,
                                      const std::shared_ptr<ParkedStreams>& parked) {
  return net::async_initiate<decltype(net::use_awaitable), void()>(
      [&stream, executor, parked](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        std::function<void()> resume = [shared, executor] {
          net::post(executor, [shared]() mutable {
            auto handler = std::move(*shared);
            std::move(handler)();
          });
        };
        uint64_t id;
        {
          std::lock_guard lock(parked->mu);
          if (parked->stopping) return resume();
          id = parked->next_id++;
          parked->resume.emplace(id, std::move(resume));
        }
        auto wake = [parked, id] {
          std::function<void()> r;
          {
            std::lock_guard lock(parked->mu);
            auto it = parked->resume.find(id);
            if (it == parked->resume.end()) return;  // ResumeAll came first
            r = std::move(it->second);
            parked->resume.erase(it);
          }
          r();
        };
        if (stream.ReadyOrNotify(wake)) wake();  // became ready in between
      },
      net::use_awaitable);
}

Response TooLarge(uint64_t limit) {
  Response r = ErrorResponse(
      Error(ErrorCode::kInvalidArgument, "http: body exceeds " + std::to_string(limit) + " bytes"));
  r.status = 413;
  return r;
}
}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  StreamHandler stream_handler;
  ServerStats stats;
  // One io_context per I/O thread, each run by its thread alone (no strands, no hand-offs
  // between threads); the acceptor lives on the first and deals connections out in turn.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  size_t next_context = 0;  // touched by the accept loop only
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::shared_ptr<ParkedStreams> parked = std::make_shared<ParkedStreams>();
  std::atomic<int64_t> sessions{0};
  size_t connection_limit = 0;  // 0 = none; set by Start()
  std::mutex stop_mu;
  bool stopped = false;  // GUARDED_BY(stop_mu)

  Impl(ServerOptions o, Handler h, StreamHandler sh)
      : options(std::move(o)), handler(std::move(h)), stream_handler(std::move(sh)) {
    for (size_t i = 0; i < std::max<size_t>(1, options.threads); ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      keep_running.push_back(net::make_work_guard(*contexts.back()));
    }
  }

  using Parser = bhttp::request_parser<bhttp::buffer_body>;
  struct Head;
  // What reading a body gave: complete or not, a response that ends it early (413), and the
  // consumer's verdict.
  struct Body {
    bool complete = true;
    std::optional<Response> early;
    Result<void> consumed = Ok();
  };

  net::awaitable<void> Accept();
  template <typename Socket>
  void Shed(Socket& socket);
  net::awaitable<void> Session(tcp::socket socket);
  net::awaitable<Head> ReadHead(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                Parser& parser);
  static Request MakeRequest(const Parser& parser, const std::string& remote);
  net::awaitable<Body> ReadBody(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                Parser& parser, Request& req, BodyConsumer* consumer,
                                uint64_t limit, std::vector<char>& chunk);
  net::awaitable<Response> Dispatch(beast::tcp_stream& stream, const Request& req,
                                    BodyConsumer* consumer, const Result<void>& consumed);
  void LogOutcome(const Request& req, const Response& res, const std::string& remote);
  net::awaitable<void> DrainAndClose(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     Parser& parser);
  net::awaitable<bool> WriteResponse(beast::tcp_stream& stream, const Request& req, Response& res,
                                     unsigned version, bool keep_alive);
  void Count(int status) {
    if (status < 300) {
      ++stats.responses_2xx;
    } else if (status < 400) {
      ++stats.responses_3xx;
    } else if (status < 500) {
      ++stats.responses_4xx;
    } else {
      ++stats.responses_5xx;
    }
  }
};

HttpServer::HttpServer(ServerOptions options, Handler handler, StreamHandler stream_handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler),
                                   std::move(stream_handler))) {}

HttpServer::~HttpServer() { Stop(); }

const ServerStats& HttpServer::stats() const { return impl_->stats; }

size_t HttpServer::connection_limit() const { return impl_->connection_limit; }

Result<uint16_t> HttpServer::Start() {
  boost::system::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) {
    return Err(ErrorCode::kInvalidArgument,
               "http: bad listen host '" + impl_->options.host + "': " + ec.message());
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto acceptor = std::make_unique<tcp::acceptor>(*impl_->contexts[0]);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Err(ErrorCode::kIoError, "http: cannot listen on " + impl_->options.host + ":" +
                                        std::to_string(impl_->options.port) + ": " + ec.message());
  }
  uint16_t port = acceptor->local_endpoint().port();
  impl_->acceptor = std::move(acceptor);
  size_t limit = impl_->options.max_connections;
  if (struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    size_t reserve = impl_->options.reserved_fds;
    size_t by_fds = rl.rlim_cur > reserve + 16 ? rl.rlim_cur - reserve : 16;
    limit = limit == 0 ? by_fds : std::min(limit, by_fds);
  }
  impl_->connection_limit = limit;
  net::co_spawn(*impl_->contexts[0], impl_->Accept(), net::detached);
  for (auto& context : impl_->contexts) {
    impl_->threads.emplace_back([ctx = context.get()] { ctx->run(); });
  }
  return port;
}

void HttpServer::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  if (impl_->acceptor) {
    net::post(*impl_->contexts[0], [this] {
      boost::system::error_code ignored;
      impl_->acceptor->close(ignored);
    });
  }
  // Sessions notice `stopping` after their current response and close; idle keep-alive sessions
  // are cut when the grace period ends.
  auto deadline = std::chrono::steady_clock::now() + impl_->options.shutdown_grace;
  while (impl_->sessions.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->keep_running.clear();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  // Sessions still waiting for a stream's producer are handed back to their (stopped) loops, so
  // that destroying the loops destroys them, and with them their streams (which cancel and join
  // their producers), instead of leaving them parked.
  impl_->parked->ResumeAll();
  if (impl_->acceptor) {  // the posted close may not have run before stop(); threads are gone now
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
  }
}

net::awaitable<void> HttpServer::Impl::Accept() {
  auto backoff = std::chrono::milliseconds(0);
  net::steady_timer timer(acceptor->get_executor());
  for (;;) {
    net::io_context& context = *contexts[next_context++ % contexts.size()];
    auto [ec, socket] = co_await acceptor->async_accept(context, net::as_tuple(net::use_awaitable));
    if (ec) {
      if (stopping || ec == net::error::operation_aborted) co_return;
      // EMFILE, ENFILE, ENOBUFS, an aborted handshake: the listen queue keeps the clients while
      // we wait; retrying at once would spin on the same error.
      ++stats.accept_errors;
      backoff =
          std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
      log::Warn("http.accept_error", {{"error", ec.message()}, {"backoff_ms", backoff.count()}});
      timer.expires_after(backoff);
      co_await timer.async_wait(net::as_tuple(net::use_awaitable));
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    if (connection_limit != 0 && static_cast<size_t>(sessions.load()) >= connection_limit) {
      ++stats.connections_shed;
      Shed(socket);
      continue;
    }
    // Counted here, not when the session's coroutine first runs on its thread: the limit check
    // above must see every connection already accepted, or a burst overshoots it.
    ++sessions;
    ++stats.open_connections;
    auto executor = socket.get_executor();  // before the socket is moved into the coroutine
    net::co_spawn(executor, Session(std::move(socket)), net::detached);
  }
}

// Answers a connection over the limit with 503 and closes it at once, without reading its request:
// one non-blocking write of a small answer (it fits the socket buffer of a fresh connection), so
// shed connections never pile up holding descriptors while the limit is reached.
template <typename Socket>
void HttpServer::Impl::Shed(Socket& socket) {
  static const std::string kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nContent-Length: 89\r\n\r\n"
      "{\"error\":{\"reason\":\"UNAVAILABLE\",\"details\":\"http: too many connections; retry "
      "shortly\"}}\n";
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(net::buffer(kBusy), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  Count(503);
}

// What reading a request's head gave: a request to handle, an error to answer (then close), or
// nothing (EOF, timeout, reset: close silently).
struct HttpServer::Impl::Head {
  enum class Kind { kRequest, kAnswer, kClose } kind = Kind::kClose;
  Response answer;
};

net::awaitable<HttpServer::Impl::Head> HttpServer::Impl::ReadHead(beast::tcp_stream& stream,
                                                                  beast::flat_buffer& buffer,
                                                                  Parser& parser) {
  parser.header_limit(64 * 1024);
  parser.body_limit(std::max(options.max_body_bytes, options.max_stream_bytes));
  stream.expires_after(options.read_timeout);
  auto [ec, n] =
      co_await bhttp::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  (void)n;
  Head head;
  if (!ec) {
    head.kind = Head::Kind::kRequest;
  } else if (ec == bhttp::error::body_limit) {
    head = {Head::Kind::kAnswer, TooLarge(options.max_stream_bytes)};
  } else if (ec == bhttp::error::header_limit) {
    head = {Head::Kind::kAnswer,
            ErrorResponse(Error(ErrorCode::kInvalidArgument, "http: headers too large"))};
    head.answer.status = 431;
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    head = {Head::Kind::kAnswer,
            ErrorResponse(Error(ErrorCode::kInvalidArgument, "http: " + ec.message()))};
  }
  co_return head;
}

Request HttpServer::Impl::MakeRequest(const Parser& parser, const std::string& remote) {
  const auto& msg = parser.get();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote = remote;
  for (const auto& field : msg) {
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return req;
}

net::awaitable<HttpServer::Impl::Body> HttpServer::Impl::ReadBody(
    beast::tcp_stream& stream, beast::flat_buffer& buffer, Parser& parser, Request& req,
    BodyConsumer* consumer, uint64_t limit, std::vector<char>& chunk) {
  Body body;
  auto& msg = parser.get();
  if (auto expect = req.Header("Expect"); expect && !parser.is_done()) {
    std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await net::async_write(stream, net::buffer(cont), net::as_tuple(net::use_awaitable));
  }
  // The read buffer grows to what bodies need, up to 256 KiB: a connection that sent a small
  // body does not hold a large buffer.
  if (!parser.is_done()) {
    uint64_t want = parser.content_length() ? *parser.content_length() : 256 * 1024;
    want = std::clamp<uint64_t>(want, 4096, 256 * 1024);
    if (chunk.size() < want) chunk.resize(want);
  }
  uint64_t received = 0;
  while (!parser.is_done()) {
    msg.body().data = chunk.data();
    msg.body().size = chunk.size();
    stream.expires_after(options.read_timeout);
    auto [rec, rn] =
        co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    (void)rn;
    if (rec == bhttp::error::need_buffer) rec = {};
    if (rec) {
      body.complete = false;
      co_return body;
    }
    size_t got = chunk.size() - msg.body().size;
    received += got;
    if (received > limit) {
      body.complete = false;
      body.early = TooLarge(limit);
      co_return body;
    }
    ByteSpan piece(reinterpret_cast<const uint8_t*>(chunk.data()), got);
    if (consumer) {
      body.consumed = consumer->OnData(piece);
      if (!body.consumed) {
        body.complete = false;
        co_return body;
      }
    } else {
      req.body.append(chunk.data(), got);
    }
  }
  co_return body;
}

net::awaitable<Response> HttpServer::Impl::Dispatch(beast::tcp_stream& stream, const Request& req,
                                                    BodyConsumer* consumer,
                                                    const Result<void>& consumed) {
  auto start = std::chrono::steady_clock::now();
  Response res;
  try {
    if (!consumed) {
      res = ErrorResponse(consumed.error());
    } else {
      res = consumer ? consumer->Finish() : handler(req);
    }
  } catch (const std::exception& e) {
    res = ErrorResponse(Error(ErrorCode::kInternal, std::string("http: handler: ") + e.what()));
  }
  while (res.deferred) {
    auto deferred = std::move(res.deferred);
    res = co_await AwaitDeferred(std::move(deferred), stream.get_executor());
  }
  stats.handler_micros += std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  co_return res;
}

void HttpServer::Impl::LogOutcome(const Request& req, const Response& res,
                                  const std::string& remote) {
  Count(res.status);
  if (res.status >= 500) {
    // Server faults are logged with their Failure body (never a secret: errors name inputs).
    log::Warn("http.error", {{"method", req.method},
                             {"path", req.path},
                             {"status", res.status},
                             {"remote", remote},
                             {"body", std::string_view(res.body).substr(0, 512)}});
  } else if (log::Enabled(log::Level::kDebug)) {
    log::Debug(
        "http.request",
        {{"method", req.method}, {"path", req.path}, {"status", res.status}, {"remote", remote}});
  }
}

// One connection: read a request's head, admit it, read its body, dispatch, write; repeat while
// keep-alive holds.
net::awaitable<void> HttpServer::Impl::Session(tcp::socket socket) {
  // `sessions` and open_connections were counted by Accept.
  std::string remote;
  {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    // Responses are written whole or in large parts: never wait for Nagle (a header then a body
    // would otherwise wait for the client's delayed ACK, ~40 ms per keep-alive request).
    socket.set_option(tcp::no_delay(true), ec);
  }
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::vector<char> chunk;  // request bodies are read through it; sized by the first body
  for (;;) {
    Parser parser;
    Head head = co_await ReadHead(stream, buffer, parser);
    if (head.kind == Head::Kind::kClose) break;
    if (head.kind == Head::Kind::kAnswer) {
      Request dummy;
      dummy.method = "GET";
      Count(head.answer.status);
      co_await WriteResponse(stream, dummy, head.answer, 11, false);
      break;
    }
    ++stats.requests;
    Request req = MakeRequest(parser, remote);
    bool keep_alive = parser.get().keep_alive() && !stopping;
    unsigned version = parser.get().version();
    auto parsed = ParseTarget(req.target, req);
    if (parsed && !parser.is_done() && options.admit) {
      if (auto refused = options.admit(req)) {
        Count(refused->status);
        co_await WriteResponse(stream, req, *refused, version, false);
        co_await DrainAndClose(stream, buffer, parser);
        break;
      }
    }
    std::unique_ptr<BodyConsumer> consumer;
    if (parsed && stream_handler) consumer = stream_handler(req);
    uint64_t limit = consumer ? options.max_stream_bytes : options.max_body_bytes;
    Response res;
    bool body_ok = true;  // false: the body was not read to its end; close after answering
    if (!parsed) {
      res = ErrorResponse(parsed.error());
      body_ok = parser.is_done();
    } else if (parser.content_length() && *parser.content_length() > limit) {
      res = TooLarge(limit);
      body_ok = false;
    } else {
      Body body = co_await ReadBody(stream, buffer, parser, req, consumer.get(), limit, chunk);
      body_ok = body.complete;
      if (!body.complete && !body.early && body.consumed) break;  // the client went away mid-body
      // Not a conditional expression: g++ 12 miscompiles co_await inside ?: (a destroyed
      // temporary).
      if (body.early) {
        res = std::move(*body.early);
      } else {
        res = co_await Dispatch(stream, req, consumer.get(), body.consumed);
      }
    }
    if (!body_ok) keep_alive = false;
    LogOutcome(req, res, remote);
    bool ok = co_await WriteResponse(stream, req, res, version, keep_alive);
    if (!ok || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  --stats.open_connections;
  --sessions;
}

net::awaitable<void> HttpServer::Impl::DrainAndClose(beast::tcp_stream& stream,
                                                     beast::flat_buffer& buffer, Parser& parser) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  char sink[8192];
  size_t drained = 0;
  auto& body = parser.get().body();
  stream.expires_after(std::chrono::seconds(1));
  while (!parser.is_done() && drained < 64 * 1024) {
    body.data = sink;
    body.size = sizeof(sink);
    auto [ec, n] =
        co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    if (ec && ec != bhttp::error::need_buffer) break;
    drained += sizeof(sink) - body.size;
  }
}

net::awaitable<bool> HttpServer::Impl::WriteResponse(beast::tcp_stream& stream, const Request& req,
                                                     Response& res, unsigned version,
                                                     bool keep_alive) {
  bool head = req.method == "HEAD";
  bhttp::response<bhttp::buffer_body> msg{static_cast<bhttp::status>(res.status), version};
  msg.set(bhttp::field::server, options.server_header);
  for (const auto& [k, v] : res.headers) msg.insert(k, v);
  msg.keep_alive(keep_alive);
  bool streamed = static_cast<bool>(res.stream);
  if (streamed) {
    if (res.content_length) {
      msg.content_length(*res.content_length);
    } else if (!head) {
      msg.chunked(true);
    }
  } else {
    msg.content_length(res.body.size());
  }
  bool bodiless = head || res.status == 204 || res.status == 304;
  if (bodiless && !streamed) {
    msg.content_length(res.body.size());
  }
  if (!streamed && !bodiless) {
    // A buffered body goes out with its header in one gathered write (one packet for small
    // answers).
    msg.body().data = res.body.empty() ? nullptr : res.body.data();
    msg.body().size = res.body.size();
    msg.body().more = false;
    stream.expires_after(options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, msg, net::as_tuple(net::use_awaitable));
    stats.bytes_sent += n;
    co_return !ec;
  }
  msg.body().data = nullptr;
  msg.body().more = !bodiless;
  bhttp::response_serializer<bhttp::buffer_body> sr{msg};
  stream.expires_after(options.write_timeout);
  auto [hec, hn] =
      co_await bhttp::async_write_header(stream, sr, net::as_tuple(net::use_awaitable));
  stats.bytes_sent += hn;
  if (hec) co_return false;
  if (bodiless) co_return true;

  auto write_part = [&](void* data, size_t size, bool more) -> net::awaitable<bool> {
    msg.body().data = data;
    msg.body().size = size;
    msg.body().more = more;
    stream.expires_after(options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, sr, net::as_tuple(net::use_awaitable));
    stats.bytes_sent += n;
    co_return !ec || ec == bhttp::error::need_buffer;
  };

  // Each piece goes from where the stream holds it straight to the socket (held until written).
  uint64_t sent = 0;
  for (;;) {
    if (!res.stream.ReadyOrNotify()) {
      co_await AwaitStreamReady(res.stream, stream.get_executor(), parked);
    }
    auto piece = res.stream.Next();
    if (!piece) co_return false;  // cannot report an error after the headers: cut the connection
    if (piece->data.empty()) break;
    sent += piece->data.size();
    if (res.content_length && sent > *res.content_length) co_return false;
    if (!co_await write_part(const_cast<uint8_t*>(piece->data.data()), piece->data.size(), true)) {
      co_return false;
    }
  }
  if (res.content_length && sent != *res.content_length) co_return false;
  co_return co_await write_part(nullptr, 0, false);
}

}  // namespace cairn::http
