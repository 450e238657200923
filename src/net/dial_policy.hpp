// Which multiaddrs the host dials: TCP over ip4/ip6 only. Addresses of
// transports Cairn does not speak (QUIC, WebTransport, WebRTC, WebSockets, circuit relay) are
// skipped — they are normal in Kubo's origin lists and not errors — and loopback, private,
// link-local and shared (CGNAT) ranges are dialed only with `libp2p.allow_private = true`: a
// public server must not probe a LAN on someone's behalf. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::net {

struct DialPolicy {
  bool allow_private = false;
};

struct TcpTarget {
  std::string ip;  // numeric, as inet_pton reads it
  uint16_t port = 0;
  std::optional<PeerId> peer;  // from a trailing /p2p/ component
};

// The TCP endpoint to dial for `addr`, or why not:
//   NotSupported      a transport we skip (the message says which), DNS names (not resolved);
//   PermissionDenied  a private or loopback address while allow_private is false (the message
//                     names the key libp2p.allow_private);
//   InvalidArgument   an address with no ip/tcp pair.
Result<TcpTarget> CheckDialable(const Multiaddr& addr, const DialPolicy& policy);

// True for 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 100.64/10, 0/8, ::1, ::, fc00::/7,
// fe80::/10 and IPv4-mapped forms of the IPv4 ranges. `ip` is numeric; unparsable is "private".
bool IsPrivateAddress(const std::string& ip);

}  // namespace cairn::net
