#include "net/conn_manager.hpp"

#include <algorithm>

namespace cairn::net {

Result<void> ConnManager::AdmitHandshake() {
  if (handshakes_ >= limits_.max_pending_handshakes) {
    return Err(ErrorCode::kResourceExhausted,
               "libp2p: " + std::to_string(handshakes_) + " handshakes already pending");
  }
  ++handshakes_;
  return Ok();
}

void ConnManager::EndHandshake() {
  CAIRN_CHECK(handshakes_ > 0);  // paired with a successful AdmitHandshake
  --handshakes_;
}

Result<void> ConnManager::AdmitConnection() {
  if (connections_ >= limits_.max_connections) {
    return Err(
        ErrorCode::kResourceExhausted,
        "libp2p: connection limit of " + std::to_string(limits_.max_connections) + " reached");
  }
  ++connections_;
  return Ok();
}

void ConnManager::EndConnection() {
  CAIRN_CHECK(connections_ > 0);  // paired with a successful AdmitConnection
  --connections_;
}

Result<void> ConnManager::CheckDial(const PeerId& peer, Clock::time_point now) const {
  auto it = backoff_.find(peer.ToString());
  if (it == backoff_.end() || it->second.until <= now) return Ok();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.until - now);
  return Err(ErrorCode::kUnavailable, "libp2p: " + peer.ToString() +
                                          " failed recently; next dial in " +
                                          std::to_string(left.count()) + " ms");
}

void ConnManager::DialFailed(const PeerId& peer, Clock::time_point now) {
  if (backoff_.size() >= kMaxBackoffEntries) {
    for (auto it = backoff_.begin(); it != backoff_.end();) {
      it = it->second.until <= now ? backoff_.erase(it) : std::next(it);
    }
    if (backoff_.size() >= kMaxBackoffEntries) backoff_.erase(backoff_.begin());
  }
  Backoff& b = backoff_[peer.ToString()];
  auto wait = limits_.backoff_base * (int64_t{1} << std::min(b.failures, 20));
  b.failures = std::min(b.failures + 1, 30);
  b.until = now + std::min<Clock::duration>(wait, limits_.backoff_max);
}

void ConnManager::DialSucceeded(const PeerId& peer) { backoff_.erase(peer.ToString()); }

}  // namespace cairn::net
