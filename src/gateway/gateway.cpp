#include "gateway/gateway.hpp"

#include "common/io.hpp"
#include "gateway/car_response.hpp"
#include "gateway/content_type.hpp"
#include "gateway/dir_listing.hpp"
#include "gateway/request.hpp"
#include "http/pushed_stream.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/multicodec.hpp"
#include "unixfs/exporter.hpp"

namespace cairn::gateway {
namespace {

namespace mf = multiformats;
using unixfs::NodeType;

constexpr const char* kImmutable = "public, max-age=29030400, immutable";

using Getter = ipld::BlockGetterFor<blockstore::Blockstore>;

// Whether the client's If-None-Match lists `etag` (or "*").
bool NotModified(const http::Request& req, const std::string& etag) {
  auto inm = req.Header("If-None-Match");
  if (!inm) return false;
  std::string_view list = *inm;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "*" || item == etag) return true;
    if (item.substr(0, 2) == "W/" && item.substr(2) == etag) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

http::Response NotModifiedResponse(const std::string& etag) {
  http::Response r;
  r.status = 304;
  r.SetHeader("Etag", etag);
  r.SetHeader("Cache-Control", kImmutable);
  return r;
}

std::string ContentPathHeader(const GatewayRequest& g) {
  std::string p = "/ipfs/" + g.root_text;
  for (const auto& s : g.segments) p += "/" + s;
  return p;
}

void CommonHeaders(http::Response& r, const GatewayRequest& g) {
  r.SetHeader("X-Ipfs-Path", http::PercentEncodePath(ContentPathHeader(g)));
  r.SetHeader("Cache-Control", kImmutable);
  r.SetHeader("Access-Control-Allow-Origin", "*");
  r.SetHeader("Access-Control-Expose-Headers",
              "Content-Range, Content-Length, X-Ipfs-Path, X-Ipfs-Roots, X-Stream-Error");
}

std::string QuoteFilename(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// The target of the request path: its CID (and, for UnixFS, what it is).
struct Target {
  mf::Cid cid;
  std::optional<unixfs::NodeStat> stat;
};

Result<Target> ResolveTarget(unixfs::Exporter& exporter, const GatewayRequest& g, bool need_stat) {
  if (g.segments.empty() && !need_stat) return Target{g.root, std::nullopt};
  unixfs::ContentPath path{g.root, g.segments};
  auto resolved = exporter.Resolve(path);
  if (!resolved) {
    // A path that leads nowhere is 404 (path-gateway.md, "404 Not Found").
    if (resolved.error().code() == ErrorCode::kInvalidArgument && !g.segments.empty()) {
      return Err(ErrorCode::kNotFound, resolved.error().message());
    }
    return Err(resolved.error());
  }
  return Target{resolved->cid, resolved->stat};
}

http::Response ServeRaw(blockstore::Blockstore& blocks, const http::Request& req,
                        const GatewayRequest& g, const mf::Cid& cid) {
  std::string etag = "\"" + cid.ToString() + ".raw\"";
  if (NotModified(req, etag)) return NotModifiedResponse(etag);
  auto data = blocks.Get(cid);
  if (!data) return GatewayError(data.error());
  http::Response r;
  CommonHeaders(r, g);
  r.SetHeader("Content-Type", "application/vnd.ipld.raw");
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + cid.ToString() + ".bin\"");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Etag", etag);
  r.SetHeader("Vary", "Accept");
  if (!g.format_from_query) r.SetHeader("Content-Location", req.path + "?format=raw");
  r.body.assign(data->begin(), data->end());
  return r;
}

http::Response ServeFile(blockstore::Blockstore& blocks, const http::Request& req,
                         const GatewayRequest& g, const Target& t) {
  uint64_t size = t.stat->size;
  std::string etag = "\"" + t.cid.ToString() + "\"";
  std::optional<ResolvedRange> range;
  if (g.range) {
    range = ResolveRange(*g.range, size);
    if (!range) {
      http::Response r = http::ErrorResponse(
          Error(ErrorCode::kInvalidArgument,
                "gateway: range not satisfiable for a file of " + std::to_string(size) + " bytes"));
      r.status = 416;
      r.SetHeader("Content-Range", "bytes */" + std::to_string(size));
      return r;
    }
    etag = "\"" + t.cid.ToString() + "." + std::to_string(range->offset) + "-" +
           std::to_string(range->offset + range->length - 1) + "\"";
  }
  if (NotModified(req, etag)) return NotModifiedResponse(etag);

  // Sniff the type from the name and the first bytes.
  std::string name = g.filename ? *g.filename : (g.segments.empty() ? "" : g.segments.back());
  std::string head;
  if (size > 0) {
    Getter getter(blocks);
    unixfs::Exporter exporter(getter);
    FunctionSink sink([&](ByteSpan b) -> Result<void> {
      head.append(AsString(b));
      return Ok();
    });
    auto r = exporter.ReadRange(t.cid, 0, std::min<uint64_t>(size, 512), sink);
    if (!r) return GatewayError(r.error());
  }
  http::Response r;
  CommonHeaders(r, g);
  r.SetHeader("Content-Type", DetectContentType(name, AsBytes(head)));
  r.SetHeader("Accept-Ranges", "bytes");
  r.SetHeader("Etag", etag);
  if (g.filename || g.download) {
    std::string fn = g.filename ? *g.filename : t.cid.ToString();
    r.SetHeader("Content-Disposition", std::string(g.download ? "attachment" : "inline") +
                                           "; filename=\"" + QuoteFilename(fn) + "\"");
  }
  uint64_t offset = 0;
  uint64_t length = size;
  if (range) {
    offset = range->offset;
    length = range->length;
    r.status = 206;
    r.SetHeader("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                     std::to_string(offset + length - 1) + "/" +
                                     std::to_string(size));
  }
  r.content_length = length;
  if (length == 0) {
    r.stream = [](MutableByteSpan) -> Result<size_t> { return size_t{0}; };
    return r;
  }
  mf::Cid cid = t.cid;
  r.stream = http::MakePushedStream([&blocks, cid, offset,
                                     length](const http::PushSink& sink) -> Result<void> {
    Getter getter(blocks);
    unixfs::Exporter exporter(getter);
    // Raw leaves go to the socket from the block store's own memory (no copy).
    return exporter.ReadRangeShared(cid, offset, length, [&sink](ByteSpan data, const auto& owner) {
      return sink.Share(data, owner);
    });
  });
  return r;
}

http::Response ServeDirectory(blockstore::Blockstore& blocks, const http::Request& req,
                              const GatewayRequest& g, const Target& t) {
  if (!g.trailing_slash) {
    http::Response r;
    r.status = 301;
    std::string location = http::PercentEncodePath(req.path + "/");
    if (size_t q = req.target.find('?'); q != std::string::npos) location += req.target.substr(q);
    r.SetHeader("Location", location);
    CommonHeaders(r, g);
    return r;
  }
  Getter getter(blocks);
  unixfs::Exporter exporter(getter);
  // index.html, when present, is served as the directory.
  unixfs::ContentPath index{t.cid, {"index.html"}};
  if (auto idx = exporter.Resolve(index); idx && idx->stat.type == NodeType::kFile) {
    GatewayRequest as_file = g;
    as_file.segments.push_back("index.html");
    return ServeFile(blocks, req, as_file, Target{idx->cid, idx->stat});
  } else if (!idx && idx.error().code() != ErrorCode::kNotFound) {
    return GatewayError(idx.error());
  }
  std::string etag =
      "\"DirIndex-" + std::string(kDirIndexVersion) + "_CID-" + t.cid.ToString() + "\"";
  if (NotModified(req, etag)) return NotModifiedResponse(etag);
  std::vector<ListingEntry> entries;
  auto listed = exporter.ListDirectory(t.cid, [&](const unixfs::DirEntry& e) -> Result<bool> {
    ListingEntry le;
    le.name = e.name;
    le.cid = e.cid.ToString();
    le.size = e.tsize;
    // Whether an entry is a directory needs its block; ask only when it is stored locally.
    if (e.cid.codec() == mf::codec::kDagPb) {
      if (auto st = exporter.Stat(e.cid); st) {
        le.is_directory = st->type == NodeType::kDirectory || st->type == NodeType::kHamtDirectory;
        if (st->type == NodeType::kFile) le.size = st->size;
      }
    } else {
      le.size = e.tsize;
    }
    entries.push_back(std::move(le));
    return entries.size() < 100000;  // a listing page, not a denial of service
  });
  if (!listed) return GatewayError(listed.error());
  http::Response r;
  CommonHeaders(r, g);
  r.SetHeader("Content-Type", "text/html; charset=utf-8");
  r.SetHeader("Etag", etag);
  r.body = RenderDirectoryListing(req.path, t.cid.ToString(), entries);
  return r;
}

http::Response ServeCar(blockstore::Blockstore& blocks, const http::Request& req,
                        const GatewayRequest& g) {
  std::string scope = g.car.scope == DagScope::kAll      ? "all"
                      : g.car.scope == DagScope::kEntity ? "entity"
                                                         : "block";
  std::string params = std::string(g.car.dups ? "dups=y" : "dups=n") + ",scope=" + scope;
  if (g.car.entity_bytes) {
    params += ",bytes=" + std::to_string(g.car.entity_bytes->from) + ":" +
              (g.car.entity_bytes->to ? std::to_string(*g.car.entity_bytes->to) : "*");
  }
  for (const auto& s : g.segments) params += "/" + s;
  auto digest = mf::Sha256(AsBytes(params));
  std::string etag =
      "\"" + g.root.ToString() + ".car." + HexEncode(ByteSpan(digest.data(), 8)) + "\"";
  if (NotModified(req, etag)) return NotModifiedResponse(etag);
  if (auto ok = PrecheckCar(blocks, g); !ok) return GatewayError(ok.error());
  http::Response r;
  CommonHeaders(r, g);
  r.SetHeader("Content-Type", std::string("application/vnd.ipld.car; version=1; order=dfs; dups=") +
                                  (g.car.dups ? "y" : "n"));
  r.SetHeader("Content-Disposition", "attachment; filename=\"" + g.root.ToString() + ".car\"");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Etag", etag);
  r.SetHeader("Vary", "Accept");
  if (!g.format_from_query) r.SetHeader("Content-Location", req.path + "?format=car");
  GatewayRequest copy = g;
  r.stream = http::MakePushedStream(
      [&blocks, copy](const http::PushSink& sink) { return WriteCar(blocks, copy, sink); });
  return r;
}

}  // namespace

http::Response GatewayError(const Error& error) {
  http::Response r = http::ErrorResponse(error);
  if (error.code() == ErrorCode::kNotSupported) r.status = 406;
  return r;
}

Gateway::Gateway(blockstore::Blockstore& blocks) : blocks_(blocks) {}

http::Response Gateway::Handle(const http::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    return http::MethodNotAllowed("gateway", req.method, "GET, HEAD");
  }
  auto parsed = ParseGatewayRequest(req);
  if (!parsed) return GatewayError(parsed.error());
  const GatewayRequest& g = *parsed;

  auto has_root = blocks_.Has(g.root);
  if (!has_root) return GatewayError(has_root.error());
  if (!*has_root) {
    if (g.only_if_cached) {
      http::Response r;
      r.status = 412;
      return r;
    }
    return GatewayError(
        Error(ErrorCode::kNotFound, "gateway: " + g.root_text + " is not stored here"));
  }

  Getter getter(blocks_);
  unixfs::Exporter exporter(getter);
  if (g.format == Format::kRaw) {
    auto t = ResolveTarget(exporter, g, false);
    if (!t) return GatewayError(t.error());
    return ServeRaw(blocks_, req, g, t->cid);
  }
  if (g.format == Format::kCar) return ServeCar(blocks_, req, g);
  auto t = ResolveTarget(exporter, g, true);
  if (!t) return GatewayError(t.error());
  switch (t->stat->type) {
    case NodeType::kFile:
      return ServeFile(blocks_, req, g, *t);
    case NodeType::kDirectory:
    case NodeType::kHamtDirectory:
      return ServeDirectory(blocks_, req, g, *t);
    case NodeType::kSymlink: {
      http::Response r;
      CommonHeaders(r, g);
      r.SetHeader("Content-Type", "inode/symlink");
      r.SetHeader("Etag", "\"" + t->cid.ToString() + "\"");
      r.body = t->stat->symlink_target;
      return r;
    }
  }
  return GatewayError(Error(ErrorCode::kInternal, "gateway: unknown node type"));
}

}  // namespace cairn::gateway
