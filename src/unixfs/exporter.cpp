#include "unixfs/exporter.hpp"

#include <algorithm>
#include <utility>

#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::unixfs {

namespace codec = multiformats::codec;

struct Exporter::Node {
  Cid cid;
  bool raw = false;                    // raw-codec block: `block` is file content
  std::shared_ptr<const Bytes> block;  // the block (an identity CID's digest)
  uint64_t block_size = 0;
  ipld::PbNode pb;               // dag-pb only, without its Data (decoded into fs)
  UnixfsData fs;                 // dag-pb only, without its Data: that is `data`
  std::optional<ByteSpan> data;  // dag-pb only: the UnixFS Data, a view into *block
};

namespace {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kRaw:
      return "raw";
    case DataType::kDirectory:
      return "directory";
    case DataType::kFile:
      return "file";
    case DataType::kMetadata:
      return "metadata";
    case DataType::kSymlink:
      return "symlink";
    case DataType::kHamtShard:
      return "HAMT shard";
  }
  return "unknown";
}

std::string ToHex(uint64_t v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return out;
}

bool IsFileNode(const UnixfsData& fs) {
  return fs.type == DataType::kFile || fs.type == DataType::kRaw;
}

std::string JoinPath(const ContentPath& path, size_t count) {
  std::string out = path.root.ToString();
  for (size_t i = 0; i < count && i < path.segments.size(); ++i) {
    out += "/";
    out += path.segments[i];
  }
  return out;
}

}  // namespace

std::string_view NodeTypeName(NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return "file";
    case NodeType::kDirectory:
      return "directory";
    case NodeType::kHamtDirectory:
      return "hamt-directory";
    case NodeType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

Result<ContentPath> ParseContentPath(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with("/ipfs/")) {
    rest.remove_prefix(6);
  } else if (rest.starts_with("ipfs/")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("/")) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: path '" + std::string(text) + "' must be CID[/path] or /ipfs/CID[/path]");
  }
  if (rest.find('\0') != std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: path contains a NUL byte");
  }
  size_t slash = rest.find('/');
  std::string_view cid_text = rest.substr(0, slash);
  auto cid = Cid::Parse(cid_text);
  if (!cid) {
    return Err(cid.error().WithContext("unixfs: path '" + std::string(text) + "': "));
  }
  ContentPath path;
  path.root = std::move(*cid);
  if (slash == std::string_view::npos) {
    return path;
  }
  rest.remove_prefix(slash + 1);
  while (!rest.empty()) {
    size_t next = rest.find('/');
    std::string_view seg = rest.substr(0, next);
    rest.remove_prefix(next == std::string_view::npos ? rest.size() : next + 1);
    if (seg.empty() || seg == ".") {
      continue;
    }
    if (seg == "..") {
      if (path.segments.empty()) {
        return Err(ErrorCode::kInvalidArgument,
                   "unixfs: path '" + std::string(text) + "' climbs above its root CID");
      }
      path.segments.pop_back();
      continue;
    }
    path.segments.emplace_back(seg);
  }
  return path;
}

Exporter::Exporter(BlockGetter& blocks, ExporterLimits limits) : blocks_(blocks), limits_(limits) {}

Result<Exporter::Node> Exporter::Load(const Cid& cid) {
  Node node;
  node.cid = cid;
  std::shared_ptr<const Bytes> shared;
  if (cid.hash().code() == codec::kIdentity) {
    ByteSpan digest = cid.hash().digest();
    shared = std::make_shared<const Bytes>(digest.begin(), digest.end());
  } else {
    shared = CAIRN_TRY(blocks_.GetShared(cid));
    if (observer_) {
      CAIRN_TRY(observer_(cid, *shared));
    }
  }
  const Bytes& block = *shared;
  node.block_size = block.size();
  if (cid.codec() == codec::kRaw) {
    node.raw = true;
    node.block = std::move(shared);
    return node;
  }
  if (cid.codec() != codec::kDagPb) {
    auto name = multiformats::CodecName(cid.codec());
    return Err(ErrorCode::kNotSupported,
               "unixfs: " + cid.ToString() + " has codec " +
                   (name ? std::string(*name) : "0x" + ToHex(cid.codec())) + ", not dag-pb or raw");
  }
  // Views, not copies: a file leaf's content is served from the block itself.
  std::optional<ByteSpan> pb_data;
  auto decoded = ipld::DecodeDagPb(block, &pb_data);
  if (!decoded) {
    return Err(ErrorCode::kCorruption, "unixfs: block " + cid.ToString() +
                                           " is not valid dag-pb: " + decoded.error().message());
  }
  node.pb = std::move(*decoded);
  if (!pb_data) {
    return Err(ErrorCode::kCorruption,
               "unixfs: dag-pb node " + cid.ToString() + " carries no UnixFS Data");
  }
  auto fs = DecodeUnixfsData(*pb_data, &node.data);
  if (!fs) {
    return Err(ErrorCode::kCorruption,
               "unixfs: node " + cid.ToString() + ": " + fs.error().message());
  }
  node.fs = std::move(*fs);
  node.block = std::move(shared);
  return node;
}

Result<uint64_t> Exporter::FileNodeSize(const Node& node) {
  if (node.raw) {
    return node.block->size();
  }
  const UnixfsData& fs = node.fs;
  const std::string id = node.cid.ToString();
  if (node.pb.links.size() != fs.blocksizes.size()) {
    return Err(ErrorCode::kCorruption, "unixfs: file node " + id + " has " +
                                           std::to_string(node.pb.links.size()) + " links but " +
                                           std::to_string(fs.blocksizes.size()) + " blocksizes");
  }
  for (const auto& link : node.pb.links) {
    if (link.name && !link.name->empty()) {
      return Err(ErrorCode::kCorruption,
                 "unixfs: file node " + id + " has a named link '" + *link.name + "'");
    }
  }
  uint64_t total = node.data ? node.data->size() : 0;
  for (uint64_t size : fs.blocksizes) {
    if (__builtin_add_overflow(total, size, &total)) {
      return Err(ErrorCode::kCorruption, "unixfs: file node " + id + " blocksizes overflow");
    }
  }
  if (fs.filesize && *fs.filesize != total) {
    return Err(ErrorCode::kCorruption, "unixfs: file node " + id + " declares filesize " +
                                           std::to_string(*fs.filesize) + " but holds " +
                                           std::to_string(total) + " bytes");
  }
  return total;
}

Result<NodeStat> Exporter::StatOf(const Node& node) {
  NodeStat stat;
  stat.cid = node.cid;
  stat.block_size = node.block_size;
  if (node.raw) {
    stat.type = NodeType::kFile;
    stat.size = node.block->size();
    return stat;
  }
  const UnixfsData& fs = node.fs;
  stat.mode = fs.mode;
  stat.mtime = fs.mtime;
  switch (fs.type) {
    case DataType::kFile:
    case DataType::kRaw:
      stat.type = NodeType::kFile;
      stat.size = CAIRN_TRY(FileNodeSize(node));
      return stat;
    case DataType::kDirectory:
      stat.type = NodeType::kDirectory;
      return stat;
    case DataType::kHamtShard:
      CAIRN_TRY(CheckHamtShard(fs));
      stat.type = NodeType::kHamtDirectory;
      return stat;
    case DataType::kSymlink:
      if (!node.pb.links.empty()) {
        return Err(ErrorCode::kCorruption, "unixfs: symlink " + node.cid.ToString() + " has links");
      }
      stat.type = NodeType::kSymlink;
      if (node.data) {
        stat.symlink_target.assign(node.data->begin(), node.data->end());
      }
      stat.size = stat.symlink_target.size();
      return stat;
    case DataType::kMetadata:
      break;
  }
  return Err(ErrorCode::kNotSupported,
             "unixfs: node " + node.cid.ToString() + " has unsupported type metadata");
}

Result<NodeStat> Exporter::Stat(const Cid& cid) {
  Node node = CAIRN_TRY(Load(cid));
  return StatOf(node);
}

Result<void> Exporter::ReadNode(const Node& node, uint64_t expected_size, uint64_t lo, uint64_t hi,
                                unsigned depth, const SharedByteSink& sink) {
  if (node.raw) {
    if (node.block->size() != expected_size) {
      return Err(ErrorCode::kCorruption, "unixfs: raw leaf " + node.cid.ToString() + " holds " +
                                             std::to_string(node.block->size()) +
                                             " bytes, its parent declared " +
                                             std::to_string(expected_size));
    }
    // lo < hi <= expected_size == block size (callers only descend into overlapping children).
    return sink(ByteSpan(*node.block).subspan(lo, hi - lo), node.block);
  }
  if (!IsFileNode(node.fs)) {
    return Err(ErrorCode::kCorruption, "unixfs: node " + node.cid.ToString() +
                                           " inside a file is a " +
                                           std::string(DataTypeName(node.fs.type)));
  }
  uint64_t total = CAIRN_TRY(FileNodeSize(node));
  if (total != expected_size) {
    return Err(ErrorCode::kCorruption, "unixfs: file node " + node.cid.ToString() + " holds " +
                                           std::to_string(total) + " bytes, its parent declared " +
                                           std::to_string(expected_size));
  }
  uint64_t data_size = node.data ? node.data->size() : 0;
  if (lo < data_size) {
    uint64_t end = std::min(hi, data_size);
    CAIRN_TRY(sink(node.data->subspan(lo, end - lo), node.block));
  }
  uint64_t pos = data_size;
  // The children the range needs, [first, last): hinted to the getter a window ahead of the
  // one being read, half a window at a time (so a getter can batch them).
  size_t first = node.pb.links.size();
  size_t last = 0;
  if (limits_.prefetch_window > 0) {
    uint64_t at = data_size;
    for (size_t i = 0; i < node.pb.links.size() && at < hi; ++i) {
      const uint64_t end = at + node.fs.blocksizes[i];
      if (node.fs.blocksizes[i] > 0 && end > lo) {
        first = std::min(first, i);
        last = i + 1;
      }
      at = end;
    }
  }
  size_t hinted = first;  // children [first, hinted) were hinted
  std::vector<Cid> hint;
  for (size_t i = 0; i < node.pb.links.size() && pos < hi; ++i) {
    uint64_t child_size = node.fs.blocksizes[i];
    uint64_t end = pos + child_size;  // no overflow: FileNodeSize summed these
    // Children that hold no bytes of the range are never fetched; empty children hold none.
    if (child_size > 0 && end > lo) {
      if (i >= first && i < last && last - i > 1 && hinted < last &&
          hinted - i <= limits_.prefetch_window / 2) {
        const size_t until = std::min(last, i + limits_.prefetch_window);
        hint.clear();
        for (size_t k = std::max(hinted, i); k < until; ++k) {
          if (node.fs.blocksizes[k] > 0 &&
              node.pb.links[k].hash.hash().code() != codec::kIdentity) {
            hint.push_back(node.pb.links[k].hash);
          }
        }
        hinted = until;
        if (!hint.empty()) blocks_.Prefetch(hint);
      }
      if (depth + 1 > limits_.max_file_depth) {
        return Err(ErrorCode::kCorruption, "unixfs: file DAG under " + node.cid.ToString() +
                                               " is deeper than " +
                                               std::to_string(limits_.max_file_depth) + " levels");
      }
      Node child = CAIRN_TRY(Load(node.pb.links[i].hash));
      CAIRN_TRY(ReadNode(child, child_size, std::max(lo, pos) - pos, std::min(hi, end) - pos,
                         depth + 1, sink));
    }
    pos = end;
  }
  return Ok();
}

Result<void> Exporter::ReadRange(const Cid& cid, uint64_t offset, std::optional<uint64_t> length,
                                 ByteSink& sink) {
  return ReadRangeShared(
      cid, offset, length,
      [&sink](ByteSpan data, const std::shared_ptr<const Bytes>&) { return sink.Write(data); });
}

Result<void> Exporter::ReadRangeShared(const Cid& cid, uint64_t offset,
                                       std::optional<uint64_t> length, const SharedByteSink& sink) {
  Node node = CAIRN_TRY(Load(cid));
  if (!node.raw && !IsFileNode(node.fs)) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: " + cid.ToString() + " is a " +
                                                std::string(DataTypeName(node.fs.type)) +
                                                ", not a file");
  }
  uint64_t size = CAIRN_TRY(FileNodeSize(node));
  if (offset > size) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: offset " + std::to_string(offset) +
                                                " is past the end of " + cid.ToString() + " (" +
                                                std::to_string(size) + " bytes)");
  }
  uint64_t end = size;
  if (length && *length < size - offset) {
    end = offset + *length;
  }
  if (offset == end) {
    return Ok();
  }
  return ReadNode(node, size, offset, end, 0, sink);
}

Result<void> Exporter::ReadFile(const Cid& cid, ByteSink& sink) {
  return ReadRange(cid, 0, std::nullopt, sink);
}

Result<bool> Exporter::ListShard(const Node& node, const HamtParams& params,
                                 std::vector<uint32_t>& buckets, const EntrySink& sink) {
  std::vector<bool> seen(params.fanout, false);
  for (const auto& link : node.pb.links) {
    std::string_view name = link.name ? std::string_view(*link.name) : std::string_view();
    uint32_t bucket = CAIRN_TRY(ParseHamtPrefix(name, params));
    if (seen[bucket]) {
      return Err(ErrorCode::kCorruption, "unixfs: HAMT shard " + node.cid.ToString() +
                                             " uses bucket " + std::to_string(bucket) + " twice");
    }
    seen[bucket] = true;
    if (name.size() == params.prefix_len) {
      if (buckets.size() + 1 > limits_.max_hamt_depth) {
        return Err(ErrorCode::kCorruption, "unixfs: HAMT under " + node.cid.ToString() +
                                               " is deeper than " +
                                               std::to_string(limits_.max_hamt_depth) + " levels");
      }
      Node child = CAIRN_TRY(Load(link.hash));
      if (child.raw) {
        return Err(ErrorCode::kCorruption,
                   "unixfs: HAMT sub-shard " + child.cid.ToString() + " is a raw block");
      }
      HamtParams child_params = CAIRN_TRY(CheckHamtShard(child.fs));
      if (child_params.fanout != params.fanout) {
        return Err(ErrorCode::kCorruption, "unixfs: HAMT sub-shard " + child.cid.ToString() +
                                               " changes fanout from " +
                                               std::to_string(params.fanout) + " to " +
                                               std::to_string(child_params.fanout));
      }
      // Writers never keep empty sub-shards; refusing them (with the placement check below)
      // means each shard is reached by one bucket path only, so a DAG that reuses a shard under
      // many buckets cannot make a listing visit it exponentially often.
      if (child.pb.links.empty()) {
        return Err(ErrorCode::kCorruption,
                   "unixfs: HAMT sub-shard " + child.cid.ToString() + " is empty");
      }
      buckets.push_back(bucket);
      bool more = CAIRN_TRY(ListShard(child, params, buckets, sink));
      buckets.pop_back();
      if (!more) {
        return false;
      }
      continue;
    }
    std::string_view entry_name = name.substr(params.prefix_len);
    HamtHashBits bits(entry_name, params.bits_per_level);
    bool placed = true;
    for (uint32_t b : buckets) {
      placed = placed && bits.Next() == b;
    }
    placed = placed && bits.Next() == bucket;
    if (!placed) {
      return Err(ErrorCode::kCorruption, "unixfs: HAMT entry '" + std::string(entry_name) +
                                             "' in shard " + node.cid.ToString() +
                                             " is not in the bucket its name hashes to");
    }
    DirEntry entry{std::string(entry_name), link.hash, link.tsize};
    bool more = CAIRN_TRY(sink(entry));
    if (!more) {
      return false;
    }
  }
  return true;
}

Result<void> Exporter::ListDirectory(const Cid& cid, const EntrySink& sink) {
  Node node = CAIRN_TRY(Load(cid));
  if (node.raw || (node.fs.type != DataType::kDirectory && node.fs.type != DataType::kHamtShard)) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: " + cid.ToString() + " is a " +
                   std::string(node.raw ? "raw file block" : DataTypeName(node.fs.type)) +
                   ", not a directory");
  }
  if (node.fs.type == DataType::kDirectory) {
    for (const auto& link : node.pb.links) {
      if (!link.name) {
        return Err(ErrorCode::kCorruption,
                   "unixfs: directory " + cid.ToString() + " has a link without a name");
      }
      bool more = CAIRN_TRY(sink(DirEntry{*link.name, link.hash, link.tsize}));
      if (!more) {
        break;
      }
    }
    return Ok();
  }
  HamtParams params = CAIRN_TRY(CheckHamtShard(node.fs));
  std::vector<uint32_t> buckets;
  CAIRN_TRY(ListShard(node, params, buckets, sink));
  return Ok();
}

Result<std::optional<Cid>> Exporter::LookupShard(const Node& root, std::string_view name,
                                                 std::vector<Cid>& visited) {
  HamtParams params = CAIRN_TRY(CheckHamtShard(root.fs));
  HamtHashBits bits(name, params.bits_per_level);
  std::optional<Node> holder;
  const Node* shard = &root;
  for (unsigned depth = 0;; ++depth) {
    uint32_t want = bits.Next();
    const ipld::PbLink* sub_shard = nullptr;
    for (const auto& link : shard->pb.links) {
      std::string_view link_name = link.name ? std::string_view(*link.name) : std::string_view();
      uint32_t bucket = CAIRN_TRY(ParseHamtPrefix(link_name, params));
      if (bucket != want) {
        continue;
      }
      if (link_name.size() == params.prefix_len) {
        sub_shard = &link;
        break;
      }
      if (link_name.substr(params.prefix_len) == name) {
        return std::optional<Cid>(link.hash);
      }
    }
    if (sub_shard == nullptr) {
      return std::optional<Cid>();
    }
    if (depth + 1 > limits_.max_hamt_depth) {
      return Err(ErrorCode::kCorruption, "unixfs: HAMT under " + root.cid.ToString() +
                                             " is deeper than " +
                                             std::to_string(limits_.max_hamt_depth) + " levels");
    }
    Node child = CAIRN_TRY(Load(sub_shard->hash));
    if (child.raw) {
      return Err(ErrorCode::kCorruption,
                 "unixfs: HAMT sub-shard " + child.cid.ToString() + " is a raw block");
    }
    HamtParams child_params = CAIRN_TRY(CheckHamtShard(child.fs));
    if (child_params.fanout != params.fanout) {
      return Err(ErrorCode::kCorruption,
                 "unixfs: HAMT sub-shard " + child.cid.ToString() + " changes fanout");
    }
    visited.push_back(child.cid);
    holder = std::move(child);
    shard = &*holder;
  }
}

Result<ResolvedPath> Exporter::Resolve(const ContentPath& path) {
  if (path.segments.size() > limits_.max_path_segments) {
    return Err(
        ErrorCode::kInvalidArgument,
        "unixfs: path has more than " + std::to_string(limits_.max_path_segments) + " segments");
  }
  ResolvedPath out;
  out.path_blocks.push_back(path.root);
  Node node = CAIRN_TRY(Load(path.root));
  for (size_t i = 0; i < path.segments.size(); ++i) {
    const std::string& seg = path.segments[i];
    std::optional<Cid> next;
    if (node.raw || IsFileNode(node.fs)) {
      return Err(ErrorCode::kInvalidArgument,
                 "unixfs: cannot resolve '" + seg + "': " + JoinPath(path, i) + " is a file");
    }
    switch (node.fs.type) {
      case DataType::kDirectory:
        for (const auto& link : node.pb.links) {
          if (link.name && *link.name == seg) {  // the first match wins (spec)
            next = link.hash;
            break;
          }
        }
        break;
      case DataType::kHamtShard:
        next = CAIRN_TRY(LookupShard(node, seg, out.path_blocks));
        break;
      case DataType::kSymlink: {
        std::string target =
            node.data ? std::string(node.data->begin(), node.data->end()) : std::string();
        return Err(ErrorCode::kNotSupported, "unixfs: cannot resolve '" + seg +
                                                 "': " + JoinPath(path, i) + " is a symlink to '" +
                                                 target + "'; symlinks are not followed");
      }
      default:
        return Err(ErrorCode::kNotSupported, "unixfs: cannot resolve '" + seg +
                                                 "': " + JoinPath(path, i) + " is a " +
                                                 std::string(DataTypeName(node.fs.type)));
    }
    if (!next) {
      return Err(ErrorCode::kNotFound, "unixfs: no entry '" + seg + "' in " + JoinPath(path, i));
    }
    out.path_blocks.push_back(*next);
    node = CAIRN_TRY(Load(*next));
  }
  out.cid = node.cid;
  out.stat = CAIRN_TRY(StatOf(node));
  return out;
}

Result<ResolvedPath> Exporter::Resolve(std::string_view path_text) {
  ContentPath path = CAIRN_TRY(ParseContentPath(path_text));
  return Resolve(path);
}

}  // namespace cairn::unixfs
