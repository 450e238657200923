// DNS for multiaddrs (../shared/specs/libp2p: multiaddr's dns, dns4, dns6 and dnsaddr
// protocols): what the host needs to dial "/dns4/node.example/tcp/4001/p2p/…" or Kubo's
// bootstrap peers "/dnsaddr/bootstrap.libp2p.io/p2p/Qm…".
//
//   /dns4/<name>/… and /dns6/<name>/…  one /ip4 (A) or /ip6 (AAAA) multiaddr per address of
//                                       <name>, the rest of the multiaddr kept;
//   /dns/<name>/…                       both families;
//   /dnsaddr/<name>[/p2p/<id>]          the TXT records at _dnsaddr.<name> that read
//                                       "dnsaddr=<multiaddr>", each resolved again (they may be
//                                       /dnsaddr or /dns* themselves), keeping only those that end
//                                       in /p2p/<id> when the address names one.
// A resolved address goes through the dial policy (net/dial_policy.hpp) like any other: a name
// that resolves to a private address is refused without libp2p.allow_private, so DNS cannot be
// used to reach a LAN.
//
// Bounds: at most kMaxDnsaddrDepth nested /dnsaddr lookups and kMaxResolved multiaddrs from one
// address (Kubo's resolver has the same kind of limits); a TXT record that is not
// "dnsaddr=<valid multiaddr>" is ignored. ResolveMultiaddr is pure over a DnsResolver;
// SystemDnsResolver blocks (getaddrinfo, res_nquery: one try of 1 s per server for TXT), so the
// host calls it off its I/O thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/multiaddr.hpp"

namespace cairn::net {

inline constexpr int kMaxDnsaddrDepth = 4;
inline constexpr size_t kMaxResolved = 32;

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  // The numeric addresses of `name` ("1.2.3.4", "2001:db8::1"): `family` 4 (A), 6 (AAAA) or 0
  // (both). NotFound when it has none of that family; Unavailable when the lookup failed.
  virtual Result<std::vector<std::string>> Addresses(const std::string& name, int family) = 0;
  // The TXT strings at `name` (each record's character-strings joined). NotFound when none.
  virtual Result<std::vector<std::string>> Txt(const std::string& name) = 0;
};

// getaddrinfo (numeric results only) and libresolv's res_nquery for TXT, with the system's
// resolver configuration. Thread-safe; blocking.
std::shared_ptr<DnsResolver> SystemDnsResolver();

// Whether `addr` starts with a DNS component (dns, dns4, dns6, dnsaddr).
bool IsDnsMultiaddr(const Multiaddr& addr);

// The multiaddrs `addr` stands for (see above); `addr` itself when it has no DNS component.
// NotFound when a name resolves to nothing usable (the message names it); other resolver errors
// as the resolver gives them.
Result<std::vector<Multiaddr>> ResolveMultiaddr(DnsResolver& resolver, const Multiaddr& addr);

// The TXT strings of a DNS response message (`response`: the bytes res_nquery returns), one per
// TXT record of its answer section, each record's character-strings joined. InvalidArgument for
// a message that does not parse. Pure (a parser of untrusted bytes: fuzz/dns_txt_fuzz.cpp).
Result<std::vector<std::string>> ParseTxtResponse(ByteSpan response);

}  // namespace cairn::net
