#include "apps/cairn/mk12_transport.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <future>
#include <memory>

#include "http/client.hpp"

namespace cairn::app {

namespace {

namespace asio = boost::asio;
using filecoin::deals::Mk12StreamOffer;
using filecoin::deals::Mk12StreamReply;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kHostGrace{5};

Error TimedOut(std::chrono::milliseconds timeout, std::string_view step) {
  return Error(ErrorCode::kTimeout, "libp2p: no answer within " + std::to_string(timeout.count()) +
                                        " ms (" + std::string(step) + ")");
}

// Writes the chosen offer, half-closes and reads the answer to EOF, bounded. The caller's timer
// resets the stream at the deadline, which ends a pending read or write.
asio::awaitable<Result<std::string>> Converse(std::shared_ptr<net::Stream> stream,
                                              const std::string& request, uint64_t max) {
  if (!request.empty()) {  // the transports query has no request
    auto written = co_await stream->Write(AsBytes(request));
    if (!written) co_return Err(written.error());
  }
  stream->CloseWrite();
  std::string body;
  std::array<uint8_t, 16384> buf{};
  while (true) {
    auto n = co_await stream->ReadSome(MutableByteSpan(buf));
    if (!n) co_return Err(n.error());
    if (*n == 0) break;
    if (body.size() + *n > max) {
      stream->Reset();
      co_return Err(ErrorCode::kResourceExhausted,
                    "libp2p: the answer exceeds " + std::to_string(max) + " bytes");
    }
    body.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  co_return body;
}

asio::awaitable<Result<Mk12StreamReply>> Run(net::Host* host, net::PeerId peer,
                                             std::vector<net::Multiaddr> addrs,
                                             std::vector<Mk12StreamOffer> offers,
                                             std::chrono::milliseconds timeout, uint64_t max) {
  const auto deadline = Clock::now() + timeout;
  auto connected = co_await host->Connect(peer, std::move(addrs));
  if (!connected) co_return Err(connected.error());
  if (Clock::now() >= deadline) co_return Err(TimedOut(timeout, "connecting"));
  std::vector<std::string> protocols;
  protocols.reserve(offers.size());
  for (const auto& o : offers) protocols.push_back(o.protocol);
  auto opened = co_await host->NewStream(peer, protocols);
  if (!opened) co_return Err(opened.error());
  std::shared_ptr<net::Stream> stream = *opened;
  if (Clock::now() >= deadline) {
    stream->Reset();
    co_return Err(TimedOut(timeout, "negotiating"));
  }
  const Mk12StreamOffer* chosen = nullptr;
  for (const auto& o : offers) {
    if (o.protocol == stream->protocol()) chosen = &o;
  }
  if (chosen == nullptr) {  // the host negotiates only what was offered
    stream->Reset();
    co_return Err(ErrorCode::kInternal,
                  "libp2p: negotiated " + stream->protocol() + ", which was not offered");
  }
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  timer.async_wait([stream, timed_out](const boost::system::error_code& ec) {
    if (ec) return;
    *timed_out = true;
    stream->Reset();
  });
  auto body = co_await Converse(stream, chosen->request, max);
  timer.cancel();
  if (*timed_out) co_return Err(TimedOut(timeout, "exchanging"));
  if (!body) co_return Err(body.error());
  co_return Mk12StreamReply{stream->protocol(), std::move(*body)};
}

}  // namespace

Result<filecoin::deals::Mk12HttpReply> AppMk12Transport::Send(const std::string& method,
                                                              const std::string& url,
                                                              const std::string& body,
                                                              std::chrono::milliseconds timeout,
                                                              uint64_t max_response_bytes) {
  http::ClientRequest req;
  req.method = method;
  req.url = url;
  req.headers = {{"Content-Type", "application/cbor"}, {"Accept", "application/cbor"}};
  req.body = body;
  req.timeout = timeout;
  req.max_body_bytes = max_response_bytes;
  auto res = http::Fetch(req);
  if (!res) return Err(res.error());
  return filecoin::deals::Mk12HttpReply{res->status, std::move(res->body)};
}

Result<Mk12StreamReply> AppMk12Transport::Exchange(const std::string& peer_id,
                                                   const std::vector<std::string>& addrs,
                                                   const std::vector<Mk12StreamOffer>& offers,
                                                   std::chrono::milliseconds timeout,
                                                   uint64_t max_response_bytes) {
  if (host_ == nullptr) {
    return Err(ErrorCode::kUnavailable, "libp2p: this process runs no libp2p host");
  }
  if (offers.empty()) return Err(ErrorCode::kInvalidArgument, "libp2p: no protocol offered");
  auto peer = net::PeerId::Parse(peer_id);
  if (!peer) return Err(peer.error().WithContext("libp2p: peer id '" + peer_id + "': "));
  std::vector<net::Multiaddr> parsed;
  for (const auto& a : addrs) {
    auto ma = net::Multiaddr::Parse(a);
    if (!ma) return Err(ma.error().WithContext("libp2p: address '" + a + "': "));
    parsed.push_back(std::move(*ma));
  }
  auto done = std::make_shared<std::promise<Result<Mk12StreamReply>>>();
  auto answer = done->get_future();
  asio::co_spawn(host_->executor(),
                 Run(host_, *peer, std::move(parsed), offers, timeout, max_response_bytes),
                 [done](const std::exception_ptr& e, Result<Mk12StreamReply> r) {
                   if (e) {
                     done->set_value(Err(ErrorCode::kInternal, "libp2p: the exchange threw"));
                   } else {
                     done->set_value(std::move(r));
                   }
                 });
  if (answer.wait_for(timeout + kHostGrace) != std::future_status::ready) {
    // The host thread is stuck or stopped; the coroutine finishes (or not) on its own.
    return Err(TimedOut(timeout, "the libp2p host did not run the exchange"));
  }
  return answer.get();
}

}  // namespace cairn::app
