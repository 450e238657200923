#include "bitswap/libp2p_network.hpp"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "common/log.hpp"
#include "multiformats/varint.hpp"

namespace cairn::bitswap {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kHostWait = std::chrono::seconds(10);
// Frames up to this size are written with their prefix in one buffer; bigger ones as two writes
// (no copy of a large message).
constexpr size_t kCopyFrameBelow = 16 * 1024;

bool OnThreadOf(const asio::any_io_executor& ex) {
  const auto* io_ex = ex.target<asio::io_context::executor_type>();
  return io_ex != nullptr && io_ex->running_in_this_thread();
}

// Runs `fn` on the executor's thread and waits for it; false when it did not run within
// kHostWait (it may still run later, so `fn` owns what it uses).
bool RunOn(const asio::any_io_executor& ex, std::function<void()> fn) {
  if (OnThreadOf(ex)) {
    fn();
    return true;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto ready = done->get_future();
  asio::post(ex, [fn = std::move(fn), done] {
    fn();
    done->set_value();
  });
  return ready.wait_for(kHostWait) == std::future_status::ready;
}

// The contract's error codes for what the host reports.
Error ForContract(const Error& e, const std::string& peer) {
  std::string message = "bitswap: connect to " + peer + ": " + e.message();
  switch (e.code()) {
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kTimeout:
      return Error(e.code(), std::move(message));
    default:
      return Error(ErrorCode::kUnavailable, std::move(message));
  }
}

}  // namespace

struct Libp2pNetwork::Impl : std::enable_shared_from_this<Impl> {
  struct Peer {
    explicit Peer(net::PeerId p) : id(std::move(p)), key(id.ToString()) {}
    const net::PeerId id;
    const PeerId key;
    // GUARDED_BY(Impl::mu)
    std::optional<ProtocolVersion> version;  // set: connected (outbound stream negotiated)
    std::deque<Bytes> queue;                 // messages not yet written
    uint64_t queued = 0;                     // bytes of `queue` plus the message being written
    bool writing = false;                    // a writer coroutine runs (or is posted)
    bool gone = false;                       // its last connection closed; the entry is dead
    // Only on the host's thread.
    std::shared_ptr<net::Stream> stream;
    std::shared_ptr<asio::steady_timer> opening;  // cancelled when the open attempt ends
    std::shared_ptr<asio::steady_timer> idle;     // closes `stream` after options.idle_close
    std::optional<Error> open_error;
  };

  Impl(net::Host& h, Libp2pNetworkOptions o)
      : host(h), options(o), executor(h.executor()), self(h.peer_id().ToString()) {}

  // ---- host thread ----
  void Install();
  void Uninstall();
  std::shared_ptr<Peer> PeerFor(const net::PeerId& id);
  awaitable<Result<ProtocolVersion>> EnsureOutbound(net::PeerId id);
  void OnGone(const net::PeerId& id);
  void DropPeer(const std::shared_ptr<Peer>& peer, const Error& error);
  awaitable<Result<void>> WriteFrame(const std::shared_ptr<Peer>& peer, ByteSpan message);
  // A new outbound stream with the peer's negotiated protocol, which becomes peer->stream.
  awaitable<Result<std::shared_ptr<net::Stream>>> Reopen(const std::shared_ptr<Peer>& peer,
                                                         ProtocolVersion version);
  void ArmIdleClose(const std::shared_ptr<Peer>& peer);
  void ReportPeer(const PeerId& peer, bool connected);

  static awaitable<void> Open(std::shared_ptr<Impl> self, net::PeerId id);
  static awaitable<void> Writer(std::shared_ptr<Impl> self, std::shared_ptr<Peer> peer);
  static awaitable<void> ReadInbound(std::shared_ptr<Impl> self, std::shared_ptr<net::Stream> s);
  static awaitable<void> DoConnect(std::shared_ptr<Impl> self, net::PeerId id,
                                   std::vector<net::Multiaddr> addrs, std::string unparsed,
                                   std::shared_ptr<std::promise<Result<ProtocolVersion>>> out);

  bool stopped() const {
    std::lock_guard lock(mu);
    return stopped_;
  }

  net::Host& host;
  const Libp2pNetworkOptions options;
  const asio::any_io_executor executor;
  const PeerId self;

  mutable std::mutex mu;
  std::map<PeerId, std::shared_ptr<Peer>> peers;  // GUARDED_BY(mu)
  bool stopped_ = false;                          // GUARDED_BY(mu)

  std::mutex handler_mu;  // held during every handler call
  ReceiveFn on_message;   // GUARDED_BY(handler_mu)
  PeerFn on_peer;         // GUARDED_BY(handler_mu)

  std::set<std::shared_ptr<net::Stream>> inbound;  // only on the host's thread

  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> bad_frames{0};
  std::atomic<uint64_t> streams_opened{0};
};

// ---- Impl: host thread ----

void Libp2pNetwork::Impl::Install() {
  std::weak_ptr<Impl> weak = weak_from_this();
  for (auto id : kProtocolIds) {
    host.SetStreamHandler(std::string(id), [weak](std::shared_ptr<net::Stream> s) {
      return ReadInbound(weak.lock(), std::move(s));
    });
  }
  host.AddPeerListener([weak](const net::PeerId& peer, net::PeerEvent event) {
    auto self = weak.lock();
    if (!self || self->stopped()) return;
    if (event == net::PeerEvent::kConnected) {
      asio::co_spawn(self->executor, Open(self, peer), asio::detached);
    } else {
      self->OnGone(peer);
    }
  });
  // Peers connected before this network existed are bitswap peers too.
  for (const auto& peer : host.ConnectedPeers()) {
    asio::co_spawn(executor, Open(shared_from_this(), peer), asio::detached);
  }
}

void Libp2pNetwork::Impl::Uninstall() {
  for (auto id : kProtocolIds) host.RemoveStreamHandler(std::string(id));
  for (const auto& s : inbound) s->Reset();
  inbound.clear();
  std::map<PeerId, std::shared_ptr<Peer>> all;
  {
    std::lock_guard lock(mu);
    all.swap(peers);
    for (auto& [key, p] : all) {
      p->gone = true;
      p->version.reset();
      p->queue.clear();
      p->queued = 0;
    }
  }
  for (auto& [key, p] : all) {
    if (p->stream) p->stream->CloseWrite();
    p->stream.reset();
    if (p->opening) p->opening->cancel();
    if (p->idle) p->idle->cancel();
  }
}

std::shared_ptr<Libp2pNetwork::Impl::Peer> Libp2pNetwork::Impl::PeerFor(const net::PeerId& id) {
  std::lock_guard lock(mu);
  auto& p = peers[id.ToString()];
  if (!p) p = std::make_shared<Peer>(id);
  return p;
}

void Libp2pNetwork::Impl::ReportPeer(const PeerId& peer, bool connected) {
  std::lock_guard lock(handler_mu);
  if (on_peer) on_peer(peer, connected);
}

awaitable<Result<ProtocolVersion>> Libp2pNetwork::Impl::EnsureOutbound(net::PeerId id) {
  if (stopped()) co_return Err(ErrorCode::kCancelled, "bitswap: network closed");
  {
    std::lock_guard lock(mu);
    auto it = peers.find(id.ToString());
    if (it != peers.end() && it->second->version) co_return *it->second->version;
  }
  // Never dial here: the stream rides on the connection that exists (a listener event, an
  // inbound stream, or Connect's dial just before).
  if (!host.IsConnected(id)) {
    co_return Err(ErrorCode::kUnavailable, "bitswap: " + id.ToString() + " is not connected");
  }
  auto peer = PeerFor(id);
  if (peer->opening) {  // another caller is opening it: wait for that attempt
    auto timer = peer->opening;
    co_await timer->async_wait(kTuple);
    std::lock_guard lock(mu);
    if (peer->version) co_return *peer->version;
    if (peer->open_error) co_return Err(*peer->open_error);
    co_return Err(ErrorCode::kUnavailable, "bitswap: no stream to " + peer->key);
  }
  auto timer =
      std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  peer->opening = timer;
  std::vector<std::string> protocols(kProtocolIds.begin(), kProtocolIds.end());
  auto stream = co_await host.NewStream(id, std::move(protocols));
  peer->opening.reset();
  timer->cancel();
  if (!stream) {
    Error e = stream.error().code() == ErrorCode::kNotSupported
                  ? Error(ErrorCode::kUnavailable,
                          "bitswap: " + peer->key + " supports no bitswap protocol")
                  : stream.error().WithContext("bitswap: stream to " + peer->key + ": ");
    peer->open_error = e;
    co_return Err(e);
  }
  auto version = ParseProtocolId((*stream)->protocol());
  CAIRN_CHECK(version.has_value());  // the host selects one of the ids proposed above
  {
    std::lock_guard lock(mu);
    if (stopped_ || peer->gone) {
      (*stream)->Reset();
      co_return Err(ErrorCode::kUnavailable,
                    "bitswap: " + peer->key + " disconnected while its stream was opened");
    }
    peer->version = *version;
  }
  peer->stream = std::move(*stream);
  peer->open_error.reset();
  streams_opened++;
  log::Debug("bitswap_peer_connected",
             {{"peer", peer->key}, {"protocol", std::string(ProtocolId(*version))}});
  ReportPeer(peer->key, true);
  co_return *version;
}

void Libp2pNetwork::Impl::OnGone(const net::PeerId& id) {
  std::shared_ptr<Peer> peer;
  bool was_connected = false;
  {
    std::lock_guard lock(mu);
    auto it = peers.find(id.ToString());
    if (it == peers.end()) return;
    peer = it->second;
    peers.erase(it);
    peer->gone = true;
    was_connected = peer->version.has_value();
    peer->version.reset();
    peer->queue.clear();
    peer->queued = 0;
  }
  peer->stream.reset();
  if (peer->idle) peer->idle->cancel();
  if (was_connected) ReportPeer(peer->key, false);
}

void Libp2pNetwork::Impl::DropPeer(const std::shared_ptr<Peer>& peer, const Error& error) {
  log::Warn("bitswap_send_failed", {{"peer", peer->key}, {"error", error.message()}});
  bool was_connected = false;
  {
    std::lock_guard lock(mu);
    was_connected = peer->version.has_value();
    peer->version.reset();
    peer->queue.clear();
    peer->queued = 0;
    peer->writing = false;
  }
  if (peer->stream) peer->stream->Reset();
  peer->stream.reset();
  if (was_connected) ReportPeer(peer->key, false);
}

namespace {

awaitable<Result<void>> WriteOn(net::Stream& stream, ByteSpan message) {
  std::array<uint8_t, multiformats::kMaxVarintSize + 1> prefix;
  size_t n = multiformats::EncodeVarint(message.size(), prefix.data());
  if (message.size() < kCopyFrameBelow) {
    Bytes frame(prefix.begin(), prefix.begin() + static_cast<ptrdiff_t>(n));
    frame.insert(frame.end(), message.begin(), message.end());
    co_return co_await stream.Write(frame);
  }
  auto w = co_await stream.Write(ByteSpan(prefix.data(), n));
  if (!w) co_return w;
  co_return co_await stream.Write(message);
}

}  // namespace

awaitable<Result<std::shared_ptr<net::Stream>>> Libp2pNetwork::Impl::Reopen(
    const std::shared_ptr<Peer>& peer, ProtocolVersion version) {
  std::vector<std::string> protocols{std::string(ProtocolId(version))};
  auto fresh = co_await host.NewStream(peer->id, std::move(protocols));
  if (!fresh) co_return Err(fresh.error());
  if (peer->gone || stopped()) {
    (*fresh)->Reset();
    co_return Err(ErrorCode::kUnavailable, "bitswap: " + peer->key + " disconnected");
  }
  streams_opened++;
  peer->stream = *fresh;
  co_return *fresh;
}

awaitable<Result<void>> Libp2pNetwork::Impl::WriteFrame(const std::shared_ptr<Peer>& peer,
                                                        ByteSpan message) {
  std::optional<ProtocolVersion> version;
  {
    std::lock_guard lock(mu);
    version = peer->version;
  }
  if (!version) co_return Err(ErrorCode::kUnavailable, "bitswap: " + peer->key + " disconnected");
  if (!peer->stream) {  // closed when it was idle: a new one with the same protocol
    auto s = co_await Reopen(peer, *version);
    if (!s)
      co_return Err(s.error().WithContext("bitswap: reopening the stream to " + peer->key + ": "));
  }
  auto stream = peer->stream;
  auto w = co_await WriteOn(*stream, message);
  if (w || !host.IsConnected(peer->id) || stopped()) co_return w;
  // The connection lives, so the stream was reset (Helia aborts a bitswap stream idle for 10 s):
  // one new stream with the same protocol.
  auto fresh = co_await Reopen(peer, *version);
  if (!fresh) {
    co_return Err(
        fresh.error().WithContext("after a reset (" + w.error().message() + "), reopening: "));
  }
  log::Debug("bitswap_stream_reopened", {{"peer", peer->key}});
  co_return co_await WriteOn(**fresh, message);
}

void Libp2pNetwork::Impl::ArmIdleClose(const std::shared_ptr<Peer>& peer) {
  if (options.idle_close.count() <= 0 || !peer->stream) return;
  if (!peer->idle) peer->idle = std::make_shared<asio::steady_timer>(executor);
  peer->idle->expires_after(options.idle_close);
  std::weak_ptr<Impl> weak = weak_from_this();
  std::weak_ptr<net::Stream> armed = peer->stream;
  peer->idle->async_wait([weak, peer, armed](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;  // cancelled: a writer started, or the peer is gone
    {
      std::lock_guard lock(self->mu);
      if (peer->writing || !peer->queue.empty() || peer->gone) return;
    }
    if (peer->stream && peer->stream == armed.lock()) {
      peer->stream->CloseWrite();  // the peer's reader sees EOF; the next Send opens a new one
      peer->stream.reset();
    }
  });
}

awaitable<void> Libp2pNetwork::Impl::Open(std::shared_ptr<Impl> self, net::PeerId id) {
  auto r = co_await self->EnsureOutbound(id);
  if (!r) {
    log::Debug("bitswap_not_a_peer", {{"peer", id.ToString()}, {"error", r.error().message()}});
  }
}

awaitable<void> Libp2pNetwork::Impl::Writer(std::shared_ptr<Impl> self,
                                            std::shared_ptr<Peer> peer) {
  if (peer->idle) peer->idle->cancel();
  for (;;) {
    Bytes message;
    {
      std::unique_lock lock(self->mu);
      if (peer->gone || self->stopped_ || peer->queue.empty()) {
        peer->writing = false;
        bool idle = !peer->gone && !self->stopped_;
        lock.unlock();
        if (idle) self->ArmIdleClose(peer);
        co_return;
      }
      message = std::move(peer->queue.front());
      peer->queue.pop_front();
    }
    auto w = co_await self->WriteFrame(peer, message);
    {
      std::lock_guard lock(self->mu);
      peer->queued -= std::min<uint64_t>(peer->queued, message.size());
    }
    if (!w) {
      if (!peer->gone && !self->stopped()) {
        self->DropPeer(peer, w.error());
      } else {
        std::lock_guard lock(self->mu);
        peer->writing = false;
      }
      co_return;
    }
  }
}

awaitable<void> Libp2pNetwork::Impl::ReadInbound(std::shared_ptr<Impl> self,
                                                 std::shared_ptr<net::Stream> s) {
  if (!self || self->stopped()) {
    s->Reset();
    co_return;
  }
  auto version = ParseProtocolId(s->protocol());
  CAIRN_CHECK(version.has_value());  // handlers are registered for the three ids only
  const net::PeerId id = s->remote_peer();
  const PeerId key = id.ToString();
  self->inbound.insert(s);
  FrameReader reader(kMaxMessageBytes);
  Bytes buffer(self->options.read_chunk);
  std::optional<Error> bad;
  for (bool done = false; !done;) {
    auto n = co_await s->ReadSome(buffer);
    if (!n || *n == 0 || self->stopped()) break;  // reset, closed or EOF: the peer is done
    if (auto a = reader.Append(ByteSpan(buffer).first(*n)); !a) {
      bad = a.error();
      break;
    }
    for (;;) {
      auto next = reader.Next();
      if (!next) {
        bad = next.error();
        done = true;
        break;
      }
      if (!*next) break;
      self->frames++;
      // The engines answer on the outbound stream: it must exist before they hear the peer.
      auto out = co_await self->EnsureOutbound(id);
      if (!out) {
        log::Debug("bitswap_inbound_unanswerable",
                   {{"peer", key}, {"error", out.error().message()}});
        s->Reset();
        done = true;
        break;
      }
      std::lock_guard lock(self->handler_mu);
      if (self->on_message) self->on_message(key, *version, **next);
    }
  }
  if (bad) {
    self->bad_frames++;
    log::Warn("bitswap_stream_reset",
              {{"peer", key}, {"protocol", s->protocol()}, {"error", bad->message()}});
    s->Reset();
  } else {
    s->CloseWrite();  // nothing is ever written on an inbound bitswap stream
  }
  self->inbound.erase(s);
}

awaitable<void> Libp2pNetwork::Impl::DoConnect(
    std::shared_ptr<Impl> self, net::PeerId id, std::vector<net::Multiaddr> addrs,
    std::string unparsed, std::shared_ptr<std::promise<Result<ProtocolVersion>>> out) {
  const std::string key = id.ToString();
  if (!self->host.IsConnected(id)) {
    auto c = co_await self->host.Connect(id, std::move(addrs));
    if (!c) {
      if (c.error().code() == ErrorCode::kNotFound && !unparsed.empty()) {
        out->set_value(
            Err(ErrorCode::kInvalidArgument,
                "bitswap: connect to " + key + ": no usable address (" + unparsed + ")"));
      } else {
        out->set_value(Err(ForContract(c.error(), key)));
      }
      co_return;
    }
  }
  auto v = co_await self->EnsureOutbound(id);
  out->set_value(v ? Result<ProtocolVersion>(*v) : Err(ForContract(v.error(), key)));
}

// ---- Libp2pNetwork ----

Result<std::unique_ptr<Libp2pNetwork>> Libp2pNetwork::Create(net::Host& host,
                                                             Libp2pNetworkOptions options) {
  if (options.max_queued_bytes < 2 * kMaxMessageBytes) {
    return Err(ErrorCode::kInvalidArgument, "bitswap: max_queued_bytes " +
                                                std::to_string(options.max_queued_bytes) +
                                                " is below twice the 4 MiB message limit");
  }
  if (options.read_chunk == 0 || options.read_chunk > FrameReader::kMaxChunk) {
    return Err(ErrorCode::kInvalidArgument,
               "bitswap: read_chunk " + std::to_string(options.read_chunk) + " not in 1..1 MiB");
  }
  auto impl = std::make_shared<Impl>(host, options);
  if (!RunOn(impl->executor, [impl] { impl->Install(); })) {
    return Err(ErrorCode::kUnavailable,
               "bitswap: the libp2p host's thread did not run within 10 s (is its io_context "
               "running?)");
  }
  return std::unique_ptr<Libp2pNetwork>(new Libp2pNetwork(std::move(impl)));
}

Libp2pNetwork::Libp2pNetwork(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Libp2pNetwork::~Libp2pNetwork() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped_ = true;
  }
  auto impl = impl_;
  if (!RunOn(impl->executor, [impl] { impl->Uninstall(); })) {
    log::Warn("bitswap_network_stop", {{"error", "the libp2p host's thread did not run"}});
  }
  std::lock_guard lock(impl_->handler_mu);
  impl_->on_message = nullptr;
  impl_->on_peer = nullptr;
}

PeerId Libp2pNetwork::Self() const { return impl_->self; }

void Libp2pNetwork::SetHandlers(ReceiveFn on_message, PeerFn on_peer) {
  std::lock_guard lock(impl_->handler_mu);
  impl_->on_message = std::move(on_message);
  impl_->on_peer = std::move(on_peer);
}

Result<void> Libp2pNetwork::Send(const PeerId& peer, Bytes message) {
  if (message.size() > kMaxMessageBytes) {
    return Err(ErrorCode::kInvalidArgument, "bitswap: message of " +
                                                std::to_string(message.size()) + " bytes to " +
                                                peer + " exceeds 4 MiB");
  }
  std::shared_ptr<Impl::Peer> p;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped_) return Err(ErrorCode::kUnavailable, "bitswap: network closed");
    auto it = impl_->peers.find(peer);
    if (it == impl_->peers.end() || !it->second->version) {
      return Err(ErrorCode::kUnavailable, "bitswap: " + peer + " is not connected");
    }
    p = it->second;
    if (p->queued + message.size() > impl_->options.max_queued_bytes) {
      return Err(ErrorCode::kResourceExhausted,
                 "bitswap: send queue to " + peer + " holds " + std::to_string(p->queued) +
                     " bytes (limit " + std::to_string(impl_->options.max_queued_bytes) + ")");
    }
    p->queued += message.size();
    p->queue.push_back(std::move(message));
    if (p->writing) return Ok();
    p->writing = true;
  }
  asio::co_spawn(impl_->executor, Impl::Writer(impl_, std::move(p)), asio::detached);
  return Ok();
}

uint64_t Libp2pNetwork::QueuedBytes(const PeerId& peer) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->peers.find(peer);
  return it == impl_->peers.end() ? 0 : it->second->queued;
}

Result<ProtocolVersion> Libp2pNetwork::Connect(const PeerId& peer,
                                               std::span<const std::string> addrs,
                                               std::chrono::milliseconds timeout) {
  if (OnThreadOf(impl_->executor)) {
    return Err(ErrorCode::kInternal,
               "bitswap: Connect called on the libp2p host's thread (it would block it)");
  }
  auto id = net::PeerId::Parse(peer);
  if (!id) return Err(id.error().WithContext("bitswap: peer id '" + peer + "': "));
  if (id->ToString() == impl_->self) {
    return Err(ErrorCode::kInvalidArgument, "bitswap: cannot connect to ourselves");
  }
  std::vector<net::Multiaddr> parsed;
  std::string unparsed;
  for (const auto& a : addrs) {
    auto m = net::Multiaddr::Parse(a);
    if (m) {
      parsed.push_back(std::move(*m));
    } else {
      unparsed += (unparsed.empty() ? "" : "; ") + a + ": " + m.error().message();
    }
  }
  auto out = std::make_shared<std::promise<Result<ProtocolVersion>>>();
  auto result = out->get_future();
  asio::co_spawn(impl_->executor,
                 Impl::DoConnect(impl_, *id, std::move(parsed), std::move(unparsed), out),
                 asio::detached);
  if (result.wait_for(timeout) != std::future_status::ready) {
    return Err(ErrorCode::kTimeout, "bitswap: connect to " + peer + " did not finish within " +
                                        std::to_string(timeout.count()) + " ms");
  }
  return result.get();
}

std::vector<ConnectedPeer> Libp2pNetwork::ConnectedPeers() const {
  std::lock_guard lock(impl_->mu);
  std::vector<ConnectedPeer> out;
  for (const auto& [key, p] : impl_->peers) {
    if (p->version) out.push_back({key, *p->version});
  }
  return out;
}

std::optional<ProtocolVersion> Libp2pNetwork::Version(const PeerId& peer) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return std::nullopt;
  return it->second->version;
}

uint64_t Libp2pNetwork::frames_received() const { return impl_->frames.load(); }
uint64_t Libp2pNetwork::streams_reset_for_bad_frames() const { return impl_->bad_frames.load(); }
uint64_t Libp2pNetwork::outbound_streams_opened() const { return impl_->streams_opened.load(); }

}  // namespace cairn::bitswap
