// libp2p host throughput and memory (scripts/bench-libp2p.sh puts the numbers beside
// `openssl speed -evp chacha20-poly1305`):
//   1. one Noise+yamux stream over loopback: a sender host and a receiver host, each on its own
//      io_context thread, moving --mib MiB (default 256); prints MB/s;
//   2. --conns N (default 1000) client hosts each connected to one server host, all idle; prints
//      the resident memory added per connection (both ends live in this process, so the figure
//      is per connection end: RSS delta / 2N).
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include "net/host.hpp"

namespace asio = boost::asio;
using namespace cairn;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSink = "/cairn-bench/sink/1.0.0";

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

asio::awaitable<void> Sink(std::shared_ptr<net::Stream> s) {
  std::vector<uint8_t> buf(256 * 1024);
  for (;;) {
    auto n = co_await s->ReadSome(buf);
    if (!n || *n == 0) break;
  }
  std::array<uint8_t, 1> ok{1};
  (void)co_await s->Write(ok);
  s->CloseWrite();
}

asio::awaitable<Result<double>> Send(net::Host& host, net::PeerId peer,
                                     std::vector<net::Multiaddr> addrs, size_t total) {
  auto c = co_await host.Connect(peer, std::move(addrs));
  if (!c) co_return Err(c.error());
  std::vector<std::string> protocols{kSink};
  auto s = co_await host.NewStream(peer, std::move(protocols));
  if (!s) co_return Err(s.error());
  Bytes chunk(1 << 20, 0x5a);
  auto start = std::chrono::steady_clock::now();
  for (size_t sent = 0; sent < total; sent += chunk.size()) {
    auto w = co_await (*s)->Write(chunk);
    if (!w) co_return Err(w.error());
  }
  (*s)->CloseWrite();
  std::array<uint8_t, 1> ok;
  auto r = co_await (*s)->ReadExactly(ok);  // the receiver saw everything
  if (!r) co_return Err(r.error());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_return static_cast<double>(total) / secs / 1e6;
}

template <typename T>
T RunOn(asio::io_context& io, asio::awaitable<T> aw) {
  std::promise<T> p;
  asio::co_spawn(io, std::move(aw), [&](const std::exception_ptr& e, T v) {
    if (e) std::abort();
    p.set_value(std::move(v));
  });
  return p.get_future().get();
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 256, conns = 1000;
  uint32_t window = 0, max_window = 0;
  size_t max_pending = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mib")) mib = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--conns")) conns = std::stoul(argv[i + 1]);
    if (!std::strcmp(argv[i], "--window")) window = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    if (!std::strcmp(argv[i], "--max-window")) {
      max_window = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    }
    if (!std::strcmp(argv[i], "--max-pending")) max_pending = std::stoul(argv[i + 1]);
  }
  net::HostOptions options;
  options.listen = {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
  options.dial.allow_private = true;
  options.limits.max_connections = conns + 16;
  options.limits.max_pending_handshakes = conns + 16;
  if (window) options.yamux.receive_window = window;
  if (max_window) options.yamux.max_receive_window = max_window;
  if (max_pending) options.yamux.max_pending_output = max_pending;

  // 1. Throughput: receiver and sender on two threads.
  asio::io_context rio, sio;
  auto rguard = asio::make_work_guard(rio);
  auto sguard = asio::make_work_guard(sio);
  auto rid = net::Ed25519Identity::FromSeed(Bytes(32, 1));
  auto sid = net::Ed25519Identity::FromSeed(Bytes(32, 2));
  auto receiver = net::Host::Create(rio, rid, options);
  auto sender = net::Host::Create(sio, sid, options);
  if (!receiver || !sender) return 1;
  (*receiver)->SetStreamHandler(kSink, Sink);
  std::thread rt([&] { rio.run(); });
  std::thread st([&] { sio.run(); });
  auto rate = RunOn(sio, Send(**sender, rid.peer_id(), (*receiver)->ListenAddrs(), mib << 20));
  if (!rate) {
    std::fprintf(stderr, "throughput: %s\n", rate.error().ToString().c_str());
    return 1;
  }
  std::printf("stream_throughput_mb_s %.1f (%zu MiB, window %u, auto-tuned up to %u)\n", *rate, mib,
              options.yamux.receive_window,
              std::max(options.yamux.max_receive_window, options.yamux.receive_window));

  // 2. Idle connections: N client hosts on the sender's thread, one server.
  size_t before = RssBytes();
  std::vector<std::unique_ptr<net::Host>> clients;
  net::HostOptions client_options;
  client_options.dial.allow_private = true;
  for (size_t i = 0; i < conns; ++i) {
    Bytes seed(32, 0);
    std::memcpy(seed.data(), &i, sizeof i);
    seed[31] = 7;
    auto id = net::Ed25519Identity::FromSeed(seed);
    auto h = RunOn(sio,
                   [](asio::io_context& io, net::Ed25519Identity id,
                      net::HostOptions o) -> asio::awaitable<std::unique_ptr<net::Host>> {
                     auto h = net::Host::Create(io, id, o);
                     co_return h ? std::move(*h) : nullptr;
                   }(sio, id, client_options));
    auto c = RunOn(sio, h->Connect(rid.peer_id(), (*receiver)->ListenAddrs()));
    if (!c) {
      std::fprintf(stderr, "connect %zu: %s\n", i, c.error().ToString().c_str());
      return 1;
    }
    clients.push_back(std::move(h));
  }
  std::this_thread::sleep_for(1s);  // identify exchanges finish; streams released
  size_t after = RssBytes();
  std::printf("idle_connections %zu rss_delta_kib %zu per_connection_end_kib %.1f\n", conns,
              (after - before) / 1024,
              static_cast<double>(after - before) / 1024.0 / (2.0 * conns));
  asio::post(sio, [&] {
    for (auto& c : clients) c->Stop();
    (*sender)->Stop();
  });
  asio::post(rio, [&] { (*receiver)->Stop(); });
  std::this_thread::sleep_for(200ms);
  rguard.reset();
  sguard.reset();
  rio.stop();
  sio.stop();
  rt.join();
  st.join();
  // Hosts are destroyed on this thread after their loops stopped.
  std::fflush(stdout);
  std::_Exit(0);
}
