// The libp2p host (../shared/specs/libp2p/connections.md): TCP connections upgraded with
// multistream-select to Noise (/noise) and yamux (/yamux/1.0.0), then one multistream-select
// negotiation per stream. It serves identify (/ipfs/id/1.0.0, asked of every new connection, and
// /ipfs/id/push/1.0.0), ping (/ipfs/ping/1.0.0) and whatever protocols callers register with
// SetStreamHandler; it dials with NewStream/Connect under the dial policy (net/dial_policy.hpp),
// with timeouts and per-peer backoff, and admits connections, handshakes and streams under the
// limits of net/conn_manager.hpp. The codecs are pure (multistream, noise, yamux, identify); this
// is the one place with sockets.
//
// Threading: a Host lives on one io_context run by ONE thread. Every method must be called on
// that thread (from a coroutine or handler on executor()); from elsewhere, post to executor().
// Streams belong to the same thread. Each connection has its own read and write coroutines and
// deadlines, so a peer that stalls or sends garbage delays nobody else: garbage closes its
// connection at the first bad frame, a stalled handshake is cut at its timeout, a stalled stream
// holds only its own window.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/conn_manager.hpp"
#include "net/dial_policy.hpp"
#include "net/dns.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"
#include "net/peerstore.hpp"
#include "net/yamux.hpp"

namespace cairn::net {

inline constexpr std::string_view kPingProtocolId = "/ipfs/ping/1.0.0";

struct HostOptions {
  // Where to listen: /ip4|ip6/<address>/tcp/<port>; port 0 binds a free port (ListenAddrs()
  // tells which).
  std::vector<Multiaddr> listen;
  // When non-empty, the addresses announced (identify, Addrs()) instead of the listen ones.
  std::vector<Multiaddr> announce;
  DialPolicy dial;
  ConnLimits limits;
  yamux::Options yamux;  // max_streams is taken from limits.max_streams_per_connection
  std::string agent_version = "cairn";
  std::chrono::milliseconds dial_timeout{10000};  // one TCP connect
  // Resolves /dns, /dns4, /dns6 and /dnsaddr multiaddrs before they are dialed (net/dns.hpp; the
  // results go through `dial` like any address). Null: DNS multiaddrs are skipped, not errors.
  std::shared_ptr<DnsResolver> dns;
};

enum class PeerEvent { kConnected, kDisconnected };

class Connection;  // one secured, muxed connection (host.cpp)

// One yamux stream whose protocol is negotiated. Owned by whoever holds the shared_ptr (the
// handler, the NewStream caller); dropping the last reference resets it unless it was closed
// both ways. Operations fail with Unavailable once the stream is reset or its connection closed.
class Stream {
 public:
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const std::string& protocol() const { return protocol_; }
  const PeerId& remote_peer() const;
  // One coroutine may read and one may write at the same time; two concurrent readers (or
  // writers) of one stream are not supported.
  // Reads what is available, waiting for at least one byte; 0 means the peer closed its side.
  boost::asio::awaitable<Result<size_t>> ReadSome(MutableByteSpan out);
  // Reads exactly out.size() bytes; InvalidArgument when the peer closes before.
  boost::asio::awaitable<Result<void>> ReadExactly(MutableByteSpan out);
  // Reads an unsigned-varint length-prefixed message of at most `max` bytes (identify, bitswap,
  // the DHT frame their protobufs so). nullopt at a clean EOF before the first byte.
  boost::asio::awaitable<Result<std::optional<Bytes>>> ReadLengthPrefixed(size_t max);
  // Writes all of `data`, waiting for the peer's window as needed.
  boost::asio::awaitable<Result<void>> Write(ByteSpan data);
  // Half-close: the peer reads EOF; this side may still read.
  void CloseWrite();
  // Abort both directions (RST).
  void Reset();

 private:
  friend class Connection;
  friend class Host;
  Stream(std::shared_ptr<Connection> conn, uint32_t id);
  boost::asio::awaitable<Result<std::string>> ReadMultistreamLine();
  boost::asio::awaitable<Result<size_t>> ReadFromSession(MutableByteSpan out);
  void Wake();

  std::shared_ptr<Connection> conn_;
  uint32_t id_;
  std::string protocol_;
  Bytes unread_;  // bytes read past the negotiation, served first
  bool write_closed_ = false;
  struct Waiters;
  std::unique_ptr<Waiters> waiters_;
};

using StreamHandler = std::function<boost::asio::awaitable<void>(std::shared_ptr<Stream>)>;
using PeerListener = std::function<void(const PeerId&, PeerEvent)>;
// Called with the protocols a peer listed in identify (or identify push), after the peerstore took
// its addresses.
using IdentifyListener = std::function<void(const PeerId&, const std::vector<std::string>&)>;

class Host {
 public:
  // Binds every listen address (so ListenAddrs() is known at once) and starts accepting. An
  // address that cannot be bound is an error naming it.
  static Result<std::unique_ptr<Host>> Create(boost::asio::io_context& io,
                                              const Ed25519Identity& identity, HostOptions options);
  ~Host();

  boost::asio::any_io_executor executor() const;
  PeerId peer_id() const;
  // The bound listen addresses (port 0 replaced by the real port; 0.0.0.0/:: as bound).
  std::vector<Multiaddr> ListenAddrs() const;
  // What others can dial: `announce` if set, else the listen addresses with an unspecified IP
  // replaced by this machine's interface addresses (public ones first, loopback last). Without
  // /p2p/; callers append it.
  std::vector<Multiaddr> Addrs() const;

  // Serves `protocol` on inbound streams: the handler runs as its own coroutine per stream.
  // Replaces an earlier handler for the same id.
  void SetStreamHandler(std::string protocol, StreamHandler handler);
  void RemoveStreamHandler(const std::string& protocol);

  // Makes sure a connection to `peer` exists: an existing one, else a dial of `addrs` (tried in
  // order, each under the dial policy, timeout and handshake timeout) plus the peerstore's
  // addresses. Addresses skipped by the policy are reported in the error when nothing could be
  // dialed. Unavailable while the peer is backing off after failures.
  boost::asio::awaitable<Result<void>> Connect(PeerId peer, std::vector<Multiaddr> addrs = {});
  // Dials one address that carries /p2p/<peer> (a pin origin) and returns that peer.
  boost::asio::awaitable<Result<PeerId>> ConnectAddr(Multiaddr addr);
  // Opens a stream to `peer` (connecting first if needed, from the peerstore) and negotiates
  // the first of `protocols` the peer accepts (NotSupported when none).
  boost::asio::awaitable<Result<std::shared_ptr<Stream>>> NewStream(
      PeerId peer, std::vector<std::string> protocols);
  // One ping round trip on a new stream; the round-trip time.
  boost::asio::awaitable<Result<std::chrono::microseconds>> Ping(PeerId peer);
  // Sends identify/push to every connected peer (after the addresses changed).
  void PushIdentify();
  // Closes every connection to `peer`.
  void Disconnect(const PeerId& peer);

  std::vector<PeerId> ConnectedPeers() const;
  bool IsConnected(const PeerId& peer) const;
  // Called (on the host thread) when a peer gets its first connection or loses its last.
  void AddPeerListener(PeerListener listener);
  // Called (on the host thread) each time a peer's identify message is applied (the DHT learns
  // which peers serve /ipfs/kad/1.0.0 from it).
  void AddIdentifyListener(IdentifyListener listener);
  Peerstore& peerstore();
  const ConnManager& conn_manager() const;

  // Stops accepting, sends GO_AWAY and closes every connection. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit Host(std::shared_ptr<Impl> impl);
  // Shared with the connections' coroutines, so a connection finishing after Stop() (while the
  // io_context drains) never reaches a destroyed host; Stop() drops the connections' links.
  std::shared_ptr<Impl> impl_;
};

}  // namespace cairn::net
