#include "net/dial_policy.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace cairn::net {
namespace {

bool PrivateV4(const uint8_t a[4]) {
  return a[0] == 127 || a[0] == 10 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
         (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
         (a[0] == 100 && (a[1] & 0xc0) == 64);
}

}  // namespace

bool IsPrivateAddress(const std::string& ip) {
  uint8_t v4[4];
  if (inet_pton(AF_INET, ip.c_str(), v4) == 1) return PrivateV4(v4);
  uint8_t v6[16];
  if (inet_pton(AF_INET6, ip.c_str(), v6) != 1) return true;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(v6, kZero, 15) == 0 && (v6[15] == 0 || v6[15] == 1)) return true;  // ::, ::1
  if ((v6[0] & 0xfe) == 0xfc) return true;                                           // fc00::/7
  if (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80) return true;                          // fe80::/10
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6, kMapped, 12) == 0) return PrivateV4(v6 + 12);
  return false;
}

Result<TcpTarget> CheckDialable(const Multiaddr& addr, const DialPolicy& policy) {
  static constexpr const char* kSkipped[] = {
      "quic", "quic-v1",     "webtransport", "webrtc", "webrtc-direct", "ws",
      "wss",  "p2p-circuit", "tls",          "http",   "https",         "unix"};
  for (const auto& c : addr.components()) {
    for (const char* name : kSkipped) {
      if (c.name == name) {
        return Err(ErrorCode::kNotSupported,
                   "skipped " + addr.ToString() + ": transport " + name + " is not dialed");
      }
    }
  }
  const auto& comps = addr.components();
  TcpTarget target;
  bool have_ip = false, have_tcp = false;
  for (size_t i = 0; i < comps.size(); ++i) {
    const auto& c = comps[i];
    if (c.name == "dns" || c.name == "dns4" || c.name == "dns6" || c.name == "dnsaddr") {
      return Err(ErrorCode::kNotSupported,
                 "skipped " + addr.ToString() + ": DNS addresses are not resolved");
    }
    if ((c.name == "ip4" || c.name == "ip6") && i == 0) {
      target.ip = c.text;
      have_ip = true;
    } else if (c.name == "tcp" && have_ip && i == 1) {
      target.port = static_cast<uint16_t>(std::stoul(c.text));
      have_tcp = true;
    } else if (c.name == "p2p" && have_tcp) {
      auto id = PeerId::Parse(c.text);
      if (!id) return Err(id.error().WithContext("dial " + addr.ToString() + ": "));
      target.peer = std::move(*id);
    } else if (c.name != "ip6zone") {
      return Err(ErrorCode::kInvalidArgument,
                 "dial " + addr.ToString() + ": not an /ip4|ip6/…/tcp/…[/p2p/…] address");
    }
  }
  if (!have_tcp) {
    return Err(ErrorCode::kInvalidArgument,
               "dial " + addr.ToString() + ": not an /ip4|ip6/…/tcp/…[/p2p/…] address");
  }
  if (!policy.allow_private && IsPrivateAddress(target.ip)) {
    return Err(ErrorCode::kPermissionDenied,
               "refused " + addr.ToString() +
                   ": private or loopback address (set libp2p.allow_private = true to dial it)");
  }
  if (target.port == 0) {
    return Err(ErrorCode::kInvalidArgument, "dial " + addr.ToString() + ": port 0");
  }
  return target;
}

}  // namespace cairn::net
