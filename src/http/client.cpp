#include "http/client.hpp"

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>

namespace cairn::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument, "url: '" + std::string(text) + "' has no scheme");
  }
  url.scheme = std::string(text.substr(0, sep));
  for (auto& c : url.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (url.scheme != "http" && url.scheme != "https") {
    return Err(ErrorCode::kInvalidArgument, "url: scheme must be http or https");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!url.target.empty() && url.target[0] == '?') url.target = "/" + url.target;
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument,
               "url: missing or unsupported host in '" + std::string(text) + "'");
  }
  url.port = url.scheme == "https" ? 443 : 80;
  std::string_view host = authority;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Err(ErrorCode::kInvalidArgument, "url: bad IPv6 host");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] != ':') {
      return Err(ErrorCode::kInvalidArgument, "url: bad IPv6 host");
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
      return Err(ErrorCode::kInvalidArgument, "url: bad port '" + std::string(port) + "'");
    }
    url.port = static_cast<uint16_t>(p);
  }
  if (host.empty()) return Err(ErrorCode::kInvalidArgument, "url: empty host");
  url.host = std::string(host);
  return url;
}

std::optional<std::string_view> ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

ConnectionPool::~ConnectionPool() {
  for (auto& [origin, idle] : idle_) {
    for (const Idle& i : idle) ::close(i.connection.fd);
  }
}

void ConnectionPool::CloseExpiredLocked(std::chrono::steady_clock::time_point now) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& idle = it->second;
    for (auto i = idle.begin(); i != idle.end();) {
      if (now < i->expires) {
        ++i;
        continue;
      }
      ::close(i->connection.fd);
      i = idle.erase(i);
      --idle_count_;
    }
    it = idle.empty() ? idle_.erase(it) : std::next(it);
  }
}

std::optional<ConnectionPool::Connection> ConnectionPool::Take(const std::string& origin) {
  std::lock_guard lock(mu_);
  CloseExpiredLocked(std::chrono::steady_clock::now());
  auto it = idle_.find(origin);
  if (it == idle_.end()) return std::nullopt;
  Connection c = it->second.back().connection;  // the most recent: the least likely closed
  it->second.pop_back();
  if (it->second.empty()) idle_.erase(it);
  --idle_count_;
  ++reused_;
  return c;
}

void ConnectionPool::Give(const std::string& origin, Connection connection,
                          std::optional<std::chrono::milliseconds> server_keep) {
  const auto keep =
      server_keep ? std::min(*server_keep, options_.idle_timeout) : options_.idle_timeout;
  if (keep.count() <= 0) {
    ::close(connection.fd);
    return;
  }
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  CloseExpiredLocked(now);
  auto& idle = idle_[origin];
  idle.push_back({connection, now, now + keep});
  ++idle_count_;
  if (idle.size() > options_.max_idle_per_origin) {
    ::close(idle.front().connection.fd);
    idle.pop_front();
    --idle_count_;
  }
  // Over the total: the oldest connection of any origin goes.
  while (idle_count_ > options_.max_idle) {
    auto oldest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (!it->second.empty() &&
          (oldest == idle_.end() || it->second.front().since < oldest->second.front().since)) {
        oldest = it;
      }
    }
    ::close(oldest->second.front().connection.fd);
    oldest->second.pop_front();
    --idle_count_;
    if (oldest->second.empty()) idle_.erase(oldest);
  }
}

size_t ConnectionPool::IdleCount() const {
  std::lock_guard lock(mu_);
  return idle_count_;
}

uint64_t ConnectionPool::Reused() const {
  std::lock_guard lock(mu_);
  return reused_;
}

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr uint64_t kDirectChunk = 256 * 1024;  // most bytes one read of a streamed body takes

// What an exchange left of its connection.
struct ExchangeEnd {
  bool got_bytes = false;  // a byte of the response came (the request must not be sent again)
  bool reusable = false;   // the response was complete and the connection may carry another
  // How long the server keeps the connection idle (its Keep-Alive: timeout=N, less a margin).
  std::optional<std::chrono::milliseconds> server_keep;
};

// The server's `Keep-Alive: timeout=N` (seconds) less 250 ms, so that a kept connection is not
// used just as the server closes it; nullopt when the header says nothing usable.
std::optional<std::chrono::milliseconds> ServerKeep(const ClientResponse& head) {
  const auto value = head.Header("keep-alive");
  if (!value) return std::nullopt;
  const size_t at = value->find("timeout=");
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view digits = value->substr(at + 8);
  unsigned seconds = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
  if (ec != std::errc() || ptr == digits.data()) return std::nullopt;
  return std::chrono::milliseconds(std::min<uint64_t>(seconds, 86400) * 1000) -
         std::chrono::milliseconds(250);
}

template <typename Stream>
net::awaitable<Result<ClientResponse>> RunExchange(Stream& stream, const Url& url,
                                                   const ClientRequest& request,
                                                   const BodySink& sink, ExchangeEnd& end) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), url.target, 11};
  if (req.method() == bhttp::verb::unknown) {
    co_return Err(ErrorCode::kInvalidArgument, "http client: unknown method " + request.method);
  }
  bool default_port =
      (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
  req.set(bhttp::field::host, default_port ? url.host : url.host + ":" + std::to_string(url.port));
  req.set(bhttp::field::user_agent, "cairn");
  for (const auto& [k, v] : request.headers) req.set(k, v);
  if (!request.body.empty() || req.method() == bhttp::verb::post ||
      req.method() == bhttp::verb::put) {
    req.body() = request.body;
    req.prepare_payload();
  }
  auto [wec, wn] = co_await bhttp::async_write(stream, req, net::as_tuple(net::use_awaitable));
  (void)wn;
  if (wec)
    co_return Err(ErrorCode::kUnavailable,
                  "http client: write to " + url.host + ": " + wec.message());

  // Beast reads at most the buffer's free capacity per read (at least 512 bytes): without room
  // reserved up front, a large body arrives 512 bytes per system call.
  beast::flat_buffer buffer;
  buffer.reserve(kReadBufferBytes);
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(request.max_body_bytes);
  auto [hec, hn] =
      co_await bhttp::async_read_header(stream, buffer, parser, net::as_tuple(net::use_awaitable));
  end.got_bytes = hn > 0 || buffer.size() > 0;
  if (hec == bhttp::error::body_limit) {
    co_return Err(ErrorCode::kResourceExhausted,
                  "http client: body from " + url.host + " exceeds " +
                      std::to_string(request.max_body_bytes) + " bytes");
  }
  if (hec)
    co_return Err(ErrorCode::kUnavailable,
                  "http client: response from " + url.host + ": " + hec.message());
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  end.server_keep = ServerKeep(out);
  if (request.on_head) {
    if (auto r = request.on_head(out); !r) co_return Err(r.error());
  }
  if (!sink) {
    if (auto length = parser.content_length(); length && *length <= request.max_body_bytes) {
      out.body.reserve(static_cast<size_t>(*length));
    }
  }
  if (sink && !parser.is_done() && parser.content_length() && !parser.chunked()) {
    // A streamed body of known length (within the cap: the parser checked the header) is read
    // straight from the socket into one buffer handed to the sink, instead of through the
    // parser's buffer and a copy. The parser does not see it: the connection is reused only
    // when the body ended exactly where the bytes received did.
    uint64_t remaining = *parser.content_length();
    const bool keep_alive = parser.keep_alive() && buffer.size() <= remaining;
    if (remaining > request.max_body_bytes) {
      co_return Err(ErrorCode::kResourceExhausted,
                    "http client: body from " + url.host + " exceeds " +
                        std::to_string(request.max_body_bytes) + " bytes");
    }
    if (buffer.size() > 0) {  // what came in with the header
      const size_t have = static_cast<size_t>(std::min<uint64_t>(buffer.size(), remaining));
      const auto* data = static_cast<const uint8_t*>(buffer.data().data());
      if (auto r = sink(ByteSpan(data, have)); !r) co_return Err(r.error());
      remaining -= have;
    }
    std::vector<uint8_t> direct(static_cast<size_t>(std::min<uint64_t>(remaining, kDirectChunk)));
    while (remaining > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, direct.size()));
      auto [ec, n] = co_await stream.async_read_some(net::buffer(direct.data(), want),
                                                     net::as_tuple(net::use_awaitable));
      if (ec)
        co_return Err(ErrorCode::kUnavailable,
                      "http client: body from " + url.host + ": " + ec.message());
      remaining -= n;
      if (auto r = sink(ByteSpan(direct.data(), n)); !r) co_return Err(r.error());
    }
    end.reusable = keep_alive;
    co_return out;
  }
  std::vector<char> chunk(256 * 1024);
  uint64_t total = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [ec, n] =
        co_await bhttp::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
    (void)n;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit) {
      co_return Err(ErrorCode::kResourceExhausted,
                    "http client: body from " + url.host + " exceeds " +
                        std::to_string(request.max_body_bytes) + " bytes");
    }
    if (ec)
      co_return Err(ErrorCode::kUnavailable,
                    "http client: body from " + url.host + ": " + ec.message());
    size_t got = chunk.size() - parser.get().body().size;
    total += got;
    if (total > request.max_body_bytes) {
      co_return Err(ErrorCode::kResourceExhausted,
                    "http client: body from " + url.host + " exceeds " +
                        std::to_string(request.max_body_bytes) + " bytes");
    }
    if (got == 0) continue;
    if (sink) {
      auto r = sink(ByteSpan(reinterpret_cast<const uint8_t*>(chunk.data()), got));
      if (!r) co_return Err(r.error());
    } else {
      out.body.append(chunk.data(), got);
    }
  }
  end.reusable = parser.keep_alive() && !parser.need_eof() && buffer.size() == 0;
  co_return out;
}

}  // namespace

Result<ClientResponse> Fetch(const ClientRequest& request, const BodySink& sink) {
  Url url = CAIRN_TRY(ParseUrl(request.url));
  net::io_context ioc;
  std::optional<Result<ClientResponse>> result;
  auto deadline = std::chrono::steady_clock::now() + request.timeout;

  const bool pooled = request.pool != nullptr && url.scheme == "http";
  const std::string origin = url.host + ":" + std::to_string(url.port);

  // Connects `tcp_stream` to the URL's host; the error, or Ok.
  auto connect = [&](beast::tcp_stream& tcp_stream) -> net::awaitable<Result<void>> {
    // An address literal needs no resolver (asio's runs on a thread of its own per context).
    boost::system::error_code literal_ec;
    const auto literal = net::ip::make_address(url.host, literal_ec);
    tcp::resolver::results_type endpoints;
    if (!literal_ec) {
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(literal, url.port), url.host,
                                                      std::to_string(url.port));
    } else {
      tcp::resolver resolver(ioc);
      auto [rec, resolved] = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                             net::as_tuple(net::use_awaitable));
      if (rec) {
        co_return Err(ErrorCode::kUnavailable,
                      "http client: cannot resolve " + url.host + ": " + rec.message());
      }
      endpoints = std::move(resolved);
    }
    auto [cec, ep] =
        co_await tcp_stream.async_connect(endpoints, net::as_tuple(net::use_awaitable));
    (void)ep;
    if (cec) {
      co_return Err(cec == beast::error::timeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                    "http client: cannot connect to " + url.host + ":" + std::to_string(url.port) +
                        ": " + cec.message());
    }
    co_return Ok();
  };

  // The exchange over TLS on a connected stream.
  auto run_tls = [&](beast::tcp_stream tcp_stream) -> net::awaitable<void> {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), ctx);
    if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
      result = Err(ErrorCode::kUnavailable, "http client: cannot set SNI for " + url.host);
      co_return;
    }
    tls.set_verify_callback(ssl::host_name_verification(url.host));
    auto [hec] =
        co_await tls.async_handshake(ssl::stream_base::client, net::as_tuple(net::use_awaitable));
    if (hec) {
      result =
          Err(ErrorCode::kUnavailable, "http client: TLS with " + url.host + ": " + hec.message());
      co_return;
    }
    ExchangeEnd end;  // TLS connections are not kept
    result = co_await RunExchange(tls, url, request, sink, end);
  };

  auto run = [&]() -> net::awaitable<void> {
    // A kept-alive connection first (plain http with a pool); when the server had closed it
    // before answering, once more on a new one.
    std::optional<ConnectionPool::Connection> kept =
        pooled ? request.pool->Take(origin) : std::nullopt;
    for (;;) {
      beast::tcp_stream tcp_stream(ioc);
      if (kept) {
        boost::system::error_code aec;
        tcp_stream.socket().assign(kept->v6 ? tcp::v6() : tcp::v4(), kept->fd, aec);
        if (aec) {
          ::close(kept->fd);
          kept.reset();
        }
      }
      tcp_stream.expires_at(deadline);
      if (!kept) {
        if (auto connected = co_await connect(tcp_stream); !connected) {
          result = Err(connected.error());
          co_return;
        }
      }
      if (url.scheme == "https") {
        co_await run_tls(std::move(tcp_stream));
        co_return;
      }
      ExchangeEnd end;
      auto exchanged = co_await RunExchange(tcp_stream, url, request, sink, end);
      if (!exchanged && kept && !end.got_bytes) {
        kept.reset();  // closed by the server while idle: nothing was answered
        continue;
      }
      if (exchanged && pooled && end.reusable) {
        boost::system::error_code rec;
        const bool v6 = tcp_stream.socket().local_endpoint(rec).address().is_v6();
        const int fd = rec ? -1 : tcp_stream.socket().release(rec);
        if (!rec && fd >= 0) request.pool->Give(origin, {fd, v6}, end.server_keep);
      }
      result = std::move(exchanged);
      co_return;
    }
  };
  net::co_spawn(ioc, run(), [&](const std::exception_ptr& e) {
    if (e && !result) result = Err(ErrorCode::kInternal, "http client: unexpected exception");
  });
  // The stream's own expiry covers connect and each I/O; this bounds the whole exchange.
  ioc.run_until(deadline + std::chrono::milliseconds(50));
  if (!result) {
    return Err(ErrorCode::kTimeout, "http client: " + url.host + " did not answer within " +
                                        std::to_string(request.timeout.count()) + " ms");
  }
  if (!*result) {
    const auto& e = result->error();
    if (e.message().find("timed out") != std::string::npos ||
        e.message().find("timeout") != std::string::npos) {
      return Err(ErrorCode::kTimeout, e.message());
    }
  }
  return std::move(*result);
}

}  // namespace cairn::http
