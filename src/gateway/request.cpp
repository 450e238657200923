#include "gateway/request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace cairn::gateway {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

template <typename T>
bool ParseInt(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

struct MediaType {
  std::string type;  // lower-case "application/vnd.ipld.car"
  std::vector<std::pair<std::string, std::string>> params;
  double q = 1.0;
};

std::vector<MediaType> ParseAccept(std::string_view accept) {
  std::vector<MediaType> out;
  for (auto item : Split(accept, ',')) {
    auto parts = Split(item, ';');
    MediaType m;
    m.type = http::AsciiLower(http::TrimOws(parts[0]));
    if (m.type.empty()) continue;
    for (size_t i = 1; i < parts.size(); ++i) {
      auto p = http::TrimOws(parts[i]);
      size_t eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      std::string key = http::AsciiLower(http::TrimOws(p.substr(0, eq)));
      std::string value(http::TrimOws(p.substr(eq + 1)));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (key == "q") {
        m.q = std::strtod(value.c_str(), nullptr);
      } else {
        m.params.emplace_back(key, http::AsciiLower(value));
      }
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const MediaType& a, const MediaType& b) { return a.q > b.q; });
  return out;
}

Result<Format> FormatFromQuery(std::string_view f) {
  if (f == "raw") return Format::kRaw;
  if (f == "car") return Format::kCar;
  if (f == "tar" || f == "dag-json" || f == "dag-cbor" || f == "json" || f == "cbor" ||
      f == "ipns-record") {
    return Err(ErrorCode::kNotSupported, "gateway: format=" + std::string(f) +
                                             " is not produced here; use format=raw or format=car");
  }
  return Err(ErrorCode::kInvalidArgument, "gateway: unknown format '" + std::string(f) + "'");
}

Result<EntityBytes> ParseEntityBytes(std::string_view v) {
  size_t colon = v.find(':');
  EntityBytes e;
  if (colon == std::string_view::npos || !ParseInt(v.substr(0, colon), e.from)) {
    return Err(ErrorCode::kInvalidArgument,
               "gateway: entity-bytes must be from:to (integers, or '*' for to)");
  }
  auto to = v.substr(colon + 1);
  if (to != "*") {
    int64_t t = 0;
    if (!ParseInt(to, t)) {
      return Err(ErrorCode::kInvalidArgument,
                 "gateway: entity-bytes must be from:to (integers, or '*' for to)");
    }
    e.to = t;
    if (e.from >= 0 && t >= 0 && t < e.from) {
      return Err(ErrorCode::kInvalidArgument, "gateway: entity-bytes 'to' is before 'from'");
    }
  }
  return e;
}

}  // namespace

std::optional<ByteRange> ParseRangeHeader(std::string_view value) {
  value = http::TrimOws(value);
  if (value.substr(0, 6) != "bytes=") return std::nullopt;
  value.remove_prefix(6);
  if (value.find(',') != std::string_view::npos) return std::nullopt;  // one range only
  size_t dash = value.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = http::TrimOws(value.substr(0, dash));
  auto b = http::TrimOws(value.substr(dash + 1));
  ByteRange r;
  uint64_t v = 0;
  if (a.empty()) {
    if (!ParseInt(b, v)) return std::nullopt;
    r.suffix = v;
    return r;
  }
  if (!ParseInt(a, v)) return std::nullopt;
  r.first = v;
  if (!b.empty()) {
    if (!ParseInt(b, v) || v < *r.first) return std::nullopt;
    r.last = v;
  }
  return r;
}

std::optional<ResolvedRange> ResolveRange(const ByteRange& range, uint64_t size) {
  if (range.suffix) {
    if (*range.suffix == 0 || size == 0) return std::nullopt;
    uint64_t n = std::min(*range.suffix, size);
    return ResolvedRange{size - n, n};
  }
  if (!range.first || *range.first >= size) return std::nullopt;
  uint64_t last = range.last ? std::min(*range.last, size - 1) : size - 1;
  return ResolvedRange{*range.first, last - *range.first + 1};
}

ResolvedRange ResolveEntityBytes(const EntityBytes& bytes, uint64_t size) {
  const int64_t n = static_cast<int64_t>(size);
  int64_t from = bytes.from < 0 ? bytes.from + n : bytes.from;
  from = std::clamp<int64_t>(from, 0, n);
  int64_t end = n;  // exclusive
  if (bytes.to) {
    int64_t to = *bytes.to < 0 ? *bytes.to + n : *bytes.to;
    end = std::clamp<int64_t>(to + 1, 0, n);
  }
  if (end <= from) return ResolvedRange{static_cast<uint64_t>(from), 0};
  return ResolvedRange{static_cast<uint64_t>(from), static_cast<uint64_t>(end - from)};
}

namespace {

// "/ipfs/{cid}[/segment...]" into root and segments; "." and ".." and NUL are refused.
Result<void> ParsePath(std::string_view path, GatewayRequest& g) {
  if (path.substr(0, 6) != "/ipfs/") {
    return Err(ErrorCode::kNotFound, "gateway: only /ipfs/ paths are served");
  }
  path.remove_prefix(6);
  size_t slash = path.find('/');
  g.root_text = std::string(path.substr(0, slash));
  if (g.root_text.empty()) return Err(ErrorCode::kInvalidArgument, "gateway: missing CID");
  auto cid = multiformats::Cid::Parse(g.root_text);
  if (!cid) {
    return Err(ErrorCode::kInvalidArgument,
               "gateway: invalid CID '" + g.root_text + "': " + cid.error().message());
  }
  g.root = std::move(*cid);
  if (slash == std::string_view::npos) return {};
  std::string_view rest = path.substr(slash + 1);
  g.trailing_slash = rest.empty() || rest.back() == '/';
  for (auto seg : Split(rest, '/')) {
    if (seg.empty()) continue;
    if (seg == "." || seg == "..") {
      return Err(ErrorCode::kInvalidArgument,
                 "gateway: path segment '" + std::string(seg) + "' is not allowed");
    }
    if (seg.find('\0') != std::string_view::npos) {
      return Err(ErrorCode::kInvalidArgument, "gateway: path contains a NUL byte");
    }
    g.segments.emplace_back(seg);
  }
  return {};
}

bool IsUnproducedType(std::string_view type) {
  return type == "application/x-tar" || type == "application/vnd.ipld.dag-json" ||
         type == "application/vnd.ipld.dag-cbor" || type == "application/vnd.ipfs.ipns-record" ||
         type == "application/cbor";
}

// The response format: ?format= wins over Accept. Returns the Accept entry that chose CAR, whose
// parameters (version, dups, order) ParseCarOptions reads.
Result<std::optional<MediaType>> ParseFormat(const http::Request& request, GatewayRequest& g) {
  if (auto f = request.Query("format")) {
    g.format = CAIRN_TRY(FormatFromQuery(*f));
    g.format_from_query = true;
    return std::optional<MediaType>{};
  }
  auto accept = request.Header("Accept");
  if (!accept) return std::optional<MediaType>{};
  bool saw_unproduced = false;
  for (const auto& m : ParseAccept(*accept)) {
    if (m.q <= 0) continue;
    if (m.type == "application/vnd.ipld.raw") {
      g.format = Format::kRaw;
      return std::optional<MediaType>{};
    }
    if (m.type == "application/vnd.ipld.car") {
      g.format = Format::kCar;
      return std::optional<MediaType>{m};
    }
    if (!IsUnproducedType(m.type)) {
      return std::optional<MediaType>{};  // text/html, */*, application/octet-stream: deserialized
    }
    saw_unproduced = true;
  }
  if (!saw_unproduced) return std::optional<MediaType>{};
  return Err(ErrorCode::kNotSupported,
             "gateway: none of the accepted types is produced here; accept "
             "application/vnd.ipld.raw or application/vnd.ipld.car");
}

Result<DagScope> ParseDagScope(std::string_view s) {
  if (s == "all") return DagScope::kAll;
  if (s == "entity") return DagScope::kEntity;
  if (s == "block") return DagScope::kBlock;
  return Err(ErrorCode::kInvalidArgument, "gateway: dag-scope must be all, entity or block");
}

// CAR parameters from the Accept entry, overridden by the car-* query parameters.
Result<void> ParseCarOptions(const http::Request& request, const std::optional<MediaType>& accept,
                             GatewayRequest& g) {
  std::string version = "1";
  std::string dups;
  if (accept) {
    for (const auto& [k, v] : accept->params) {
      if (k == "version") version = v;
      if (k == "dups") dups = v;
      if (k == "order" && v != "dfs" && v != "unk") {
        return Err(ErrorCode::kNotSupported, "gateway: CAR order=" + v + " is not produced");
      }
    }
  }
  if (auto v = request.Query("car-version")) version = std::string(*v);
  if (auto d = request.Query("car-dups")) dups = std::string(*d);
  if (auto o = request.Query("car-order"); o && *o != "dfs" && *o != "unk") {
    return Err(ErrorCode::kNotSupported,
               "gateway: car-order=" + std::string(*o) + " is not produced");
  }
  if (version != "1") {
    return Err(ErrorCode::kNotSupported,
               "gateway: CAR version " + version + " is not produced; version=1 is");
  }
  if (!dups.empty() && dups != "y" && dups != "n") {
    return Err(ErrorCode::kInvalidArgument, "gateway: car-dups must be y or n");
  }
  g.car.dups = dups == "y";
  if (auto s = request.Query("dag-scope")) g.car.scope = CAIRN_TRY(ParseDagScope(*s));
  if (auto e = request.Query("entity-bytes")) {
    g.car.entity_bytes = CAIRN_TRY(ParseEntityBytes(*e));
    g.car.scope = DagScope::kEntity;
  }
  return {};
}

// Cache-Control, Range, filename, download and Service-Worker.
Result<void> ParseResponseOptions(const http::Request& request, GatewayRequest& g) {
  if (auto cc = request.Header("Cache-Control")) {
    g.only_if_cached = http::AsciiLower(*cc).find("only-if-cached") != std::string::npos;
  }
  if (g.format == Format::kDeserialized) {
    if (auto r = request.Header("Range")) g.range = ParseRangeHeader(*r);
  }
  if (auto f = request.Query("filename")) {
    if (f->find_first_of("\r\n\"") != std::string_view::npos) {
      return Err(ErrorCode::kInvalidArgument, "gateway: filename contains forbidden characters");
    }
    g.filename = std::string(*f);
  }
  if (auto d = request.Query("download")) g.download = *d == "true";
  if (auto sw = request.Header("Service-Worker"); sw && *sw == "script" && !g.trailing_slash) {
    return Err(ErrorCode::kInvalidArgument,
               "gateway: a service worker may only be registered under /ipfs/{cid}/");
  }
  return {};
}

}  // namespace

Result<GatewayRequest> ParseGatewayRequest(const http::Request& request) {
  GatewayRequest g;
  CAIRN_TRY(ParsePath(request.path, g));
  auto car_accept = CAIRN_TRY(ParseFormat(request, g));
  if (g.format == Format::kCar) CAIRN_TRY(ParseCarOptions(request, car_accept, g));
  CAIRN_TRY(ParseResponseOptions(request, g));
  return g;
}

}  // namespace cairn::gateway
