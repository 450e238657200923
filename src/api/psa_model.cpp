#include "api/psa_model.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <ctime>
#include <set>

#include "common/json_string.hpp"
#include "multiformats/cid.hpp"
#include "net/multiaddr.hpp"

namespace cairn::api {
namespace json = boost::json;
namespace {

constexpr size_t kMaxName = 255;
constexpr size_t kMaxOrigins = 20;
constexpr size_t kMaxMeta = 1000;
constexpr size_t kMaxMetaKey = 255;
constexpr size_t kMaxMetaValue = 64 * 1024;
constexpr size_t kMaxCidFilter = 10;

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

Result<void> ValidateCid(std::string_view text, std::string_view field) {
  auto cid = multiformats::Cid::Parse(text);
  if (!cid) {
    return Err(Invalid(std::string(field) + ": invalid CID '" + std::string(text) +
                       "': " + cid.error().message()));
  }
  return Ok();
}

Result<std::map<std::string, std::string>> ParseMetaObject(const json::value& v,
                                                           std::string_view field) {
  if (!v.is_object()) return Err(Invalid(std::string(field) + ": must be a JSON object"));
  const auto& obj = v.get_object();
  if (obj.size() > kMaxMeta) {
    return Err(Invalid(std::string(field) + ": more than " + std::to_string(kMaxMeta) + " keys"));
  }
  std::map<std::string, std::string> out;
  for (const auto& kv : obj) {
    std::string key(kv.key());
    if (key.empty() || key.size() > kMaxMetaKey) {
      return Err(Invalid(std::string(field) + ": keys must be 1 to 255 bytes"));
    }
    if (!kv.value().is_string()) {
      return Err(Invalid(std::string(field) + "." + key + ": value must be a string"));
    }
    const auto& s = kv.value().get_string();
    if (s.size() > kMaxMetaValue) {
      return Err(Invalid(std::string(field) + "." + key + ": value longer than 65536 bytes"));
    }
    out[key] = std::string(s);
  }
  return out;
}

Result<json::value> ParseJson(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Err(Invalid(std::string(what) + ": malformed JSON: " + ec.message()));
  return v;
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t at = s.find(',');
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

bool ParseDigits(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc();
}

}  // namespace

Result<metadata::NewPin> ParsePinRequest(std::string_view body) {
  json::value v = CAIRN_TRY(ParseJson(body, "body"));
  if (!v.is_object()) return Err(Invalid("body: must be a JSON object (a Pin)"));
  const auto& obj = v.get_object();
  metadata::NewPin pin;
  const json::value* cid = obj.if_contains("cid");
  if (!cid || cid->is_null()) return Err(Invalid("cid: required"));
  if (!cid->is_string()) return Err(Invalid("cid: must be a string"));
  pin.cid = std::string(cid->get_string());
  CAIRN_TRY(ValidateCid(pin.cid, "cid"));
  if (const auto* name = obj.if_contains("name"); name && !name->is_null()) {
    if (!name->is_string()) return Err(Invalid("name: must be a string"));
    if (name->get_string().size() > kMaxName)
      return Err(Invalid("name: longer than 255 characters"));
    pin.name = std::string(name->get_string());
  }
  if (const auto* origins = obj.if_contains("origins"); origins && !origins->is_null()) {
    if (!origins->is_array()) return Err(Invalid("origins: must be an array of multiaddrs"));
    const auto& arr = origins->get_array();
    if (arr.size() > kMaxOrigins) return Err(Invalid("origins: more than 20 entries"));
    std::set<std::string> seen;
    for (const auto& o : arr) {
      if (!o.is_string()) return Err(Invalid("origins: entries must be strings"));
      std::string text(o.get_string());
      auto ma = net::Multiaddr::Parse(text);
      if (!ma)
        return Err(Invalid("origins: '" + text + "' is not a multiaddr: " + ma.error().message()));
      if (!seen.insert(text).second) return Err(Invalid("origins: duplicate '" + text + "'"));
      pin.origins.push_back(std::move(text));
    }
  }
  if (const auto* meta = obj.if_contains("meta"); meta && !meta->is_null()) {
    pin.meta = CAIRN_TRY(ParseMetaObject(*meta, "meta"));
  }
  return pin;
}

Result<ListQuery> ParseListQuery(const http::Request& request) {
  ListQuery q;
  metadata::PinFilter& f = q.filter;
  if (auto cid = request.Query("cid")) {
    std::set<std::string_view> seen;
    for (auto c : SplitComma(*cid)) {
      if (c.empty()) return Err(Invalid("cid: empty entry"));
      auto parsed = multiformats::Cid::Parse(c);
      if (!parsed) {
        return Err(
            Invalid("cid: invalid CID '" + std::string(c) + "': " + parsed.error().message()));
      }
      if (seen.insert(c).second) f.cids.push_back(std::move(*parsed));
    }
    if (f.cids.size() > kMaxCidFilter) return Err(Invalid("cid: more than 10 CIDs"));
    q.no_filters = false;
  }
  if (auto name = request.Query("name")) {
    if (name->size() > kMaxName) return Err(Invalid("name: longer than 255 characters"));
    f.name = std::string(*name);
    q.no_filters = false;
  }
  if (auto match = request.Query("match")) {
    if (*match == "exact") {
      f.match = metadata::NameMatch::kExact;
    } else if (*match == "iexact") {
      f.match = metadata::NameMatch::kIexact;
    } else if (*match == "partial") {
      f.match = metadata::NameMatch::kPartial;
    } else if (*match == "ipartial") {
      f.match = metadata::NameMatch::kIpartial;
    } else {
      return Err(Invalid("match: must be exact, iexact, partial or ipartial"));
    }
  }
  if (auto status = request.Query("status")) {
    for (auto s : SplitComma(*status)) {
      auto st = metadata::PinStatusFromName(s);
      if (!st) {
        return Err(Invalid("status: unknown status '" + std::string(s) +
                           "' (queued, pinning, pinned, failed)"));
      }
      bool dup = false;
      for (auto e : f.statuses) dup |= e == *st;
      if (!dup) f.statuses.push_back(*st);
    }
    q.no_filters = false;
  }
  if (auto before = request.Query("before")) {
    auto t = ParseRfc3339(*before);
    if (!t) return Err(Invalid("before: " + t.error().message()));
    f.before_us = *t;
    q.no_filters = false;
  }
  if (auto after = request.Query("after")) {
    auto t = ParseRfc3339(*after);
    if (!t) return Err(Invalid("after: " + t.error().message()));
    f.after_us = *t;
    q.no_filters = false;
  }
  if (auto limit = request.Query("limit")) {
    int v = 0;
    if (!ParseDigits(*limit, v) || v < 1 || v > 1000) {
      return Err(Invalid("limit: must be an integer from 1 to 1000"));
    }
    f.limit = v;
  }
  if (auto meta = request.Query("meta")) {
    json::value v = CAIRN_TRY(ParseJson(*meta, "meta"));
    f.meta = CAIRN_TRY(ParseMetaObject(v, "meta"));
    q.no_filters = false;
  }
  return q;
}

Result<int64_t> ParseRfc3339(std::string_view t) {
  auto bad = [&t]() {
    return Err(Invalid("'" + std::string(t) + "' is not an RFC 3339 timestamp"));
  };
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (t.size() < 20) return bad();
  int year, mon, day, hour, min, sec;
  if (!ParseDigits(t.substr(0, 4), year) || t[4] != '-' || !ParseDigits(t.substr(5, 2), mon) ||
      t[7] != '-' || !ParseDigits(t.substr(8, 2), day) || (t[10] != 'T' && t[10] != 't') ||
      !ParseDigits(t.substr(11, 2), hour) || t[13] != ':' || !ParseDigits(t.substr(14, 2), min) ||
      t[16] != ':' || !ParseDigits(t.substr(17, 2), sec)) {
    return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[mon - 1]) return bad();
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t start = pos;
    int digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (t[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return bad();
    while (digits < 6) {
      micros *= 10;
      ++digits;
    }
  }
  int64_t offset_s = 0;
  if (pos >= t.size()) return bad();
  if (t[pos] == 'Z' || t[pos] == 'z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    int oh, om;
    if (t.size() - pos != 6 || !ParseDigits(t.substr(pos + 1, 2), oh) || t[pos + 3] != ':' ||
        !ParseDigits(t.substr(pos + 4, 2), om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != t.size()) return bad();
  // Days from civil (Howard Hinnant's algorithm).
  int y = year - (mon <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t seconds = days * 86400 + hour * 3600 + min * 60 + std::min(sec, 59) - offset_s;
  return seconds * 1000000 + micros;
}

std::string FormatRfc3339(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  int64_t frac = micros - secs * 1000000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

namespace {

void AppendStringMap(std::string& out, const std::map<std::string, std::string>& m) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, k);
    out += ':';
    AppendJsonString(out, v);
  }
  out += '}';
}

void AppendStringArray(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, items[i]);
  }
  out += ']';
}

// Written straight into the answer (this is the body of every GET /pins/{id} and of each page
// entry): no intermediate JSON tree. Field order as in the spec's PinStatus and Pin schemas.
void AppendPinStatus(std::string& out, const metadata::PinRecord& p,
                     const std::vector<std::string>& delegates) {
  out += "{\"requestid\":";
  AppendJsonString(out, p.requestid);
  out += ",\"status\":";
  AppendJsonString(out, metadata::PinStatusName(p.status));
  out += ",\"created\":\"";
  out += FormatRfc3339(p.created_us);
  out += "\",\"pin\":{\"cid\":";
  AppendJsonString(out, p.cid_text);
  if (p.name) {
    out += ",\"name\":";
    AppendJsonString(out, *p.name);
  }
  out += ",\"origins\":";
  AppendStringArray(out, p.origins);
  out += ",\"meta\":";
  AppendStringMap(out, p.meta);
  out += "},\"delegates\":";
  AppendStringArray(out, delegates);
  out += ",\"info\":";
  AppendStringMap(out, p.info);
  out += '}';
}

}  // namespace

std::string RenderPinStatus(const metadata::PinRecord& pin,
                            const std::vector<std::string>& delegates) {
  std::string out;
  out.reserve(384);
  AppendPinStatus(out, pin, delegates);
  return out;
}

std::string RenderPinResults(uint64_t count, const std::vector<metadata::PinRecord>& pins,
                             const std::vector<std::string>& delegates) {
  std::string out;
  out.reserve(32 + pins.size() * 384);
  out += "{\"count\":";
  out += std::to_string(count);
  out += ",\"results\":[";
  for (size_t i = 0; i < pins.size(); ++i) {
    if (i > 0) out += ',';
    AppendPinStatus(out, pins[i], delegates);
  }
  out += "]}";
  return out;
}

Result<EventsQuery> ParseEventsQuery(const http::Request& request) {
  EventsQuery q;
  if (auto limit = request.Query("limit")) {
    int v = 0;
    if (!ParseDigits(*limit, v) || v < 1 || v > 1000) {
      return Err(Invalid("limit: must be an integer from 1 to 1000"));
    }
    q.limit = static_cast<size_t>(v);
  }
  if (auto after = request.Query("after")) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(after->data(), after->data() + after->size(), v);
    if (ec != std::errc() || end != after->data() + after->size() || v < 0) {
      return Err(Invalid("after: must be the id of an event (a non-negative integer)"));
    }
    q.after = v;
  }
  return q;
}

std::string RenderPinEvents(const std::vector<metadata::EventRecord>& events, bool more) {
  std::string out = "{\"results\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (i > 0) out += ',';
    out += "{\"id\":";
    AppendJsonString(out, std::to_string(e.id));
    out += ",\"type\":";
    AppendJsonString(out, e.kind);
    out += ",\"created\":";
    AppendJsonString(out, FormatRfc3339(e.created_us));
    out += ",\"details\":{";
    bool first = true;
    for (const auto& [k, v] : e.detail) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(out, k);
      out += ':';
      AppendJsonString(out, v);
    }
    out += "}}";
  }
  out += ']';
  if (more && !events.empty()) {
    out += ",\"next\":";
    AppendJsonString(out, std::to_string(events.back().id));
  }
  out += '}';
  return out;
}

}  // namespace cairn::api
