#include "net/host.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/log.hpp"
#include "common/protobuf.hpp"
#include "net/identify.hpp"
#include "net/keys.hpp"
#include "net/multistream.hpp"
#include "net/noise.hpp"

namespace cairn::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// An established connection reads into, and encrypts into, buffers of this size: four whole
// Noise messages (2 + 65535 bytes each), so a read takes several and a write batch is still in
// the cache when the kernel copies it.
constexpr size_t kIoBuffer = 4 * (2 + noise::kMaxFrame);

// I/O buffers of kIoBuffer bytes, pooled per thread: a connection holds its read buffer only
// while a message is incomplete or bytes are arriving and its write buffer only while it writes,
// so an idle connection holds none, and a busy one that keeps catching up with its socket does
// not allocate (and fault in) fresh buffers each time. Buffers only move within the thread that
// runs the host (one io_context thread).
class BufferPool {
 public:
  static std::unique_ptr<uint8_t[]> Take() {
    auto& free = List();
    if (free.empty()) return std::make_unique_for_overwrite<uint8_t[]>(kIoBuffer);
    auto b = std::move(free.back());
    free.pop_back();
    return b;
  }
  static void Give(std::unique_ptr<uint8_t[]> buffer) {
    auto& free = List();
    if (buffer && free.size() < kMaxFree) free.push_back(std::move(buffer));
  }

 private:
  static constexpr size_t kMaxFree = 8;  // 2 MiB per thread at most
  static std::vector<std::unique_ptr<uint8_t[]>>& List() {
    thread_local std::vector<std::unique_ptr<uint8_t[]>> free;
    return free;
  }
};

// The session's output buffers (Session::SwapOutput), pooled per thread like BufferPool: a
// writer that goes idle gives its buffer back instead of freeing it, so the next batch is not
// built in a fresh vector that regrows (and copies itself) up to the batch's size.
class OutputPool {
 public:
  static Bytes Take() {
    auto& free = List();
    if (free.empty()) return Bytes();
    Bytes b = std::move(free.back());
    free.pop_back();
    return b;
  }
  static void Give(Bytes buffer) {
    auto& free = List();
    if (buffer.capacity() > 0 && buffer.capacity() <= kMaxKept && free.size() < kMaxFree) {
      buffer.clear();
      free.push_back(std::move(buffer));
    }
  }

 private:
  static constexpr size_t kMaxFree = 4;
  static constexpr size_t kMaxKept = 4 << 20;
  static std::vector<Bytes>& List() {
    thread_local std::vector<Bytes> free;
    return free;
  }
};

// A growable byte buffer whose resize() leaves new bytes uninitialized: the socket and the
// cipher write every byte of the read and write buffers, so zero-filling them first (as
// std::vector does) is wasted work on the hot path.
class RawBytes {
 public:
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  uint8_t operator[](size_t i) const { return data_[i]; }
  const uint8_t* begin() const { return data_.get(); }
  const uint8_t* end() const { return data_.get() + size_; }
  operator ByteSpan() const { return ByteSpan(data_.get(), size_); }
  // Bytes past the old size are uninitialized; the storage grows to at least twice the old.
  void resize(size_t n) {
    if (n > capacity_) {
      size_t capacity = std::max(n, capacity_ * 2);
      auto grown = std::make_unique_for_overwrite<uint8_t[]>(capacity);
      if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    size_ = n;
  }
  // Drops the first `n` bytes (moves the rest to the front).
  void erase_front(size_t n) {
    if (n < size_) std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ = n < size_ ? size_ - n : 0;
  }
  void clear() { size_ = 0; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

Error Closed() { return Error(ErrorCode::kUnavailable, "libp2p: connection closed"); }

// A one-shot timer that runs `on_expire` unless cancelled first.
std::shared_ptr<asio::steady_timer> StartDeadline(const asio::any_io_executor& ex,
                                                  std::chrono::milliseconds after,
                                                  std::function<void()> on_expire) {
  auto timer = std::make_shared<asio::steady_timer>(ex, after);
  timer->async_wait([on_expire = std::move(on_expire)](boost::system::error_code ec) {
    if (!ec) on_expire();
  });
  return timer;
}

Multiaddr EndpointAddr(const tcp::endpoint& ep) {
  Multiaddr ma;
  auto ip = ep.address();
  auto r = ma.Append(ip.is_v4() ? "ip4" : "ip6", ip.to_string());
  CAIRN_CHECK(r.has_value());  // asio prints addresses inet_pton reads
  r = ma.Append("tcp", std::to_string(ep.port()));
  CAIRN_CHECK(r.has_value());  // ports are 0..65535
  return ma;
}

std::string ShortPeer(const std::optional<PeerId>& peer) {
  return peer ? peer->ToString() : std::string("unknown");
}

// Wakes one waiting coroutine without a timer: Wait() parks the coroutine's completion handler
// here and Notify() posts it to its executor (never resumes it inline: the notifier may be in the
// middle of the session state the waiter is about to use). Notify() without a waiter does
// nothing, so a waiter re-checks its condition after waking and before waiting. Used only on the
// host's thread.
class Signal {
 public:
  explicit Signal(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  auto Wait() {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) {
          handler_ = std::make_unique<Parked<decltype(handler)>>(std::move(handler));
        },
        asio::use_awaitable);
  }
  void Notify() {
    if (!handler_) return;
    asio::post(ex_, [parked = std::move(handler_)] { parked->Resume(); });
  }

 private:
  struct ParkedBase {
    virtual ~ParkedBase() = default;
    virtual void Resume() = 0;
  };
  template <typename Handler>
  struct Parked : ParkedBase {
    explicit Parked(Handler h) : handler(std::move(h)) {}
    void Resume() override { std::move(handler)(); }
    Handler handler;
  };

  asio::any_io_executor ex_;
  std::unique_ptr<ParkedBase> handler_;
};

}  // namespace

struct Stream::Waiters {
  explicit Waiters(const asio::any_io_executor& ex) : read(ex), write(ex) {}
  Signal read;
  Signal write;
};

// One TCP connection: upgraded (multistream → noise → multistream → yamux), then a read loop that
// decrypts frames into the yamux session and a write loop that encrypts what the session queued.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Host::Impl> host, tcp::socket socket, bool outbound)
      : host_(std::move(host)),
        socket_(std::move(socket)),
        outbound_(outbound),
        writer_wake_(socket_.get_executor()) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) remote_addr_ = EndpointAddr(ep);
    socket_.set_option(tcp::no_delay(true), ec);
  }

  awaitable<Result<void>> Upgrade(const Ed25519Identity& identity, std::optional<PeerId> expected,
                                  const yamux::Options& options);
  awaitable<void> ReadLoop();
  awaitable<void> WriteLoop();
  void Close(const std::string& reason);
  void WakeWriter() { writer_wake_.Notify(); }
  void WakeStream(uint32_t id) {
    auto it = streams_.find(id);
    if (it != streams_.end()) it->second->Wake();
  }

  std::shared_ptr<Host::Impl> host_;
  tcp::socket socket_;
  bool outbound_;
  Multiaddr remote_addr_;
  std::optional<PeerId> remote_;
  std::optional<yamux::Session> session_;
  std::unordered_map<uint32_t, Stream*> streams_;  // live Stream objects; each unregisters itself
  std::vector<uint32_t> output_waiters_;           // streams waiting for the output to drain
  bool closed_ = false;
  bool registered_ = false;
  std::string close_reason_;

 private:
  awaitable<Result<void>> ReadMoreRaw();
  awaitable<Result<Bytes>> ReadRawFrame();
  awaitable<Result<std::string>> ReadLine(bool secure);
  awaitable<Result<void>> WriteRaw(Bytes data, bool secure);
  awaitable<Result<void>> Negotiate(std::string_view protocol, bool secure);
  bool Feed(ByteSpan plaintext);

  noise::CipherState send_;
  noise::CipherState recv_;
  Signal writer_wake_;
  RawBytes in_;  // upgrade: raw bytes received, not yet consumed (from in_pos_)
  // Established: the read buffer (from BufferPool; null while idle) and its unconsumed bytes.
  std::unique_ptr<uint8_t[]> rbuf_;
  size_t rbegin_ = 0;
  size_t rend_ = 0;
  size_t in_pos_ = 0;
  Bytes plain_;  // decrypted bytes of the muxer negotiation, not yet consumed
  size_t plain_pos_ = 0;
  yamux::Events events_;
};

struct Host::Impl : std::enable_shared_from_this<Host::Impl> {
  Impl(asio::io_context& io, const Ed25519Identity& id, HostOptions opts)
      : io(io), identity(id), options(std::move(opts)), conns(options.limits) {
    if (options.dns) dns_pool = std::make_unique<asio::thread_pool>(2);
  }

  awaitable<void> AcceptLoop(std::shared_ptr<Impl> self, tcp::acceptor* acceptor);
  awaitable<void> HandleAccepted(std::shared_ptr<Impl> self, tcp::socket socket);
  awaitable<Result<void>> Establish(std::shared_ptr<Connection> conn,
                                    std::optional<PeerId> expected);
  awaitable<Result<void>> Connect(PeerId peer, std::vector<Multiaddr> addrs);
  awaitable<Result<void>> DialTcp(const PeerId& peer, const TcpTarget& target);
  // `addr` resolved on the DNS pool (net/dns.hpp); `addr` itself when it has no DNS component or
  // the host has no resolver.
  awaitable<Result<std::vector<Multiaddr>>> Resolve(const Multiaddr& addr);
  awaitable<Result<std::shared_ptr<Stream>>> OpenStreamOn(std::shared_ptr<Connection> conn,
                                                          std::vector<std::string> protocols);
  awaitable<void> ServeInbound(std::shared_ptr<Impl> self, std::shared_ptr<Stream> stream);
  awaitable<void> ServeIdentify(std::shared_ptr<Stream> stream);
  awaitable<void> ServeIdentifyPush(std::shared_ptr<Stream> stream);
  awaitable<void> ServePing(std::shared_ptr<Stream> stream);
  awaitable<void> RequestIdentify(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn);
  awaitable<void> PushIdentifyTo(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn);
  void OnInboundStream(const std::shared_ptr<Connection>& conn, uint32_t id);
  void ApplyIdentify(const std::shared_ptr<Connection>& conn, const identify::Message& m);
  Bytes IdentifyMessage(const Connection& conn) const;
  void Register(const std::shared_ptr<Connection>& conn);
  void Unregister(const std::shared_ptr<Connection>& conn);
  std::shared_ptr<Connection> Find(const PeerId& peer) const;
  std::vector<Multiaddr> Addrs() const;
  std::vector<Multiaddr> ListenAddrs() const;
  void Stop();

  asio::io_context& io;
  Ed25519Identity identity;
  HostOptions options;
  ConnManager conns;
  Peerstore peerstore;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::map<std::string, StreamHandler> handlers;
  std::multimap<std::string, std::shared_ptr<Connection>> connections;  // by peer ID text
  std::set<std::shared_ptr<Connection>> handshaking;
  std::map<std::string, std::shared_ptr<asio::steady_timer>>
      dialing;  // by peer; cancelled when done
  std::vector<PeerListener> listeners;
  std::vector<IdentifyListener> identify_listeners;
  bool stopped = false;
  // Blocking DNS lookups run here, off the I/O thread (null without options.dns).
  std::unique_ptr<asio::thread_pool> dns_pool;
};

// ---- Connection: upgrade ----

awaitable<Result<void>> Connection::ReadMoreRaw() {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  size_t have = in_.size();
  in_.resize(have + 4096);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.data() + have, 4096), kTuple);
  in_.resize(have + n);
  if (ec) {
    co_return Err(ErrorCode::kUnavailable,
                  "libp2p: " + (close_reason_.empty() ? ec.message() : close_reason_));
  }
  co_return Ok();
}

awaitable<Result<Bytes>> Connection::ReadRawFrame() {
  while (in_.size() - in_pos_ < 2) {
    auto r = co_await ReadMoreRaw();
    if (!r) co_return Err(r.error());
  }
  size_t len = (size_t{in_[in_pos_]} << 8) | in_[in_pos_ + 1];
  while (in_.size() - in_pos_ < 2 + len) {
    auto r = co_await ReadMoreRaw();
    if (!r) co_return Err(r.error());
  }
  Bytes frame(in_.begin() + in_pos_ + 2, in_.begin() + in_pos_ + 2 + len);
  in_pos_ += 2 + len;
  co_return frame;
}

awaitable<Result<std::string>> Connection::ReadLine(bool secure) {
  for (;;) {
    ByteSpan avail = secure ? ByteSpan(plain_).subspan(plain_pos_) : ByteSpan(in_).subspan(in_pos_);
    auto d = multistream::DecodeMessage(avail);
    if (!d) co_return Err(d.error());
    if (*d) {
      std::string line((*d)->line);
      (secure ? plain_pos_ : in_pos_) += (*d)->consumed;
      co_return line;
    }
    if (!secure) {
      auto r = co_await ReadMoreRaw();
      if (!r) co_return Err(r.error());
      continue;
    }
    auto frame = co_await ReadRawFrame();
    if (!frame) co_return Err(frame.error());
    auto r = recv_.DecryptAppend({}, *frame, plain_);
    if (!r) co_return Err(r.error());
  }
}

awaitable<Result<void>> Connection::WriteRaw(Bytes data, bool secure) {
  Bytes wire;
  if (secure) {
    for (size_t at = 0; at < data.size(); at += noise::kMaxPlaintext) {
      size_t n = std::min(noise::kMaxPlaintext, data.size() - at);
      noise::AppendFrameHeader(wire, n + noise::kTagSize);
      auto r = send_.EncryptAppend({}, ByteSpan(data).subspan(at, n), wire);
      if (!r) co_return Err(r.error());
    }
  } else {
    wire = std::move(data);
  }
  auto [ec, n] =
      co_await asio::async_write(socket_, asio::buffer(wire.data(), wire.size()), kTuple);
  if (ec) co_return Err(ErrorCode::kUnavailable, "libp2p: write: " + ec.message());
  co_return Ok();
}

awaitable<Result<void>> Connection::Negotiate(std::string_view protocol, bool secure) {
  if (outbound_) {
    multistream::Dialer dialer({std::string(protocol)});
    auto w = co_await WriteRaw(dialer.Start(), secure);
    if (!w) co_return w;
    while (!dialer.selected()) {
      auto line = co_await ReadLine(secure);
      if (!line) co_return Err(line.error());
      auto out = dialer.OnLine(*line);
      if (!out) co_return Err(out.error());
      if (!out->empty()) {
        auto w2 = co_await WriteRaw(std::move(*out), secure);
        if (!w2) co_return w2;
      }
    }
    co_return Ok();
  }
  multistream::Listener listener([protocol](std::string_view p) { return p == protocol; });
  auto w = co_await WriteRaw(multistream::Listener::Hello(), secure);
  if (!w) co_return w;
  while (!listener.selected()) {
    auto line = co_await ReadLine(secure);
    if (!line) co_return Err(line.error());
    auto out = listener.OnLine(*line);
    if (!out) co_return Err(out.error());
    if (!out->empty()) {
      auto w2 = co_await WriteRaw(std::move(*out), secure);
      if (!w2) co_return w2;
    }
  }
  co_return Ok();
}

awaitable<Result<void>> Connection::Upgrade(const Ed25519Identity& identity,
                                            std::optional<PeerId> expected,
                                            const yamux::Options& options) {
  auto sec = co_await Negotiate(noise::kProtocolId, false);
  if (!sec) co_return sec;
  noise::Handshake hs(outbound_ ? noise::Role::kInitiator : noise::Role::kResponder, identity,
                      std::move(expected));
  while (!hs.complete()) {
    if (hs.writing()) {
      auto msg = hs.WriteMessage();
      if (!msg) co_return Err(msg.error());
      Bytes frame;
      noise::AppendFrameHeader(frame, msg->size());
      frame.insert(frame.end(), msg->begin(), msg->end());
      auto w = co_await WriteRaw(std::move(frame), false);
      if (!w) co_return w;
    } else {
      auto frame = co_await ReadRawFrame();
      if (!frame) co_return Err(frame.error());
      auto r = hs.ReadMessage(*frame);
      if (!r) co_return r;
    }
  }
  auto ciphers = hs.Split();
  send_ = std::move(ciphers.send);
  recv_ = std::move(ciphers.recv);
  remote_ = hs.remote_peer();
  auto mux = co_await Negotiate(yamux::kProtocolId, true);
  if (!mux) co_return mux;
  session_.emplace(outbound_ ? yamux::Role::kClient : yamux::Role::kServer, options);
  session_->StartRttMeasurement();  // for receive-window auto-tuning
  co_return Ok();
}

// ---- Connection: established ----

bool Connection::Feed(ByteSpan plaintext) {
  events_.Clear();
  auto r = session_->Receive(plaintext, events_);
  if (!r) {
    log::Warn("libp2p_connection_error", {{"peer", ShortPeer(remote_)},
                                          {"addr", remote_addr_.ToString()},
                                          {"error", r.error().message()}});
    Close(r.error().message());
    return false;
  }
  auto self = shared_from_this();
  for (uint32_t id : events_.opened) host_->OnInboundStream(self, id);
  for (uint32_t id : events_.touched) WakeStream(id);
  if (session_->pending_output() > 0) WakeWriter();
  return !closed_;
}

awaitable<void> Connection::ReadLoop() {
  auto self = shared_from_this();
  if (plain_pos_ < plain_.size()) {
    Bytes rest(plain_.begin() + static_cast<ptrdiff_t>(plain_pos_), plain_.end());
    if (!Feed(rest)) co_return;
  }
  plain_ = Bytes();
  plain_pos_ = 0;
  if (in_pos_ < in_.size()) {
    // Bytes that came with the upgrade's last message (ReadMoreRaw reads 4 KiB at a time).
    CAIRN_CHECK(in_.size() - in_pos_ <= kIoBuffer);
    rbuf_ = BufferPool::Take();
    rend_ = in_.size() - in_pos_;
    std::memcpy(rbuf_.get(), in_.data() + in_pos_, rend_);
  }
  in_ = RawBytes();
  in_pos_ = 0;
  boost::system::error_code nb;
  socket_.non_blocking(true, nb);  // for the synchronous attempt below
  bool read_now = false;           // the last read was that synchronous attempt
  for (;;) {
    // Every complete message in the buffer is decrypted where it lies and goes to the muxer.
    while (rend_ - rbegin_ >= 2) {
      uint8_t* at = rbuf_.get() + rbegin_;
      size_t len = (size_t{at[0]} << 8) | at[1];
      if (rend_ - rbegin_ - 2 < len) break;
      rbegin_ += 2 + len;
      auto r = recv_.DecryptInPlace({}, std::span<uint8_t>(at + 2, len));
      if (!r) {
        log::Warn("libp2p_connection_error",
                  {{"peer", ShortPeer(remote_)}, {"error", r.error().message()}});
        Close(r.error().message());
        co_return;
      }
      if (!Feed(ByteSpan(at + 2, *r))) co_return;
    }
    if (closed_) co_return;
    if (rbegin_ == rend_) {
      rbegin_ = rend_ = 0;
    } else if (kIoBuffer - rend_ < 2 + noise::kMaxFrame) {
      // Too little room after the incomplete message for the rest of it: move it to the front.
      std::memmove(rbuf_.get(), rbuf_.get() + rbegin_, rend_ - rbegin_);
      rend_ -= rbegin_;
      rbegin_ = 0;
    }
    if (rend_ == 0) {
      // Nothing pending: take what the socket has now, else wait holding no buffer (memory per
      // idle connection). A second such read in a row lets the streams run first.
      if (read_now) {
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);
        if (closed_) co_return;
      }
      if (!rbuf_) rbuf_ = BufferPool::Take();
      boost::system::error_code ec;
      size_t n = nb ? 0 : socket_.read_some(asio::buffer(rbuf_.get(), kIoBuffer), ec);
      if (nb) ec = asio::error::would_block;
      if (!ec) {
        rend_ = n;
        read_now = true;
        session_->SetReceiveBacklog(n == kIoBuffer);
        continue;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) {
        Close(ec == asio::error::eof ? "closed by peer" : ec.message());
        co_return;
      }
      session_->SetReceiveBacklog(false);
      BufferPool::Give(std::move(rbuf_));
      auto [wec] = co_await socket_.async_wait(tcp::socket::wait_read, kTuple);
      if (wec) {
        Close(wec.message());
        co_return;
      }
      rbuf_ = BufferPool::Take();
    }
    read_now = false;
    auto [ec, n] = co_await socket_.async_read_some(
        asio::buffer(rbuf_.get() + rend_, kIoBuffer - rend_), kTuple);
    // A read that filled the space offered probably left more in the socket (window auto-tuning).
    session_->SetReceiveBacklog(n == kIoBuffer - rend_);
    rend_ += n;
    if (ec) {
      Close(ec == asio::error::eof ? "closed by peer" : ec.message());
      co_return;
    }
  }
}

awaitable<void> Connection::WriteLoop() {
  auto self = shared_from_this();
  // The session's output, swapped in (their storage goes back to the session): control frames
  // that go first, and the rest.
  Bytes urgent;
  Bytes plain;
  std::unique_ptr<uint8_t[]> wire;  // noise messages: length ‖ ciphertext ‖ tag (pooled)
  for (;;) {
    if (closed_) co_return;
    if (session_->pending_output() == 0) {
      // Idle: hold no buffers while waiting (memory per idle connection).
      urgent = Bytes();
      OutputPool::Give(std::move(plain));
      plain = Bytes();
      BufferPool::Give(std::move(wire));
      co_await writer_wake_.Wait();
      continue;
    }
    if (plain.capacity() == 0) plain = OutputPool::Take();
    session_->SwapOutput(urgent, plain);
    // The streams waiting for room queue their next data while this batch is written.
    std::vector<uint32_t> waiters;
    waiters.swap(output_waiters_);
    for (uint32_t id : waiters) WakeStream(id);
    if (!wire) wire = BufferPool::Take();
    // Up to kIoBuffer bytes of Noise messages per write, `urgent` first.
    const ByteSpan parts[2] = {urgent, plain};
    size_t part = 0;
    size_t at = 0;
    while (part < 2) {
      uint8_t* const begin = wire.get();
      uint8_t* out = begin;
      while (part < 2 && out + 2 + noise::kMaxFrame <= begin + kIoBuffer) {
        if (at == parts[part].size()) {
          ++part;
          at = 0;
          continue;
        }
        size_t n = std::min(noise::kMaxPlaintext, parts[part].size() - at);
        size_t length = n + noise::kTagSize;
        out[0] = static_cast<uint8_t>(length >> 8);
        out[1] = static_cast<uint8_t>(length);
        auto r = send_.EncryptTo({}, parts[part].subspan(at, n), out + 2);
        if (!r) {
          Close(r.error().message());
          co_return;
        }
        out += 2 + length;
        at += n;
      }
      if (out == begin) break;
      auto [ec, n] = co_await asio::async_write(
          socket_, asio::buffer(begin, static_cast<size_t>(out - begin)), kTuple);
      if (ec) {
        Close("write: " + ec.message());
        co_return;
      }
    }
  }
}

void Connection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (close_reason_.empty()) close_reason_ = reason;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  writer_wake_.Notify();
  std::vector<Stream*> live;
  for (auto& [id, s] : streams_) live.push_back(s);
  for (Stream* s : live) s->Wake();
  if (registered_) host_->Unregister(shared_from_this());
}

// ---- Stream ----

Stream::Stream(std::shared_ptr<Connection> conn, uint32_t id)
    : conn_(std::move(conn)),
      id_(id),
      waiters_(std::make_unique<Waiters>(conn_->socket_.get_executor())) {
  conn_->streams_[id_] = this;
}

Stream::~Stream() {
  conn_->streams_.erase(id_);
  if (conn_->session_ && !conn_->closed_) {
    conn_->session_->Release(id_);
    conn_->WakeWriter();
  }
}

const PeerId& Stream::remote_peer() const { return *conn_->remote_; }

void Stream::Wake() {
  waiters_->read.Notify();
  waiters_->write.Notify();
}

awaitable<Result<size_t>> Stream::ReadFromSession(MutableByteSpan out) {
  for (;;) {
    Connection& c = *conn_;
    if (c.closed_) co_return Err(Closed());
    yamux::Session& s = *c.session_;
    size_t n = s.Read(id_, out);
    if (n > 0) {
      if (s.pending_output() > 0) c.WakeWriter();  // a window update may be due
      co_return n;
    }
    if (s.IsReset(id_)) co_return Err(ErrorCode::kUnavailable, "libp2p: stream reset");
    if (s.RemoteClosed(id_) || out.empty()) co_return size_t{0};
    co_await waiters_->read.Wait();
  }
}

awaitable<Result<size_t>> Stream::ReadSome(MutableByteSpan out) {
  if (!unread_.empty()) {
    size_t n = std::min(out.size(), unread_.size());
    std::copy_n(unread_.begin(), n, out.begin());
    unread_.erase(unread_.begin(), unread_.begin() + static_cast<ptrdiff_t>(n));
    co_return n;
  }
  co_return co_await ReadFromSession(out);
}

awaitable<Result<void>> Stream::ReadExactly(MutableByteSpan out) {
  size_t got = 0;
  while (got < out.size()) {
    auto n = co_await ReadSome(out.subspan(got));
    if (!n) co_return Err(n.error());
    if (*n == 0) {
      co_return Err(ErrorCode::kInvalidArgument, "libp2p: stream ended after " +
                                                     std::to_string(got) + " of " +
                                                     std::to_string(out.size()) + " bytes");
    }
    got += *n;
  }
  co_return Ok();
}

awaitable<Result<std::optional<Bytes>>> Stream::ReadLengthPrefixed(size_t max) {
  uint64_t len = 0;
  for (int i = 0;; ++i) {
    uint8_t b;
    auto n = co_await ReadSome(MutableByteSpan(&b, 1));
    if (!n) co_return Err(n.error());
    if (*n == 0) {
      if (i == 0) co_return std::optional<Bytes>();
      co_return Err(ErrorCode::kInvalidArgument, "libp2p: stream ended inside a length prefix");
    }
    len |= uint64_t{b & 0x7fu} << (7 * i);
    if (!(b & 0x80)) break;
    if (i == 8) co_return Err(ErrorCode::kInvalidArgument, "libp2p: length prefix too long");
  }
  if (len > max) {
    co_return Err(ErrorCode::kInvalidArgument, "libp2p: message of " + std::to_string(len) +
                                                   " bytes exceeds the limit of " +
                                                   std::to_string(max));
  }
  Bytes msg(len);
  auto r = co_await ReadExactly(msg);
  if (!r) co_return Err(r.error());
  co_return std::optional<Bytes>(std::move(msg));
}

awaitable<Result<std::string>> Stream::ReadMultistreamLine() {
  for (;;) {
    auto d = multistream::DecodeMessage(unread_);
    if (!d) co_return Err(d.error());
    if (*d) {
      std::string line((*d)->line);
      unread_.erase(unread_.begin(), unread_.begin() + static_cast<ptrdiff_t>((*d)->consumed));
      co_return line;
    }
    std::array<uint8_t, 1024> buf;
    auto n = co_await ReadFromSession(buf);
    if (!n) co_return Err(n.error());
    if (*n == 0) co_return Err(ErrorCode::kInvalidArgument, "libp2p: stream closed in negotiation");
    unread_.insert(unread_.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*n));
  }
}

awaitable<Result<void>> Stream::Write(ByteSpan data) {
  size_t done = 0;
  while (done < data.size()) {
    Connection& c = *conn_;
    if (c.closed_) co_return Err(Closed());
    if (write_closed_) co_return Err(ErrorCode::kInvalidArgument, "libp2p: write after close");
    yamux::Session& s = *c.session_;
    if (s.IsReset(id_)) co_return Err(ErrorCode::kUnavailable, "libp2p: stream reset");
    size_t n = s.Write(id_, data.subspan(done));
    if (n > 0) {
      done += n;
      c.WakeWriter();
      continue;
    }
    if (s.SendWindow(id_) > 0) c.output_waiters_.push_back(id_);  // waiting for output to drain
    co_await waiters_->write.Wait();
  }
  co_return Ok();
}

void Stream::CloseWrite() {
  if (write_closed_ || conn_->closed_) return;
  write_closed_ = true;
  conn_->session_->CloseWrite(id_);
  conn_->WakeWriter();
}

void Stream::Reset() {
  if (!conn_->closed_ && conn_->session_) {
    conn_->session_->Reset(id_);
    conn_->WakeWriter();
  }
  Wake();
}

// ---- Host::Impl ----

awaitable<void> Host::Impl::AcceptLoop(std::shared_ptr<Impl> self, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kTuple);
    if (stopped) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::Warn("libp2p_accept_failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), HandleAccepted(self, std::move(socket)),
                   asio::detached);
  }
}

awaitable<void> Host::Impl::HandleAccepted(std::shared_ptr<Impl> self, tcp::socket socket) {
  auto conn = std::make_shared<Connection>(self, std::move(socket), false);
  auto r = co_await Establish(conn, std::nullopt);
  if (!r) {
    log::Debug("libp2p_inbound_failed",
               {{"addr", conn->remote_addr_.ToString()}, {"error", r.error().message()}});
  }
}

awaitable<Result<void>> Host::Impl::Establish(std::shared_ptr<Connection> conn,
                                              std::optional<PeerId> expected) {
  auto admit = conns.AdmitHandshake();
  if (!admit) {
    conn->Close(admit.error().message());
    co_return admit;
  }
  handshaking.insert(conn);
  std::weak_ptr<Connection> weak = conn;
  auto deadline =
      StartDeadline(conn->socket_.get_executor(), options.limits.handshake_timeout, [weak] {
        if (auto c = weak.lock()) {
          c->close_reason_ = "handshake timed out";
          c->Close("handshake timed out");
        }
      });
  yamux::Options yo = options.yamux;
  yo.max_streams = options.limits.max_streams_per_connection;
  // One DATA frame fills one Noise message: fewer headers and pieces per byte moved.
  yo.max_data_frame =
      std::max<uint32_t>(yo.max_data_frame, noise::kMaxPlaintext - yamux::kHeaderSize);
  auto up = co_await conn->Upgrade(identity, std::move(expected), yo);
  deadline->cancel();
  conns.EndHandshake();
  handshaking.erase(conn);
  if (!up) {
    conn->Close(up.error().message());
    co_return Err(up.error().WithContext(conn->close_reason_.empty() ||
                                                 conn->close_reason_ == up.error().message()
                                             ? ""
                                             : conn->close_reason_ + ": "));
  }
  if (stopped) {
    conn->Close("host stopped");
    co_return Err(ErrorCode::kCancelled, "libp2p: host stopped");
  }
  auto admitted = conns.AdmitConnection();
  if (!admitted) {
    conn->session_->GoAway(yamux::GoAwayCode::kNormal);
    conn->Close(admitted.error().message());
    co_return admitted;
  }
  Register(conn);
  auto ex = conn->socket_.get_executor();
  asio::co_spawn(ex, conn->ReadLoop(), asio::detached);
  asio::co_spawn(ex, conn->WriteLoop(), asio::detached);
  asio::co_spawn(ex, RequestIdentify(shared_from_this(), conn), asio::detached);
  co_return Ok();
}

void Host::Impl::Register(const std::shared_ptr<Connection>& conn) {
  conn->registered_ = true;
  std::string key = conn->remote_->ToString();
  bool first = connections.count(key) == 0;
  connections.emplace(key, conn);
  if (conn->outbound_) {
    peerstore.AddAddrs(*conn->remote_, {conn->remote_addr_}, Peerstore::kConnectedTtl,
                       Peerstore::Clock::now());
  }
  log::Debug("libp2p_connected", {{"peer", key},
                                  {"addr", conn->remote_addr_.ToString()},
                                  {"direction", conn->outbound_ ? "out" : "in"}});
  if (first) {
    auto copy = listeners;
    for (auto& l : copy) l(*conn->remote_, PeerEvent::kConnected);
  }
}

void Host::Impl::Unregister(const std::shared_ptr<Connection>& conn) {
  if (!conn->registered_) return;
  conn->registered_ = false;
  std::string key = conn->remote_->ToString();
  auto range = connections.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == conn) {
      connections.erase(it);
      break;
    }
  }
  conns.EndConnection();
  log::Debug("libp2p_disconnected", {{"peer", key}, {"reason", conn->close_reason_}});
  if (connections.count(key) == 0) {
    auto copy = listeners;
    for (auto& l : copy) l(*conn->remote_, PeerEvent::kDisconnected);
  }
}

std::shared_ptr<Connection> Host::Impl::Find(const PeerId& peer) const {
  auto range = connections.equal_range(peer.ToString());
  for (auto it = range.first; it != range.second; ++it) {
    if (!it->second->closed_ && !it->second->session_->going_away()) return it->second;
  }
  return nullptr;
}

// One TCP dial of `peer` at `target` within options.dial_timeout, then the upgrade (Establish).
awaitable<Result<void>> Host::Impl::DialTcp(const PeerId& peer, const TcpTarget& target) {
  boost::system::error_code aec;
  auto ip = asio::ip::make_address(target.ip, aec);
  if (aec) co_return Err(ErrorCode::kInvalidArgument, aec.message());
  auto ex = io.get_executor();
  // Shared with the deadline's handler, which may run after this dial is over.
  auto socket = std::make_shared<tcp::socket>(ex);
  auto timed_out = std::make_shared<bool>(false);
  auto deadline = StartDeadline(ex, options.dial_timeout, [socket, timed_out] {
    *timed_out = true;
    boost::system::error_code ec;
    socket->close(ec);
  });
  auto [cec] = co_await socket->async_connect(tcp::endpoint(ip, target.port), kTuple);
  deadline->cancel();
  if (*timed_out) co_return Err(ErrorCode::kTimeout, "dial timed out");
  if (cec) co_return Err(ErrorCode::kUnavailable, cec.message());
  auto conn = std::make_shared<Connection>(shared_from_this(), std::move(*socket), true);
  co_return co_await Establish(conn, peer);
}

awaitable<Result<std::vector<Multiaddr>>> Host::Impl::Resolve(const Multiaddr& addr) {
  if (!options.dns || !dns_pool || !IsDnsMultiaddr(addr)) {
    co_return std::vector<Multiaddr>{addr};
  }
  // Runs on the pool; the awaiting coroutine resumes on the host's executor. The task holds the
  // resolver, not the host: Stop joins the pool before the host goes.
  auto task = [dns = options.dns,
               addr]() -> awaitable<std::optional<Result<std::vector<Multiaddr>>>> {
    co_return ResolveMultiaddr(*dns, addr);
  };
  auto r = co_await asio::co_spawn(dns_pool->get_executor(), task(), asio::use_awaitable);
  if (!r) co_return Err(ErrorCode::kInternal, "dns: resolving " + addr.ToString() + " failed");
  co_return std::move(*r);
}

awaitable<Result<void>> Host::Impl::Connect(PeerId peer, std::vector<Multiaddr> addrs) {
  if (Find(peer)) co_return Ok();
  if (peer == identity.peer_id()) {
    co_return Err(ErrorCode::kInvalidArgument, "libp2p: cannot dial ourselves");
  }
  std::string key = peer.ToString();
  if (auto it = dialing.find(key); it != dialing.end()) {
    auto timer = it->second;  // the dial in progress cancels it when done
    co_await timer->async_wait(kTuple);
    if (Find(peer)) co_return Ok();
    co_return Err(ErrorCode::kUnavailable, "libp2p: dial to " + key + " failed");
  }
  auto backoff = conns.CheckDial(peer, Peerstore::Clock::now());
  if (!backoff) co_return backoff;
  auto ex = io.get_executor();
  auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  dialing[key] = done;
  for (auto& a : peerstore.Addrs(peer, Peerstore::Clock::now())) addrs.push_back(std::move(a));

  std::vector<std::string> errors;
  bool attempted = false, refused = false;
  std::set<std::string> tried;
  bool ok = false;
  // DNS multiaddrs become the addresses they name, each checked by the dial policy below.
  std::vector<Multiaddr> resolved;
  for (auto& addr : addrs) {
    if (stopped) break;
    if (!options.dns || !IsDnsMultiaddr(addr)) {
      resolved.push_back(std::move(addr));
      continue;
    }
    // A /dnsaddr without /p2p/ (a peerstore entry) is narrowed to this peer's records first,
    // so the other peers' nested records are not looked up.
    if (addr.components().front().name == "dnsaddr" && !addr.Has("p2p")) {
      auto narrowed = addr;
      if (narrowed.Append("p2p", peer.ToString())) addr = std::move(narrowed);
    }
    auto r = co_await Resolve(addr);
    if (!r) {
      errors.push_back(r.error().message());
      continue;
    }
    for (auto& a : *r) resolved.push_back(std::move(a));
  }
  for (const auto& addr : resolved) {
    if (stopped) break;
    auto target = CheckDialable(addr, options.dial);
    if (!target) {
      refused = refused || target.error().code() == ErrorCode::kPermissionDenied;
      errors.push_back(target.error().message());
      continue;
    }
    if (target->peer && *target->peer != peer) {
      errors.push_back(addr.ToString() + " names another peer");
      continue;
    }
    std::string ep_key = target->ip + " " + std::to_string(target->port);
    if (!tried.insert(ep_key).second) continue;
    attempted = true;
    auto r = co_await DialTcp(peer, *target);
    if (!r) {
      errors.push_back(addr.ToString() + ": " + r.error().message());
      continue;
    }
    ok = true;
    break;
  }
  dialing.erase(key);
  done->cancel();
  if (ok) {
    conns.DialSucceeded(peer);
    co_return Ok();
  }
  std::string all;
  for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
  if (attempted) conns.DialFailed(peer, Peerstore::Clock::now());
  if (errors.empty()) {
    co_return Err(ErrorCode::kNotFound, "libp2p: no addresses known for " + key);
  }
  co_return Err(!attempted && refused ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                "libp2p: could not connect to " + key + ": " + all);
}

awaitable<Result<std::shared_ptr<Stream>>> Host::Impl::OpenStreamOn(
    std::shared_ptr<Connection> conn, std::vector<std::string> protocols) {
  if (conn->closed_) co_return Err(Closed());
  if (protocols.empty()) co_return Err(ErrorCode::kInvalidArgument, "libp2p: no protocols");
  auto id = conn->session_->Open();
  if (!id) co_return Err(id.error());
  auto stream = std::shared_ptr<Stream>(new Stream(conn, *id));
  conn->WakeWriter();
  std::weak_ptr<Stream> weak = stream;
  auto deadline =
      StartDeadline(conn->socket_.get_executor(), options.limits.negotiation_timeout, [weak] {
        if (auto s = weak.lock()) s->Reset();
      });
  multistream::Dialer dialer(std::move(protocols));
  auto w = co_await stream->Write(dialer.Start());
  while (w && !dialer.selected()) {
    auto line = co_await stream->ReadMultistreamLine();
    if (!line) {
      w = Err(line.error());
      break;
    }
    auto out = dialer.OnLine(*line);
    if (!out) {
      w = Err(out.error());
      break;
    }
    if (!out->empty()) w = co_await stream->Write(*out);
  }
  deadline->cancel();
  if (!w) {
    stream->Reset();
    co_return Err(w.error());
  }
  stream->protocol_ = *dialer.selected();
  co_return stream;
}

void Host::Impl::OnInboundStream(const std::shared_ptr<Connection>& conn, uint32_t id) {
  auto stream = std::shared_ptr<Stream>(new Stream(conn, id));
  asio::co_spawn(conn->socket_.get_executor(), ServeInbound(shared_from_this(), std::move(stream)),
                 asio::detached);
}

awaitable<void> Host::Impl::ServeInbound(std::shared_ptr<Impl> self,
                                         std::shared_ptr<Stream> stream) {
  std::weak_ptr<Stream> weak = stream;
  auto deadline = StartDeadline(stream->conn_->socket_.get_executor(),
                                options.limits.negotiation_timeout, [weak] {
                                  if (auto s = weak.lock()) s->Reset();
                                });
  multistream::Listener listener(
      [this](std::string_view p) { return handlers.count(std::string(p)) != 0; });
  auto w = co_await stream->Write(multistream::Listener::Hello());
  while (w && !listener.selected()) {
    auto line = co_await stream->ReadMultistreamLine();
    if (!line) {
      w = Err(line.error());
      break;
    }
    auto out = listener.OnLine(*line);
    if (!out) {
      w = Err(out.error());
      break;
    }
    if (!out->empty()) w = co_await stream->Write(*out);
  }
  deadline->cancel();
  if (!w) {
    log::Debug("libp2p_stream_refused",
               {{"peer", ShortPeer(stream->conn_->remote_)}, {"error", w.error().message()}});
    stream->Reset();
    co_return;
  }
  stream->protocol_ = *listener.selected();
  auto it = handlers.find(stream->protocol_);
  if (it == handlers.end()) {  // removed while negotiating
    stream->Reset();
    co_return;
  }
  StreamHandler handler = it->second;  // a copy: the handler may be replaced meanwhile
  co_await handler(std::move(stream));
  (void)self;
}

Bytes Host::Impl::IdentifyMessage(const Connection& conn) const {
  identify::Message m;
  m.protocol_version = std::string(identify::kProtocolVersion);
  m.agent_version = options.agent_version;
  m.public_key = identity.PublicKeyProto();
  for (const auto& a : Addrs()) m.listen_addrs.push_back(a.ToBytes());
  if (!conn.remote_addr_.components().empty()) m.observed_addr = conn.remote_addr_.ToBytes();
  for (const auto& [p, h] : handlers) m.protocols.push_back(p);
  Bytes body = m.Encode();
  Bytes out;
  protobuf::AppendVarint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

awaitable<void> Host::Impl::ServeIdentify(std::shared_ptr<Stream> stream) {
  auto w = co_await stream->Write(IdentifyMessage(*stream->conn_));
  if (w) stream->CloseWrite();
}

void Host::Impl::ApplyIdentify(const std::shared_ptr<Connection>& conn,
                               const identify::Message& m) {
  const PeerId& peer = *conn->remote_;
  if (m.public_key) {
    auto key = PublicKey::FromProto(*m.public_key);
    if (!key || key->peer_id() != peer) {
      log::Warn("libp2p_identify_bad_key", {{"peer", peer.ToString()}});
      return;
    }
  }
  std::vector<Multiaddr> addrs;
  for (const auto& b : m.listen_addrs) {
    if (auto a = Multiaddr::FromBytes(b)) addrs.push_back(std::move(*a));
  }
  if (!addrs.empty()) {
    peerstore.AddAddrs(peer, addrs, Peerstore::kConnectedTtl, Peerstore::Clock::now());
  }
  if (!m.protocols.empty()) peerstore.SetProtocols(peer, m.protocols);
  if (m.agent_version) peerstore.SetAgent(peer, *m.agent_version);
  auto copy = identify_listeners;  // a listener may add listeners
  for (const auto& l : copy) l(peer, m.protocols);
}

awaitable<void> Host::Impl::ServeIdentifyPush(std::shared_ptr<Stream> stream) {
  auto msg = co_await stream->ReadLengthPrefixed(identify::kMaxMessage);
  if (!msg || !*msg) co_return;
  auto m = identify::Message::Decode(**msg);
  if (!m) {
    log::Debug("libp2p_identify_push_bad", {{"error", m.error().message()}});
    stream->Reset();
    co_return;
  }
  ApplyIdentify(stream->conn_, *m);
}

awaitable<void> Host::Impl::RequestIdentify(std::shared_ptr<Impl> self,
                                            std::shared_ptr<Connection> conn) {
  // (g++ 12 cannot take a braced list inside a co_await expression: build it first.)
  std::vector<std::string> protocols{std::string(identify::kProtocolId)};
  auto stream = co_await OpenStreamOn(conn, std::move(protocols));
  if (!stream) {
    log::Debug("libp2p_identify_failed",
               {{"peer", ShortPeer(conn->remote_)}, {"error", stream.error().message()}});
    co_return;
  }
  (*stream)->CloseWrite();
  auto msg = co_await (*stream)->ReadLengthPrefixed(identify::kMaxMessage);
  if (!msg || !*msg) co_return;
  auto m = identify::Message::Decode(**msg);
  if (!m) {
    log::Debug("libp2p_identify_bad", {{"error", m.error().message()}});
    co_return;
  }
  ApplyIdentify(conn, *m);
  (void)self;
}

awaitable<void> Host::Impl::PushIdentifyTo(std::shared_ptr<Impl> self,
                                           std::shared_ptr<Connection> conn) {
  std::vector<std::string> protocols{std::string(identify::kPushProtocolId)};
  auto stream = co_await OpenStreamOn(conn, std::move(protocols));
  if (!stream) co_return;
  auto w = co_await (*stream)->Write(IdentifyMessage(*conn));
  if (w) (*stream)->CloseWrite();
  (void)self;
}

awaitable<void> Host::Impl::ServePing(std::shared_ptr<Stream> stream) {
  std::array<uint8_t, 32> buf;
  for (;;) {
    auto r = co_await stream->ReadExactly(buf);
    if (!r) break;
    auto w = co_await stream->Write(buf);
    if (!w) co_return;
  }
  stream->CloseWrite();
}

std::vector<Multiaddr> Host::Impl::ListenAddrs() const {
  std::vector<Multiaddr> out;
  for (const auto& a : acceptors) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(EndpointAddr(ep));
  }
  return out;
}

std::vector<Multiaddr> Host::Impl::Addrs() const {
  if (!options.announce.empty()) return options.announce;
  std::vector<Multiaddr> out;
  for (const auto& a : acceptors) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (ec) continue;
    if (!ep.address().is_unspecified()) {
      out.push_back(EndpointAddr(ep));
      continue;
    }
    bool want_v4 = ep.address().is_v4();
    std::vector<std::pair<int, Multiaddr>> found;  // (rank, addr): public, private, loopback
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) continue;
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || !(i->ifa_flags & IFF_UP)) continue;
      asio::ip::address ip;
      if (i->ifa_addr->sa_family == AF_INET && want_v4) {
        auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        ip = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
      } else if (i->ifa_addr->sa_family == AF_INET6 && !want_v4) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
        asio::ip::address_v6::bytes_type b;
        std::copy_n(sin6->sin6_addr.s6_addr, 16, b.begin());
        auto v6 = asio::ip::address_v6(b);
        if (v6.is_link_local()) continue;
        ip = v6;
      } else {
        continue;
      }
      int rank = ip.is_loopback() ? 2 : (IsPrivateAddress(ip.to_string()) ? 1 : 0);
      found.emplace_back(rank, EndpointAddr(tcp::endpoint(ip, ep.port())));
    }
    freeifaddrs(list);
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& f : found) out.push_back(std::move(f.second));
  }
  return out;
}

void Host::Impl::Stop() {
  if (stopped) return;
  stopped = true;
  for (auto& a : acceptors) {
    boost::system::error_code ec;
    a->close(ec);
  }
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [k, c] : connections) all.push_back(c);
  for (auto& c : handshaking) all.push_back(c);
  for (auto& c : all) {
    if (c->session_ && !c->closed_) c->session_->GoAway(yamux::GoAwayCode::kNormal);
    c->Close("host stopped");
  }
  for (auto& [k, t] : dialing) t->cancel();
  if (dns_pool) {
    // Lookups in progress finish (bounded by the resolver's own timeouts) before the host goes.
    dns_pool->stop();
    dns_pool->join();
  }
  handlers.clear();  // handlers may hold references into the host's owner
  listeners.clear();
  identify_listeners.clear();
}

// ---- Host ----

Host::Host(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Host::~Host() { impl_->Stop(); }

Result<std::unique_ptr<Host>> Host::Create(asio::io_context& io, const Ed25519Identity& identity,
                                           HostOptions options) {
  auto impl = std::make_shared<Impl>(io, identity, std::move(options));
  for (const auto& addr : impl->options.listen) {
    const auto& comps = addr.components();
    if (comps.size() != 2 || (comps[0].name != "ip4" && comps[0].name != "ip6") ||
        comps[1].name != "tcp") {
      return Err(ErrorCode::kInvalidArgument,
                 "libp2p.listen: " + addr.ToString() + " is not /ip4|ip6/<address>/tcp/<port>");
    }
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(comps[0].text, ec);
    tcp::endpoint ep(ip, static_cast<uint16_t>(std::stoul(comps[1].text)));
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    if (!ec) acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Err(ErrorCode::kUnavailable,
                 "libp2p.listen: cannot listen on " + addr.ToString() + ": " + ec.message());
    }
    impl->acceptors.push_back(std::move(acceptor));
  }
  Impl* raw = impl.get();
  impl->handlers[std::string(identify::kProtocolId)] = [raw](std::shared_ptr<Stream> s) {
    return raw->ServeIdentify(std::move(s));
  };
  impl->handlers[std::string(identify::kPushProtocolId)] = [raw](std::shared_ptr<Stream> s) {
    return raw->ServeIdentifyPush(std::move(s));
  };
  impl->handlers[std::string(kPingProtocolId)] = [raw](std::shared_ptr<Stream> s) {
    return raw->ServePing(std::move(s));
  };
  for (auto& a : impl->acceptors) {
    asio::co_spawn(io, impl->AcceptLoop(impl, a.get()), asio::detached);
  }
  return std::unique_ptr<Host>(new Host(std::move(impl)));
}

asio::any_io_executor Host::executor() const { return impl_->io.get_executor(); }
PeerId Host::peer_id() const { return impl_->identity.peer_id(); }
std::vector<Multiaddr> Host::ListenAddrs() const { return impl_->ListenAddrs(); }
std::vector<Multiaddr> Host::Addrs() const { return impl_->Addrs(); }

void Host::SetStreamHandler(std::string protocol, StreamHandler handler) {
  impl_->handlers[std::move(protocol)] = std::move(handler);
}

void Host::RemoveStreamHandler(const std::string& protocol) { impl_->handlers.erase(protocol); }

awaitable<Result<void>> Host::Connect(PeerId peer, std::vector<Multiaddr> addrs) {
  auto impl = impl_;
  co_return co_await impl->Connect(std::move(peer), std::move(addrs));
}

awaitable<Result<PeerId>> Host::ConnectAddr(Multiaddr addr) {
  auto text = addr.Value("p2p");
  if (!text) {
    co_return Err(ErrorCode::kInvalidArgument, "libp2p: " + addr.ToString() + " has no /p2p/");
  }
  auto peer = PeerId::Parse(*text);
  if (!peer) co_return Err(peer.error());
  auto impl = impl_;
  std::vector<Multiaddr> addrs{addr};
  auto r = co_await impl->Connect(*peer, std::move(addrs));
  if (!r) co_return Err(r.error());
  co_return *peer;
}

awaitable<Result<std::shared_ptr<Stream>>> Host::NewStream(PeerId peer,
                                                           std::vector<std::string> protocols) {
  auto impl = impl_;
  auto c = co_await impl->Connect(peer, std::vector<Multiaddr>());
  if (!c) co_return Err(c.error());
  auto conn = impl->Find(peer);
  if (!conn) co_return Err(Closed());
  co_return co_await impl->OpenStreamOn(std::move(conn), std::move(protocols));
}

awaitable<Result<std::chrono::microseconds>> Host::Ping(PeerId peer) {
  std::vector<std::string> protocols{std::string(kPingProtocolId)};
  auto stream = co_await NewStream(std::move(peer), std::move(protocols));
  if (!stream) co_return Err(stream.error());
  std::array<uint8_t, 32> sent, got;
  randombytes_buf(sent.data(), sent.size());
  auto start = std::chrono::steady_clock::now();
  auto w = co_await (*stream)->Write(sent);
  if (!w) co_return Err(w.error());
  auto r = co_await (*stream)->ReadExactly(got);
  if (!r) co_return Err(r.error());
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  (*stream)->CloseWrite();
  if (sent != got) {
    co_return Err(ErrorCode::kInvalidArgument, "libp2p: ping answer differs from the payload");
  }
  co_return rtt;
}

void Host::PushIdentify() {
  for (auto& [k, c] : impl_->connections) {
    asio::co_spawn(impl_->io, impl_->PushIdentifyTo(impl_, c), asio::detached);
  }
}

void Host::Disconnect(const PeerId& peer) {
  std::vector<std::shared_ptr<Connection>> all;
  auto range = impl_->connections.equal_range(peer.ToString());
  for (auto it = range.first; it != range.second; ++it) all.push_back(it->second);
  for (auto& c : all) {
    c->session_->GoAway(yamux::GoAwayCode::kNormal);
    c->Close("disconnected");
  }
}

std::vector<PeerId> Host::ConnectedPeers() const {
  std::vector<PeerId> out;
  std::string last;
  for (const auto& [k, c] : impl_->connections) {
    if (k == last) continue;
    last = k;
    out.push_back(*c->remote_);
  }
  return out;
}

bool Host::IsConnected(const PeerId& peer) const { return impl_->Find(peer) != nullptr; }
void Host::AddPeerListener(PeerListener listener) {
  impl_->listeners.push_back(std::move(listener));
}
void Host::AddIdentifyListener(IdentifyListener listener) {
  impl_->identify_listeners.push_back(std::move(listener));
}
Peerstore& Host::peerstore() { return impl_->peerstore; }
const ConnManager& Host::conn_manager() const { return impl_->conns; }
void Host::Stop() { impl_->Stop(); }

}  // namespace cairn::net
