// Fuzzes the UnixFS Data codec and the exporter over a tiny fuzzed block set. Any input must give
// values or errors — never a crash, a hang or unbounded memory.
//
// The whole input is first decoded as a UnixFS Data message (and a decoded message must survive
// encode → decode unchanged). Then it is read as a block set:
//   [0] block count (1..8)   [1] bit 0: root is raw   [2..5] offset u32 LE  [6..9] length u32 LE
//   then per block: u16 LE length, bytes;   the rest: a path below the root ("a/b").
// Block i answers to every CID whose multihash digest starts with byte i (mod count), whatever
// its codec, and is not verified — so fuzzed links can point anywhere, including at themselves.
// Links look like 01 70 12 20 <i> <31 bytes> (dag-pb) or 01 55 12 20 <i> ... (raw).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "multiformats/multicodec.hpp"
#include "multiformats/multihash.hpp"
#include "unixfs/exporter.hpp"
#include "unixfs/unixfs_pb.hpp"

namespace {

using cairn::Bytes;
using cairn::ByteSpan;
using cairn::Result;
using cairn::multiformats::Cid;
using cairn::multiformats::Multihash;

class FuzzGetter : public cairn::ipld::BlockGetter {
 public:
  Result<Bytes> Get(const Cid& cid) override {
    ByteSpan digest = cid.hash().digest();
    if (blocks.empty() || digest.empty()) {
      return cairn::Err(cairn::ErrorCode::kNotFound, "fuzz: no block");
    }
    return blocks[digest[0] % blocks.size()];
  }
  std::vector<Bytes> blocks;
};

Cid BlockCid(uint64_t codec, uint8_t index) {
  uint8_t digest[32] = {index};
  return Cid::V1(codec, *Multihash::Make(cairn::multiformats::codec::kSha2_256, ByteSpan(digest)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (auto d = cairn::unixfs::DecodeUnixfsData(input)) {
    auto again = cairn::unixfs::DecodeUnixfsData(cairn::unixfs::EncodeUnixfsData(*d));
    CAIRN_CHECK(again && *again == *d);  // our encoding of a valid message reads back the same
  }
  if (size < 10) {
    return 0;
  }
  FuzzGetter getter;
  size_t count = data[0] % 8 + 1;
  bool raw_root = data[1] & 1;
  uint32_t offset = cairn::GetU32Le(data + 2);
  uint32_t length = cairn::GetU32Le(data + 6);
  size_t pos = 10;
  while (getter.blocks.size() < count && pos + 2 <= size) {
    size_t n = data[pos] | (static_cast<size_t>(data[pos + 1]) << 8);
    pos += 2;
    n = std::min(n, size - pos);
    getter.blocks.emplace_back(data + pos, data + pos + n);
    pos += n;
  }
  std::string path(reinterpret_cast<const char*>(data + pos), size - pos);

  namespace mc = cairn::multiformats::codec;
  Cid root = BlockCid(raw_root ? mc::kRaw : mc::kDagPb, 0);
  cairn::unixfs::Exporter exporter(getter);
  (void)exporter.Stat(root);
  // Stop reads after 64 KiB of output: a deduplicated DAG may legitimately describe terabytes.
  uint64_t emitted = 0;
  cairn::FunctionSink sink([&](ByteSpan b) -> Result<void> {
    emitted += b.size();
    if (emitted > 64 * 1024) {
      return cairn::Err(cairn::ErrorCode::kCancelled, "fuzz: enough");
    }
    return cairn::Ok();
  });
  (void)exporter.ReadRange(root, offset % 4096, length % 8192, sink);
  emitted = 0;
  (void)exporter.ReadFile(root, sink);
  size_t entries = 0;
  (void)exporter.ListDirectory(
      root, [&](const cairn::unixfs::DirEntry&) -> Result<bool> { return ++entries < 4096; });
  cairn::unixfs::ContentPath content_path;
  content_path.root = root;
  size_t start = 0;
  while (start <= path.size() && content_path.segments.size() < 16) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    content_path.segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  (void)exporter.Resolve(content_path);
  (void)cairn::unixfs::ParseContentPath(path);
  return 0;
}
