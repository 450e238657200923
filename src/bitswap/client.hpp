// The bitswap client (../shared/specs/ipfs/bitswap-protocol.md, "Interaction pattern", the C
// side): sessions that fetch blocks from a set of peers, several blocks and several peers at
// once.
//
// A Session is one consumer's view (one pin's DAG): the peers it may ask (AddPeers: the pin's
// origins, connected peers, providers) and blocking Get() calls, made concurrently from the
// consumer's worker threads. For each wanted CID:
//   - 1.2.0 peers of the session get want-have (with sendDontHave); one peer at a time gets
//     want-block: a peer that answered HAVE (the best scored, least loaded), else the best
//     candidate not yet asked. A second want-block goes to a HAVE peer when the first went to a
//     peer that had not confirmed it has the block. 1.0.0/1.1.0 peers only get want-block.
//   - DONT_HAVE removes the peer for that CID; a peer that does not answer within want_timeout
//     (want-have or want-block) is given up for that CID, cancelled, and scored down, so a mute
//     peer stops being chosen first. Load (want-blocks outstanding) spreads the wants of
//     concurrent Gets over the session's peers, keeping several busy at once.
//   - Peers added to the session while a Get waits are asked at once; a peer that reconnects is
//     asked again (the rebroadcast: its old wantlist died with the connection).
//   - A block is accepted only as the CID it hashes to: the receiver computes the CID from the
//     block's prefix and bytes (CidPrefix::Sum) and looks the want up by it, so every block handed
//     on has been verified against its CID. A block nobody wants (a wrong block) is dropped and
//     counted against its sender; the want goes on.
//   - When the block arrives, every peer still asked gets a cancel.
// Get fails with NotFound when every session peer said DONT_HAVE or timed out (the caller then
// tries other sources), Unavailable when the session has no connected peer, Timeout at the
// deadline, Cancelled when asked to.
//
// Thread-safety: everything is thread-safe. OnMessage/OnPeer run on the network's handler
// threads and never block (they hash blocks and send cancels).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "bitswap/message.hpp"
#include "bitswap/network.hpp"
#include "common/clock.hpp"

namespace cairn::bitswap {

struct ClientOptions {
  std::chrono::milliseconds want_timeout{5000};
  size_t max_block_bytes = kMaxBlockBytes;
};

struct ClientStats {
  std::atomic<uint64_t> blocks_received{0};      // wanted, verified, handed on
  std::atomic<uint64_t> duplicate_blocks{0};     // wanted but already received
  std::atomic<uint64_t> unwanted_blocks{0};      // nobody wants its CID (wrong or stale block)
  std::atomic<uint64_t> unverifiable_blocks{0};  // prefix cannot be computed, or too big
  std::atomic<uint64_t> haves{0};
  std::atomic<uint64_t> dont_haves{0};
  std::atomic<uint64_t> timeouts{0};
};

class Client;

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Peers this session may ask (duplicates ignored). Peers not connected are kept and used once
  // they connect.
  void AddPeers(const std::vector<PeerId>& peers);
  std::vector<PeerId> peers() const;

  // The verified bytes of `cid` (see the header comment for the errors). `deadline_us` is on the
  // client's clock's monotonic scale, 0 for none.
  Result<Bytes> Get(const Cid& cid, int64_t deadline_us, const std::atomic<bool>* cancel = nullptr);

 private:
  friend class Client;
  explicit Session(Client& client) : client_(client) {}
  Client& client_;
  std::set<PeerId> peers_;  // GUARDED_BY(client_.mu_)
};

class Client {
 public:
  // `network` and `clock` must outlive the client, and the client its sessions.
  Client(Network& network, const Clock& clock, ClientOptions options = {});

  std::unique_ptr<Session> NewSession();

  // Blocks and presences of a decoded message from `from` (the wantlist is the server's).
  void OnMessage(const PeerId& from, const Message& message);
  void OnPeer(const PeerId& peer, bool connected);

  const ClientStats& stats() const { return stats_; }
  // Blocks `peer` sent that nobody wanted.
  uint64_t UnwantedFrom(const PeerId& peer) const;

 private:
  friend class Session;
  enum class Ask : uint8_t { kIdle, kAskedHave, kHave, kAskedBlock, kDontHave, kGivenUp };
  struct PeerAsk {
    Ask state = Ask::kIdle;
    bool confirmed = false;  // answered HAVE
    int64_t sent_us = 0;
  };
  struct Pending {
    int waiters = 0;
    std::shared_ptr<const Bytes> block;
    std::map<PeerId, PeerAsk> peers;
  };
  struct PeerInfo {
    std::optional<ProtocolVersion> version;  // nullopt: not connected
    int64_t load = 0;                        // want-blocks outstanding
    int64_t received = 0;
    int64_t timeouts = 0;
    uint64_t unwanted = 0;
  };

  // REQUIRES(mu_). Advances `cid`'s asks for `candidates`; returns the time of the next timeout,
  // or nullopt when every candidate has answered no (or given up).
  std::optional<int64_t> Step(const Cid& cid, Pending& pending, const std::set<PeerId>& candidates,
                              int64_t now);
  void SendWant(const PeerId& peer, ProtocolVersion version, const Cid& cid, WantType type);
  void SendCancel(const PeerId& peer, const Cid& cid);
  // REQUIRES(mu_): a peer's ask ended (answer, timeout, block): its load drops if it was asked
  // for the block.
  void EndAsk(const PeerId& peer, PeerAsk& ask, Ask new_state);
  int64_t Score(const PeerId& peer) const;

  Network& network_;
  const Clock& clock_;
  const ClientOptions options_;
  ClientStats stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Cid, Pending> wants_;  // GUARDED_BY(mu_)
  std::map<PeerId, PeerInfo> peers_;        // GUARDED_BY(mu_)
};

}  // namespace cairn::bitswap
