// The UnixFS importer (../shared/specs/ipfs/unixfs.md; profiles from ipip-0499.md): turns byte
// streams, symlinks and directory entries into UnixFS DAGs whose root CIDs equal Kubo's
// `ipfs add` for the same parameters.
//
// Files stream through a fixed-size chunker in constant memory (one chunk of look-ahead plus, per
// tree level, the links of the node being filled). Layouts: balanced (Kubo default: leaves packed
// left to right under nodes of at most `max_links` children, depth grown as needed; a file of one
// chunk is that chunk's leaf) and trickle (Kubo's: a layer of leaves, then up to 4 subtrees of
// each growing depth; leaves are UnixFS `Raw`-type when not raw blocks; the root is always an
// internal node). Directories are plain dag-pb directories with links sorted by name bytes, or
// HAMT shards (murmur3-x64-64, hash type 0x22) once their estimated size exceeds the threshold
// (`>`; "links-bytes" = sum of name and CID byte lengths, or "block-bytes" = encoded node size).
//
// Pure: bytes come from a ByteSource and blocks go to a ipld::BlockSink; no I/O of its own.
//
// Threads: ImportFile reads and hashes a file's leaves on `ImportOptions::threads` threads (the
// caller's plus helpers started once the file may have a second chunk; each hashes the chunk it
// has just read) while the caller's thread builds the tree. At most 2·threads + 2 chunks are in
// flight, so memory stays constant in the file size. The source is read one call at a time, in
// order, but possibly on a helper thread; the sink is used only on the caller's thread, in block
// order. Neither needs to be thread-safe, and every thread count gives the same blocks in the
// same order. When an import fails, it returns once a read under way on a helper has returned.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"
#include "unixfs/unixfs_pb.hpp"

namespace cairn::unixfs {

using multiformats::Cid;

// The importer reads the common byte seam (common/io.hpp) and writes the IPLD block seam
// (ipld/blocks.hpp).
//
// What the importer adds to those contracts: a source's calls never overlap and come in order,
// but with ImportOptions::threads other than 1 they may come on the importer's helper threads.
// A sink's Put and WantsBytes are called only on the thread that called the import function, in
// the order the blocks are built, whatever the thread count: a sink need not be thread-safe.
// A source's or sink's error ends the import and is returned by it unchanged. With a sink that
// does not want bytes, the leaf blocks of files are hashed in pieces and not Put (other blocks
// are).

enum class Layout { kBalanced, kTrickle };

// How a plain directory's size is estimated against the HAMT threshold (ipip-0499).
enum class HamtSizeEstimate {
  kLinksBytes,  // sum of link Name and Hash byte lengths (unixfs-v0-2015, Kubo)
  kBlockBytes,  // the encoded dag-pb node size (unixfs-v1-2025)
};

struct ImportOptions {
  int cid_version = 0;
  bool raw_leaves = false;
  uint64_t hash_code = multiformats::codec::kSha2_256;
  size_t chunk_size = 256 * 1024;
  size_t max_links = 174;
  Layout layout = Layout::kBalanced;
  // A directory becomes a HAMT when its estimate is strictly greater than this; 0 = never.
  uint64_t hamt_threshold = 256 * 1024;
  HamtSizeEstimate hamt_estimate = HamtSizeEstimate::kLinksBytes;
  uint32_t hamt_fanout = 256;
  // Threads hashing a file's leaves: 0 = one per hardware thread (at most kMaxImportThreads),
  // 1 = everything on the caller's thread. Never changes the result, only the speed.
  unsigned threads = 0;

  // Kubo's defaults, = unixfs-v0-2015: CIDv0, dag-pb leaves, 256 KiB chunks, 174 links.
  static ImportOptions KuboDefaults() { return ImportOptions{}; }
  // "unixfs-v0-2015" or "unixfs-v1-2025" (CIDv1, raw leaves, 1 MiB chunks, 1024 links,
  // block-bytes HAMT estimate). InvalidArgument for other names.
  static Result<ImportOptions> FromProfile(std::string_view name);
  // InvalidArgument when a value cannot work: CIDv0 with a hash other than sha2-256, a hash
  // Cairn cannot compute, chunk size 0 or above 2 MiB, fewer than 2 links, a fanout that is not
  // a power of two in 8..1024, more than kMaxImportThreads threads.
  Result<void> Validate() const;
};

// Beyond this the caller's one reading thread, not hashing, is the limit.
inline constexpr unsigned kMaxImportThreads = 16;

// `ipfs add` flags as Kubo interprets them, for the CLI and the Kubo RPC `/api/v0/add`.
struct AddFlags {
  std::optional<std::string> profile;      // --profile: unixfs-v0-2015 (default), unixfs-v1-2025
  std::optional<int> cid_version;          // --cid-version
  std::optional<bool> raw_leaves;          // --raw-leaves[=bool]
  std::optional<std::string> chunker;      // --chunker=size-N
  bool trickle = false;                    // --trickle
  std::optional<uint64_t> max_file_links;  // --max-file-links
  std::optional<std::string> hash;         // --hash: sha2-256, sha2-512, blake2b-256
};

// Resolves flags over the profile with Kubo's rules: a hash other than sha2-256 implies CIDv1
// (an explicit --cid-version=0 with it is an error); CIDv1 implies raw leaves unless
// --raw-leaves was given. InvalidArgument with the flag's name for bad values.
Result<ImportOptions> ResolveAddFlags(const AddFlags& flags);

// Parses a chunker spec: "size-N" (N bytes); "default" is 256 KiB. Others: InvalidArgument.
Result<size_t> ParseChunker(std::string_view spec);

// Optional POSIX metadata stored in an entry's root node (UnixFS 1.5 mode and mtime).
struct EntryMeta {
  std::optional<uint32_t> mode;
  std::optional<UnixTime> mtime;
  bool empty() const { return !mode && !mtime; }
};

// The root of an imported entry, as a parent directory links to it.
struct ImportedNode {
  Cid cid;
  // Cumulative size: the root block plus every block below it, counting shared blocks once per
  // link (dag-pb Tsize; what `ipfs add` prints as Size).
  uint64_t tsize = 0;
  // File content size (0 for directories and symlinks).
  uint64_t file_size = 0;
};

// Imports the bytes of `source` as a UnixFS file. With metadata, a file that would be a single
// raw leaf becomes a dag-pb file node (a raw block has nowhere to keep it).
Result<ImportedNode> ImportFile(ByteSource& source, const ImportOptions& options,
                                ipld::BlockSink& sink, const EntryMeta& meta = {});

// Imports a symlink pointing at `target`.
Result<ImportedNode> ImportSymlink(std::string_view target, const ImportOptions& options,
                                   ipld::BlockSink& sink, const EntryMeta& meta = {});

// Builds one directory from its already-imported entries. Memory grows with the number of
// entries (names and CIDs), never with their contents.
class DirectoryBuilder {
 public:
  DirectoryBuilder(const ImportOptions& options, ipld::BlockSink& sink, EntryMeta meta = {});

  // Adds an entry. InvalidArgument for an empty name, a name with '/' or a NUL, "." or "..",
  // Duplicate names are reported by Finish().
  Result<void> Add(std::string name, const ImportedNode& child);
  size_t size() const { return entries_.size(); }
  // Writes the directory (plain, or a HAMT when over the threshold) and returns its root.
  // The builder is empty afterwards.
  Result<ImportedNode> Finish();

 private:
  struct Entry {
    std::string name;
    Cid cid;
    uint64_t tsize;
  };
  Result<ImportedNode> BuildShard(std::vector<const Entry*>& entries, unsigned depth);

  ImportOptions options_;
  ipld::BlockSink& sink_;
  EntryMeta meta_;
  std::vector<Entry> entries_;
};

}  // namespace cairn::unixfs
