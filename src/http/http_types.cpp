#include "http/http_types.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <future>

#include "common/json_string.hpp"
#include "common/log.hpp"

namespace cairn::http {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

BodyStream BodyStream::FromPieces(Pieces pieces, WhenReady when_ready) {
  BodyStream s;
  s.pieces_ = std::move(pieces);
  s.when_ready_ = std::move(when_ready);
  return s;
}

bool BodyStream::ReadyOrNotify(std::function<void()> wake) {
  if (!when_ready_ || !pending_.data.empty()) return true;
  return when_ready_(std::move(wake));
}

Result<size_t> BodyStream::operator()(MutableByteSpan buffer) {
  if (pieces_) {
    if (pending_.data.empty()) pending_ = CAIRN_TRY(pieces_());
    size_t n = std::min(buffer.size(), pending_.data.size());
    if (n > 0) std::memcpy(buffer.data(), pending_.data.data(), n);
    pending_.data = pending_.data.subspan(n);
    if (pending_.data.empty()) pending_.owner.reset();
    return n;
  }
  if (!fill_) return size_t{0};
  return fill_(buffer);
}

Result<BodyPiece> BodyStream::Next(size_t fill_size) {
  if (pieces_) {
    if (!pending_.data.empty()) return std::exchange(pending_, BodyPiece{});
    return pieces_();
  }
  if (!fill_) return BodyPiece{};
  // The previous piece may still be in the caller's hands only until this call.
  if (!buffer_ || buffer_->size() != fill_size) buffer_ = std::make_shared<Bytes>(fill_size);
  size_t n = CAIRN_TRY(fill_(MutableByteSpan(buffer_->data(), buffer_->size())));
  return BodyPiece{ByteSpan(buffer_->data(), n), nullptr};
}

Response Resolve(Response response) {
  while (response.deferred) {
    auto deferred = std::move(response.deferred);
    std::promise<Response> ready;
    auto future = ready.get_future();
    deferred([&ready](Response r) { ready.set_value(std::move(r)); });
    response = future.get();
  }
  return response;
}

Response& Response::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (IEquals(k, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::optional<std::string_view> Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return Err(ErrorCode::kInvalidArgument, "http: truncated percent escape");
      }
      int hi = HexDigit(in[i + 1]);
      int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return Err(ErrorCode::kInvalidArgument, "http: malformed percent escape");
      }
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncodePath(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<void> ParseTarget(std::string_view target, Request& request) {
  if (target.empty() || target[0] != '/') {
    return Err(ErrorCode::kInvalidArgument, "http: request target must start with '/'");
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  request.path = CAIRN_TRY(PercentDecode(raw_path, false));
  request.query.clear();
  if (q == std::string_view::npos) return Ok();
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = CAIRN_TRY(PercentDecode(part.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) value = CAIRN_TRY(PercentDecode(part.substr(eq + 1), true));
    request.query.emplace_back(std::move(key), std::move(value));
  }
  return Ok();
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kInsufficientFunds:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kStorageFull:
      return 507;
    case ErrorCode::kNotSupported:
      return 501;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    default:
      return 500;
  }
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string RedactPaths(std::string_view text) {
  std::string out;
  size_t i = 0;
  auto ends_token = [](char c) {
    return c == ' ' || c == '\t' || c == '\'' || c == '"' || c == ':' || c == ',' || c == ')' ||
           c == ';';
  };
  while (i < text.size()) {
    bool starts = text[i] == '/' && (i == 0 || ends_token(text[i - 1]) || text[i - 1] == '(');
    if (!starts) {
      out.push_back(text[i++]);
      continue;
    }
    size_t end = i;
    while (end < text.size() && !ends_token(text[end])) ++end;
    std::string_view token = text.substr(i, end - i);
    if (std::count(token.begin(), token.end(), '/') >= 2) {
      out += "<path>";
    } else {
      out.append(token);
    }
    i = end;
  }
  return out;
}

Response ErrorResponse(const Error& error) {
  Response r;
  r.status = HttpStatusFor(error.code());
  r.SetHeader("Content-Type", "application/json");
  std::string details = error.message();
  if (r.status >= 500) {
    std::string redacted = RedactPaths(details);
    if (redacted != details) {
      // The operator still sees where it failed; the client does not see the server's layout.
      log::Warn("http.error_detail",
                {{"reason", ErrorCodeName(error.code())}, {"details", details}});
      details = std::move(redacted);
    }
  }
  r.body = "{\"error\":{\"reason\":" + JsonQuote(ErrorCodeName(error.code())) +
           ",\"details\":" + JsonQuote(details) + "}}\n";
  if (r.status == 401) r.SetHeader("WWW-Authenticate", "Bearer");  // RFC 9110 §15.5.2
  return r;
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response MethodNotAllowed(std::string_view surface, std::string_view method, std::string_view allow,
                          Response (*render)(const Error&)) {
  Response r = render(
      Error(ErrorCode::kInvalidArgument, std::string(surface) + ": method " + std::string(method) +
                                             " not allowed (allowed: " + std::string(allow) + ")"));
  r.status = 405;
  r.SetHeader("Allow", std::string(allow));
  return r;
}

}  // namespace cairn::http
