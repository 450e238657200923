// The UnixFS exporter: reads files, directories and symlinks out of a UnixFS DAG
// (../shared/specs/ipfs/unixfs.md, "dag-pb Types" and "UnixFS Paths"; path semantics as
// ../shared/specs/ipfs/path-gateway.md uses them). It is what `cairn cat`/`cairn ls`, the gateway
// and path-scoped CAR exports read content through.
//
// Blocks come from an ipld::BlockGetter, so the exporter does no I/O of its own. Every block is
// untrusted: each invariant the format states is checked (blocksizes vs links, blocksizes and
// filesize vs the bytes really found, child types, HAMT parameters, bucket placement of every
// sharded entry, depth bounds) and a violation is an error value with a reason — never a crash, a
// hang or memory that grows with the file. Memory is bounded by the DAG depth times the block
// size: files stream to a sink block by block, and a byte range descends only into the children
// that overlap it, so reading the last byte of a file fetches one block per level. While it reads
// a file node's children it hints the getter (BlockGetter::Prefetch) with the next ones it will
// read (`prefetch_window` of them, only those that overlap the range), so a getter with a slow
// tier behind it can fetch ahead and in batches; the hint changes nothing else.
//
// Error codes: NotFound for a missing block (as the getter reports it) or a path component that
// is not there; Corruption for a block that breaks the format; InvalidArgument for a bad request
// (unparsable path, a range starting past the end, a path through a file); NotSupported for
// codecs and UnixFS types the exporter cannot read and for symlinks met inside a path (they are
// reported, never followed).
//
// Thread-safety: an Exporter holds no mutable state besides the getter reference and an optional
// block observer set before use; it may be used from several threads at once if the getter (and
// the observer) may.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/cid.hpp"
#include "unixfs/hamt_reader.hpp"
#include "unixfs/unixfs_pb.hpp"

namespace cairn::unixfs {

using multiformats::Cid;

// The exporter reads the IPLD block seam (ipld/blocks.hpp; the names are kept here for callers
// that spell them unixfs::…) and writes file bytes to the common byte seam (common/io.hpp).
// The exporter trusts its getter for the integrity of what it returns (the block store verifies
// every read against the CID) and never passes it an identity CID (it reads their digest itself).
using ipld::BlockGetter;
using ipld::BlockGetterFor;

enum class NodeType {
  kFile,           // raw-codec block, or dag-pb UnixFS File / Raw
  kDirectory,      // dag-pb UnixFS Directory
  kHamtDirectory,  // dag-pb UnixFS HAMTShard (root shard of a sharded directory)
  kSymlink,        // dag-pb UnixFS Symlink
};

// "file", "directory", "hamt-directory", "symlink".
std::string_view NodeTypeName(NodeType type);

struct NodeStat {
  Cid cid;
  NodeType type = NodeType::kFile;
  // Files: the content length (checked against blocksizes and the root's own data); symlinks: the
  // target's length; directories: 0.
  uint64_t size = 0;
  uint64_t block_size = 0;       // length of the root block (0 for identity CIDs' inline data too)
  std::optional<uint32_t> mode;  // as stored (mask with 07777 to interpret)
  std::optional<UnixTime> mtime;
  std::string symlink_target;  // symlinks only
};

struct DirEntry {
  std::string name;  // HAMT bucket prefixes already stripped
  Cid cid;
  std::optional<uint64_t> tsize;  // the link's cumulative DAG size, when the writer stored one
};

// A path below a root CID, already split and normalised ("." removed, ".." applied).
struct ContentPath {
  Cid root;
  std::vector<std::string> segments;
};

// Parses "CID", "CID/a/b", "/ipfs/CID/a/b" (also "ipfs/CID/..."). Empty segments (from "//" or a
// trailing "/") are dropped, "." is removed and ".." removes the segment before it.
// InvalidArgument for a bad CID, a ".." that would climb above the root, or a NUL byte.
Result<ContentPath> ParseContentPath(std::string_view text);

struct ResolvedPath {
  Cid cid;  // the node the path names
  NodeStat stat;
  // Every block read to resolve the path, root first: directory nodes, HAMT shards on the way,
  // and the target's root block. A trustless gateway sends these to prove the path.
  std::vector<Cid> path_blocks;
};

// Receives file content with the block that holds it: `owner` keeps `data` alive for as long as
// the receiver holds it (raw leaves, and the Data of dag-pb leaves: a view into their block);
// when `owner` is null, `data` is valid during the call only.
using SharedByteSink =
    std::function<Result<void>(ByteSpan data, const std::shared_ptr<const Bytes>& owner)>;
// Receives directory entries; return false to stop early (not an error).
using EntrySink = std::function<Result<bool>(const DirEntry&)>;
// Sees every block the exporter fetches, in fetch order (depth-first, parents before children),
// before it is interpreted. Identity CIDs are not reported (they are not blocks). An error aborts
// the operation and is returned from it. A path-scoped CAR export records the blocks of a
// Resolve, ListDirectory (directory and HAMT shard blocks) or ReadRange (only the blocks that
// cover the range) this way. A block fetched twice (Resolve then ReadRange both read the target's
// root) is reported twice.
using BlockObserver = std::function<Result<void>(const Cid&, ByteSpan)>;

struct ExporterLimits {
  // Deepest file DAG accepted (root = depth 0). Balanced DAGs of 2^64 bytes need fewer than 10
  // levels; trickle DAGs of terabytes stay below 60.
  unsigned max_file_depth = 100;
  // Deepest HAMT accepted, in shard levels below the root shard.
  unsigned max_hamt_depth = 64;
  // Most path segments resolved in one call.
  size_t max_path_segments = 4096;
  // Children of a file node hinted to the getter ahead of the one being read (BlockGetter::
  // Prefetch), among those that overlap the range read only; 0 hints nothing.
  size_t prefetch_window = 32;
};

class Exporter {
 public:
  explicit Exporter(BlockGetter& blocks, ExporterLimits limits = {});

  // Installs (or, with nullptr, removes) the observer. Not thread-safe: set it before use.
  void SetBlockObserver(BlockObserver observer) { observer_ = std::move(observer); }

  // What `cid` is, read from its root block alone (plus the inline checks of that block).
  Result<NodeStat> Stat(const Cid& cid);

  // Follows `path.segments` from `path.root` through plain and sharded directories. A file, raw
  // block or symlink with segments left after it is an error (InvalidArgument for files, since
  // they have no children; NotSupported for symlinks, which are not followed). The last segment
  // may name a symlink: it is returned as such.
  Result<ResolvedPath> Resolve(const ContentPath& path);
  // ParseContentPath then Resolve.
  Result<ResolvedPath> Resolve(std::string_view path_text);

  // Streams the whole file `cid` to `sink`, in order; a sink error stops the read and is returned
  // from it. InvalidArgument when `cid` is not a file.
  Result<void> ReadFile(const Cid& cid, ByteSink& sink);
  // Streams bytes [offset, offset + length) of file `cid`; `length` nullopt or past the end means
  // up to the end. InvalidArgument when offset > file size (offset == size gives no bytes).
  // Fetches only the blocks that overlap the range (and their ancestors).
  Result<void> ReadRange(const Cid& cid, uint64_t offset, std::optional<uint64_t> length,
                         ByteSink& sink);
  // ReadRange that hands out the blocks' own memory where it can (no copy; see SharedByteSink).
  Result<void> ReadRangeShared(const Cid& cid, uint64_t offset, std::optional<uint64_t> length,
                               const SharedByteSink& sink);

  // Calls `sink` for each entry of directory `cid` (plain or sharded), in stored order (HAMT:
  // depth-first in bucket order of the links). Only directory blocks are fetched, never the
  // entries themselves. InvalidArgument when `cid` is not a directory.
  Result<void> ListDirectory(const Cid& cid, const EntrySink& sink);

 private:
  struct Node;
  Result<Node> Load(const Cid& cid);
  Result<NodeStat> StatOf(const Node& node);
  Result<uint64_t> FileNodeSize(const Node& node);
  Result<void> ReadNode(const Node& node, uint64_t expected_size, uint64_t lo, uint64_t hi,
                        unsigned depth, const SharedByteSink& sink);
  Result<bool> ListShard(const Node& node, const HamtParams& params, std::vector<uint32_t>& buckets,
                         const EntrySink& sink);
  Result<std::optional<Cid>> LookupShard(const Node& root, std::string_view name,
                                         std::vector<Cid>& visited);

  BlockGetter& blocks_;
  ExporterLimits limits_;
  BlockObserver observer_;
};

}  // namespace cairn::unixfs
