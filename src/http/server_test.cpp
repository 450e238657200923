#include "http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "http/pushed_stream.hpp"

namespace cairn::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Sends raw bytes and reads until the server closes the connection.
std::string Exchange(uint16_t port, const std::string& request) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  net::write(s, net::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

Response Echo(const Request& req) {
  Response r;
  if (req.path == "/stream") {
    auto left = std::make_shared<int>(3);
    r.stream = [left](MutableByteSpan buf) -> Result<size_t> {
      if (*left == 0) return size_t{0};
      --*left;
      buf[0] = 'a';
      buf[1] = 'b';
      return size_t{2};
    };
    if (req.Query("len")) r.content_length = 6;
    return r;
  }
  if (req.path == "/throw") throw std::runtime_error("boom");
  r.SetHeader("Content-Type", "text/plain");
  r.body = req.method + " " + req.path + " " + std::string(req.Query("q").value_or("-")) + " " +
           std::to_string(req.body.size());
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.max_body_bytes = 100;
    server_ = std::make_unique<HttpServer>(o, Echo);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
  }
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, AnswersGetWithDecodedPathAndQuery) {
  auto out = Exchange(port_, "GET /a%20b?q=x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 12"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nGET /a b x 0"), std::string::npos) << out;
}

TEST_F(ServerTest, KeepsConnectionsAliveAcrossRequests) {
  auto out = Exchange(
      port_,
      "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_NE(out.find("GET /one - 0"), std::string::npos) << out;
  EXPECT_NE(out.find("POST /two - 3"), std::string::npos) << out;
}

TEST_F(ServerTest, HeadSendsHeadersOnly) {
  auto out = Exchange(port_, "HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("Content-Length: 11"), std::string::npos) << out;  // "HEAD /x - 0"
  EXPECT_EQ(out.find("HEAD /x"), std::string::npos) << out;
}

TEST_F(ServerTest, StreamsChunkedAndWithLength) {
  auto chunked = Exchange(port_, "GET /stream HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked"), std::string::npos) << chunked;
  EXPECT_NE(chunked.find("2\r\nab\r\n2\r\nab\r\n2\r\nab\r\n0\r\n\r\n"), std::string::npos)
      << chunked;
  auto sized =
      Exchange(port_, "GET /stream?len=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(sized.find("Content-Length: 6"), std::string::npos) << sized;
  EXPECT_NE(sized.find("\r\n\r\nababab"), std::string::npos) << sized;
}

TEST_F(ServerTest, RejectsOversizedBodiesWith413) {
  std::string body(200, 'x');
  auto out = Exchange(port_, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n" + body);
  EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos) << out;
}

TEST_F(ServerTest, RejectsMalformedRequestsWith400) {
  auto out = Exchange(port_, "GET /a%zz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
  auto garbage = Exchange(port_, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(garbage.find("HTTP/1.1 400"), std::string::npos) << garbage;
}

TEST_F(ServerTest, HandlerExceptionsBecome500) {
  auto out = Exchange(port_, "GET /throw HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 500"), std::string::npos) << out;
  EXPECT_NE(out.find("boom"), std::string::npos) << out;
}

TEST_F(ServerTest, StopIsIdempotentAndRefusesNewConnections) {
  server_->Stop();
  server_->Stop();
  net::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({net::ip::make_address("127.0.0.1"), port_}, ec);
  EXPECT_TRUE(ec);
}

// A deferred response frees its I/O thread: with one thread, a second request is answered while
// the first waits, and the first completes when its callback is called from another thread.
TEST(HttpServer, DeferredResponsesDoNotHoldTheIoThread) {
  std::mutex mu;
  std::condition_variable cv;
  std::function<void(Response)> pending;
  ServerOptions o;
  o.threads = 1;
  HttpServer server(o, [&](const Request& req) {
    if (req.path != "/deferred") return Echo(req);
    Response r;
    r.deferred = [&](std::function<void(Response)> complete) {
      std::lock_guard lock(mu);
      pending = std::move(complete);
      cv.notify_all();
    };
    return r;
  });
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().ToString();
  std::string first;
  std::thread waiting([&] {
    first = Exchange(*port, "GET /deferred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return static_cast<bool>(pending); });
  }
  std::string second =
      Exchange(*port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(second.find("GET /other"), std::string::npos) << second;
  EXPECT_TRUE(first.empty());
  std::thread([&] {
    Response done;
    done.status = 202;
    done.body = "committed";
    std::function<void(Response)> complete;
    {
      std::lock_guard lock(mu);
      complete = std::move(pending);
    }
    complete(std::move(done));
  }).join();
  waiting.join();
  EXPECT_EQ(first.rfind("HTTP/1.1 202", 0), 0u) << first;
  EXPECT_NE(first.find("committed"), std::string::npos) << first;
}

TEST(HttpResolve, WaitsForDeferredResponses) {
  Response r;
  r.deferred = [](std::function<void(Response)> complete) {
    std::thread([complete = std::move(complete)] {
      Response done;
      done.status = 201;
      complete(std::move(done));
    }).detach();
  };
  EXPECT_EQ(Resolve(std::move(r)).status, 201);
  Response plain;
  plain.status = 204;
  EXPECT_EQ(Resolve(std::move(plain)).status, 204);
}

TEST(HttpServer, ReportsAnAddressInUse) {
  HttpServer a(ServerOptions{}, Echo);
  auto port = a.Start();
  ASSERT_TRUE(port);
  ServerOptions o;
  o.port = *port;
  HttpServer b(o, Echo);
  auto second = b.Start();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace cairn::http

namespace cairn::http {
namespace {

// Counts streamed bytes; refuses bodies containing "bad".
class CountingConsumer : public BodyConsumer {
 public:
  Result<void> OnData(ByteSpan chunk) override {
    if (AsString(chunk).find("bad") != std::string_view::npos) {
      return Err(ErrorCode::kInvalidArgument, "consumer: bad data");
    }
    bytes_ += chunk.size();
    return Ok();
  }
  Response Finish() override {
    Response r;
    r.body = "streamed " + std::to_string(bytes_);
    return r;
  }

 private:
  uint64_t bytes_ = 0;
};

class StreamingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.max_body_bytes = 10;
    o.max_stream_bytes = 1 << 20;
    server_ = std::make_unique<HttpServer>(o, Echo,
                                           [](const Request& r) -> std::unique_ptr<BodyConsumer> {
                                             if (r.path != "/upload") return nullptr;
                                             return std::make_unique<CountingConsumer>();
                                           });
    port_ = *server_->Start();
  }
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(StreamingServerTest, StreamsLargeBodiesToTheConsumer) {
  std::string body(500000, 'x');
  auto out =
      Exchange(port_, "POST /upload HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_NE(out.find("streamed 500000"), std::string::npos) << out.substr(0, 300);
  auto chunked = Exchange(port_,
                          "POST /upload HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_NE(chunked.find("streamed 5"), std::string::npos) << chunked;
}

TEST_F(StreamingServerTest, ConsumerErrorsAnswerAndClose) {
  auto out = Exchange(port_, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nxxbadx");
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
  EXPECT_NE(out.find("consumer: bad data"), std::string::npos) << out;
}

TEST_F(StreamingServerTest, LimitsApplyPerKindOfBody) {
  auto buffered =
      Exchange(port_, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n01234567890");
  EXPECT_NE(buffered.find("HTTP/1.1 413"), std::string::npos) << buffered;
  auto streamed =
      Exchange(port_, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\nabc");
  EXPECT_NE(streamed.find("HTTP/1.1 413"), std::string::npos) << streamed;
  std::string big(30, 'y');
  auto chunked =
      Exchange(port_, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\n" +
                          big + "\r\n0\r\n\r\n");
  EXPECT_NE(chunked.find("HTTP/1.1 413"), std::string::npos) << chunked;
}

TEST_F(StreamingServerTest, AnswersExpectContinue) {
  auto out =
      Exchange(port_,
               "POST /upload HTTP/1.1\r\nHost: h\r\nConnection: close\r\nExpect: 100-continue\r\n"
               "Content-Length: 3\r\n\r\nabc");
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("streamed 3"), std::string::npos) << out;
}

// A streamed body whose producer is behind must not hold the I/O thread: with one thread, another
// connection is answered while the stream waits. (A watchdog opens the gate after 20 s so a broken
// server fails the test instead of hanging it; the check is on order, not time.)
TEST(ServerStreams, AWaitingProducerDoesNotHoldTheIoThread) {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;  // GUARDED_BY(mu)
  auto wait_gate = [&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  };
  auto open_gate = [&] {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  };
  auto is_open = [&] {
    std::lock_guard lock(mu);
    return open;
  };
  ServerOptions o;
  o.threads = 1;
  HttpServer server(o, [&](const Request& req) {
    Response r;
    if (req.path == "/slow") {
      r.stream = MakePushedStream([&](const PushSink& sink) -> Result<void> {
        CAIRN_TRY(sink(AsBytes("first ")));
        wait_gate();
        return sink(AsBytes("done"));
      });
      return r;
    }
    r.body = "fast";
    return r;
  });
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().ToString();
  std::string slow;
  std::thread a([&] {
    slow = Exchange(*port, "GET /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  });
  std::thread watchdog([&] {
    for (int i = 0; i < 200 && !is_open(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    open_gate();
  });
  // Wait until /slow's headers went out: its session is now waiting for the producer.
  for (int i = 0; i < 2000 && server.stats().bytes_sent == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto fast = Exchange(*port, "GET /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  bool answered_while_waiting = !is_open();
  open_gate();
  a.join();
  watchdog.join();
  EXPECT_NE(fast.find("\r\n\r\nfast"), std::string::npos) << fast;
  EXPECT_TRUE(answered_while_waiting);
  EXPECT_NE(slow.find("first "), std::string::npos) << slow;
  EXPECT_NE(slow.find("done"), std::string::npos) << slow;
}

// Stopping the server while a stream waits for its producer cuts that response at the end of the
// grace period and leaves nothing behind: the session is destroyed with its stream, whose
// producer is cancelled and joined (ASan's leak check covers the rest).
TEST(ServerStreams, StopCutsAStreamWaitingForItsProducer) {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;  // GUARDED_BY(mu)
  std::atomic<bool> producer_done{false};
  std::string slow;
  std::thread client;
  std::thread opener;
  {
    ServerOptions o;
    o.threads = 1;
    o.shutdown_grace = std::chrono::milliseconds(100);
    HttpServer server(o, [&](const Request&) {
      Response r;
      r.stream = MakePushedStream([&](const PushSink& sink) -> Result<void> {
        CAIRN_TRY(sink(AsBytes("first ")));
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return open; });
        }
        auto pushed = sink(AsBytes("done"));
        producer_done = true;
        return pushed;
      });
      return r;
    });
    auto port = server.Start();
    ASSERT_TRUE(port) << port.error().ToString();
    client = std::thread([&] { slow = Exchange(*port, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"); });
    for (int i = 0; i < 2000 && server.stats().bytes_sent == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.Stop();  // the stream is still waiting: its producer is behind the gate
    // Destroying the server joins the producer, which waits for the gate: open it from aside.
    opener = std::thread([&] {
      std::lock_guard lock(mu);
      open = true;
      cv.notify_all();
    });
  }
  opener.join();
  client.join();
  EXPECT_TRUE(producer_done);
  EXPECT_NE(slow.find("first "), std::string::npos) << slow;
  EXPECT_EQ(slow.find("done"), std::string::npos) << slow;  // cut, not finished
}

}  // namespace
}  // namespace cairn::http
