#include "gateway/content_type.hpp"

#include <array>
#include <cctype>
#include <utility>

#include "http/http_types.hpp"

namespace cairn::gateway {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 34> kByExtension = {{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},
    {"ogg", "audio/ogg"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"car", "application/vnd.ipld.car"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"m3u8", "application/vnd.apple.mpegurl"},
}};

bool StartsWith(ByteSpan head, std::string_view magic, size_t at = 0) {
  if (head.size() < at + magic.size()) return false;
  for (size_t i = 0; i < magic.size(); ++i) {
    if (head[at + i] != static_cast<uint8_t>(magic[i])) return false;
  }
  return true;
}

bool LooksLikeUtf8Text(ByteSpan head) {
  size_t i = 0;
  while (i < head.size()) {
    uint8_t c = head[i];
    if (c == 0) return false;
    if (c < 0x80) {
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b) return false;
      ++i;
      continue;
    }
    size_t n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
    if (n == 9) return false;
    if (i + n >= head.size()) return true;  // a sequence cut by the 512-byte window
    for (size_t k = 1; k <= n; ++k) {
      if ((head[i + k] & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

std::string DetectContentType(std::string_view name, ByteSpan head) {
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot + 1 < name.size()) {
    std::string ext = http::AsciiLower(name.substr(dot + 1));
    for (const auto& [e, type] : kByExtension) {
      if (e == ext) return std::string(type);
    }
  }
  if (StartsWith(head, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (StartsWith(head, "\xff\xd8\xff")) return "image/jpeg";
  if (StartsWith(head, "GIF87a") || StartsWith(head, "GIF89a")) return "image/gif";
  if (StartsWith(head, "RIFF") && StartsWith(head, "WEBP", 8)) return "image/webp";
  if (StartsWith(head, "%PDF-")) return "application/pdf";
  if (StartsWith(head, "PK\x03\x04")) return "application/zip";
  if (StartsWith(head, "\x1f\x8b")) return "application/gzip";
  if (StartsWith(head, std::string_view("\0asm", 4))) return "application/wasm";
  if (StartsWith(head, "ftyp", 4)) return "video/mp4";
  if (StartsWith(head, "\x1a\x45\xdf\xa3")) return "video/webm";
  if (StartsWith(head, "ID3")) return "audio/mpeg";
  if (StartsWith(head, "OggS")) return "audio/ogg";
  if (LooksLikeUtf8Text(head)) {
    std::string start =
        http::AsciiLower(AsString(head.subspan(0, std::min<size_t>(head.size(), 256))));
    size_t first = start.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) {
      std::string_view s = std::string_view(start).substr(first);
      if (s.substr(0, 14) == "<!doctype html" || s.substr(0, 5) == "<html") {
        return "text/html; charset=utf-8";
      }
      if (s.substr(0, 4) == "<svg" ||
          (s.substr(0, 5) == "<?xml" && start.find("<svg") != std::string::npos)) {
        return "image/svg+xml";
      }
    }
    return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

}  // namespace cairn::gateway
