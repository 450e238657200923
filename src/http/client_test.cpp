#include "http/client.hpp"

#include <gtest/gtest.h>

#include <thread>

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

}  // namespace
}  // namespace cairn::http
