// AppMk12Transport's libp2p exchange against a real libp2p host playing the provider on
// 127.0.0.1: protocol fallback, the request written and half-closed, the answer read to the
// provider's close, and the bounds (deadline, answer size, unknown protocols, wrong peer).
#include "apps/cairn/mk12_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

namespace cairn::app {
namespace {

namespace asio = boost::asio;
using filecoin::deals::Mk12StreamOffer;
using namespace std::chrono_literals;

// A host on its own io_context thread, as P2pRuntime runs it.
class HostThread {
 public:
  HostThread(uint8_t seed, std::function<void(net::Host&)> setup)
      : identity_(net::Ed25519Identity::FromSeed(Bytes(32, seed))) {
    net::HostOptions options;
    options.listen = {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
    options.dial.allow_private = true;
    auto h = net::Host::Create(io_, identity_, options);
    EXPECT_TRUE(h.has_value()) << h.error().ToString();
    host_ = std::move(*h);
    setup(*host_);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HostThread() {
    asio::post(io_, [h = host_.get()] { h->Stop(); });
    work_.reset();
    std::this_thread::sleep_for(100ms);
    io_.stop();
    thread_.join();
  }
  net::Host& host() { return *host_; }
  std::string peer() const { return identity_.peer_id().ToString(); }
  std::string addr() const { return host_->ListenAddrs().at(0).ToString(); }

 private:
  net::Ed25519Identity identity_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<net::Host> host_;
  std::thread thread_;
};

asio::awaitable<std::string> ReadAll(std::shared_ptr<net::Stream> s) {
  std::string in;
  std::vector<uint8_t> buf(4096);
  for (;;) {
    auto n = co_await s->ReadSome(buf);
    if (!n || *n == 0) break;
    in.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  co_return in;
}

void Provider(net::Host& h) {
  // Speaks only the old deal protocol: answers "got:<request>" once the client half-closed.
  h.SetStreamHandler("/fil/storage/mk/1.2.0",
                     [](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
                       std::string in = co_await ReadAll(s);
                       std::string out = "got:" + in;
                       (void)co_await s->Write(AsBytes(out));
                       s->CloseWrite();
                     });
  h.SetStreamHandler("/test/silent", [](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
    (void)co_await ReadAll(s);
    s->CloseWrite();
  });
  h.SetStreamHandler("/test/stall", [](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 3s);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    s->CloseWrite();
  });
  h.SetStreamHandler("/test/big", [](std::shared_ptr<net::Stream> s) -> asio::awaitable<void> {
    (void)co_await ReadAll(s);
    Bytes big(3 << 20, 'x');
    (void)co_await s->Write(big);
    s->CloseWrite();
  });
}

class Mk12TransportTest : public ::testing::Test {
 protected:
  HostThread provider_{7, Provider};
  HostThread client_{8, [](net::Host&) {}};
  AppMk12Transport transport_{&client_.host()};
};

TEST_F(Mk12TransportTest, NegotiatesTheFirstSupportedOfferAndReadsToTheClose) {
  std::vector<Mk12StreamOffer> offers = {{"/fil/storage/mk/1.2.1", "params-121"},
                                         {"/fil/storage/mk/1.2.0", "params-120"}};
  auto r = transport_.Exchange(provider_.peer(), {provider_.addr()}, offers, 5s, 1 << 20);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->protocol, "/fil/storage/mk/1.2.0");
  EXPECT_EQ(r->body, "got:params-120");
  // Silence is an empty answer (the client names it), not an error of the transport.
  auto silent =
      transport_.Exchange(provider_.peer(), {provider_.addr()}, {{"/test/silent", "x"}}, 5s, 100);
  ASSERT_TRUE(silent.has_value()) << silent.error().ToString();
  EXPECT_EQ(silent->body, "");
}

TEST_F(Mk12TransportTest, BoundsTimeSizeAndProtocols) {
  auto start = std::chrono::steady_clock::now();
  auto stalled = transport_.Exchange(provider_.peer(), {provider_.addr()}, {{"/test/stall", "x"}},
                                     500ms, 1 << 20);
  ASSERT_FALSE(stalled.has_value());
  EXPECT_EQ(stalled.error().code(), ErrorCode::kTimeout) << stalled.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);

  auto big =
      transport_.Exchange(provider_.peer(), {provider_.addr()}, {{"/test/big", "x"}}, 10s, 1 << 20);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), ErrorCode::kResourceExhausted) << big.error().ToString();

  auto none = transport_.Exchange(provider_.peer(), {provider_.addr()},
                                  {{"/fil/storage/mk/9.9.9", "x"}}, 5s, 100);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotSupported) << none.error().ToString();
}

TEST_F(Mk12TransportTest, RefusesAnotherPeerAtTheAddressAndBadInput) {
  const std::string other = net::Ed25519Identity::FromSeed(Bytes(32, 9)).peer_id().ToString();
  auto wrong = transport_.Exchange(other, {provider_.addr()}, {{"/test/silent", "x"}}, 5s, 100);
  ASSERT_FALSE(wrong.has_value()) << "the Noise handshake proves the peer id";
  EXPECT_EQ(
      transport_.Exchange("12D3KooWA", {provider_.addr()}, {{"/p", "x"}}, 5s, 100).error().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.Exchange(provider_.peer(), {"/ip4/1.2.3.4/tcp"}, {{"/p", "x"}}, 5s, 100)
                .error()
                .code(),
            ErrorCode::kInvalidArgument);
  AppMk12Transport without_host(nullptr);
  EXPECT_EQ(without_host.Exchange(provider_.peer(), {provider_.addr()}, {{"/p", "x"}}, 5s, 100)
                .error()
                .code(),
            ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace cairn::app
