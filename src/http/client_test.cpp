#include "http/client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "http/server.hpp"

namespace cairn::http {
namespace {

TEST(ParseUrl, SplitsHostPortAndTarget) {
  auto u = ParseUrl("http://127.0.0.1:8080/ipfs/x?format=raw");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/ipfs/x?format=raw");
  auto s = ParseUrl("HTTPS://example.com");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->port, 443);
  EXPECT_EQ(s->target, "/");
  auto v6 = ParseUrl("http://[::1]:9/a");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  for (auto bad :
       {"ftp://x/", "http://", "http://h:0/", "http://h:99999/", "nohost", "http://u@h/"}) {
    EXPECT_FALSE(ParseUrl(bad)) << bad;
  }
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(ServerOptions{}, [](const Request& r) {
      Response res;
      if (r.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      if (r.path == "/big") {
        res.body = std::string(1 << 20, 'x');
        return res;
      }
      res.status = r.path == "/missing" ? 404 : 200;
      res.SetHeader("X-Echo", r.method);
      res.body = "path=" + r.path + " body=" + r.body;
      return res;
    });
    port_ = *server_->Start();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ClientTest, GetsBodiesStatusesAndHeaders) {
  ClientRequest req;
  req.url = Url("/hello");
  auto r = Fetch(req);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "path=/hello body=");
  EXPECT_EQ(*r->Header("x-echo"), "GET");
  req.url = Url("/missing");
  EXPECT_EQ(Fetch(req)->status, 404);
  req.method = "POST";
  req.body = "abc";
  req.url = Url("/p");
  EXPECT_EQ(Fetch(req)->body, "path=/p body=abc");
}

TEST_F(ClientTest, StreamsToASinkAndEnforcesTheCap) {
  ClientRequest req;
  req.url = Url("/big");
  uint64_t seen = 0;
  auto r = Fetch(req, [&](ByteSpan b) -> Result<void> {
    seen += b.size();
    return Ok();
  });
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(seen, 1u << 20);
  EXPECT_TRUE(r->body.empty());
  req.max_body_bytes = 1000;
  auto capped = Fetch(req);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().code(), ErrorCode::kResourceExhausted);
  seen = 0;
  auto capped_stream = Fetch(req, [&](ByteSpan b) -> Result<void> {
    seen += b.size();
    return Ok();
  });
  ASSERT_FALSE(capped_stream);
  EXPECT_EQ(capped_stream.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(seen, 0u);  // refused on its Content-Length, before any byte
  auto aborted = Fetch(ClientRequest{.url = Url("/big")}, [](ByteSpan) -> Result<void> {
    return Err(ErrorCode::kCorruption, "sink says no");
  });
  ASSERT_FALSE(aborted);
  EXPECT_EQ(aborted.error().code(), ErrorCode::kCorruption);
}

TEST_F(ClientTest, AHeadCheckSeesTheStatusBeforeTheBodyAndCanRefuseIt) {
  ClientRequest req;
  req.url = Url("/missing");
  int heads = 0;
  uint64_t body_bytes = 0;
  req.on_head = [&](const ClientResponse& head) -> Result<void> {
    ++heads;
    EXPECT_TRUE(head.body.empty());
    if (head.status != 200)
      return Err(ErrorCode::kNotFound, "status " + std::to_string(head.status));
    return Ok();
  };
  auto sink = [&](ByteSpan b) -> Result<void> {
    body_bytes += b.size();
    return Ok();
  };
  auto refused = Fetch(req, sink);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(refused.error().message(), "status 404");
  EXPECT_EQ(body_bytes, 0u);  // the 404 page never reached the sink
  req.url = Url("/big");
  auto accepted = Fetch(req, sink);
  ASSERT_TRUE(accepted) << accepted.error().ToString();
  EXPECT_EQ(body_bytes, 1u << 20);
  EXPECT_EQ(heads, 2);
}

TEST_F(ClientTest, TimesOutAndReportsRefusedConnections) {
  ClientRequest req;
  req.url = Url("/slow");
  req.timeout = std::chrono::milliseconds(200);
  auto slow = Fetch(req);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code(), ErrorCode::kTimeout) << slow.error().ToString();
  server_->Stop();
  req.url = Url("/x");
  req.timeout = std::chrono::milliseconds(2000);
  auto refused = Fetch(req);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable) << refused.error().ToString();
}

// A raw HTTP/1.1 server on 127.0.0.1:0 that counts the connections it accepts and answers each
// request on a connection with a fixed body: kept alive, or (by mode) with `Connection: close`,
// or closing the connection after the answer without saying so (as a server whose idle timeout
// passed does).
class CountingServer {
 public:
  enum class Mode { kKeepAlive, kConnectionClose, kSilentClose, kKeepAliveOneSecond };
  explicit CountingServer(Mode mode) : mode_(mode) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        ++accepted_;
        std::lock_guard lock(mu_);
        fds_.push_back(fd);
        sessions_.emplace_back([this, fd] { Serve(fd); });
      }
    });
  }
  ~CountingServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : sessions_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/x"; }
  int accepted() const { return accepted_; }

 private:
  void Serve(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      in.erase(0, end + 4);
      std::string out = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n";
      if (mode_ == Mode::kConnectionClose) out += "Connection: close\r\n";
      if (mode_ == Mode::kKeepAliveOneSecond) out += "Keep-Alive: timeout=1\r\n";
      out += "\r\nhello";
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
      if (mode_ == Mode::kConnectionClose || mode_ == Mode::kSilentClose) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
    }
  }

  const Mode mode_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;               // GUARDED_BY(mu_)
  std::vector<std::thread> sessions_;  // GUARDED_BY(mu_)
};

Result<std::string> Get(const std::string& url, ConnectionPool* pool) {
  ClientRequest req;
  req.url = url;
  req.pool = pool;
  req.timeout = std::chrono::milliseconds(5000);
  std::string body;
  CAIRN_TRY(Fetch(req, [&](ByteSpan b) -> Result<void> {
    body.append(reinterpret_cast<const char*>(b.data()), b.size());
    return Ok();
  }));
  return body;
}

TEST(ConnectionPool, ReusesAConnectionAfterACompleteResponse) {
  CountingServer server(CountingServer::Mode::kKeepAlive);
  ConnectionPool pool;
  for (int i = 0; i < 5; ++i) {
    auto body = Get(server.Url(), &pool);
    ASSERT_TRUE(body) << body.error().ToString();
    EXPECT_EQ(*body, "hello");
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(pool.Reused(), 4u);
  EXPECT_EQ(pool.IdleCount(), 1u);
  // Without a pool, every call has a connection of its own.
  ASSERT_TRUE(Get(server.Url(), nullptr));
  EXPECT_EQ(server.accepted(), 2);
}

TEST(ConnectionPool, DropsAConnectionTheServerCloses) {
  CountingServer server(CountingServer::Mode::kConnectionClose);
  ConnectionPool pool;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(pool.IdleCount(), 0u);
  EXPECT_EQ(pool.Reused(), 0u);
}

TEST(ConnectionPool, SendsAgainOnANewConnectionWhenAKeptOneWasClosedWhileIdle) {
  CountingServer server(CountingServer::Mode::kSilentClose);
  ConnectionPool pool;
  ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(pool.IdleCount(), 1u);  // kept: the answer did not say it would close
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto again = Get(server.Url(), &pool);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(*again, "hello");
  EXPECT_EQ(pool.Reused(), 1u);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(ConnectionPool, DropsAConnectionWhoseExchangeFailed) {
  CountingServer server(CountingServer::Mode::kKeepAlive);
  ConnectionPool pool;
  ClientRequest req;
  req.url = server.Url();
  req.pool = &pool;
  auto refused = Fetch(
      req, [](ByteSpan) -> Result<void> { return Err(ErrorCode::kCorruption, "sink says no"); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(pool.IdleCount(), 0u);
  req.on_head = [](const ClientResponse&) -> Result<void> {
    return Err(ErrorCode::kNotFound, "head says no");
  };
  ASSERT_FALSE(Fetch(req));
  EXPECT_EQ(pool.IdleCount(), 0u);
  ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(server.accepted(), 3);
}

TEST(ConnectionPool, ClosesConnectionsIdleLongerThanTheTimeout) {
  CountingServer server(CountingServer::Mode::kKeepAlive);
  ConnectionPool pool({.idle_timeout = std::chrono::milliseconds(30)});
  ASSERT_TRUE(Get(server.Url(), &pool));
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.Reused(), 0u);
}

TEST(ConnectionPool, KeepsAConnectionNoLongerThanTheServersKeepAliveTimeout) {
  // The server says it closes idle connections after 1 s (it does not, here: the test sees
  // whether the pool believed it). The pool keeps them 750 ms, under its own 2 s.
  CountingServer server(CountingServer::Mode::kKeepAliveOneSecond);
  ConnectionPool pool;
  ASSERT_TRUE(Get(server.Url(), &pool));
  ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(server.accepted(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(850));
  ASSERT_TRUE(Get(server.Url(), &pool));
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(pool.Reused(), 1u);
}

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(ConnectionPool, KeepsAtMostTheIdleBoundsClosingTheOldest) {
  ConnectionPool pool({.max_idle_per_origin = 2, .max_idle = 3});
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  pool.Give("a:1", {fds[0], false});
  pool.Give("a:1", {fds[1], false});
  pool.Give("a:1", {fds[2], false});  // over the origin's 2: fds[0] goes
  EXPECT_FALSE(IsOpen(fds[0]));
  EXPECT_EQ(pool.IdleCount(), 2u);
  pool.Give("b:1", {fds[3], false});
  pool.Give("b:1", {fds[4], false});  // over the total of 3: the oldest of all, fds[1], goes
  EXPECT_FALSE(IsOpen(fds[1]));
  EXPECT_EQ(pool.IdleCount(), 3u);
  auto taken = pool.Take("a:1");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->fd, fds[2]);
  EXPECT_TRUE(IsOpen(fds[2]));
  EXPECT_FALSE(pool.Take("a:1"));
  ::close(fds[2]);
  // The pool closes the rest when it goes.
}

}  // namespace
}  // namespace cairn::http
