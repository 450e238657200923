// An in-memory bitswap Network for tests: several nodes in one process joined by a MemoryHub.
// It keeps the Network contract (network.hpp): Send queues and never blocks, messages to one
// peer arrive in order, handlers for one node never run concurrently (one delivery thread per
// hub calls every handler, without holding the hub's lock), and a node is reported connected
// with the lower of the two nodes' versions.
//
// Faults for tests: a node can be made mute (everything it sends vanishes: a peer that never
// answers), a destination can be paused (its messages pile up, so QueuedBytes grows: a slow
// reader), and a node can be made unreachable (Connect to it fails).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "bitswap/network.hpp"

namespace cairn::bitswap {

class MemoryNetwork;

class MemoryHub {
 public:
  MemoryHub();
  ~MemoryHub();  // stops delivery; nodes must not be used afterwards
  MemoryHub(const MemoryHub&) = delete;
  MemoryHub& operator=(const MemoryHub&) = delete;

  // A new node speaking up to `version`. The hub owns it.
  MemoryNetwork& AddNode(const PeerId& id, ProtocolVersion version = ProtocolVersion::k120);

  void SetMute(const PeerId& node, bool mute);
  void SetPaused(const PeerId& destination, bool paused);
  void SetUnreachable(const PeerId& node, bool unreachable);
  // Closes the connection between a and b (both get OnPeer(false)).
  void Disconnect(const PeerId& a, const PeerId& b);
  // Blocks until every queued message to an unpaused destination has been handled.
  void WaitIdle();
  // Connect() calls made by `node`, in order (the peers it dialed).
  std::vector<PeerId> Dials(const PeerId& node) const;

 private:
  friend class MemoryNetwork;
  struct Event {
    PeerId from;
    bool is_peer_event = false;
    bool connected = false;
    ProtocolVersion version = ProtocolVersion::k120;
    Bytes message;
  };
  void Run();
  // REQUIRES(mu_)
  void Enqueue(const PeerId& to, Event event);
  Result<void> Send(const PeerId& from, const PeerId& to, Bytes message);
  Result<ProtocolVersion> Connect(const PeerId& from, const PeerId& to);
  std::optional<ProtocolVersion> LinkVersion(const PeerId& a, const PeerId& b) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<PeerId, std::unique_ptr<MemoryNetwork>> nodes_;  // GUARDED_BY(mu_)
  std::map<PeerId, std::deque<Event>> inbox_;               // GUARDED_BY(mu_)
  std::map<std::pair<PeerId, PeerId>, uint64_t> queued_;    // GUARDED_BY(mu_) from,to
  std::set<std::pair<PeerId, PeerId>> links_;               // GUARDED_BY(mu_) a<b
  std::set<PeerId> mute_, paused_, unreachable_;            // GUARDED_BY(mu_)
  std::map<PeerId, std::vector<PeerId>> dials_;             // GUARDED_BY(mu_)
  std::mutex call_mu_;     // held while handlers run (SetHandlers waits on it)
  size_t delivering_ = 0;  // GUARDED_BY(mu_)
  bool stop_ = false;      // GUARDED_BY(mu_)
  std::thread thread_;
};

class MemoryNetwork final : public Network {
 public:
  MemoryNetwork(MemoryHub& hub, PeerId self, ProtocolVersion version)
      : hub_(hub), self_(std::move(self)), version_(version) {}

  PeerId Self() const override { return self_; }
  void SetHandlers(ReceiveFn on_message, PeerFn on_peer) override;
  Result<void> Send(const PeerId& peer, Bytes message) override;
  uint64_t QueuedBytes(const PeerId& peer) const override;
  Result<ProtocolVersion> Connect(const PeerId& peer, std::span<const std::string> addrs,
                                  std::chrono::milliseconds timeout) override;
  std::vector<ConnectedPeer> ConnectedPeers() const override;
  std::optional<ProtocolVersion> Version(const PeerId& peer) const override;

  ProtocolVersion version() const { return version_; }

 private:
  friend class MemoryHub;
  MemoryHub& hub_;
  const PeerId self_;
  const ProtocolVersion version_;
  // Set once before use (SetHandlers), read by the hub's delivery thread.
  ReceiveFn on_message_;
  PeerFn on_peer_;
};

}  // namespace cairn::bitswap
