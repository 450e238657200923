// ComputeCarPiece against the reference it promises to equal: CommP over the bytes ExportDag
// writes to a buffer, for UnixFS files and directories imported into an in-memory block store,
// hand-built dag-pb/dag-cbor DAGs, and CARs sized around power-of-two piece boundaries.
#include "filecoin/dealdata/car_piece.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "blockstore/memory_blockstore.hpp"
#include "car/car_test_util.hpp"
#include "common/io.hpp"
#include "multiformats/multicodec.hpp"
#include "unixfs/importer.hpp"

namespace cairn::filecoin::dealdata {
namespace {

namespace codec = multiformats::codec;
using blockstore::MemoryBlockstore;

Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

unixfs::ImportedNode AddFile(MemoryBlockstore& store, ByteSpan data,
                             const unixfs::ImportOptions& options) {
  SpanSource source(data);
  ipld::StoreSink<blockstore::Blockstore> sink(store);
  auto node = unixfs::ImportFile(source, options, sink);
  EXPECT_TRUE(node.has_value()) << node.error().ToString();
  return *node;
}

void PutAll(MemoryBlockstore& store, const std::vector<car::testing::Block>& blocks) {
  for (const auto& b : blocks) ASSERT_TRUE(store.Put(b.cid, b.data).has_value());
}

// The CAR exactly as `cairn car export` writes it.
Bytes ExportToBuffer(const Cid& root, blockstore::Blockstore& store) {
  ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
  Bytes car;
  BytesSink sink(car);
  auto stats = car::ExportDag(root, getter, sink);
  EXPECT_TRUE(stats.has_value()) << stats.error().ToString();
  return car;
}

// Checks every field of ComputeCarPiece against CommP over the buffered export, for several
// thread counts; returns the piece.
CarPiece ExpectMatchesBufferedExport(const Cid& root, MemoryBlockstore& store) {
  const Bytes car = ExportToBuffer(root, store);
  auto expected = piece::ComputeCommP(car, {.threads = 1});
  EXPECT_TRUE(expected.has_value());
  CarPiece first;
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    auto got = ComputeCarPiece(root, store, {.threads = threads});
    EXPECT_TRUE(got.has_value()) << got.error().ToString();
    if (!got) return {};
    EXPECT_EQ(got->root, root);
    EXPECT_EQ(got->car_size, car.size());
    EXPECT_EQ(got->piece, *expected);
    EXPECT_EQ(got->piece.payload_size(), car.size());
    EXPECT_EQ(got->piece_cid_v1, piece::PieceCidV1(expected->root));
    EXPECT_EQ(got->piece_cid_v2, *piece::PieceCidV2(*expected));
    if (threads == 1) first = *got;
  }
  return first;
}

TEST(CarPiece, EmptyFileKuboDefaults) {
  MemoryBlockstore store;
  auto node = AddFile(store, {}, unixfs::ImportOptions::KuboDefaults());
  auto p = ExpectMatchesBufferedExport(node.cid, store);
  EXPECT_EQ(p.blocks, 1u);
  EXPECT_EQ(p.piece.padded_size(), 128u);
}

TEST(CarPiece, EmptyFileRawLeavesCidV1) {
  MemoryBlockstore store;
  auto options = *unixfs::ImportOptions::FromProfile("unixfs-v1-2025");
  auto node = AddFile(store, {}, options);
  EXPECT_EQ(node.cid.codec(), codec::kRaw);
  auto p = ExpectMatchesBufferedExport(node.cid, store);
  EXPECT_EQ(p.blocks, 1u);
}

TEST(CarPiece, MultiBlockFileSpanningSeveralHashBatches) {
  // 3 MiB in 64 KiB chunks under nodes of at most 8 links: three levels, CAR > 2 hash batches.
  MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.chunk_size = 64 * 1024;
  options.max_links = 8;
  const Bytes data = RandomBytes(3 * 1024 * 1024 + 17, 1);
  auto node = AddFile(store, data, options);
  auto p = ExpectMatchesBufferedExport(node.cid, store);
  EXPECT_GT(p.blocks, 49u);
  EXPECT_GT(p.car_size, data.size());
  EXPECT_EQ(p.piece.padded_size(), uint64_t{4} << 20);
}

TEST(CarShards, EachShardsPieceIsCommPOfItsSectionRangeAndOneShardIsTheWholePiece) {
  // 3 MiB file in 64 KiB chunks: shards of at most 1 MiB of CAR.
  MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.chunk_size = 64 * 1024;
  options.max_links = 8;
  const Bytes data = RandomBytes(3 * 1024 * 1024 + 17, 2);
  auto node = AddFile(store, data, options);
  ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
  const uint64_t limit = 1024 * 1024;
  uint64_t placed = 0;
  auto shards = ComputeCarShards(node.cid, store, limit,
                                 {.on_block = [&](size_t, const Cid&, uint64_t, uint64_t) {
                                   ++placed;
                                   return Result<void>(Ok());
                                 }});
  ASSERT_TRUE(shards.has_value()) << shards.error().ToString();
  ASSERT_GE(shards->size(), 4u);
  uint64_t sections = 0;
  for (const auto& shard : *shards) {
    EXPECT_EQ(shard.first_section, sections);
    sections += shard.piece.blocks;
    EXPECT_LE(shard.piece.car_size, limit);
    Bytes car;
    BytesSink sink(car);
    ASSERT_TRUE(
        car::ExportDagSections(node.cid, {shard.first_section, shard.piece.blocks}, getter, sink)
            .has_value());
    auto expected = piece::ComputeCommP(car, {.threads = 1});
    ASSERT_TRUE(expected.has_value());
    EXPECT_EQ(shard.piece.car_size, car.size());
    EXPECT_EQ(shard.piece.piece, *expected);
    EXPECT_EQ(shard.piece.piece_cid_v1, piece::PieceCidV1(expected->root));
  }
  auto whole = ComputeCarPiece(node.cid, store, {.threads = 1});
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(sections, whole->blocks);
  EXPECT_EQ(placed, whole->blocks);
  auto one = ComputeCarShards(node.cid, store, whole->car_size);
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].piece.piece, whole->piece);
  EXPECT_EQ((*one)[0].piece.car_size, whole->car_size);
}

TEST(CarPiece, DirectoryWithSharedFilesAndSubdirectory) {
  MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.chunk_size = 1000;
  ipld::StoreSink<blockstore::Blockstore> sink(store);
  const Bytes a = RandomBytes(5000, 2);
  const Bytes b = RandomBytes(300, 3);
  auto fa = AddFile(store, a, options);
  auto fb = AddFile(store, b, options);
  unixfs::DirectoryBuilder sub(options, sink);
  ASSERT_TRUE(sub.Add("a-again", fa).has_value());  // the same blocks reached twice
  ASSERT_TRUE(sub.Add("b", fb).has_value());
  auto sub_node = sub.Finish();
  ASSERT_TRUE(sub_node.has_value());
  unixfs::DirectoryBuilder top(options, sink);
  ASSERT_TRUE(top.Add("a", fa).has_value());
  ASSERT_TRUE(top.Add("sub", *sub_node).has_value());
  auto root = top.Finish();
  ASSERT_TRUE(root.has_value());
  auto p = ExpectMatchesBufferedExport(root->cid, store);
  // top, sub, a's root and 5 leaves, b: each written once.
  EXPECT_EQ(p.blocks, 9u);
}

TEST(CarPiece, HamtDirectory) {
  MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.hamt_threshold = 200;
  options.hamt_fanout = 8;
  ipld::StoreSink<blockstore::Blockstore> sink(store);
  unixfs::DirectoryBuilder dir(options, sink);
  for (int i = 0; i < 40; ++i) {
    const std::string text = "file number " + std::to_string(i);
    auto f = AddFile(store, ToBytes(text), options);
    ASSERT_TRUE(dir.Add("f" + std::to_string(i), f).has_value());
  }
  auto root = dir.Finish();
  ASSERT_TRUE(root.has_value());
  auto p = ExpectMatchesBufferedExport(root->cid, store);
  EXPECT_GT(p.blocks, 41u);  // shards as well as the files
}

TEST(CarPiece, MixedCodecsWithIdentityLink) {
  // root(pb) -> [cbor -> [leaf2, identity], leaf1]; the identity block is followed, not written.
  MemoryBlockstore store;
  auto identity_cid = *Cid::Compute(1, codec::kRaw, codec::kIdentity, ToBytes("inline"));
  auto leaf1 = car::testing::Raw("leaf one"), leaf2 = car::testing::Raw("leaf two");
  auto c = car::testing::Cbor({leaf2.cid, identity_cid}, 7);
  auto root = car::testing::Pb({c.cid, leaf1.cid}, "root");
  PutAll(store, {leaf1, leaf2, c, root});
  auto p = ExpectMatchesBufferedExport(root.cid, store);
  EXPECT_EQ(p.blocks, 4u);
}

// A CAR of one raw block sized so that the whole CAR is exactly `target` bytes.
Cid RawBlockCarOfSize(MemoryBlockstore& store, uint64_t target, uint64_t seed) {
  auto car_size = [&](size_t n) {
    auto b = car::testing::MakeBlock(codec::kRaw, RandomBytes(n, seed));
    MemoryBlockstore scratch;
    EXPECT_TRUE(scratch.Put(b.cid, b.data).has_value());
    return std::pair<uint64_t, car::testing::Block>(ExportToBuffer(b.cid, scratch).size(), b);
  };
  const uint64_t overhead = car_size(0).first;
  EXPECT_GE(target, overhead);
  // The section's length varint may grow by a byte or two as the block grows.
  for (uint64_t n = target - overhead; n + 3 > target - overhead && n > 0; --n) {
    auto [size, block] = car_size(n);
    if (size == target) {
      EXPECT_TRUE(store.Put(block.cid, block.data).has_value());
      return block.cid;
    }
  }
  ADD_FAILURE() << "no raw block makes a CAR of " << target << " bytes";
  return {};
}

TEST(CarPiece, CarSizesAroundPowerOfTwoPieceBoundaries) {
  // Capacity of a piece of 128 * 2^k padded bytes is 127 * 2^k; one byte more doubles it.
  for (int k : {0, 1, 3, 7, 10, 13}) {
    const uint64_t capacity = uint64_t{127} << k;
    for (uint64_t target : {capacity - 1, capacity, capacity + 1}) {
      SCOPED_TRACE("CAR of " + std::to_string(target) + " bytes");
      MemoryBlockstore store;
      const Cid root = RawBlockCarOfSize(store, target, target);
      if (root.empty()) continue;
      auto p = ExpectMatchesBufferedExport(root, store);
      EXPECT_EQ(p.car_size, target);
      const uint64_t padded = uint64_t{128} << k;
      EXPECT_EQ(p.piece.padded_size(), target <= capacity ? padded : 2 * padded);
      EXPECT_EQ(p.piece.padding, target <= capacity ? capacity - target : 2 * capacity - target);
    }
  }
}

TEST(CarPiece, MissingBlockIsNotFoundNamingItsCid) {
  MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.chunk_size = 1024;
  options.raw_leaves = true;
  options.cid_version = 1;
  const Bytes data = RandomBytes(10 * 1024, 4);
  auto node = AddFile(store, data, options);
  // The third leaf: raw CIDv1 of the third chunk.
  const ByteSpan chunk(data.data() + 2048, 1024);
  const Cid leaf = *Cid::Compute(1, codec::kRaw, codec::kSha2_256, chunk);
  ASSERT_TRUE(*store.Has(leaf));
  ASSERT_TRUE(store.Delete(leaf).has_value());
  for (unsigned threads : {1u, 2u}) {
    auto got = ComputeCarPiece(node.cid, store, {.threads = threads});
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
    EXPECT_NE(got.error().message().find(leaf.ToString()), std::string::npos)
        << got.error().message();
  }
}

TEST(CarPiece, MissingRootIsNotFoundNamingIt) {
  MemoryBlockstore store;
  auto absent = car::testing::Raw("never stored");
  auto got = ComputeCarPiece(absent.cid, store, {.threads = 1});
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(got.error().message().find(absent.cid.ToString()), std::string::npos);
}

TEST(CarPiece, CorruptBlockIsCorruption) {
  MemoryBlockstore store;
  auto leaf = car::testing::Raw("leaf"), root = car::testing::Pb({leaf.cid}, "r");
  PutAll(store, {leaf, root});
  ASSERT_TRUE(store.CorruptForTest(leaf.cid).has_value());
  auto got = ComputeCarPiece(root.cid, store, {.threads = 1});
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(got.error().message().find(leaf.cid.ToString()), std::string::npos);
}

TEST(CarPiece, WorksOverAnyBlockGetter) {
  car::testing::MapGetter getter;
  auto leaf = car::testing::Raw("leaf"), root = car::testing::Pb({leaf.cid}, "r");
  getter.Add(leaf);
  getter.Add(root);
  Bytes car;
  BytesSink sink(car);
  ASSERT_TRUE(car::ExportDag(root.cid, getter, sink).has_value());
  auto got = ComputeCarPiece(root.cid, getter, {.threads = 1});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->piece, *piece::ComputeCommP(car));
  EXPECT_EQ(got->car_size, car.size());
}

}  // namespace
}  // namespace cairn::filecoin::dealdata
