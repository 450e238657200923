// Multiaddr (../shared/specs/libp2p/addressing.md; multiformats/multiaddr): self-describing
// network addresses, "/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…", in text and binary form.
// Supported protocols: ip4, ip6, ip6zone, tcp, udp, dns, dns4, dns6, dnsaddr, p2p, p2p-circuit,
// quic, quic-v1, webtransport, certhash, http, https, http-path, tls, sni, noise, ws, wss,
// webrtc, webrtc-direct, unix. Parsing validates every value (addresses, ports, peer IDs) and
// rejects unknown protocols with their name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::net {

struct MultiaddrComponent {
  uint64_t code;
  std::string name;  // "tcp"
  Bytes value;       // binary value (empty for protocols without one)
  std::string text;  // the value as written ("4001"; empty when none)
};

class Multiaddr {
 public:
  static Result<Multiaddr> Parse(std::string_view text);
  static Result<Multiaddr> FromBytes(ByteSpan bytes);

  const std::vector<MultiaddrComponent>& components() const { return components_; }
  std::string ToString() const;
  Bytes ToBytes() const;

  // The value of the first component named `name`, as text.
  std::optional<std::string> Value(std::string_view name) const;
  bool Has(std::string_view name) const { return Value(name).has_value(); }
  // Appends a component (validated like a parse of "/name/value").
  Result<void> Append(std::string_view name, std::string_view value = {});

 private:
  std::vector<MultiaddrComponent> components_;
};

}  // namespace cairn::net
