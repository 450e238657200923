#include "bitswap/memory_network.hpp"

#include <algorithm>

namespace cairn::bitswap {
namespace {

std::pair<PeerId, PeerId> Link(const PeerId& a, const PeerId& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

}  // namespace

MemoryHub::MemoryHub() : thread_([this] { Run(); }) {}

MemoryHub::~MemoryHub() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

MemoryNetwork& MemoryHub::AddNode(const PeerId& id, ProtocolVersion version) {
  std::lock_guard lock(mu_);
  auto& node = nodes_[id];
  node = std::make_unique<MemoryNetwork>(*this, id, version);
  return *node;
}

void MemoryHub::SetMute(const PeerId& node, bool mute) {
  std::lock_guard lock(mu_);
  mute ? (void)mute_.insert(node) : (void)mute_.erase(node);
}

void MemoryHub::SetPaused(const PeerId& destination, bool paused) {
  {
    std::lock_guard lock(mu_);
    paused ? (void)paused_.insert(destination) : (void)paused_.erase(destination);
  }
  cv_.notify_all();
}

void MemoryHub::SetUnreachable(const PeerId& node, bool unreachable) {
  std::lock_guard lock(mu_);
  unreachable ? (void)unreachable_.insert(node) : (void)unreachable_.erase(node);
}

void MemoryHub::Disconnect(const PeerId& a, const PeerId& b) {
  std::lock_guard lock(mu_);
  if (links_.erase(Link(a, b)) == 0) return;
  Enqueue(a, Event{b, true, false});
  Enqueue(b, Event{a, true, false});
}

void MemoryHub::WaitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    if (delivering_ != 0) return false;
    for (const auto& [to, q] : inbox_) {
      if (!q.empty() && !paused_.count(to)) return false;
    }
    return true;
  });
}

std::vector<PeerId> MemoryHub::Dials(const PeerId& node) const {
  std::lock_guard lock(mu_);
  auto it = dials_.find(node);
  return it == dials_.end() ? std::vector<PeerId>{} : it->second;
}

void MemoryHub::Enqueue(const PeerId& to, Event event) {
  if (!event.is_peer_event) queued_[{event.from, to}] += event.message.size();
  inbox_[to].push_back(std::move(event));
  cv_.notify_all();
}

Result<void> MemoryHub::Send(const PeerId& from, const PeerId& to, Bytes message) {
  std::lock_guard lock(mu_);
  if (!links_.count(Link(from, to))) {
    return Err(ErrorCode::kUnavailable, "memory network: " + from + " is not connected to " + to);
  }
  if (message.size() > kMaxMessageBytes) {
    return Err(ErrorCode::kInvalidArgument, "memory network: message above 4 MiB");
  }
  if (mute_.count(from)) return Ok();  // vanishes
  auto version = *LinkVersion(from, to);
  Enqueue(to, Event{from, false, false, version, std::move(message)});
  return Ok();
}

std::optional<ProtocolVersion> MemoryHub::LinkVersion(const PeerId& a, const PeerId& b) const {
  auto ia = nodes_.find(a);
  auto ib = nodes_.find(b);
  if (ia == nodes_.end() || ib == nodes_.end()) return std::nullopt;
  return std::min(ia->second->version(), ib->second->version());
}

Result<ProtocolVersion> MemoryHub::Connect(const PeerId& from, const PeerId& to) {
  std::lock_guard lock(mu_);
  dials_[from].push_back(to);
  if (from == to) return Err(ErrorCode::kInvalidArgument, "memory network: cannot dial self");
  if (!nodes_.count(to) || unreachable_.count(to)) {
    return Err(ErrorCode::kUnavailable, "memory network: " + to + " unreachable");
  }
  auto version = *LinkVersion(from, to);
  if (links_.insert(Link(from, to)).second) {
    Enqueue(from, Event{to, true, true, version, {}});
    Enqueue(to, Event{from, true, true, version, {}});
  }
  return version;
}

void MemoryHub::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] {
      if (stop_) return true;
      for (const auto& [to, q] : inbox_) {
        if (!q.empty() && !paused_.count(to)) return true;
      }
      return false;
    });
    if (stop_) return;
    // One event per destination per round: destinations are served in turn.
    std::vector<std::pair<MemoryNetwork*, Event>> batch;
    for (auto& [to, q] : inbox_) {
      if (q.empty() || paused_.count(to)) continue;
      auto node = nodes_.find(to);
      Event e = std::move(q.front());
      q.pop_front();
      if (!e.is_peer_event) queued_[{e.from, to}] -= e.message.size();
      if (node != nodes_.end()) batch.emplace_back(node->second.get(), std::move(e));
    }
    delivering_ += 1;
    lock.unlock();
    {
      std::lock_guard calls(call_mu_);
      for (auto& [node, e] : batch) {
        if (e.is_peer_event) {
          if (node->on_peer_) node->on_peer_(e.from, e.connected);
        } else if (node->on_message_) {
          node->on_message_(e.from, e.version, e.message);
        }
      }
    }
    lock.lock();
    delivering_ -= 1;
    cv_.notify_all();
  }
}

void MemoryNetwork::SetHandlers(ReceiveFn on_message, PeerFn on_peer) {
  std::lock_guard lock(hub_.call_mu_);  // the delivery thread calls them under call_mu_
  on_message_ = std::move(on_message);
  on_peer_ = std::move(on_peer);
}

Result<void> MemoryNetwork::Send(const PeerId& peer, Bytes message) {
  return hub_.Send(self_, peer, std::move(message));
}

uint64_t MemoryNetwork::QueuedBytes(const PeerId& peer) const {
  std::lock_guard lock(hub_.mu_);
  auto it = hub_.queued_.find({self_, peer});
  return it == hub_.queued_.end() ? 0 : it->second;
}

Result<ProtocolVersion> MemoryNetwork::Connect(const PeerId& peer, std::span<const std::string>,
                                               std::chrono::milliseconds) {
  return hub_.Connect(self_, peer);
}

std::vector<ConnectedPeer> MemoryNetwork::ConnectedPeers() const {
  std::lock_guard lock(hub_.mu_);
  std::vector<ConnectedPeer> out;
  for (const auto& [a, b] : hub_.links_) {
    if (a == self_) out.push_back({b, *hub_.LinkVersion(a, b)});
    if (b == self_) out.push_back({a, *hub_.LinkVersion(a, b)});
  }
  return out;
}

std::optional<ProtocolVersion> MemoryNetwork::Version(const PeerId& peer) const {
  std::lock_guard lock(hub_.mu_);
  if (!hub_.links_.count(Link(self_, peer))) return std::nullopt;
  return hub_.LinkVersion(self_, peer);
}

}  // namespace cairn::bitswap
