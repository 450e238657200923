#include "net/dial_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace cairn::net {
namespace {

bool PrivateV4(const uint8_t a[4]) {
  return a[0] == 127 || a[0] == 10 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
         (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
         (a[0] == 100 && (a[1] & 0xc0) == 64);
}

// `ip` as 16 bytes (IPv4 in the first 4) and whether it is IPv6; IPv4-mapped IPv6 is IPv4.
std::optional<std::pair<bool, std::array<uint8_t, 16>>> NumericIp(std::string_view ip) {
  std::array<uint8_t, 16> out{};
  const std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), out.data()) == 1) return std::make_pair(false, out);
  if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) return std::nullopt;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.data(), kMapped, 12) == 0) {
    std::array<uint8_t, 16> v4{};
    std::memcpy(v4.data(), out.data() + 12, 4);
    return std::make_pair(false, v4);
  }
  return std::make_pair(true, out);
}

bool PrefixMatches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// The first prefix of `list` that holds `ip`.
const IpPrefix* Find(const std::vector<IpPrefix>& list, const std::string& ip) {
  for (const auto& p : list) {
    if (p.Contains(ip)) return &p;
  }
  return nullptr;
}

// Whether all of `p` lies in the private ranges IsPrivateAddress names: an allow prefix that
// does is an operator's explicit choice of a private range; 0.0.0.0/0 is not.
bool WithinPrivateRange(const IpPrefix& p) {
  static const char* const kRanges[] = {"127.0.0.0/8",   "10.0.0.0/8",     "0.0.0.0/8",
                                        "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                                        "100.64.0.0/10", "::1/128",        "::/128",
                                        "fc00::/7",      "fe80::/10"};
  for (const char* text : kRanges) {
    auto range = ParseIpPrefix(text);
    if (range && range->v6 == p.v6 && p.bits >= range->bits &&
        PrefixMatches(p.bytes, range->bytes, range->bits)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool IpPrefix::Contains(std::string_view ip) const {
  auto n = NumericIp(ip);
  return n && n->first == v6 && PrefixMatches(n->second, bytes, bits);
}

std::string IpPrefix::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(bits);
}

Result<IpPrefix> ParseIpPrefix(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Err(ErrorCode::kInvalidArgument,
               "'" + std::string(text) + "' is not an IP prefix (" + why +
                   "; write 10.0.0.0/8, fc00::/7 or /ip4/10.0.0.0/ipcidr/8)");
  };
  std::string address;
  std::optional<std::string> length;
  if (!text.empty() && text.front() == '/') {
    // /ip4/<address>/ipcidr/<bits> (Kubo's Swarm.AddrFilters), or /ip4/<address> alone.
    std::vector<std::string> parts;
    size_t start = 1;
    while (start <= text.size()) {
      size_t slash = text.find('/', start);
      parts.emplace_back(
          text.substr(start, slash == std::string_view::npos ? slash : slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    if ((parts.size() != 2 && parts.size() != 4) || (parts[0] != "ip4" && parts[0] != "ip6") ||
        (parts.size() == 4 && parts[2] != "ipcidr")) {
      return bad("a multiaddr prefix is /ip4|ip6/<address>/ipcidr/<bits>");
    }
    address = parts[1];
    if (parts.size() == 4) length = parts[3];
  } else {
    const size_t slash = text.find('/');
    address = std::string(text.substr(0, slash));
    if (slash != std::string_view::npos) length = std::string(text.substr(slash + 1));
  }
  IpPrefix p;
  const std::string address_text(address);
  if (inet_pton(AF_INET, address_text.c_str(), p.bytes.data()) == 1) {
    p.v6 = false;
  } else if (inet_pton(AF_INET6, address_text.c_str(), p.bytes.data()) == 1) {
    p.v6 = true;
  } else {
    return bad("'" + address_text + "' is not a numeric IPv4 or IPv6 address");
  }
  const int max = p.v6 ? 128 : 32;
  p.bits = max;
  if (length) {
    if (length->empty() || length->size() > 3 ||
        length->find_first_not_of("0123456789") != std::string::npos || std::stoi(*length) > max) {
      return bad("the prefix length must be 0 to " + std::to_string(max));
    }
    p.bits = std::stoi(*length);
  }
  std::array<uint8_t, 16> masked{};
  for (int i = 0; i < p.bits; ++i) masked[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  for (size_t i = 0; i < masked.size(); ++i) {
    if ((p.bytes[i] & ~masked[i]) != 0) return bad("bits are set past the prefix length");
  }
  return p;
}

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
  if (const IpPrefix* denied = Find(policy.deny, target.ip)) {
    return Err(ErrorCode::kPermissionDenied,
               "refused " + addr.ToString() + ": in libp2p.dial_deny (" + denied->ToString() + ")");
  }
  if (!policy.allow.empty() && !Find(policy.allow, target.ip)) {
    return Err(ErrorCode::kPermissionDenied,
               "refused " + addr.ToString() + ": not in libp2p.dial_allow");
  }
  const bool named_private = std::any_of(policy.allow.begin(), policy.allow.end(), [&](auto& p) {
    return p.Contains(target.ip) && WithinPrivateRange(p);
  });
  if (!policy.allow_private && !named_private && IsPrivateAddress(target.ip)) {
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
