// The bitswap Network (bitswap/network.hpp) over the libp2p host (net/host.hpp): what makes
// Cairn a bitswap peer on the IPFS network. Bitswap 1.2.0, 1.1.0 and 1.0.0
// (../shared/specs/ipfs/bitswap-protocol.md, "Protocol format": one length-prefixed protobuf per
// frame, each side sends on its own outbound stream).
//
// How it keeps the Network contract (network.hpp), side by side:
//
// Peers. When the host reports a new connection (a peer listener) or an inbound bitswap message
// arrives from a peer that has no outbound stream yet, one outbound stream is opened to the peer
// (multistream-select proposing /ipfs/bitswap/1.2.0, 1.1.0, 1.0.0). Its negotiated protocol is
// the peer's version; only then is the peer connected and OnPeer(peer, true) called. A peer that
// accepts none of them is not a bitswap peer and is never reported. When the host reports the
// peer's last connection gone, its queue is dropped and OnPeer(peer, false) is called.
//
// Sending. Send() (any thread) appends the message to the peer's queue under a mutex and, if no
// writer runs for the peer, posts one to the host's thread; the writer writes the queue in order
// as frames (varint length, then the bytes) on the outbound stream. QueuedBytes is the message
// bytes accepted and not yet written into the stream. A Send above `max_queued_bytes` (default
// 16 MiB, at least 2 * kMaxMessageBytes) is refused with ResourceExhausted. When a write fails on
// a stream the peer reset, one new stream with the same protocol is opened and the frame written
// there; if that fails too, the peer is reported disconnected (OnPeer(peer, false)), its queue
// is dropped and nothing is retried. A later Connect or inbound message reopens it. An outbound
// stream idle for `idle_close` (5 s) is half-closed, so that a peer that times idle streams out
// (Helia aborts them after 10 s) is not handed a frame on a stream it is about to abort; the
// next Send opens a new one with the same protocol.
//
// Receiving. The host's handler for each of the three protocol ids reads the inbound stream in
// chunks into a bitswap::FrameReader (max kMaxMessageBytes). A declared length above the limit
// or a malformed length prefix resets the stream, with a log line (the peer is cut off on that
// stream; its other streams and other peers are unaffected). Each complete frame is handed to
// the receive handler with the stream's version, after the peer's outbound stream exists (so
// the engines can answer it). All handler calls run on the host's single thread: never two at
// once, and in arrival order for one peer. Inbound streams per connection are bounded by the
// host's connection manager.
//
// Connecting. Connect() must be called from a thread other than the host's (it returns
// Internal at once when called on it): it posts the dial (net::Host::Connect with the parsed
// addresses plus the peerstore's) and the outbound stream negotiation to the host thread and
// waits up to `timeout` (Timeout then; the dial goes on in the background and its result is
// used). Unparseable addresses are skipped; when none is left and no connection exists the
// error is InvalidArgument naming them. The host's errors are mapped to the contract's:
// PermissionDenied stays, InvalidArgument stays, everything else is Unavailable.
//
// Lifetime and threads. The host must outlive this object and its io_context must be running on
// its one thread whenever Create() or the destructor runs: both do their host work there and
// wait for it (up to 10 s). The destructor removes the stream handlers, resets inbound streams,
// half-closes outbound streams and clears the handlers; coroutines still pending on the host's
// thread hold only shared state and end at their next step. SetHandlers({}, {}) returns when no
// handler call is running (it takes the mutex every handler call holds), so it must not be
// called from inside a handler.
#pragma once

#include <memory>

#include "bitswap/network.hpp"
#include "net/host.hpp"

namespace cairn::bitswap {

struct Libp2pNetworkOptions {
  uint64_t max_queued_bytes = 16u << 20;  // per peer; at least 2 * kMaxMessageBytes
  // Read chunk of inbound streams (at most FrameReader::kMaxChunk).
  size_t read_chunk = 64 * 1024;
  // An outbound stream with nothing to write for this long is half-closed (0 = never); the next
  // Send opens a new one. Below Helia's 10 s receive timeout, after which it aborts the stream.
  std::chrono::milliseconds idle_close{5000};
};

class Libp2pNetwork final : public Network {
 public:
  // Registers the bitswap stream handlers and a peer listener on `host` (on the host's thread,
  // waiting for it). Unavailable when the host's thread does not run it within 10 s;
  // InvalidArgument for options below the contract's bounds.
  static Result<std::unique_ptr<Libp2pNetwork>> Create(net::Host& host,
                                                       Libp2pNetworkOptions options = {});
  ~Libp2pNetwork() override;
  Libp2pNetwork(const Libp2pNetwork&) = delete;
  Libp2pNetwork& operator=(const Libp2pNetwork&) = delete;

  PeerId Self() const override;
  void SetHandlers(ReceiveFn on_message, PeerFn on_peer) override;
  Result<void> Send(const PeerId& peer, Bytes message) override;
  uint64_t QueuedBytes(const PeerId& peer) const override;
  Result<ProtocolVersion> Connect(const PeerId& peer, std::span<const std::string> addrs,
                                  std::chrono::milliseconds timeout) override;
  std::vector<ConnectedPeer> ConnectedPeers() const override;
  std::optional<ProtocolVersion> Version(const PeerId& peer) const override;

  // Counters (any thread).
  uint64_t frames_received() const;
  uint64_t streams_reset_for_bad_frames() const;
  uint64_t outbound_streams_opened() const;

  struct Impl;

 private:
  explicit Libp2pNetwork(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace cairn::bitswap
