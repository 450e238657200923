// UnixFS importer: chunker, balanced and trickle file layouts, directories and HAMT shards.
#include "unixfs/importer.hpp"

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "common/protobuf.hpp"
#include "ipld/dag_pb.hpp"
#include "multiformats/multihash.hpp"
#include "unixfs/hamt_reader.hpp"

namespace cairn::unixfs {
namespace {

using multiformats::Multihash;
namespace codec = multiformats::codec;

// The largest chunk accepted: a leaf must stay within the 2 MiB block limit peers enforce.
constexpr size_t kMaxChunkSize = 2 * 1024 * 1024;

// Fixed-size chunker with one chunk of look-ahead, so "is there more?" is known before a chunk
// is consumed (the layouts need it to decide the tree shape, as boxo's DagBuilderHelper does).
class Chunker {
 public:
  Chunker(ByteSource& source, size_t chunk_size)
      : source_(source), chunk_size_(chunk_size), cur_(chunk_size), next_(chunk_size) {}

  Result<void> Start() { return Fill(); }
  bool Done() const { return next_len_ == 0; }

  // The next chunk; valid until the following Take(). Only called when !Done().
  Result<ByteSpan> Take() {
    std::swap(cur_, next_);
    const size_t len = next_len_;
    CAIRN_TRY(Fill());
    return ByteSpan(cur_.data(), len);
  }

 private:
  Result<void> Fill() {
    next_len_ = 0;
    while (!eof_ && next_len_ < chunk_size_) {
      const size_t n = CAIRN_TRY(
          source_.Read(MutableByteSpan(next_.data() + next_len_, chunk_size_ - next_len_)));
      if (n == 0) {
        eof_ = true;
      }
      next_len_ += n;
    }
    return Ok();
  }

  ByteSource& source_;
  size_t chunk_size_;
  Bytes cur_;
  Bytes next_;
  size_t next_len_ = 0;
  bool eof_ = false;
};

struct FileLink {
  Cid cid;
  uint64_t tsize;
  uint64_t file_size;
};

// The CID of a block of `codec_code` hashing to `hash` under `options`.
Result<Cid> MakeCid(const ImportOptions& options, uint64_t codec_code, Multihash hash) {
  if (codec_code == codec::kDagPb && options.cid_version == 0) {
    return Cid::V0(std::move(hash));
  }
  return Cid::V1(codec_code, std::move(hash));
}

// The hot-path leaf encoding: a dag-pb node {Data: UnixFS {type, Data (absent when empty),
// filesize}} around `n` bytes of chunk is `head || chunk || tail`. Writes the head ending at
// `head_end` (at most kMaxLeafHead bytes before it) and the tail at `tail`; returns their sizes.
constexpr size_t kMaxLeafHead = 1 + 10 + 2 + 1 + 10;
constexpr size_t kMaxLeafTail = 1 + 10;

struct LeafFraming {
  size_t head;
  size_t tail;
};

LeafFraming FrameLeaf(uint8_t* head_end, uint8_t* tail, DataType type, uint64_t n) {
  size_t inner = 2 + 1 + protobuf::VarintSize(n);  // Type, filesize
  if (n > 0) {
    inner += 1 + protobuf::VarintSize(n) + n;
  }
  uint8_t head[kMaxLeafHead];
  uint8_t* h = head;
  *h++ = 0x0a;
  h = protobuf::EncodeVarint(inner, h);
  *h++ = 0x08;
  *h++ = static_cast<uint8_t>(type);
  if (n > 0) {
    *h++ = 0x12;
    h = protobuf::EncodeVarint(n, h);
  }
  const size_t head_len = static_cast<size_t>(h - head);
  std::memcpy(head_end - head_len, head, head_len);
  uint8_t* t = tail;
  *t++ = 0x18;
  t = protobuf::EncodeVarint(n, t);
  return LeafFraming{head_len, static_cast<size_t>(t - tail)};
}

// Reads a file's chunks and hashes their leaves on up to `threads` threads (helpers plus the
// caller, which works while it would otherwise wait), handing the leaves back to the caller
// strictly in file order. A thread hashes the chunk it has just read, while it is still in its
// cache; reads are made one at a time, in file order. Chunks live in a ring of 2·threads + 2
// slots; a slot is reused only after its leaf was handed out and the following Next() began.
// Helpers start when the file may have a second chunk, so small files cost no thread.
//
// Not thread-safe itself: one caller thread drives it (the helpers are internal).
class LeafPipeline {
 public:
  struct Leaf {
    FileLink link;
    ByteSpan chunk;  // the chunk's bytes
    ByteSpan block;  // the leaf block (the chunk itself for raw leaves)
  };

  LeafPipeline(ByteSource& source, const ImportOptions& options, DataType leaf_type,
               unsigned threads)
      : source_(source),
        options_(options),
        leaf_type_(leaf_type),
        helpers_wanted_(threads - 1),
        slots_(2 * static_cast<size_t>(threads) + 2) {
    for (Slot& s : slots_) {
      s.buf.resize(kMaxLeafHead + options_.chunk_size + kMaxLeafTail);
    }
  }

  ~LeafPipeline() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : helpers_) {
      t.join();
    }
  }

  LeafPipeline(const LeafPipeline&) = delete;
  LeafPipeline& operator=(const LeafPipeline&) = delete;

  // No leaves left: the file is empty or every leaf was handed out. False while a read error
  // is pending (Next() returns it). May read and hash a chunk to find out.
  bool Done() {
    std::unique_lock lock(mu_);
    while (read_ == taken_ && !eof_) {
      if (!Work(lock)) {
        cv_.wait(lock);
      }
    }
    return read_ == taken_ && !error_;
  }

  // The next leaf in file order; its spans stay valid until the following Next(). Only called
  // when !Done().
  Result<Leaf> Next() {
    std::unique_lock lock(mu_);
    if (taken_ > head_) {
      head_ = taken_;  // the previous leaf's slot may be refilled
      cv_.notify_all();
    }
    if (helpers_wanted_ > 0 && (!eof_ || read_ > taken_ + 1)) {
      StartHelpers();
    }
    Slot& slot = slots_[taken_ % slots_.size()];
    while (!(read_ > taken_ && slot.done)) {
      if (error_) {
        return tl::unexpected(*error_);
      }
      CAIRN_CHECK(read_ > taken_ || !eof_);  // callers check Done() first
      if (!Work(lock)) {
        cv_.wait(lock);
      }
    }
    ++taken_;
    if (!slot.result) {
      return tl::unexpected(slot.result.error());
    }
    const ByteSpan chunk(slot.buf.data() + kMaxLeafHead, slot.len);
    const ByteSpan block(slot.buf.data() + slot.block_begin, slot.block_len);
    return Leaf{*slot.result, chunk, block};
  }

 private:
  struct Slot {
    Bytes buf;               // head room, chunk at kMaxLeafHead, tail room
    size_t len = 0;          // chunk bytes
    size_t block_begin = 0;  // the leaf block within buf
    size_t block_len = 0;
    bool done = false;  // guarded by mu_: result and block_* are set
    Result<FileLink> result = Err(ErrorCode::kInternal, "unixfs: leaf not hashed");
  };

  // Reads the next chunk into its slot and hashes it, if reading is possible now (no other read
  // under way, the end not reached, a free slot). Called with `lock` held; releases it while
  // reading and hashing. Returns whether it did anything.
  bool Work(std::unique_lock<std::mutex>& lock) {
    if (reading_ || eof_ || stop_ || read_ - head_ >= slots_.size()) {
      return false;
    }
    reading_ = true;
    const uint64_t seq = read_;
    Slot& slot = slots_[seq % slots_.size()];
    slot.done = false;
    lock.unlock();
    // The slot is this thread's alone until read_ passes it (under mu_).
    uint8_t* data = slot.buf.data() + kMaxLeafHead;
    size_t len = 0;
    bool end = false;
    std::optional<Error> error;
    while (len < options_.chunk_size) {
      Result<size_t> n = source_.Read(MutableByteSpan(data + len, options_.chunk_size - len));
      if (!n) {
        error = std::move(n).error();
        break;
      }
      if (*n == 0) {
        end = true;
        break;
      }
      len += *n;
    }
    lock.lock();
    reading_ = false;
    if (error) {
      error_ = std::move(error);
      eof_ = true;
      cv_.notify_all();
      return true;
    }
    eof_ = end;
    if (len == 0) {
      cv_.notify_all();
      return true;
    }
    slot.len = len;
    ++read_;
    cv_.notify_all();  // the next read may start; Done() may know the answer
    lock.unlock();
    Hash(slot);
    lock.lock();
    slot.done = true;
    cv_.notify_all();
    return true;
  }

  void StartHelpers() {
    for (unsigned i = 0; i < helpers_wanted_; ++i) {
      try {
        helpers_.emplace_back([this] { HelperLoop(); });
      } catch (const std::system_error&) {
        break;  // no more threads: the ones running (and the caller) do the work
      }
    }
    helpers_wanted_ = 0;
  }

  void HelperLoop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (!Work(lock)) {
        cv_.wait(lock);
      }
    }
  }

  // Frames (unless raw) and hashes one chunk. Touches only `slot` and immutable state.
  void Hash(Slot& slot) const {
    uint8_t* data = slot.buf.data() + kMaxLeafHead;
    uint64_t codec_code = codec::kRaw;
    slot.block_begin = kMaxLeafHead;
    slot.block_len = slot.len;
    if (!options_.raw_leaves) {
      const LeafFraming f = FrameLeaf(data, data + slot.len, leaf_type_, slot.len);
      codec_code = codec::kDagPb;
      slot.block_begin = kMaxLeafHead - f.head;
      slot.block_len = f.head + slot.len + f.tail;
    }
    const ByteSpan block(slot.buf.data() + slot.block_begin, slot.block_len);
    slot.result = [&]() -> Result<FileLink> {
      Multihash hash = CAIRN_TRY(Multihash::Sum(options_.hash_code, block));
      Cid cid = CAIRN_TRY(MakeCid(options_, codec_code, std::move(hash)));
      return FileLink{std::move(cid), block.size(), slot.len};
    }();
  }

  ByteSource& source_;
  const ImportOptions& options_;
  const DataType leaf_type_;
  unsigned helpers_wanted_;           // caller's thread only
  std::vector<std::thread> helpers_;  // caller's thread only
  std::vector<Slot> slots_;

  // Sequence numbers: chunks [head_, read_) are in slots, the last of them possibly still being
  // hashed; [taken_, read_) are not handed out yet. head_ and taken_ move only on the caller's
  // thread.
  std::mutex mu_;
  std::condition_variable cv_;  // any change below
  uint64_t head_ = 0;           // guarded by mu_
  uint64_t taken_ = 0;          // guarded by mu_
  uint64_t read_ = 0;           // guarded by mu_
  bool reading_ = false;        // guarded by mu_: a thread is reading chunk read_
  bool eof_ = false;            // guarded by mu_: no more chunks will be read
  std::optional<Error> error_;  // guarded by mu_: a read failed (eof_ is set too)
  bool stop_ = false;           // guarded by mu_
};

// Builds the blocks of one file from a Chunker (leaves hashed here, on the caller's thread) or
// from a LeafPipeline (leaves hashed ahead; stored here, in order).
class FileBuilder {
 public:
  FileBuilder(Chunker& chunker, const ImportOptions& options, ipld::BlockSink& sink)
      : chunker_(&chunker), options_(options), sink_(sink), wants_bytes_(sink.WantsBytes()) {}
  FileBuilder(LeafPipeline& pipeline, const ImportOptions& options, ipld::BlockSink& sink)
      : pipeline_(&pipeline), options_(options), sink_(sink), wants_bytes_(sink.WantsBytes()) {}

  Result<Cid> Store(uint64_t codec_code, ByteSpan block) {
    Multihash hash = CAIRN_TRY(Multihash::Sum(options_.hash_code, block));
    Cid cid = CAIRN_TRY(MakeCid(options_, codec_code, std::move(hash)));
    CAIRN_TRY(sink_.Put(cid, block));
    return cid;
  }

  // Leaves reach the sink only if it wants bytes (internal nodes always do), on every path.
  Result<Cid> StoreLeaf(uint64_t codec_code, ByteSpan block) {
    if (wants_bytes_) {
      return Store(codec_code, block);
    }
    Multihash hash = CAIRN_TRY(Multihash::Sum(options_.hash_code, block));
    return MakeCid(options_, codec_code, std::move(hash));
  }

  bool Done() const { return pipeline_ != nullptr ? pipeline_->Done() : chunker_->Done(); }

  // A leaf holding `data`: a raw block, or a dag-pb node with UnixFS {type, Data, filesize}.
  Result<FileLink> Leaf(ByteSpan data, DataType type, const EntryMeta* meta) {
    if (options_.raw_leaves && meta == nullptr) {
      Cid cid = CAIRN_TRY(StoreLeaf(codec::kRaw, data));
      return FileLink{std::move(cid), data.size(), data.size()};
    }
    if (meta != nullptr && !meta->empty()) {
      // Rare path (metadata on a one-chunk file): use the general encoders.
      UnixfsData u;
      u.type = type;
      if (!data.empty()) {
        u.data = Bytes(data.begin(), data.end());
      }
      u.filesize = data.size();
      u.mode = meta->mode;
      u.mtime = meta->mtime;
      ipld::PbNode node;
      node.data = EncodeUnixfsData(u);
      const Bytes block = ipld::EncodeDagPb(node);
      Cid cid = CAIRN_TRY(Store(codec::kDagPb, block));
      return FileLink{std::move(cid), block.size(), data.size()};
    }
    // Hand-encoded hot path, byte-identical to EncodeDagPb({Data: EncodeUnixfsData(
    // {type, data (absent when empty), filesize}))}) and checked against it in the tests.
    const uint64_t n = data.size();
    uint8_t head[kMaxLeafHead];
    uint8_t tail[kMaxLeafTail];
    const LeafFraming f = FrameLeaf(head + kMaxLeafHead, tail, type, n);
    const ByteSpan head_span(head + kMaxLeafHead - f.head, f.head);
    const ByteSpan tail_span(tail, f.tail);
    const size_t total = f.head + n + f.tail;
    if (!wants_bytes_ && options_.hash_code == codec::kSha2_256) {
      // Hash-only: header, chunk and trailer hashed in place, without assembling the block.
      multiformats::Sha256Hasher hasher;
      hasher.Update(head_span);
      hasher.Update(data);
      hasher.Update(tail_span);
      const auto digest = hasher.Finish();
      Multihash hash = CAIRN_TRY(Multihash::Make(codec::kSha2_256, digest));
      Cid cid = CAIRN_TRY(MakeCid(options_, codec::kDagPb, std::move(hash)));
      return FileLink{std::move(cid), total, n};
    }
    if (leaf_buf_.size() < total) {
      leaf_buf_.resize(total);
    }
    uint8_t* p = leaf_buf_.data();
    std::memcpy(p, head_span.data(), f.head);
    p += f.head;
    if (n > 0) {
      std::memcpy(p, data.data(), n);
      p += n;
    }
    std::memcpy(p, tail_span.data(), f.tail);
    const ByteSpan block(leaf_buf_.data(), total);
    Cid cid = CAIRN_TRY(StoreLeaf(codec::kDagPb, block));
    return FileLink{std::move(cid), total, n};
  }

  // The next chunk's leaf, stored.
  Result<FileLink> NextLeaf(DataType type) {
    if (pipeline_ == nullptr) {
      ByteSpan chunk = CAIRN_TRY(chunker_->Take());
      return Leaf(chunk, type, nullptr);
    }
    LeafPipeline::Leaf leaf = CAIRN_TRY(pipeline_->Next());
    return StorePrepared(leaf);
  }

  // The first chunk's leaf; when it is the file's only chunk, `root_meta` goes into it.
  Result<FileLink> FirstLeaf(const EntryMeta* root_meta) {
    if (pipeline_ == nullptr) {
      ByteSpan first = CAIRN_TRY(chunker_->Take());
      return Leaf(first, DataType::kFile, chunker_->Done() ? root_meta : nullptr);
    }
    LeafPipeline::Leaf leaf = CAIRN_TRY(pipeline_->Next());
    if (root_meta != nullptr && pipeline_->Done()) {
      return Leaf(leaf.chunk, DataType::kFile, root_meta);  // the prepared leaf has no metadata
    }
    return StorePrepared(leaf);
  }

  Result<FileLink> StorePrepared(LeafPipeline::Leaf& leaf) {
    if (wants_bytes_) {
      CAIRN_TRY(sink_.Put(leaf.link.cid, leaf.block));
    }
    return std::move(leaf.link);
  }

  // An internal file node over `children` (UnixFS File with filesize and blocksizes).
  Result<FileLink> Internal(const std::vector<FileLink>& children, const EntryMeta* meta) {
    UnixfsData u;
    u.type = DataType::kFile;
    uint64_t file_size = 0;
    uint64_t tsize = 0;
    u.blocksizes.reserve(children.size());
    ipld::PbNode node;
    node.links.reserve(children.size());
    for (const FileLink& c : children) {
      file_size += c.file_size;
      tsize += c.tsize;
      u.blocksizes.push_back(c.file_size);
      node.links.push_back(ipld::PbLink{c.cid, std::string(), c.tsize});
    }
    u.filesize = file_size;
    if (meta != nullptr) {
      u.mode = meta->mode;
      u.mtime = meta->mtime;
    }
    node.data = EncodeUnixfsData(u);
    const Bytes block = ipld::EncodeDagPb(node);
    Cid cid = CAIRN_TRY(Store(codec::kDagPb, block));
    return FileLink{std::move(cid), tsize + block.size(), file_size};
  }

  // boxo balanced layout: grow the root one level at a time, filling each new level's subtree
  // left to right before the next.
  Result<FileLink> Balanced(const EntryMeta& meta) {
    const EntryMeta* root_meta = meta.empty() ? nullptr : &meta;
    if (Done()) {
      return Leaf({}, DataType::kFile, root_meta);
    }
    FileLink root = CAIRN_TRY(FirstLeaf(root_meta));
    for (unsigned depth = 1; !Done(); ++depth) {
      std::vector<FileLink> children;
      children.push_back(std::move(root));
      CAIRN_TRY(FillBalanced(children, depth));
      root = CAIRN_TRY(Internal(children, Done() ? root_meta : nullptr));
    }
    return root;
  }

  Result<void> FillBalanced(std::vector<FileLink>& children, unsigned depth) {
    while (children.size() < options_.max_links && !Done()) {
      if (depth == 1) {
        children.push_back(CAIRN_TRY(NextLeaf(DataType::kFile)));
      } else {
        std::vector<FileLink> sub;
        CAIRN_TRY(FillBalanced(sub, depth - 1));
        children.push_back(CAIRN_TRY(Internal(sub, nullptr)));
      }
    }
    return Ok();
  }

  // boxo trickle layout: a layer of up to max_links leaves, then for depth 1, 2, ... (below
  // `max_depth`, unbounded at the root) up to kTrickleRepeat subtrees of that depth.
  Result<void> FillTrickle(std::vector<FileLink>& children, int max_depth) {
    while (children.size() < options_.max_links && !Done()) {
      children.push_back(CAIRN_TRY(NextLeaf(DataType::kRaw)));
    }
    for (int depth = 1; max_depth < 0 || depth < max_depth; ++depth) {
      if (Done()) {
        break;
      }
      for (int r = 0; r < kTrickleRepeat && !Done(); ++r) {
        std::vector<FileLink> sub;
        CAIRN_TRY(FillTrickle(sub, depth));
        children.push_back(CAIRN_TRY(Internal(sub, nullptr)));
      }
    }
    return Ok();
  }

  Result<FileLink> Trickle(const EntryMeta& meta) {
    std::vector<FileLink> children;
    CAIRN_TRY(FillTrickle(children, -1));
    return Internal(children, meta.empty() ? nullptr : &meta);
  }

 private:
  static constexpr int kTrickleRepeat = 4;

  Chunker* chunker_ = nullptr;  // exactly one of chunker_ and pipeline_ is set
  LeafPipeline* pipeline_ = nullptr;
  const ImportOptions& options_;
  ipld::BlockSink& sink_;
  const bool wants_bytes_;
  Bytes leaf_buf_;
};

Result<Cid> StoreNode(const ImportOptions& options, ipld::BlockSink& sink, ByteSpan block) {
  Multihash hash = CAIRN_TRY(Multihash::Sum(options.hash_code, block));
  Cid cid = CAIRN_TRY(MakeCid(options, codec::kDagPb, std::move(hash)));
  CAIRN_TRY(sink.Put(cid, block));
  return cid;
}

void ApplyMeta(UnixfsData& u, const EntryMeta& meta) {
  u.mode = meta.mode;
  u.mtime = meta.mtime;
}

std::string HexPrefix(uint32_t index, size_t width) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(width, '0');
  for (size_t i = 0; i < width; ++i) {
    out[width - 1 - i] = kHex[(index >> (4 * i)) & 0xf];
  }
  return out;
}

}  // namespace

Result<ImportOptions> ImportOptions::FromProfile(std::string_view name) {
  ImportOptions o;
  if (name == "unixfs-v0-2015") {
    return o;
  }
  if (name == "unixfs-v1-2025") {
    o.cid_version = 1;
    o.raw_leaves = true;
    o.chunk_size = 1024 * 1024;
    o.max_links = 1024;
    o.hamt_estimate = HamtSizeEstimate::kBlockBytes;
    return o;
  }
  return Err(ErrorCode::kInvalidArgument, "unixfs: unknown profile '" + std::string(name) +
                                              "' (known: unixfs-v0-2015, unixfs-v1-2025)");
}

Result<void> ImportOptions::Validate() const {
  if (cid_version != 0 && cid_version != 1) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: CID version must be 0 or 1, not " + std::to_string(cid_version));
  }
  if (cid_version == 0 && hash_code != codec::kSha2_256) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: CIDv0 only supports sha2-256");
  }
  if (!Multihash::CanCompute(hash_code) || hash_code == codec::kIdentity) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: hash function 0x" + std::to_string(hash_code) + " cannot be computed");
  }
  if (chunk_size == 0 || chunk_size > kMaxChunkSize) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: chunk size must be 1.." +
                                                std::to_string(kMaxChunkSize) + " bytes, not " +
                                                std::to_string(chunk_size));
  }
  if (max_links < 2) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: max links per file node must be at least 2");
  }
  if (threads > kMaxImportThreads) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: at most " + std::to_string(kMaxImportThreads) +
                                                " import threads, not " + std::to_string(threads));
  }
  if (!std::has_single_bit(hamt_fanout) || hamt_fanout < 8 || hamt_fanout > kMaxHamtFanout) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: HAMT fanout must be a power of two in 8..1024, not " +
                   std::to_string(hamt_fanout));
  }
  return Ok();
}

Result<size_t> ParseChunker(std::string_view spec) {
  if (spec == "default") {
    return size_t{256 * 1024};
  }
  constexpr std::string_view kSize = "size-";
  if (spec.substr(0, kSize.size()) != kSize || spec.size() == kSize.size() ||
      spec.size() > kSize.size() + 9) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: unsupported chunker '" + std::string(spec) + "' (use size-N)");
  }
  uint64_t n = 0;
  for (char c : spec.substr(kSize.size())) {
    if (c < '0' || c > '9') {
      return Err(ErrorCode::kInvalidArgument,
                 "unixfs: bad chunk size in chunker '" + std::string(spec) + "'");
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n == 0 || n > kMaxChunkSize) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: chunk size in '" + std::string(spec) +
                                                "' must be 1.." + std::to_string(kMaxChunkSize));
  }
  return static_cast<size_t>(n);
}

Result<ImportOptions> ResolveAddFlags(const AddFlags& flags) {
  ImportOptions o = CAIRN_TRY(ImportOptions::FromProfile(flags.profile.value_or("unixfs-v0-2015")));
  bool raw_leaves_set = flags.profile.has_value() && o.raw_leaves;
  if (flags.hash) {
    if (*flags.hash == "sha2-256") {
      o.hash_code = codec::kSha2_256;
    } else if (*flags.hash == "sha2-512") {
      o.hash_code = codec::kSha2_512;
    } else if (*flags.hash == "blake2b-256") {
      o.hash_code = codec::kBlake2b256;
    } else {
      return Err(ErrorCode::kInvalidArgument, "unixfs: --hash: unsupported hash '" + *flags.hash +
                                                  "' (supported: sha2-256, sha2-512, blake2b-256)");
    }
  }
  if (flags.cid_version) {
    if (*flags.cid_version != 0 && *flags.cid_version != 1) {
      return Err(ErrorCode::kInvalidArgument,
                 "unixfs: --cid-version must be 0 or 1, not " + std::to_string(*flags.cid_version));
    }
    o.cid_version = *flags.cid_version;
  }
  if (o.hash_code != codec::kSha2_256 && o.cid_version == 0) {
    if (flags.cid_version) {
      return Err(ErrorCode::kInvalidArgument,
                 "unixfs: --cid-version=0 only supports --hash=sha2-256");
    }
    o.cid_version = 1;
  }
  if (flags.raw_leaves) {
    o.raw_leaves = *flags.raw_leaves;
    raw_leaves_set = true;
  }
  if (o.cid_version == 1 && !raw_leaves_set) {
    o.raw_leaves = true;
  }
  if (flags.chunker) {
    o.chunk_size = CAIRN_TRY(ParseChunker(*flags.chunker));
  }
  if (flags.trickle) {
    o.layout = Layout::kTrickle;
  }
  if (flags.max_file_links) {
    if (*flags.max_file_links < 2 || *flags.max_file_links > 65536) {
      return Err(ErrorCode::kInvalidArgument, "unixfs: --max-file-links must be 2..65536, not " +
                                                  std::to_string(*flags.max_file_links));
    }
    o.max_links = static_cast<size_t>(*flags.max_file_links);
  }
  CAIRN_TRY(o.Validate());
  return o;
}

Result<ImportedNode> ImportFile(ByteSource& source, const ImportOptions& options,
                                ipld::BlockSink& sink, const EntryMeta& meta) {
  CAIRN_TRY(options.Validate());
  unsigned threads = options.threads;
  if (threads == 0) {
    threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxImportThreads);
  }
  auto build = [&](FileBuilder& builder) -> Result<ImportedNode> {
    FileLink root = options.layout == Layout::kTrickle ? CAIRN_TRY(builder.Trickle(meta))
                                                       : CAIRN_TRY(builder.Balanced(meta));
    return ImportedNode{std::move(root.cid), root.tsize, root.file_size};
  };
  if (threads == 1) {
    Chunker chunker(source, options.chunk_size);
    CAIRN_TRY(chunker.Start());
    FileBuilder builder(chunker, options, sink);
    return build(builder);
  }
  // Balanced leaves are UnixFS File nodes, trickle leaves Raw nodes (when not raw blocks).
  const DataType leaf_type = options.layout == Layout::kTrickle ? DataType::kRaw : DataType::kFile;
  LeafPipeline pipeline(source, options, leaf_type, threads);
  FileBuilder builder(pipeline, options, sink);
  return build(builder);
}

Result<ImportedNode> ImportSymlink(std::string_view target, const ImportOptions& options,
                                   ipld::BlockSink& sink, const EntryMeta& meta) {
  CAIRN_TRY(options.Validate());
  UnixfsData u;
  u.type = DataType::kSymlink;
  u.data = ToBytes(target);
  ApplyMeta(u, meta);
  ipld::PbNode node;
  node.data = EncodeUnixfsData(u);
  const Bytes block = ipld::EncodeDagPb(node);
  Cid cid = CAIRN_TRY(StoreNode(options, sink, block));
  return ImportedNode{std::move(cid), block.size(), 0};
}

DirectoryBuilder::DirectoryBuilder(const ImportOptions& options, ipld::BlockSink& sink,
                                   EntryMeta meta)
    : options_(options), sink_(sink), meta_(meta) {}

Result<void> DirectoryBuilder::Add(std::string name, const ImportedNode& child) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: invalid directory entry name '" + name + "'");
  }
  // Duplicates are found by Finish() after sorting (a check here would be quadratic).
  entries_.push_back(Entry{std::move(name), child.cid, child.tsize});
  return Ok();
}

Result<ImportedNode> DirectoryBuilder::Finish() {
  CAIRN_TRY(options_.Validate());
  std::vector<Entry> entries = std::move(entries_);
  entries_.clear();
  // dag-pb sorts links by name bytes (std::string compares as unsigned char).
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].name == entries[i - 1].name) {
      return Err(ErrorCode::kInvalidArgument,
                 "unixfs: duplicate directory entry '" + entries[i].name + "'");
    }
  }

  UnixfsData u;
  u.type = DataType::kDirectory;
  ApplyMeta(u, meta_);
  ipld::PbNode node;
  node.data = EncodeUnixfsData(u);
  node.links.reserve(entries.size());
  uint64_t links_bytes = 0;
  uint64_t tsize = 0;
  for (const Entry& e : entries) {
    links_bytes += e.name.size() + e.cid.ToBytes().size();
    tsize += e.tsize;
    node.links.push_back(ipld::PbLink{e.cid, e.name, e.tsize});
  }
  const uint64_t estimate = options_.hamt_estimate == HamtSizeEstimate::kLinksBytes
                                ? links_bytes
                                : ipld::EncodedDagPbSize(node);
  if (options_.hamt_threshold == 0 || estimate <= options_.hamt_threshold) {
    const Bytes block = ipld::EncodeDagPb(node);
    Cid cid = CAIRN_TRY(StoreNode(options_, sink_, block));
    return ImportedNode{std::move(cid), tsize + block.size(), 0};
  }
  node.links.clear();
  node.links.shrink_to_fit();
  std::vector<const Entry*> ptrs;
  ptrs.reserve(entries.size());
  for (const Entry& e : entries) {
    ptrs.push_back(&e);
  }
  return BuildShard(ptrs, 0);
}

// One shard node at `depth`: each entry goes to the bucket its name's hash selects at this
// depth; a bucket with one entry links to it as "<XX><name>", a bucket with several links to a
// sub-shard as "<XX>". Insert-only HAMTs have this one canonical shape, whatever the order.
Result<ImportedNode> DirectoryBuilder::BuildShard(std::vector<const Entry*>& entries,
                                                  unsigned depth) {
  const unsigned bits = static_cast<unsigned>(std::countr_zero(options_.hamt_fanout));
  const size_t width = (bits + 3) / 4;
  if (depth * bits >= 64) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: HAMT names collide in all 64 hash bits (Kubo cannot shard them)");
  }
  struct Placed {
    uint32_t bucket;
    const Entry* entry;
  };
  std::vector<Placed> placed;
  placed.reserve(entries.size());
  for (const Entry* e : entries) {
    HamtHashBits hash_bits(e->name, bits);
    uint32_t bucket = 0;
    for (unsigned level = 0; level <= depth; ++level) {
      bucket = hash_bits.Next();
    }
    placed.push_back(Placed{bucket, e});
  }
  std::stable_sort(placed.begin(), placed.end(),
                   [](const Placed& a, const Placed& b) { return a.bucket < b.bucket; });

  ipld::PbNode node;
  Bytes bitfield(options_.hamt_fanout / 8, 0);
  uint64_t tsize = 0;
  for (size_t i = 0; i < placed.size();) {
    size_t j = i + 1;
    while (j < placed.size() && placed[j].bucket == placed[i].bucket) {
      ++j;
    }
    const uint32_t bucket = placed[i].bucket;
    bitfield[bitfield.size() - 1 - bucket / 8] |= static_cast<uint8_t>(1u << (bucket % 8));
    std::string prefix = HexPrefix(bucket, width);
    if (j - i == 1) {
      const Entry* e = placed[i].entry;
      node.links.push_back(ipld::PbLink{e->cid, prefix + e->name, e->tsize});
      tsize += e->tsize;
    } else {
      std::vector<const Entry*> sub;
      sub.reserve(j - i);
      for (size_t k = i; k < j; ++k) {
        sub.push_back(placed[k].entry);
      }
      ImportedNode child = CAIRN_TRY(BuildShard(sub, depth + 1));
      node.links.push_back(ipld::PbLink{std::move(child.cid), std::move(prefix), child.tsize});
      tsize += child.tsize;
    }
    i = j;
  }
  // The bitfield is written big-endian without leading zero bytes (boxo's go-bitfield Bytes()
  // and js sparse-array both trim them).
  size_t first = 0;
  while (first < bitfield.size() && bitfield[first] == 0) {
    ++first;
  }
  UnixfsData u;
  u.type = DataType::kHamtShard;
  u.data = Bytes(bitfield.begin() + static_cast<std::ptrdiff_t>(first), bitfield.end());
  u.hash_type = kHamtHashMurmur3;
  u.fanout = options_.hamt_fanout;
  if (depth == 0) {
    ApplyMeta(u, meta_);
  }
  node.data = EncodeUnixfsData(u);
  const Bytes block = ipld::EncodeDagPb(node);
  Cid cid = CAIRN_TRY(StoreNode(options_, sink_, block));
  return ImportedNode{std::move(cid), tsize + block.size(), 0};
}

}  // namespace cairn::unixfs
