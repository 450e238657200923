#include "net/dns.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace cairn::net {
namespace {

constexpr uint16_t kTypeTxt = 16;
constexpr size_t kMaxTxtRecords = 256;

// A reader over a DNS message that fails instead of reading past its end.
class Reader {
 public:
  explicit Reader(ByteSpan data) : data_(data) {}
  bool U16(uint16_t& v) {
    if (pos_ + 2 > data_.size()) return false;
    v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool Skip(size_t n) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  // Skips a (possibly compressed) domain name; the pointer target is not followed, only its
  // two bytes are skipped.
  bool SkipName() {
    for (int labels = 0; labels < 128; ++labels) {
      if (pos_ >= data_.size()) return false;
      const uint8_t len = data_[pos_];
      if ((len & 0xc0) == 0xc0) return Skip(2);
      if ((len & 0xc0) != 0) return false;  // the reserved label types
      ++pos_;
      if (len == 0) return true;
      if (!Skip(len)) return false;
    }
    return false;
  }
  ByteSpan Take(size_t n) {
    ByteSpan out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  size_t left() const { return data_.size() - pos_; }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
};

Error Malformed(const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "dns: malformed response: " + what);
}

class SystemResolver final : public DnsResolver {
 public:
  Result<std::vector<std::string>> Addresses(const std::string& name, int family) override {
    addrinfo hints{};
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY) {
      return Err(ErrorCode::kNotFound,
                 "dns: " + name + " has no address (" + std::string(::gai_strerror(rc)) + ")");
    }
    if (rc != 0) {
      return Err(ErrorCode::kUnavailable,
                 "dns: resolving " + name + ": " + std::string(::gai_strerror(rc)));
    }
    std::vector<std::string> out;
    for (const addrinfo* a = list; a && out.size() < kMaxResolved; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = a->ai_family == AF_INET
                            ? static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
                            : static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
      if (!::inet_ntop(a->ai_family, raw, text, sizeof text)) continue;
      if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
    }
    ::freeaddrinfo(list);
    if (out.empty()) return Err(ErrorCode::kNotFound, "dns: " + name + " has no address");
    return out;
  }

  Result<std::vector<std::string>> Txt(const std::string& name) override {
    struct __res_state state;
    std::memset(&state, 0, sizeof state);
    if (::res_ninit(&state) != 0) {
      return Err(ErrorCode::kUnavailable, "dns: the system resolver could not be initialised");
    }
    // One try of at most 1 s per server: a dial (and a host stopping) waits for lookups in
    // progress, and a silent resolver must not hold a pin's fetch for seconds.
    state.retrans = 1;
    state.retry = 1;
    Bytes answer(65536);
    const int n = ::res_nquery(&state, name.c_str(), ns_c_in, ns_t_txt, answer.data(),
                               static_cast<int>(answer.size()));
    const int herr = state.res_h_errno;
    ::res_nclose(&state);
    if (n < 0) {
      if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
        return Err(ErrorCode::kNotFound, "dns: no TXT record at " + name);
      }
      return Err(ErrorCode::kUnavailable,
                 "dns: TXT lookup of " + name + " failed (" + std::string(::hstrerror(herr)) + ")");
    }
    answer.resize(std::min(static_cast<size_t>(n), answer.size()));
    auto strings = ParseTxtResponse(answer);
    if (!strings) return Err(strings.error().WithContext("dns: TXT of " + name + ": "));
    if (strings->empty()) return Err(ErrorCode::kNotFound, "dns: no TXT record at " + name);
    return strings;
  }
};

// `addr` with its first component replaced by /ip4|ip6/<ip>.
Result<Multiaddr> WithIp(const Multiaddr& addr, const std::string& ip) {
  const bool v6 = ip.find(':') != std::string::npos;
  auto out = CAIRN_TRY(Multiaddr::Parse(std::string(v6 ? "/ip6/" : "/ip4/") + ip));
  const auto& comps = addr.components();
  for (size_t i = 1; i < comps.size(); ++i) CAIRN_TRY(out.Append(comps[i].name, comps[i].text));
  return out;
}

Result<void> Expand(DnsResolver& resolver, const Multiaddr& addr, int depth,
                    std::vector<Multiaddr>& out, std::set<std::string>& seen,
                    std::vector<std::string>& skipped) {
  if (out.size() >= kMaxResolved) return Ok();
  if (!IsDnsMultiaddr(addr)) {
    if (seen.insert(addr.ToString()).second) out.push_back(addr);
    return Ok();
  }
  const auto& first = addr.components().front();
  if (first.name != "dnsaddr") {
    const int family = first.name == "dns4" ? 4 : first.name == "dns6" ? 6 : 0;
    for (const auto& ip : CAIRN_TRY(resolver.Addresses(first.text, family))) {
      if (out.size() >= kMaxResolved) break;
      auto resolved = WithIp(addr, ip);
      if (!resolved) {
        skipped.push_back(ip + ": " + resolved.error().message());
        continue;
      }
      if (seen.insert(resolved->ToString()).second) out.push_back(std::move(*resolved));
    }
    return Ok();
  }
  if (depth >= kMaxDnsaddrDepth) {
    return Err(ErrorCode::kInvalidArgument, "dns: /dnsaddr/" + first.text + " nests more than " +
                                                std::to_string(kMaxDnsaddrDepth) + " levels");
  }
  const std::optional<std::string> peer = addr.Value("p2p");
  for (const auto& text : CAIRN_TRY(resolver.Txt("_dnsaddr." + first.text))) {
    if (out.size() >= kMaxResolved) break;
    constexpr std::string_view kPrefix = "dnsaddr=";
    if (text.compare(0, kPrefix.size(), kPrefix) != 0) continue;  // another TXT record
    auto entry = Multiaddr::Parse(std::string_view(text).substr(kPrefix.size()));
    if (!entry) {
      skipped.push_back(text + ": " + entry.error().message());
      continue;
    }
    if (peer && entry->Value("p2p") != peer) continue;  // another peer's address
    auto r = Expand(resolver, *entry, depth + 1, out, seen, skipped);
    if (!r) skipped.push_back(entry->ToString() + ": " + r.error().message());
  }
  return Ok();
}

}  // namespace

std::shared_ptr<DnsResolver> SystemDnsResolver() { return std::make_shared<SystemResolver>(); }

bool IsDnsMultiaddr(const Multiaddr& addr) {
  if (addr.components().empty()) return false;
  const std::string& name = addr.components().front().name;
  return name == "dns" || name == "dns4" || name == "dns6" || name == "dnsaddr";
}

Result<std::vector<Multiaddr>> ResolveMultiaddr(DnsResolver& resolver, const Multiaddr& addr) {
  std::vector<Multiaddr> out;
  std::set<std::string> seen;
  std::vector<std::string> skipped;
  CAIRN_TRY(Expand(resolver, addr, 0, out, seen, skipped));
  if (out.empty()) {
    std::string why;
    for (const auto& s : skipped) why += (why.empty() ? " (" : "; ") + s;
    if (!why.empty()) why += ")";
    return Err(ErrorCode::kNotFound, "dns: " + addr.ToString() + " resolves to no address" + why);
  }
  return out;
}

Result<std::vector<std::string>> ParseTxtResponse(ByteSpan response) {
  Reader r(response);
  uint16_t id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  if (!r.U16(id) || !r.U16(flags) || !r.U16(qd) || !r.U16(an) || !r.U16(ns) || !r.U16(ar)) {
    return Err(Malformed("shorter than its header"));
  }
  if ((flags & 0x8000) == 0) return Err(Malformed("not a response"));
  const int rcode = flags & 0x000f;
  if (rcode == 3) return std::vector<std::string>{};  // NXDOMAIN: no record
  if (rcode != 0) {
    return Err(ErrorCode::kUnavailable, "dns: the server answered rcode " + std::to_string(rcode));
  }
  for (uint16_t i = 0; i < qd; ++i) {
    if (!r.SkipName() || !r.Skip(4)) return Err(Malformed("question " + std::to_string(i)));
  }
  std::vector<std::string> out;
  for (uint16_t i = 0; i < an; ++i) {
    uint16_t type = 0, klass = 0, rdlength = 0;
    if (!r.SkipName() || !r.U16(type) || !r.U16(klass) || !r.Skip(4) || !r.U16(rdlength) ||
        rdlength > r.left()) {
      return Err(Malformed("answer " + std::to_string(i)));
    }
    ByteSpan rdata = r.Take(rdlength);
    if (type != kTypeTxt) continue;  // a CNAME on the way
    if (out.size() >= kMaxTxtRecords) break;
    std::string text;
    for (size_t pos = 0; pos < rdata.size();) {
      const size_t len = rdata[pos];
      if (len > rdata.size() - pos - 1) {
        return Err(Malformed("answer " + std::to_string(i) + ": a character-string overruns"));
      }
      text.append(reinterpret_cast<const char*>(rdata.data() + pos + 1), len);
      pos += 1 + len;
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace cairn::net
