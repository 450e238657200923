#include "net/multiaddr.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>

#include "multiformats/multibase.hpp"
#include "multiformats/varint.hpp"
#include "net/identity.hpp"

namespace cairn::net {
namespace {

namespace mf = multiformats;

enum class Kind { kNone, kIp4, kIp6, kPort, kString, kPeerId, kMultibase, kPath };

struct Protocol {
  uint64_t code;
  std::string_view name;
  Kind kind;
};

constexpr std::array<Protocol, 26> kProtocols = {{
    {0x04, "ip4", Kind::kIp4},
    {0x06, "tcp", Kind::kPort},
    {0x29, "ip6", Kind::kIp6},
    {0x2a, "ip6zone", Kind::kString},
    {0x35, "dns", Kind::kString},
    {0x36, "dns4", Kind::kString},
    {0x37, "dns6", Kind::kString},
    {0x38, "dnsaddr", Kind::kString},
    {0x0111, "udp", Kind::kPort},
    {0x0118, "webrtc-direct", Kind::kNone},
    {0x0119, "webrtc", Kind::kNone},
    {0x0122, "p2p-circuit", Kind::kNone},
    {0x0190, "unix", Kind::kPath},
    {0x01a5, "p2p", Kind::kPeerId},
    {0x01bb, "https", Kind::kNone},
    {0x01c0, "tls", Kind::kNone},
    {0x01c1, "sni", Kind::kString},
    {0x01c6, "noise", Kind::kNone},
    {0x01cc, "quic", Kind::kNone},
    {0x01cd, "quic-v1", Kind::kNone},
    {0x01d1, "webtransport", Kind::kNone},
    {0x01d2, "certhash", Kind::kMultibase},
    {0x01dd, "ws", Kind::kNone},
    {0x01de, "wss", Kind::kNone},
    {0x01e0, "http", Kind::kNone},
    {0x01e1, "http-path", Kind::kString},
}};

const Protocol* ByName(std::string_view name) {
  if (name == "ipfs") name = "p2p";  // the legacy name of /p2p/
  for (const auto& p : kProtocols) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const Protocol* ByCode(uint64_t code) {
  for (const auto& p : kProtocols) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

Error Invalid(std::string m) {
  return Error(ErrorCode::kInvalidArgument, "multiaddr: " + std::move(m));
}

// Text value -> binary value.
Result<Bytes> EncodeValue(const Protocol& p, std::string_view v) {
  switch (p.kind) {
    case Kind::kNone:
      return Bytes{};
    case Kind::kIp4: {
      std::string s(v);
      in_addr a;
      if (inet_pton(AF_INET, s.c_str(), &a) != 1)
        return Err(Invalid("bad ip4 address '" + s + "'"));
      const auto* b = reinterpret_cast<const uint8_t*>(&a);
      return Bytes(b, b + 4);
    }
    case Kind::kIp6: {
      std::string s(v);
      in6_addr a;
      if (inet_pton(AF_INET6, s.c_str(), &a) != 1)
        return Err(Invalid("bad ip6 address '" + s + "'"));
      const auto* b = reinterpret_cast<const uint8_t*>(&a);
      return Bytes(b, b + 16);
    }
    case Kind::kPort: {
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
      if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || port > 65535) {
        return Err(Invalid("bad " + std::string(p.name) + " port '" + std::string(v) + "'"));
      }
      return Bytes{static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port & 0xff)};
    }
    case Kind::kString:
    case Kind::kPath: {
      if (v.empty()) return Err(Invalid(std::string(p.name) + " needs a value"));
      Bytes out;
      mf::AppendVarint(out, v.size());
      out.insert(out.end(), v.begin(), v.end());
      return out;
    }
    case Kind::kPeerId: {
      auto id = PeerId::Parse(v);
      if (!id) return Err(Invalid("bad peer id '" + std::string(v) + "': " + id.error().message()));
      Bytes mh = id->hash().Encode();
      Bytes out;
      mf::AppendVarint(out, mh.size());
      out.insert(out.end(), mh.begin(), mh.end());
      return out;
    }
    case Kind::kMultibase: {
      auto raw = mf::MultibaseDecode(v);
      if (!raw) return Err(Invalid(std::string(p.name) + ": " + raw.error().message()));
      Bytes out;
      mf::AppendVarint(out, raw->size());
      out.insert(out.end(), raw->begin(), raw->end());
      return out;
    }
  }
  return Err(Invalid("unreachable"));
}

// Text values must survive the text form: no control characters, and no '/' except in unix
// paths (which take the rest of the address).
Result<void> ValidateText(const Protocol& p, std::string_view value) {
  for (char ch : value) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return Err(Invalid(std::string(p.name) + " value contains a control character"));
    }
    if (ch == '/' && p.kind != Kind::kPath) {
      return Err(Invalid(std::string(p.name) + " value contains '/'"));
    }
  }
  return Ok();
}

// The canonical text of a binary value (without its length prefix).
Result<std::string> ValueText(const Protocol& p, ByteSpan v) {
  char buf[INET6_ADDRSTRLEN];
  switch (p.kind) {
    case Kind::kNone:
      return std::string();
    case Kind::kIp4:
      inet_ntop(AF_INET, v.data(), buf, sizeof buf);
      return std::string(buf);
    case Kind::kIp6:
      inet_ntop(AF_INET6, v.data(), buf, sizeof buf);
      return std::string(buf);
    case Kind::kPort:
      return std::to_string(v[0] << 8 | v[1]);
    case Kind::kString:
    case Kind::kPath:
      if (v.empty()) return Err(Invalid(std::string(p.name) + " needs a value"));
      CAIRN_TRY(ValidateText(p, AsString(v)));
      return std::string(AsString(v));
    case Kind::kPeerId: {
      auto id = PeerId::Parse(mf::EncodeBase(mf::Multibase::kBase58Btc, v));
      if (!id) return Err(Invalid("bad peer id: " + id.error().message()));
      return id->ToString();
    }
    case Kind::kMultibase:
      return mf::MultibaseEncode(mf::Multibase::kBase64Url, v);
  }
  return Err(Invalid("unreachable"));
}

}  // namespace

Result<void> Multiaddr::Append(std::string_view name, std::string_view value) {
  const Protocol* p = ByName(name);
  if (!p) return Err(Invalid("unknown protocol '" + std::string(name) + "'"));
  CAIRN_TRY(ValidateText(*p, value));
  if (p->kind == Kind::kNone && !value.empty()) {
    return Err(Invalid(std::string(p->name) + " takes no value"));
  }
  MultiaddrComponent c;
  c.code = p->code;
  c.name = std::string(p->name);
  c.value = CAIRN_TRY(EncodeValue(*p, value));
  // The canonical text ("4001" for "04001", the short form of an ip6 address, ...).
  size_t prefix = 0;
  if (p->kind == Kind::kString || p->kind == Kind::kPath || p->kind == Kind::kPeerId ||
      p->kind == Kind::kMultibase) {
    prefix = mf::DecodeVarint(c.value)->size;  // EncodeValue wrote a valid length prefix
  }
  c.text = CAIRN_TRY(ValueText(*p, ByteSpan(c.value).subspan(prefix)));
  components_.push_back(std::move(c));
  return Ok();
}

Result<Multiaddr> Multiaddr::Parse(std::string_view text) {
  if (text.empty() || text[0] != '/') return Err(Invalid("must start with '/'"));
  if (text.size() > 1024) return Err(Invalid("longer than 1024 characters"));
  Multiaddr ma;
  std::string_view rest = text.substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view name = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (name.empty()) {
      if (rest.empty()) break;  // a trailing slash
      return Err(Invalid("empty protocol name"));
    }
    const Protocol* p = ByName(name);
    if (!p) return Err(Invalid("unknown protocol '" + std::string(name) + "'"));
    std::string_view value;
    if (p->kind == Kind::kPath) {
      value = rest;  // unix paths take the rest of the address
      rest = {};
    } else if (p->kind != Kind::kNone) {
      if (rest.empty() && slash == std::string_view::npos) {
        return Err(Invalid(std::string(p->name) + " needs a value"));
      }
      size_t s2 = rest.find('/');
      value = rest.substr(0, s2);
      rest = s2 == std::string_view::npos ? std::string_view() : rest.substr(s2 + 1);
    }
    CAIRN_TRY(ma.Append(p->name, value));
  }
  if (ma.components_.empty()) return Err(Invalid("no components"));
  // The canonical text can be longer than what was written (a certhash in base58 is re-encoded
  // in base64url): the same bound as FromBytes, so every parsed address round-trips.
  if (ma.ToString().size() > 1024) return Err(Invalid("longer than 1024 characters as text"));
  return ma;
}

Result<Multiaddr> Multiaddr::FromBytes(ByteSpan bytes) {
  Multiaddr ma;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto code = mf::DecodeVarint(bytes.subspan(pos));
    if (!code) return Err(Invalid("bad protocol code at offset " + std::to_string(pos)));
    pos += code->size;
    const Protocol* p = ByCode(code->value);
    if (!p) return Err(Invalid("unknown protocol code " + std::to_string(code->value)));
    MultiaddrComponent c;
    c.code = p->code;
    c.name = std::string(p->name);
    size_t fixed = p->kind == Kind::kIp4    ? 4
                   : p->kind == Kind::kIp6  ? 16
                   : p->kind == Kind::kPort ? 2
                                            : 0;
    size_t value_start = pos;  // the binary value includes the length prefix of var-size kinds
    size_t start = pos;
    size_t len = fixed;
    if (p->kind == Kind::kString || p->kind == Kind::kPath || p->kind == Kind::kPeerId ||
        p->kind == Kind::kMultibase) {
      auto l = mf::DecodeVarint(bytes.subspan(pos));
      if (!l) return Err(Invalid("bad length at offset " + std::to_string(pos)));
      pos += l->size;
      start = pos;
      len = l->value;
    }
    if (len > bytes.size() - pos) return Err(Invalid(c.name + " value runs past the end"));
    ByteSpan v = bytes.subspan(start, len);
    pos = start + len;
    c.value.assign(bytes.begin() + static_cast<std::ptrdiff_t>(value_start),
                   bytes.begin() + static_cast<std::ptrdiff_t>(pos));
    c.text = CAIRN_TRY(ValueText(*p, v));
    if (p->kind == Kind::kPath && pos != bytes.size()) {
      return Err(Invalid(c.name + " must be the last component (its path takes the rest)"));
    }
    ma.components_.push_back(std::move(c));
  }
  if (ma.components_.empty()) return Err(Invalid("no components"));
  if (ma.ToString().size() > 1024) return Err(Invalid("longer than 1024 characters as text"));
  return ma;
}

std::string Multiaddr::ToString() const {
  std::string out;
  for (const auto& c : components_) {
    out += "/" + c.name;
    if (!c.text.empty()) out += "/" + c.text;
  }
  return out;
}

Bytes Multiaddr::ToBytes() const {
  Bytes out;
  for (const auto& c : components_) {
    mf::AppendVarint(out, c.code);
    out.insert(out.end(), c.value.begin(), c.value.end());
  }
  return out;
}

std::optional<std::string> Multiaddr::Value(std::string_view name) const {
  for (const auto& c : components_) {
    if (c.name == name) return c.text;
  }
  return std::nullopt;
}

}  // namespace cairn::net
