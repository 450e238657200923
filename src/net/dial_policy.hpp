// Which multiaddrs the host dials: TCP over ip4/ip6 only. Addresses of
// transports Cairn does not speak (QUIC, WebTransport, WebRTC, WebSockets, circuit relay) are
// skipped — they are normal in Kubo's origin lists and not errors — and loopback, private,
// link-local and shared (CGNAT) ranges are dialed only with `libp2p.allow_private = true`: a
// public server must not probe a LAN on someone's behalf. An operator's lists come on top
// (`libp2p.dial_deny`, `libp2p.dial_allow`: IP prefixes, as CIDR or as Kubo's Swarm.AddrFilters
// multiaddrs "/ip4/10.0.0.0/ipcidr/8"), checked in this order:
//   1. an address in a dial_deny prefix is refused, whatever else says;
//   2. with a non-empty dial_allow, an address outside all of its prefixes is refused;
//   3. a private or loopback address is refused unless allow_private is set or a dial_allow
//      prefix that lies wholly in the private ranges holds it (10.20.0.0/16 is the operator's
//      choice of that range; 0.0.0.0/0 is not a choice of any private one).
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 prefixes. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::net {

// An IPv4 or IPv6 prefix.
struct IpPrefix {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the address (IPv4 in the first 4), host bits zero
  int bits = 0;                     // prefix length: 0..32 (IPv4) or 0..128 (IPv6)
  // Whether numeric `ip` is in the prefix (an IPv4-mapped IPv6 address counts as its IPv4).
  bool Contains(std::string_view ip) const;
  // "10.0.0.0/8", "fc00::/7".
  std::string ToString() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// "10.0.0.0/8", "2001:db8::/32", a bare address (a /32 or /128), or "/ip4/10.0.0.0/ipcidr/8" and
// "/ip6/fc00::/ipcidr/7". InvalidArgument naming the text otherwise, and for set host bits
// ("10.0.0.1/8": probably a typo for a host or for another prefix).
Result<IpPrefix> ParseIpPrefix(std::string_view text);

struct DialPolicy {
  bool allow_private = false;
  std::vector<IpPrefix> allow;  // libp2p.dial_allow; empty: any address (but see private)
  std::vector<IpPrefix> deny;   // libp2p.dial_deny
};

struct TcpTarget {
  std::string ip;  // numeric, as inet_pton reads it
  uint16_t port = 0;
  std::optional<PeerId> peer;  // from a trailing /p2p/ component
};

// The TCP endpoint to dial for `addr`, or why not:
//   NotSupported      a transport we skip (the message says which), DNS names (not resolved);
//   PermissionDenied  an address the lists or the private rule refuse (the message names the
//                     key: libp2p.dial_deny, libp2p.dial_allow or libp2p.allow_private);
//   InvalidArgument   an address with no ip/tcp pair.
Result<TcpTarget> CheckDialable(const Multiaddr& addr, const DialPolicy& policy);

// True for 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 100.64/10, 0/8, ::1, ::, fc00::/7,
// fe80::/10 and IPv4-mapped forms of the IPv4 ranges. `ip` is numeric; unparsable is "private".
bool IsPrivateAddress(const std::string& ip);

}  // namespace cairn::net
