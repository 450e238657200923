#include "api/multipart.hpp"

#include <cctype>

#include "http/http_types.hpp"

namespace cairn::api {
namespace {

// Reads `key=value` or `key="value"` parameters of a header value after the first ';'.
std::map<std::string, std::string> Params(std::string_view v) {
  std::map<std::string, std::string> out;
  size_t i = v.find(';');
  while (i != std::string_view::npos && i < v.size()) {
    ++i;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key = http::AsciiLower(http::TrimOws(v.substr(i, eq - i)));
    size_t j = eq + 1;
    std::string value;
    if (j < v.size() && v[j] == '"') {
      ++j;
      while (j < v.size() && v[j] != '"') {
        if (v[j] == '\\' && j + 1 < v.size()) ++j;
        value.push_back(v[j]);
        ++j;
      }
      i = v.find(';', j);
    } else {
      size_t end = v.find(';', j);
      value =
          std::string(http::TrimOws(v.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    out[key] = value;
  }
  return out;
}

}  // namespace

Result<std::string> BoundaryFromContentType(std::string_view content_type) {
  std::string lower = http::AsciiLower(content_type);
  if (lower.rfind("multipart/form-data", 0) != 0) {
    return Err(ErrorCode::kInvalidArgument, "multipart: Content-Type must be multipart/form-data");
  }
  auto params = Params(content_type);
  auto it = params.find("boundary");
  if (it == params.end() || it->second.empty() || it->second.size() > 70) {
    return Err(ErrorCode::kInvalidArgument, "multipart: missing or invalid boundary");
  }
  return it->second;
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks, size_t max_header_bytes)
    : delimiter_("\r\n--" + boundary),
      cb_(std::move(callbacks)),
      max_header_bytes_(max_header_bytes) {
  // The first boundary may start the body without a preceding CRLF: pretend one was there.
  buffer_ = "\r\n";
  offset_ = 0;
}

Result<void> MultipartParser::Feed(ByteSpan chunk) {
  buffer_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  return Process(false);
}

Result<void> MultipartParser::Finish() {
  CAIRN_TRY(Process(true));
  if (state_ != State::kDone) {
    return Err(ErrorCode::kInvalidArgument, "multipart: body ended before the closing boundary");
  }
  return Ok();
}

Result<void> MultipartParser::ParseHeaders(std::string_view block) {
  MultipartPart part;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Err(ErrorCode::kInvalidArgument,
                 "multipart: malformed part header near offset " + std::to_string(offset_));
    }
    part.headers[http::AsciiLower(http::TrimOws(line.substr(0, colon)))] =
        std::string(http::TrimOws(line.substr(colon + 1)));
  }
  auto cd = part.headers.find("content-disposition");
  if (cd == part.headers.end()) {
    return Err(ErrorCode::kInvalidArgument, "multipart: part without Content-Disposition");
  }
  auto params = Params(cd->second);
  part.name = params["name"];
  if (auto f = params.find("filename"); f != params.end()) {
    auto decoded = http::PercentDecode(f->second, false);
    if (!decoded) return Err(decoded.error().WithContext("multipart: filename: "));
    part.filename = std::move(*decoded);
  }
  if (auto ct = part.headers.find("content-type"); ct != part.headers.end()) {
    part.content_type = http::AsciiLower(http::TrimOws(ct->second.substr(0, ct->second.find(';'))));
  }
  in_part_ = true;
  if (cb_.on_part_begin) CAIRN_TRY(cb_.on_part_begin(part));
  return Ok();
}

Error MultipartParser::GarbageAfterBoundary() const {
  return Error(ErrorCode::kInvalidArgument,
               "multipart: garbage after boundary at offset " + std::to_string(offset_));
}

Result<bool> MultipartParser::SkipPreamble() {
  size_t at = buffer_.find(delimiter_);
  if (at == std::string::npos) {
    // Keep only what could still be the start of the delimiter.
    if (buffer_.size() > delimiter_.size()) {
      size_t drop = buffer_.size() - delimiter_.size();
      offset_ += drop;
      buffer_.erase(0, drop);
    }
    return false;
  }
  offset_ += at + delimiter_.size();
  buffer_.erase(0, at + delimiter_.size());
  state_ = State::kAfterBoundary;
  return true;
}

Result<bool> MultipartParser::AfterBoundary(bool final) {
  constexpr size_t kMaxPadding = 256;  // transport padding after a boundary
  if (buffer_.size() < 2) {
    if (final) return Err(ErrorCode::kInvalidArgument, "multipart: truncated boundary");
    return false;
  }
  if (buffer_.compare(0, 2, "--") == 0) {
    if (in_part_ && cb_.on_part_end) CAIRN_TRY(cb_.on_part_end());
    in_part_ = false;
    state_ = State::kDone;
    buffer_.clear();  // the epilogue is ignored
    return false;
  }
  size_t eol = buffer_.find("\r\n");
  // The same limit whether the line arrived whole or in pieces.
  if (eol != std::string::npos && eol > kMaxPadding) return Err(GarbageAfterBoundary());
  if (eol == std::string::npos) {
    if (buffer_.size() > kMaxPadding + 1) return Err(GarbageAfterBoundary());  // + a '\r'
    if (final) return Err(ErrorCode::kInvalidArgument, "multipart: truncated boundary");
    return false;
  }
  for (size_t i = 0; i < eol; ++i) {  // transport padding: spaces and tabs only
    if (buffer_[i] != ' ' && buffer_[i] != '\t') return Err(GarbageAfterBoundary());
  }
  if (in_part_ && cb_.on_part_end) CAIRN_TRY(cb_.on_part_end());
  in_part_ = false;
  offset_ += eol + 2;
  buffer_.erase(0, eol + 2);
  state_ = State::kHeaders;
  return true;
}

Result<bool> MultipartParser::PartHeaders(bool final) {
  size_t end = buffer_.find("\r\n\r\n");
  size_t skip = 4;
  if (buffer_.compare(0, 2, "\r\n") == 0) {  // a part with no headers at all
    end = 0;
    skip = 2;
  }
  // The same limit whether the headers arrived whole or in pieces (+3: a partial "\r\n\r\n").
  if ((end != std::string::npos && end > max_header_bytes_) ||
      (end == std::string::npos && buffer_.size() > max_header_bytes_ + 3)) {
    return Err(ErrorCode::kInvalidArgument,
               "multipart: part headers exceed " + std::to_string(max_header_bytes_) + " bytes");
  }
  if (end == std::string::npos) {
    if (final) return Err(ErrorCode::kInvalidArgument, "multipart: truncated part headers");
    return false;
  }
  CAIRN_TRY(ParseHeaders(std::string_view(buffer_).substr(0, end)));
  offset_ += end + skip;
  buffer_.erase(0, end + skip);
  state_ = State::kData;
  return true;
}

Result<bool> MultipartParser::PartData(bool final) {
  size_t at = buffer_.find(delimiter_);
  size_t emit = at;
  if (at == std::string::npos) {
    // Everything but a possible partial delimiter at the end is data.
    emit = buffer_.size() > delimiter_.size() ? buffer_.size() - delimiter_.size() : 0;
  }
  if (emit > 0 && cb_.on_part_data) {
    CAIRN_TRY(cb_.on_part_data(ByteSpan(reinterpret_cast<const uint8_t*>(buffer_.data()), emit)));
  }
  offset_ += emit;
  buffer_.erase(0, emit);
  if (at == std::string::npos) {
    if (final)
      return Err(ErrorCode::kInvalidArgument, "multipart: part not terminated by a boundary");
    return false;
  }
  offset_ += delimiter_.size();
  buffer_.erase(0, delimiter_.size());
  state_ = State::kAfterBoundary;
  return true;
}

Result<void> MultipartParser::Process(bool final) {
  for (;;) {
    Result<bool> advanced = false;
    switch (state_) {
      case State::kPreamble:
        advanced = SkipPreamble();
        break;
      case State::kAfterBoundary:
        advanced = AfterBoundary(final);
        break;
      case State::kHeaders:
        advanced = PartHeaders(final);
        break;
      case State::kData:
        advanced = PartData(final);
        break;
      case State::kDone:
        return Ok();
    }
    if (!advanced) return Err(advanced.error());
    if (!*advanced) return Ok();
  }
}

}  // namespace cairn::api
