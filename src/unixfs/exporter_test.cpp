#include "unixfs/exporter.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"
#include "unixfs/hamt_reader.hpp"

namespace cairn::unixfs {
namespace {

namespace codec = multiformats::codec;
using ipld::PbLink;
using ipld::PbNode;

// An in-memory getter that counts fetches. Put() computes real CIDs; PutAt() stores arbitrary
// bytes under a chosen CID, to build what verified stores never hold (cycles).
class MemoryGetter : public BlockGetter {
 public:
  Result<Bytes> Get(const Cid& cid) override {
    ++fetches;
    auto it = blocks_.find(cid.hash());
    if (it == blocks_.end()) {
      return Err(ErrorCode::kNotFound, "test: no block " + cid.ToString());
    }
    return it->second;
  }
  Cid Put(uint64_t codec_code, ByteSpan bytes) {
    Cid cid = *Cid::Compute(1, codec_code, codec::kSha2_256, bytes);
    blocks_[cid.hash()] = Bytes(bytes.begin(), bytes.end());
    return cid;
  }
  void PutAt(const Cid& cid, Bytes bytes) { blocks_[cid.hash()] = std::move(bytes); }
  void Prefetch(std::span<const Cid> cids) override {
    hints.emplace_back(cids.begin(), cids.end());
  }
  std::vector<std::vector<Cid>> hints;  // every Prefetch call
  void Remove(const Cid& cid) { blocks_.erase(cid.hash()); }

  size_t fetches = 0;

 private:
  std::map<multiformats::Multihash, Bytes> blocks_;
};

Bytes Pattern(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return out;
}

PbNode FileNode(std::optional<Bytes> data, const std::vector<std::pair<Cid, uint64_t>>& children,
                std::optional<uint64_t> filesize_override = std::nullopt) {
  UnixfsData fs;
  fs.type = DataType::kFile;
  uint64_t total = data ? data->size() : 0;
  fs.data = std::move(data);
  PbNode node;
  for (const auto& [cid, size] : children) {
    fs.blocksizes.push_back(size);
    total += size;
    node.links.push_back(PbLink{cid, std::nullopt, size});
  }
  fs.filesize = filesize_override ? *filesize_override : total;
  node.data = EncodeUnixfsData(fs);
  return node;
}

Cid PutNode(MemoryGetter& g, const PbNode& node) {
  return g.Put(codec::kDagPb, ipld::EncodeDagPb(node));
}

PbNode DirNode(const std::vector<std::pair<std::string, Cid>>& entries) {
  UnixfsData fs;
  fs.type = DataType::kDirectory;
  PbNode node;
  node.data = EncodeUnixfsData(fs);
  for (const auto& [name, cid] : entries) {
    node.links.push_back(PbLink{cid, name, 10});
  }
  return node;
}

// Builds a balanced file DAG over `content`: leaves of `chunk` bytes (raw blocks, or dag-pb File
// leaves when `pb_leaves`), parents of at most `fanout` children.
Cid BuildFile(MemoryGetter& g, ByteSpan content, size_t chunk, size_t fanout, bool pb_leaves) {
  std::vector<std::pair<Cid, uint64_t>> level;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t n = std::min(chunk, content.size() - pos);
    ByteSpan part = content.subspan(pos, n);
    if (pb_leaves) {
      level.emplace_back(PutNode(g, FileNode(Bytes(part.begin(), part.end()), {})), n);
    } else {
      level.emplace_back(g.Put(codec::kRaw, part), n);
    }
    pos += n;
  }
  while (level.size() > 1) {
    std::vector<std::pair<Cid, uint64_t>> up;
    for (size_t i = 0; i < level.size(); i += fanout) {
      std::vector<std::pair<Cid, uint64_t>> kids(
          level.begin() + i, level.begin() + std::min(level.size(), i + fanout));
      uint64_t size = 0;
      for (auto& k : kids) size += k.second;
      up.emplace_back(PutNode(g, FileNode(std::nullopt, kids)), size);
    }
    level = std::move(up);
  }
  return level.empty() ? PutNode(g, FileNode(std::nullopt, {})) : level[0].first;
}

Result<Bytes> ReadAll(Exporter& ex, const Cid& cid, uint64_t offset = 0,
                      std::optional<uint64_t> length = std::nullopt) {
  Bytes out;
  BytesSink sink(out);
  CAIRN_TRY(ex.ReadRange(cid, offset, length, sink));
  return out;
}

std::vector<DirEntry> ListAll(Exporter& ex, const Cid& cid) {
  std::vector<DirEntry> out;
  auto r = ex.ListDirectory(cid, [&](const DirEntry& e) -> Result<bool> {
    out.push_back(e);
    return true;
  });
  EXPECT_TRUE(r) << r.error().ToString();
  return out;
}

// ---------------------------------------------------------------------------------------------
// murmur3 and bucket order

TEST(Murmur3, MatchesReferenceValues) {
  // Values from @multiformats/murmur3 (murmur3-128 digest = h1‖h2, big-endian each).
  EXPECT_EQ(Murmur3X64_128(AsBytes("")).h1, 0u);
  EXPECT_EQ(Murmur3X64_128(AsBytes("")).h2, 0u);
  auto hello = Murmur3X64_128(AsBytes("hello"));
  EXPECT_EQ(hello.h1, 0xcbd8a7b341bd9b02ULL);
  EXPECT_EQ(hello.h2, 0x5b1e906a48ae1d19ULL);
  EXPECT_EQ(Murmur3X64_128(AsBytes("The quick brown fox jumps over the lazy dog")).h1,
            0xe34bbc7bbc071b6cULL);
  EXPECT_EQ(Murmur3X64_128(AsBytes("abcdefghijklmnopq")).h1, 0x7564747f88bda657ULL);
  EXPECT_EQ(Murmur3X64_128(AsBytes("file-0001.txt")).h1, 0xc6b80999e8fbb598ULL);
}

TEST(HamtHashBits, FollowsTheSpecExampleFor470Txt) {
  // unixfs.md: "470.txt" sits in root bucket 00, then 6E in the sub-shard.
  HamtHashBits bits("470.txt", 8);
  EXPECT_EQ(bits.Next(), 0x00u);
  EXPECT_EQ(bits.Next(), 0x6eu);
  EXPECT_EQ(bits.Next(), 0x88u);
}

TEST(HamtHashBits, SplitsBytesMostSignificantBitsFirstForSmallFanouts) {
  // h1("hello") = 0xcbd8...: 4-bit buckets c, b, d, 8.
  HamtHashBits bits("hello", 4);
  EXPECT_EQ(bits.Next(), 0xcu);
  EXPECT_EQ(bits.Next(), 0xbu);
  EXPECT_EQ(bits.Next(), 0xdu);
  EXPECT_EQ(bits.Next(), 0x8u);
}

TEST(HamtHashBits, ContinuesPastSixtyFourBitsByRehashing) {
  HamtHashBits bits("hello", 8);
  for (int i = 0; i < 8; ++i) bits.Next();
  Bytes extended = ToBytes("hello");
  extended.push_back(1);
  uint64_t h1 = Murmur3X64_128(extended).h1;
  EXPECT_EQ(bits.Next(), static_cast<uint32_t>(h1 >> 56));
}

TEST(HamtParams, RejectsBadShardParameters) {
  UnixfsData fs;
  fs.type = DataType::kHamtShard;
  fs.hash_type = 0x22;
  fs.fanout = 256;
  auto ok = CheckHamtShard(fs);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->bits_per_level, 8u);
  EXPECT_EQ(ok->prefix_len, 2u);
  fs.fanout = 1024;
  EXPECT_EQ(CheckHamtShard(fs)->prefix_len, 3u);
  fs.fanout = 2048;
  EXPECT_FALSE(CheckHamtShard(fs));
  fs.fanout = 100;
  EXPECT_FALSE(CheckHamtShard(fs));
  fs.fanout = std::nullopt;
  EXPECT_FALSE(CheckHamtShard(fs));
  fs.fanout = 256;
  fs.hash_type = 0x23;
  EXPECT_FALSE(CheckHamtShard(fs));
}

// ---------------------------------------------------------------------------------------------
// files

TEST(Exporter, KnownEmptyDirectoryCid) {
  MemoryGetter g;
  Cid dir = PutNode(g, DirNode({}));
  EXPECT_EQ(dir.ToV0()->ToString(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  Exporter ex(g);
  auto stat = ex.Stat(dir);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->type, NodeType::kDirectory);
  EXPECT_TRUE(ListAll(ex, dir).empty());
}

TEST(Exporter, ReadsRawLeafFile) {
  MemoryGetter g;
  Cid cid = g.Put(codec::kRaw, AsBytes("hello world\n"));
  Exporter ex(g);
  EXPECT_EQ(AsString(*ReadAll(ex, cid)), "hello world\n");
  EXPECT_EQ(AsString(*ReadAll(ex, cid, 6, 5)), "world");
  auto stat = ex.Stat(cid);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->type, NodeType::kFile);
  EXPECT_EQ(stat->size, 12u);
}

TEST(Exporter, ReadsDagPbLeafWithInlineData) {
  MemoryGetter g;
  Cid cid = PutNode(g, FileNode(ToBytes("hello\n"), {}));
  Exporter ex(g);
  EXPECT_EQ(AsString(*ReadAll(ex, cid)), "hello\n");
  EXPECT_EQ(ex.Stat(cid)->size, 6u);
}

TEST(Exporter, ReadsEveryRangeOfAMultiLevelFile) {
  for (bool pb_leaves : {false, true}) {
    MemoryGetter g;
    Bytes content = Pattern(157, 7);
    Cid root = BuildFile(g, content, 7, 3, pb_leaves);  // 23 leaves, 4 levels
    Exporter ex(g);
    ASSERT_EQ(ex.Stat(root)->size, content.size());
    for (uint64_t off = 0; off <= content.size(); ++off) {
      for (uint64_t len = 0; off + len <= content.size() + 1; ++len) {
        auto got = ReadAll(ex, root, off, len);
        ASSERT_TRUE(got) << got.error().ToString();
        uint64_t end = std::min<uint64_t>(content.size(), off + len);
        ASSERT_EQ(*got, Bytes(content.begin() + off, content.begin() + end))
            << "offset " << off << " length " << len << " pb_leaves " << pb_leaves;
      }
    }
  }
}

// ReadRangeShared gives the same bytes as ReadRange, every piece with the block it points into:
// raw leaves and dag-pb leaves' Data alike (no copy of file content).
TEST(Exporter, SharedReadsHandOutLeavesInPlace) {
  for (bool pb_leaves : {false, true}) {
    MemoryGetter g;
    Bytes content = Pattern(157, 7);
    Cid root = BuildFile(g, content, 7, 3, pb_leaves);
    Exporter ex(g);
    for (uint64_t off : {0, 5, 70, 156}) {
      Bytes got;
      int owned = 0, pieces = 0;
      auto r = ex.ReadRangeShared(
          root, off, std::nullopt,
          [&](ByteSpan data, const std::shared_ptr<const Bytes>& owner) -> Result<void> {
            ++pieces;
            if (owner) {
              ++owned;
              EXPECT_GE(data.data(), owner->data());
              EXPECT_LE(data.data() + data.size(), owner->data() + owner->size());
            }
            got.insert(got.end(), data.begin(), data.end());
            return Ok();
          });
      ASSERT_TRUE(r) << r.error().ToString();
      EXPECT_EQ(got, Bytes(content.begin() + static_cast<std::ptrdiff_t>(off), content.end()));
      EXPECT_EQ(owned, pieces);
      EXPECT_GT(pieces, 0);
    }
  }
}

// A range read hints the children it will read, a window ahead, half a window at a time; never
// a child outside the range, never one hint for a single child.
TEST(Exporter, RangeReadsHintTheChildrenTheyWillReadAWindowAhead) {
  MemoryGetter g;
  Bytes content = Pattern(40 * 10, 3);
  Cid root = BuildFile(g, content, 10, 64, false);  // one root over 40 leaves of 10 bytes
  ExporterLimits limits;
  limits.prefetch_window = 8;
  Exporter ex(g, limits);
  // Bytes 25..304 are in leaves 2..30.
  auto got = ReadAll(ex, root, 25, 280);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, Bytes(content.begin() + 25, content.begin() + 305));
  // The leaves as the root lists them.
  auto root_block = g.Get(root);
  auto pb = ipld::DecodeDagPb(*root_block);
  ASSERT_TRUE(pb.has_value());
  std::vector<Cid> hinted;
  for (const auto& h : g.hints) {
    EXPECT_LE(h.size(), 8u);
    hinted.insert(hinted.end(), h.begin(), h.end());
  }
  std::vector<Cid> wanted;
  for (size_t i = 2; i <= 30; ++i) wanted.push_back(pb->links[i].hash);
  EXPECT_EQ(hinted, wanted);              // every needed leaf once, in order, and nothing else
  EXPECT_EQ(g.hints.front().size(), 8u);  // a full window first, then half windows
  EXPECT_EQ(g.hints[1].size(), 4u);

  // A range inside one leaf hints nothing; a window of 0 never hints.
  g.hints.clear();
  ASSERT_TRUE(ReadAll(ex, root, 31, 5).has_value());
  EXPECT_TRUE(g.hints.empty());
  ExporterLimits none;
  none.prefetch_window = 0;
  Exporter quiet(g, none);
  ASSERT_TRUE(ReadAll(quiet, root).has_value());
  EXPECT_TRUE(g.hints.empty());
}

TEST(Exporter, ReadsInlineDataBeforeChildren) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("BBBB"));
  Cid b = g.Put(codec::kRaw, AsBytes("CC"));
  Cid root = PutNode(g, FileNode(ToBytes("AAA"), {{a, 4}, {b, 2}}));
  Exporter ex(g);
  EXPECT_EQ(AsString(*ReadAll(ex, root)), "AAABBBBCC");
  EXPECT_EQ(AsString(*ReadAll(ex, root, 2, 3)), "ABB");
  EXPECT_EQ(AsString(*ReadAll(ex, root, 7)), "CC");
}

TEST(Exporter, EmptyFileAndZeroLengthRanges) {
  MemoryGetter g;
  Cid empty = PutNode(g, FileNode(std::nullopt, {}));
  EXPECT_EQ(empty.ToV0()->ToString(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  Exporter ex(g);
  EXPECT_TRUE(ReadAll(ex, empty)->empty());
  Cid raw = g.Put(codec::kRaw, AsBytes("abc"));
  EXPECT_TRUE(ReadAll(ex, raw, 3)->empty());  // offset == size: no bytes, no error
  EXPECT_TRUE(ReadAll(ex, raw, 1, 0)->empty());
  auto past = ReadAll(ex, raw, 4);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AsString(*ReadAll(ex, raw, 1, UINT64_MAX)), "bc");  // no overflow on offset+length
}

TEST(Exporter, RangeReadOfLastByteOfOneGibFileFetchesOneBlockPerLevel) {
  // 1 GiB = 64 × 64 leaves of 256 KiB; leaves differ so the right one must be found.
  MemoryGetter g;
  constexpr size_t kLeaf = 256 * 1024;
  std::vector<std::pair<Cid, uint64_t>> mids;
  std::vector<Cid> leaves;
  for (uint32_t i = 0; i < 64; ++i) {
    leaves.push_back(g.Put(codec::kRaw, Pattern(kLeaf, i)));
  }
  for (uint32_t m = 0; m < 64; ++m) {
    std::vector<std::pair<Cid, uint64_t>> kids;
    for (uint32_t i = 0; i < 64; ++i) kids.emplace_back(leaves[(m + i) % 64], kLeaf);
    mids.emplace_back(PutNode(g, FileNode(std::nullopt, kids)), 64 * kLeaf);
  }
  Cid root = PutNode(g, FileNode(std::nullopt, mids));
  Exporter ex(g);
  ASSERT_EQ(ex.Stat(root)->size, 1ull << 30);
  g.fetches = 0;
  auto last = ReadAll(ex, root, (1ull << 30) - 1, 1);
  ASSERT_TRUE(last) << last.error().ToString();
  EXPECT_EQ(g.fetches, 3u);  // root, last middle node, its last leaf
  // Last middle node is m = 63, its last child is leaves[(63 + 63) % 64] = leaves[62].
  EXPECT_EQ((*last)[0], Pattern(kLeaf, 62).back());
  g.fetches = 0;
  auto straddle = ReadAll(ex, root, 64 * kLeaf - 2, 4);  // crosses middle nodes 0 → 1
  ASSERT_TRUE(straddle);
  EXPECT_EQ(g.fetches, 5u);
  EXPECT_EQ((*straddle)[2], Pattern(kLeaf, 1)[0]);
}

TEST(Exporter, ObserverSeesExactlyTheBlocksARangeNeedsInOrder) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aaaa"));
  Cid b = g.Put(codec::kRaw, AsBytes("bbbb"));
  Cid c = g.Put(codec::kRaw, AsBytes("cccc"));
  Cid left = PutNode(g, FileNode(std::nullopt, {{a, 4}, {b, 4}}));
  Cid root = PutNode(g, FileNode(std::nullopt, {{left, 8}, {c, 4}}));
  Exporter ex(g);
  std::vector<Cid> seen;
  ex.SetBlockObserver([&](const Cid& cid, ByteSpan bytes) -> Result<void> {
    EXPECT_TRUE(cid.hash().Verify(bytes));
    seen.push_back(cid);
    return Ok();
  });
  EXPECT_EQ(AsString(*ReadAll(ex, root, 5, 4)), "bbbc");
  EXPECT_EQ(seen, (std::vector<Cid>{root, left, b, c}));
  seen.clear();
  ex.SetBlockObserver([&](const Cid&, ByteSpan) -> Result<void> {
    return Err(ErrorCode::kResourceExhausted, "car too big");
  });
  auto r = ReadAll(ex, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  ex.SetBlockObserver(nullptr);
  EXPECT_TRUE(ReadAll(ex, root));
}

TEST(Exporter, StreamsInBlockSizedPiecesInOrder) {
  MemoryGetter g;
  Bytes content = Pattern(10 * 1024 * 1024 + 17, 3);
  Cid root = BuildFile(g, content, 256 * 1024, 174, false);
  Exporter ex(g);
  size_t total = 0;
  size_t biggest = 0;
  bool same = true;
  FunctionSink sink([&](ByteSpan b) -> Result<void> {
    same = same && std::equal(b.begin(), b.end(), content.begin() + total);
    total += b.size();
    biggest = std::max(biggest, b.size());
    return Ok();
  });
  auto r = ex.ReadFile(root, sink);
  ASSERT_TRUE(r);
  EXPECT_TRUE(same);
  EXPECT_EQ(total, content.size());
  EXPECT_LE(biggest, 256u * 1024);  // never more than one block handed over at once
}

TEST(Exporter, SinkErrorStopsTheRead) {
  MemoryGetter g;
  Bytes content = Pattern(100, 1);
  Cid root = BuildFile(g, content, 10, 4, false);
  Exporter ex(g);
  int calls = 0;
  FunctionSink sink([&](ByteSpan) -> Result<void> {
    if (++calls == 3) return Err(ErrorCode::kCancelled, "client went away");
    return Ok();
  });
  auto r = ex.ReadFile(root, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(calls, 3);
}

TEST(Exporter, ReportsModeAndMtime) {
  MemoryGetter g;
  UnixfsData fs;
  fs.type = DataType::kFile;
  fs.data = ToBytes("x");
  fs.filesize = 1;
  fs.mode = 0100644;
  fs.mtime = UnixTime{1700000000, 5};
  PbNode node;
  node.data = EncodeUnixfsData(fs);
  Cid cid = PutNode(g, node);
  Exporter ex(g);
  auto stat = ex.Stat(cid);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->mode, 0100644u);
  EXPECT_EQ(stat->mtime, (UnixTime{1700000000, 5}));
}

TEST(Exporter, ReadsIdentityCidsWithoutFetching) {
  MemoryGetter g;
  auto mh = multiformats::Multihash::Make(codec::kIdentity, AsBytes("inline!"));
  ASSERT_TRUE(mh);
  Cid inline_file = Cid::V1(codec::kRaw, *mh);
  Exporter ex(g);
  EXPECT_EQ(AsString(*ReadAll(ex, inline_file)), "inline!");
  auto empty_dir = Cid::Parse("bafyaabakaieac");
  ASSERT_TRUE(empty_dir);
  EXPECT_EQ(ex.Stat(*empty_dir)->type, NodeType::kDirectory);
  EXPECT_EQ(g.fetches, 0u);
}

// ---------------------------------------------------------------------------------------------
// malformed files

TEST(Exporter, RejectsBlocksizesThatDoNotMatchLinks) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aa"));
  PbNode node = FileNode(std::nullopt, {{a, 2}});
  UnixfsData fs = *DecodeUnixfsData(*node.data);
  fs.blocksizes.push_back(5);
  node.data = EncodeUnixfsData(fs);
  Cid root = PutNode(g, node);
  Exporter ex(g);
  auto r = ReadAll(ex, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.error().message().find("1 links but 2 blocksizes"), std::string::npos);
  EXPECT_FALSE(ex.Stat(root));
}

TEST(Exporter, RejectsFilesizeThatDisagreesWithBlocksizes) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aa"));
  Cid root = PutNode(g, FileNode(std::nullopt, {{a, 2}}, 3));
  Exporter ex(g);
  auto r = ex.Stat(root);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("filesize 3"), std::string::npos);
}

TEST(Exporter, RejectsChildLargerOrSmallerThanDeclared) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aaaa"));
  Cid root = PutNode(g, FileNode(std::nullopt, {{a, 3}}));
  Exporter ex(g);
  auto r = ReadAll(ex, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.error().message().find("declared 3"), std::string::npos);
  // A dag-pb child whose own size disagrees with the parent's blocksize.
  Cid inner = PutNode(g, FileNode(ToBytes("xy"), {}));
  Cid root2 = PutNode(g, FileNode(std::nullopt, {{inner, 5}}));
  EXPECT_FALSE(ReadAll(ex, root2));
}

TEST(Exporter, RejectsDirectoryInsideAFile) {
  MemoryGetter g;
  Cid dir = PutNode(g, DirNode({}));
  Cid root = PutNode(g, FileNode(std::nullopt, {{dir, 1}}));
  Exporter ex(g);
  auto r = ReadAll(ex, root);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("inside a file is a directory"), std::string::npos);
}

TEST(Exporter, RejectsNodesThatAreNotUnixfs) {
  MemoryGetter g;
  PbNode no_data;
  Cid a = PutNode(g, no_data);
  PbNode bad_type;
  bad_type.data = Bytes{0x08, 0x06};
  Cid b = PutNode(g, bad_type);
  Cid c = g.Put(codec::kDagPb, Bytes{0xff, 0xff});  // not dag-pb
  Cid d = g.Put(codec::kDagCbor, Bytes{0xa0});
  Exporter ex(g);
  for (const Cid& cid : {a, b, c}) {
    auto r = ex.Stat(cid);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption) << r.error().ToString();
  }
  EXPECT_EQ(ex.Stat(d).error().code(), ErrorCode::kNotSupported);
}

TEST(Exporter, RejectsNamedLinksInsideFiles) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aa"));
  PbNode node = FileNode(std::nullopt, {{a, 2}});
  node.links[0].name = "x";
  Exporter ex(g);
  EXPECT_FALSE(ex.Stat(PutNode(g, node)));
  node.links[0].name = "";  // empty name = absent, for old data
  EXPECT_TRUE(ex.Stat(PutNode(g, node)));
}

TEST(Exporter, StopsOnFileCyclesAndDeepChains) {
  MemoryGetter g;
  // Node A lists itself as its only child (possible only with a store that does not verify).
  Cid a = *Cid::Compute(1, codec::kDagPb, codec::kSha2_256, AsBytes("placeholder"));
  PbNode node = FileNode(std::nullopt, {{a, 5}});
  g.PutAt(a, ipld::EncodeDagPb(node));
  Exporter ex(g);
  auto r = ReadAll(ex, a);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.error().message().find("deeper than"), std::string::npos);
  // A legitimate but absurdly deep chain is refused the same way.
  Cid cur = g.Put(codec::kRaw, AsBytes("z"));
  for (int i = 0; i < 150; ++i) cur = PutNode(g, FileNode(std::nullopt, {{cur, 1}}));
  EXPECT_FALSE(ReadAll(ex, cur));
}

TEST(Exporter, MissingBlockIsNotFound) {
  MemoryGetter g;
  Cid a = g.Put(codec::kRaw, AsBytes("aa"));
  Cid b = g.Put(codec::kRaw, AsBytes("bb"));
  Cid root = PutNode(g, FileNode(std::nullopt, {{a, 2}, {b, 2}}));
  g.Remove(b);
  Exporter ex(g);
  EXPECT_EQ(AsString(*ReadAll(ex, root, 0, 2)), "aa");  // the present half still reads
  auto r = ReadAll(ex, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// directories and paths

// Builds a HAMT (hashType murmur3, `fanout`) holding `entries` the way Kubo and JS lay it out:
// a bucket with one entry holds it directly, a bucket with more holds a sub-shard.
Cid BuildHamt(MemoryGetter& g, const std::vector<std::pair<std::string, Cid>>& entries,
              uint32_t fanout, unsigned depth = 0) {
  unsigned bits = 0;
  while ((1u << bits) < fanout) ++bits;
  size_t prefix_len = 0;
  for (uint32_t v = fanout - 1; v > 0; v >>= 4) ++prefix_len;
  std::map<uint32_t, std::vector<std::pair<std::string, Cid>>> buckets;
  for (const auto& e : entries) {
    HamtHashBits h(e.first, bits);
    uint32_t b = 0;
    for (unsigned i = 0; i <= depth; ++i) b = h.Next();
    buckets[b].push_back(e);
  }
  auto hex = [&](uint32_t b) {
    static const char* d = "0123456789ABCDEF";
    std::string s(prefix_len, '0');
    for (size_t i = prefix_len; i > 0; --i, b >>= 4) s[i - 1] = d[b & 15];
    return s;
  };
  PbNode node;
  Bytes bitfield(fanout / 8, 0);
  for (const auto& [b, list] : buckets) {
    bitfield[bitfield.size() - 1 - b / 8] |= static_cast<uint8_t>(1u << (b % 8));
    if (list.size() == 1) {
      node.links.push_back(PbLink{list[0].second, hex(b) + list[0].first, 1});
    } else {
      node.links.push_back(PbLink{BuildHamt(g, list, fanout, depth + 1), hex(b), 1});
    }
  }
  UnixfsData fs;
  fs.type = DataType::kHamtShard;
  fs.data = bitfield;
  fs.hash_type = 0x22;
  fs.fanout = fanout;
  node.data = EncodeUnixfsData(fs);
  return PutNode(g, node);
}

TEST(Exporter, ListsAndResolvesPlainDirectories) {
  MemoryGetter g;
  Cid hello = g.Put(codec::kRaw, AsBytes("hello"));
  Cid other = g.Put(codec::kRaw, AsBytes("other"));
  Cid sub = PutNode(g, DirNode({{"hello.txt", hello}}));
  Cid root = PutNode(g, DirNode({{"a", sub}, {"dup", hello}, {"dup", other}}));
  Exporter ex(g);
  auto entries = ListAll(ex, root);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[0].cid, sub);
  EXPECT_EQ(entries[0].tsize, 10u);
  auto r = ex.Resolve(root.ToString() + "/a/hello.txt");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->cid, hello);
  EXPECT_EQ(r->stat.size, 5u);
  EXPECT_EQ(r->path_blocks, (std::vector<Cid>{root, sub, hello}));
  EXPECT_EQ(ex.Resolve("/ipfs/" + root.ToString() + "/dup")->cid, hello);  // first match wins
  EXPECT_EQ(ex.Resolve(root.ToString() + "/./a/../a/hello.txt/")->cid, hello);
  auto missing = ex.Resolve(root.ToString() + "/a/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto through_file = ex.Resolve(root.ToString() + "/a/hello.txt/x");
  ASSERT_FALSE(through_file);
  EXPECT_EQ(through_file.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ex.ListDirectory(hello, [](const DirEntry&) -> Result<bool> { return true; }));
  FunctionSink discard([](ByteSpan) -> Result<void> { return Ok(); });
  EXPECT_FALSE(ex.ReadFile(sub, discard));
}

TEST(Exporter, ListingCanStopEarly) {
  MemoryGetter g;
  Cid f = g.Put(codec::kRaw, AsBytes("f"));
  Cid root = PutNode(g, DirNode({{"a", f}, {"b", f}, {"c", f}}));
  Exporter ex(g);
  int seen = 0;
  ASSERT_TRUE(ex.ListDirectory(root, [&](const DirEntry&) -> Result<bool> { return ++seen < 2; }));
  EXPECT_EQ(seen, 2);
}

TEST(Exporter, ReportsSymlinksWithoutFollowingThem) {
  MemoryGetter g;
  UnixfsData fs;
  fs.type = DataType::kSymlink;
  fs.data = ToBytes("foo");
  PbNode link_node;
  link_node.data = EncodeUnixfsData(fs);
  Cid link = PutNode(g, link_node);
  Cid foo = g.Put(codec::kRaw, AsBytes("content"));
  Cid root = PutNode(g, DirNode({{"bar", link}, {"foo", foo}}));
  Exporter ex(g);
  auto r = ex.Resolve(root.ToString() + "/bar");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stat.type, NodeType::kSymlink);
  EXPECT_EQ(r->stat.symlink_target, "foo");
  auto through = ex.Resolve(root.ToString() + "/bar/x");
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().code(), ErrorCode::kNotSupported);
  EXPECT_NE(through.error().message().find("symlink to 'foo'"), std::string::npos);
}

TEST(Exporter, ParsesContentPaths) {
  auto p = ParseContentPath("/ipfs/bafkqaaa/a//b/./c/../d");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->root.ToString(), "bafkqaaa");
  EXPECT_EQ(p->segments, (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_TRUE(ParseContentPath("bafkqaaa")->segments.empty());
  EXPECT_FALSE(ParseContentPath("bafkqaaa/.."));
  EXPECT_FALSE(ParseContentPath("/ipns/example.com"));
  EXPECT_FALSE(ParseContentPath("notacid/a"));
  EXPECT_FALSE(ParseContentPath(std::string_view("bafkqaaa/a\0b", 12)));
}

class HamtTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(HamtTest, ListsEveryEntryOnceAndResolvesEachName) {
  uint32_t fanout = GetParam();
  MemoryGetter g;
  std::vector<std::pair<std::string, Cid>> entries;
  for (int i = 0; i < 300; ++i) {
    std::string name = "file-" + std::to_string(i) + ".txt";
    entries.emplace_back(name, g.Put(codec::kRaw, AsBytes(name)));
  }
  Cid root = BuildHamt(g, entries, fanout);
  Exporter ex(g);
  EXPECT_EQ(ex.Stat(root)->type, NodeType::kHamtDirectory);
  auto listed = ListAll(ex, root);
  ASSERT_EQ(listed.size(), entries.size());
  std::map<std::string, Cid> by_name;
  for (const auto& e : listed) by_name[e.name] = e.cid;
  for (const auto& [name, cid] : entries) {
    ASSERT_EQ(by_name.count(name), 1u) << name;
    EXPECT_EQ(by_name[name], cid);
    auto r = ex.Resolve(root.ToString() + "/" + name);
    ASSERT_TRUE(r) << name << ": " << r.error().ToString();
    EXPECT_EQ(r->cid, cid);
    EXPECT_EQ(r->path_blocks.front(), root);
    EXPECT_EQ(r->path_blocks.back(), cid);
  }
  auto missing = ex.Resolve(root.ToString() + "/absent.txt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Fanouts, HamtTest, ::testing::Values(8u, 16u, 256u, 1024u));

TEST(Exporter, ResolvesThroughSubShardsFetchingOnlyThePath) {
  MemoryGetter g;
  std::vector<std::pair<std::string, Cid>> entries;
  for (int i = 0; i < 2000; ++i) {
    std::string name = std::to_string(i) + ".txt";
    entries.emplace_back(name, g.Put(codec::kRaw, AsBytes(name)));
  }
  Cid root = BuildHamt(g, entries, 16);
  Exporter ex(g);
  g.fetches = 0;
  auto r = ex.Resolve(root.ToString() + "/1234.txt");
  ASSERT_TRUE(r);
  EXPECT_GE(r->path_blocks.size(), 3u);         // root, ≥ 1 sub-shard, the file
  EXPECT_EQ(g.fetches, r->path_blocks.size());  // nothing off the path was read
}

PbNode ShardNode(const std::vector<std::pair<std::string, Cid>>& links, uint64_t fanout = 256,
                 uint64_t hash_type = 0x22) {
  UnixfsData fs;
  fs.type = DataType::kHamtShard;
  fs.data = Bytes(fanout / 8 ? fanout / 8 : 1, 0);
  fs.hash_type = hash_type;
  fs.fanout = fanout;
  PbNode node;
  node.data = EncodeUnixfsData(fs);
  for (const auto& [name, cid] : links) node.links.push_back(PbLink{cid, name, 1});
  return node;
}

TEST(Exporter, RejectsMalformedHamts) {
  MemoryGetter g;
  Cid f = g.Put(codec::kRaw, AsBytes("f"));
  Exporter ex(g);
  auto list_fails = [&](const Cid& root, std::string_view why) {
    auto r = ex.ListDirectory(root, [](const DirEntry&) -> Result<bool> { return true; });
    ASSERT_FALSE(r) << why;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption) << r.error().ToString();
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  };
  // "470.txt" belongs in bucket 00, not 01.
  list_fails(PutNode(g, ShardNode({{"01470.txt", f}})), "not in the bucket");
  list_fails(PutNode(g, ShardNode({{"ZZ470.txt", f}})), "hex bucket index");
  list_fails(PutNode(g, ShardNode({{"0", f}})), "shorter than");
  list_fails(PutNode(g, ShardNode({{"00470.txt", f}, {"00x", f}})), "twice");
  list_fails(PutNode(g, ShardNode({{"00470.txt", f}}, 256, 0x23)), "murmur3");
  list_fails(PutNode(g, ShardNode({{"00470.txt", f}}, 2048)), "fanout");
  Cid empty_sub = PutNode(g, ShardNode({}));
  list_fails(PutNode(g, ShardNode({{"00", empty_sub}})), "is empty");
  Cid raw_sub = g.Put(codec::kRaw, AsBytes("raw"));
  list_fails(PutNode(g, ShardNode({{"00", raw_sub}})), "raw block");
  Cid dir_sub = PutNode(g, DirNode({{"x", f}}));
  list_fails(PutNode(g, ShardNode({{"00", dir_sub}})), "not a HAMT shard");
  // One sub-shard reused under two buckets: its entry cannot sit in both.
  Cid sub = PutNode(g, ShardNode({{"6E470.txt", f}}));
  list_fails(PutNode(g, ShardNode({{"00", sub}, {"01", sub}})), "not in the bucket");
  // A shard that links to itself.
  Cid self = *Cid::Compute(1, codec::kDagPb, codec::kSha2_256, AsBytes("self"));
  std::vector<std::pair<std::string, Cid>> all_buckets;
  for (int b = 0; b < 256; ++b) {
    char name[3];
    std::snprintf(name, sizeof name, "%02X", b);
    all_buckets.emplace_back(name, self);
  }
  g.PutAt(self, ipld::EncodeDagPb(ShardNode(all_buckets)));
  list_fails(self, "deeper than");
  auto r = ex.Resolve(self.ToString() + "/470.txt");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace cairn::unixfs
