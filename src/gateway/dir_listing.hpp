// The HTML directory index the gateway generates for UnixFS directories without index.html
// (path-gateway.md, "Generated HTML with directory index"). Names are HTML-escaped and links
// percent-encoded, so hostile names cannot inject markup or escape the directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::gateway {

struct ListingEntry {
  std::string name;
  std::string cid;
  std::optional<uint64_t> size;  // file size or cumulative DAG size when known
  bool is_directory = false;
};

// Bumped whenever the generated HTML changes, so ETags of listings change with it.
inline constexpr const char* kDirIndexVersion = "cairn-1";

// `url_path` is the directory's path as requested ("/ipfs/bafy.../docs/"), `root_text` the CID of
// the directory itself.
std::string RenderDirectoryListing(const std::string& url_path, const std::string& dir_cid,
                                   const std::vector<ListingEntry>& entries);

std::string HtmlEscape(std::string_view s);

}  // namespace cairn::gateway
