// The seam between bitswap and the libp2p host: what the bitswap engines (server.hpp,
// client.hpp) need from the network, and nothing more. The libp2p host in src/net implements it
// by registering stream handlers for /ipfs/bitswap/1.2.0, /1.1.0 and /1.0.0; tests use
// MemoryNetwork (memory_network.hpp), several nodes in one process.
//
// The contract an implementation must keep (the host's adapter is written against this text):
//
// Peers. A PeerId is the peer's canonical text form (the base58btc multihash, "12D3KooW…" or
// "Qm…"). A peer is *connected* when the host holds a live connection to it on which bitswap can
// run. Its ProtocolVersion is the bitswap protocol of the host's outbound stream to it: the host
// negotiates it (multistream-select, proposing 1.2.0, then 1.1.0, then 1.0.0) before it reports
// the peer connected (OnPeer(peer, true) or the return of Connect) and keeps it for the life of
// the connection. A peer that supports none of the three is not a bitswap peer and is never
// reported.
//
// Sending. Send() encodes nothing: it is given one encoded bitswap message (bitswap::
// EncodeMessage for the peer's version, at most kMaxMessageBytes) and writes it as one frame
// (bitswap::Frame: unsigned-varint length, then the bytes) on its outbound bitswap stream to the
// peer, opening a new stream with the same version if the old one was reset. Send never blocks
// on the peer: it queues the frame and returns; frames to one peer are written in the order of
// the Send calls. QueuedBytes(peer) is the number of message bytes queued for the peer and not
// yet written to its stream (the engines' back-pressure signal); the host may refuse a Send with
// ResourceExhausted when the peer's queue exceeds its own bound (at least 2 * kMaxMessageBytes).
// A Send to a peer that is not connected fails with Unavailable; a write that fails later is
// logged and reported as a disconnect (OnPeer(peer, false)), never retried.
//
// Receiving. The host reads every inbound bitswap stream with a bitswap::FrameReader (frames
// above kMaxMessageBytes reset the stream, with a log line) and hands each message's bytes to
// the receive handler with the version of the stream it arrived on. The engines decode it; a
// message that does not decode is dropped by the engines (logged), the stream stays open. Inbound
// streams per peer are bounded by the host's connection manager. Handlers may be called
// concurrently from several host threads, but never concurrently for the same peer, and in
// arrival order for one peer. A handler must return quickly: it may call Send, QueuedBytes,
// Version and ConnectedPeers, but never Connect (which blocks).
//
// Connecting. Connect(peer, addrs, timeout) dials the peer at the given multiaddrs (each one
// text, e.g. "/ip4/1.2.3.4/tcp/4001/p2p/12D3…"; addresses the host cannot or may not dial —
// QUIC, WebTransport, private ranges without libp2p.allow_private — are skipped, and the reason
// named when nothing is left), or reuses an existing connection, and returns the negotiated
// version once the peer is connected. It blocks the calling thread up to `timeout` (engine
// threads and pin workers call it, never the host's own threads). Errors: Unavailable (no
// dialable address, refused, reset, protocol not supported), Timeout, PermissionDenied (every
// address denied by configuration), InvalidArgument (a malformed peer id or address).
//
// Lifetime. SetHandlers is called once, before the engines send anything; the handlers stay
// valid until the Network is destroyed or SetHandlers({}, {}) is called, which returns only when
// no handler call is running any more.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bitswap/message.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::bitswap {

using PeerId = std::string;

struct ConnectedPeer {
  PeerId peer;
  ProtocolVersion version;
};

class Network {
 public:
  // A message from `from` (bytes of one frame, without its length prefix), read from a stream
  // of protocol `version`. `message` is valid only during the call.
  using ReceiveFn =
      std::function<void(const PeerId& from, ProtocolVersion version, ByteSpan message)>;
  // `connected` true when a peer became connected (its version is known), false when its last
  // connection closed.
  using PeerFn = std::function<void(const PeerId& peer, bool connected)>;

  virtual ~Network() = default;

  // This node's own peer id.
  virtual PeerId Self() const = 0;
  virtual void SetHandlers(ReceiveFn on_message, PeerFn on_peer) = 0;
  // Queues one encoded message for `peer` (see the contract above).
  virtual Result<void> Send(const PeerId& peer, Bytes message) = 0;
  // Message bytes queued for `peer` and not yet written; 0 for unknown peers.
  virtual uint64_t QueuedBytes(const PeerId& peer) const = 0;
  // Dials (or reuses a connection to) `peer`; blocks up to `timeout`.
  virtual Result<ProtocolVersion> Connect(const PeerId& peer, std::span<const std::string> addrs,
                                          std::chrono::milliseconds timeout) = 0;
  // The peers connected now, with their versions.
  virtual std::vector<ConnectedPeer> ConnectedPeers() const = 0;
  // The version of a connected peer; nullopt when it is not connected.
  virtual std::optional<ProtocolVersion> Version(const PeerId& peer) const = 0;
};

}  // namespace cairn::bitswap
