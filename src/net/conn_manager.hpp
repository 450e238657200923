// The host's admission rules (its connection manager): how many connections and
// handshakes may be open at once, how many streams one connection may carry, how long each phase
// may take, and how long to wait before dialing a peer that failed. Pure bookkeeping with time
// passed in; the host (net/host.hpp) asks it before accepting, dialing and opening.
//
// Admission is per slot: Admit*() hands out a slot or refuses (ResourceExhausted), and the slot
// is given back when the connection or handshake ends. A peer that stalls holds only its own slot
// until its phase timeout, and one that sends garbage is closed at the first bad byte; either way
// other peers are unaffected, because every connection has its own coroutines and deadlines.
// Not thread-safe: used on the host's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "common/result.hpp"
#include "net/identity.hpp"

namespace cairn::net {

struct ConnLimits {
  size_t max_connections = 512;        // established (secured and muxed), both directions
  size_t max_pending_handshakes = 64;  // TCP accepted or dialed, not yet muxed
  uint32_t max_streams_per_connection = 256;
  std::chrono::milliseconds handshake_timeout{10000};    // TCP connect to yamux ready
  std::chrono::milliseconds negotiation_timeout{10000};  // a stream's protocol selection
  std::chrono::milliseconds backoff_base{2000};          // first wait after a failed dial
  std::chrono::milliseconds backoff_max{300000};         // waits double up to this
};

class ConnManager {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnManager(ConnLimits limits) : limits_(limits) {}

  const ConnLimits& limits() const { return limits_; }

  // A handshake slot (an accepted or dialed TCP connection not yet upgraded).
  Result<void> AdmitHandshake();
  void EndHandshake();
  // A connection slot, taken when a handshake completes.
  Result<void> AdmitConnection();
  void EndConnection();
  size_t connections() const { return connections_; }
  size_t pending_handshakes() const { return handshakes_; }

  // Dial backoff. Unavailable (with the time left) while `peer` is backing off.
  Result<void> CheckDial(const PeerId& peer, Clock::time_point now) const;
  void DialFailed(const PeerId& peer, Clock::time_point now);
  void DialSucceeded(const PeerId& peer);

 private:
  struct Backoff {
    int failures = 0;
    Clock::time_point until;
  };
  static constexpr size_t kMaxBackoffEntries = 10000;

  ConnLimits limits_;
  size_t connections_ = 0;
  size_t handshakes_ = 0;
  std::map<std::string, Backoff> backoff_;  // by peer ID text
};

}  // namespace cairn::net
