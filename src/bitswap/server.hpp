// The bitswap server (../shared/specs/ipfs/bitswap-protocol.md, "Interaction pattern", the S
// side): answers other peers' wantlists from a BlockGetter (the block store), one ledger per
// peer, scheduled fairly.
//
// What is served: pinned content only. A want is served when the ContentPolicy allows its CID
// ("may this CID be served?" — in the app: the root of a pinned pin) or when the CID is a link
// of a block this server already sent to the same peer (follow_links): a peer reaches the blocks
// of a pinned DAG by walking it down from its root, as every bitswap fetcher does, and nothing
// else. A CID that is neither is answered exactly like one the store does not have (DONT_HAVE
// when the peer asked for it, otherwise nothing), so a peer cannot probe the store for content
// that is not pinned. Cairn is a pinning service, not a public cache: blocks held only for work
// in progress (uploads not yet pinned, DAGs half fetched) or left behind by deleted pins until
// the next collection are not advertised. The links a peer may follow are kept per ledger (at
// most max_links_per_peer, oldest forgotten first, and max_links_total over all peers) and
// dropped with the ledger. The app's policy (apps/cairn) is documented in
// docs/architecture.md ("bitswap").
//
// Presence: a want-have is answered from the getter's Size() (the block store's index: no block
// read); only want-block reads the block.
//
// Ledger: per peer, its pending wants (CID → want-have/want-block, sendDontHave, priority), at
// most max_wants_per_peer (more are dropped and counted; a full wantlist replaces the previous
// one; cancels remove). A want is answered once: want-block with the block (or DONT_HAVE), want-
// have with HAVE (or DONT_HAVE); then it leaves the ledger. Ledgers are dropped when the peer
// disconnects; at most max_peers ledgers exist.
//
// Scheduling: peers with pending wants take turns (round-robin). A turn sends one message: the
// peer's wants in priority order (higher first, then arrival order) until the message holds
// target_message_bytes of blocks or max_presences_per_message presences. A peer whose network
// queue holds more than max_queued_bytes_per_peer (a slow reader) is skipped until it drains, so
// it cannot hold memory or starve the others. Blocks above max_block_bytes are treated as absent.
//
// Versions: 1.2.0 peers get HAVE/DONT_HAVE; 1.1.0 and 1.0.0 peers only get blocks (they cannot
// ask want-have); 1.0.0 peers only CIDv0 blocks.
//
// Threads: OnWantlist/OnPeerGone are called from the network's handler threads and only update
// the ledger. `threads` worker threads run turns; with threads = 0 the owner calls RunOnce()
// (tests). Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bitswap/message.hpp"
#include "bitswap/network.hpp"
#include "ipld/blocks.hpp"

namespace cairn::bitswap {

// Decides what the server may give away. Thread-safe, quick (no network), called once per want.
class ContentPolicy {
 public:
  virtual ~ContentPolicy() = default;
  // True when the block `cid` may be sent to (and its presence confirmed to) any peer.
  virtual bool MayServe(const Cid& cid) = 0;
};

// Serves whatever the getter has (tests, and nodes that serve everything they store).
class ServeEverything final : public ContentPolicy {
 public:
  bool MayServe(const Cid&) override { return true; }
};

struct ServerOptions {
  size_t threads = 1;
  size_t max_peers = 4096;
  size_t max_wants_per_peer = 1024;
  size_t target_message_bytes = 1u << 20;
  size_t max_presences_per_message = 1024;
  uint64_t max_queued_bytes_per_peer = 8u << 20;
  size_t max_block_bytes = kMaxBlockBytes;
  // Serve the links of blocks sent to a peer to that peer (see the header comment).
  bool follow_links = true;
  size_t max_links_per_peer = 1u << 16;
  size_t max_links_total = 1u << 20;
};

struct ServerStats {
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> blocks_sent{0};
  std::atomic<uint64_t> block_bytes_sent{0};
  std::atomic<uint64_t> haves_sent{0};
  std::atomic<uint64_t> dont_haves_sent{0};
  std::atomic<uint64_t> wants_dropped{0};  // over a ledger's limit, or no room for a ledger
  std::atomic<uint64_t> refused_by_policy{0};
  std::atomic<uint64_t> served_as_link{0};  // allowed because a block sent earlier links to it
  std::atomic<uint64_t> send_failures{0};
};

class Server {
 public:
  // Everything passed must outlive the server.
  Server(Network& network, ipld::BlockGetter& blocks, ContentPolicy& policy,
         ServerOptions options = {});
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Start();
  // Stops the worker threads (pending wants stay in the ledgers). Idempotent.
  void Stop();

  // A wantlist (or wantlist update) from `peer`, which speaks `version`.
  void OnWantlist(const PeerId& peer, ProtocolVersion version, const Wantlist& wantlist);
  // `peer` disconnected: its ledger is dropped.
  void OnPeerGone(const PeerId& peer);

  // Runs one turn for the next peer that has wants and room in its network queue. False when no
  // peer could be served.
  bool RunOnce();

  // Pending wants of `peer` (0 when it has no ledger).
  size_t PendingWants(const PeerId& peer) const;
  const ServerStats& stats() const { return stats_; }

 private:
  struct Key {
    int64_t neg_priority;
    uint64_t seq;
    Cid cid;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Want {
    WantType type;
    bool send_dont_have;
    Key key;
  };
  struct Ledger {
    ProtocolVersion version = ProtocolVersion::k120;
    std::unordered_map<Cid, Want> wants;
    std::set<Key> order;
    bool queued = false;  // in ready_ or in a turn
    // Links of blocks sent to this peer (follow_links), oldest first in links_order.
    std::unordered_set<Cid> links;
    std::deque<Cid> links_order;
  };
  // One turn: the message being built for one peer.
  struct Turn {
    PeerId peer;
    ProtocolVersion version;
    Message message;
    size_t block_bytes = 0;
  };
  // The next peer whose turn it is (skipping gone, empty and backed-up peers); false if none.
  bool TakeTurn(PeerId& peer, ProtocolVersion& version);
  // Adds the answer to one want (block, HAVE, DONT_HAVE or nothing) to the turn's message.
  void Answer(Turn& turn, const Cid& cid, const Want& want, bool as_link);
  // Encodes and sends the turn's message; counts it in stats_.
  void Send(const Turn& turn);
  // REQUIRES(mu_)
  void Remove(Ledger& ledger, const Cid& cid);
  void WorkerLoop();
  // REQUIRES(mu_). Remembers `links` as servable to the peer of `ledger`, within the bounds.
  void AddLinks(Ledger& ledger, std::vector<Cid>& links);
  // REQUIRES(mu_). Drops a ledger (and its links from links_total_).
  void EraseLedger(std::map<PeerId, Ledger>::iterator it);

  Network& network_;
  ipld::BlockGetter& blocks_;
  ContentPolicy& policy_;
  const ServerOptions options_;
  ServerStats stats_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<PeerId, Ledger> ledgers_;  // GUARDED_BY(mu_)
  std::deque<PeerId> ready_;          // GUARDED_BY(mu_) peers with wants, in turn order
  uint64_t next_seq_ = 0;             // GUARDED_BY(mu_)
  size_t links_total_ = 0;            // GUARDED_BY(mu_) links over all ledgers
  bool running_ = false;              // GUARDED_BY(mu_)
  bool wake_ = false;                 // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace cairn::bitswap
