#include "gateway/dir_listing.hpp"

#include "http/http_types.hpp"

namespace cairn::gateway {
namespace {

std::string HumanSize(uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string RenderDirectoryListing(const std::string& url_path, const std::string& dir_cid,
                                   const std::vector<ListingEntry>& entries) {
  std::string base = url_path;
  if (base.empty() || base.back() != '/') base.push_back('/');
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      HtmlEscape(url_path) +
      "</title>"
      "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse;width:100%}td{padding:.3em .8em;border-bottom:1px solid #eee}"
      "td.cid{font-family:monospace;font-size:.85em;color:#666}td.size{text-align:right}"
      "</style></head><body>\n<h1>Index of " +
      HtmlEscape(url_path) +
      "</h1>\n"
      "<p class=\"cid\">" +
      HtmlEscape(dir_cid) + "</p>\n<table>\n";
  // A link to the parent unless this is the root of the content path.
  size_t slashes = 0;
  for (char c : base) slashes += c == '/';
  if (slashes > 3) {
    html += "<tr><td><a href=\"..\">..</a></td><td></td><td></td></tr>\n";
  }
  for (const auto& e : entries) {
    // A name with '/' cannot come from UnixFS, but encode it anyway so it stays one segment.
    std::string name = http::PercentEncodePath(e.name);
    for (size_t at = name.find('/'); at != std::string::npos; at = name.find('/', at)) {
      name.replace(at, 1, "%2F");
    }
    std::string href = http::PercentEncodePath(base) + name;
    html += "<tr><td><a href=\"" + HtmlEscape(href) + (e.is_directory ? "/" : "") + "\">" +
            HtmlEscape(e.name) + (e.is_directory ? "/" : "") + "</a></td>";
    html += "<td class=\"cid\"><a href=\"/ipfs/" + HtmlEscape(e.cid) +
            "?filename=" + HtmlEscape(http::PercentEncodePath(e.name)) + "\">" + HtmlEscape(e.cid) +
            "</a></td>";
    html += "<td class=\"size\">" + (e.size ? HumanSize(*e.size) : std::string()) + "</td></tr>\n";
  }
  html += "</table>\n</body></html>\n";
  return html;
}

}  // namespace cairn::gateway
