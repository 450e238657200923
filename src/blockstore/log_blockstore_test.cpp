// LogBlockstore beyond the shared contract: persistence, recovery from torn and damaged files,
// index files, compaction and its safety beside readers and writers.
#include "blockstore/log_blockstore.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "blockstore/internal/test_support.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {
namespace {

namespace fs = std::filesystem;
using testing::Block;
using testing::MakeBlock;

std::unique_ptr<LogBlockstore> OpenOrDie(const fs::path& dir, uint64_t segment_size = 1 << 20) {
  LogBlockstoreOptions options;
  options.segment_size = segment_size;
  auto store = LogBlockstore::Open(dir, options);
  EXPECT_TRUE(store.has_value()) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

fs::path SegmentPath(const fs::path& dir, uint32_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "%010u.seg", id);
  return dir / name;
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

std::vector<Block> PutBlocks(LogBlockstore& store, int n, uint64_t seed, size_t size) {
  std::vector<Block> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(MakeBlock(seed + i, size));
    EXPECT_TRUE(store.Put(out.back().cid, out.back().data));
  }
  return out;
}

// Record layout (docs/formats/blockstore.md): 16-byte segment header, then per record a 20-byte
// header, the multihash (34 bytes for sha2-256) and the data.
constexpr uint64_t kSegHeader = 16;
constexpr uint64_t kRecordOverhead = 20 + 34;

// Bytes written by an independent writer (a Python script following docs/formats/blockstore.md):
// a "hello" block record, an empty block record and a tombstone for "hello".
constexpr char kHelloRecordHex[] =
    "43424c4b01220000050000004cbb719aa9be0cd912202cf24dba5fb0a30e26e83b2ac5b9e29e1b16"
    "1e5c1fa7425e73043362938b982468656c6c6f";
constexpr char kEmptyRecordHex[] =
    "43424c4b01220000000000000000000043bf69bf1220e3b0c44298fc1c149afbf4c8996fb92427ae"
    "41e4649b934ca495991b7852b855";
constexpr char kHelloTombstoneHex[] =
    "43424c4b022200000000000000000000cd10b57c12202cf24dba5fb0a30e26e83b2ac5b9e29e1b16"
    "1e5c1fa7425e73043362938b9824";
constexpr char kSegmentOneHeaderHex[] = "434149524e5345470100000001000000";

Bytes Hex(const std::string& h) { return *HexDecode(h); }

TEST(LogBlockstore, WritesRecordsExactlyAsTheFormatDocumentSays) {
  testing::TempDir dir;
  auto hello = *multiformats::Cid::Compute(1, multiformats::codec::kRaw,
                                           multiformats::codec::kSha2_256, ToBytes("hello"));
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_TRUE(store->Put(hello, ToBytes("hello")));
  }
  std::ifstream in(SegmentPath(dir.path(), 1), std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(HexEncode(AsBytes(got)), std::string(kSegmentOneHeaderHex) + kHelloRecordHex);
}

TEST(LogBlockstore, ReadsASegmentWrittenFromTheFormatDocument) {
  testing::TempDir dir;
  Bytes seg = Hex(std::string(kSegmentOneHeaderHex) + kHelloRecordHex + kEmptyRecordHex +
                  kHelloTombstoneHex);
  std::ofstream(SegmentPath(dir.path(), 1), std::ios::binary)
      .write(reinterpret_cast<const char*>(seg.data()), static_cast<std::streamsize>(seg.size()));
  auto store = OpenOrDie(dir.path());
  EXPECT_TRUE(store->recovery().problems.empty());
  EXPECT_EQ(store->recovery().records_scanned, 3u);
  auto hello = *multiformats::Cid::Compute(1, multiformats::codec::kRaw,
                                           multiformats::codec::kSha2_256, ToBytes("hello"));
  auto empty =
      *multiformats::Cid::Parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  EXPECT_FALSE(*store->Has(hello));
  ASSERT_TRUE(*store->Has(empty));
  EXPECT_EQ(*store->Get(empty), Bytes{});
}

TEST(LogBlockstore, ReopenedStoreHasEverySyncedBlockAndNoDeletedOne) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path(), 64 * 1024);
    blocks = PutBlocks(*store, 100, 10, 5000);  // ≈ 8 segments
    for (int i = 0; i < 100; i += 4) ASSERT_TRUE(store->Delete(blocks[i].cid));
    ASSERT_TRUE(store->Sync());
    EXPECT_GT(store->Stats().segments, 5u);
  }
  auto store = OpenOrDie(dir.path(), 64 * 1024);
  EXPECT_GT(store->recovery().segments_from_index, 5u);
  EXPECT_TRUE(store->recovery().problems.empty());
  EXPECT_EQ(store->Stats().blocks, 75u);
  for (int i = 0; i < 100; ++i) {
    auto got = store->Get(blocks[i].cid);
    if (i % 4 == 0) {
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << i;
    } else {
      ASSERT_TRUE(got) << i << " " << got.error().ToString();
      EXPECT_EQ(*got, blocks[i].data);
    }
  }
}

// Sync() flushes only when something was appended since the last successful Sync (pin workers
// sync after every pin, most of which add no block); whatever was appended before a Sync is
// still durable and readable after reopening.
TEST(LogBlockstore, SyncFlushesOnlyWhenSomethingWasAppendedSinceTheLastSync) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path(), 64 * 1024);
    ASSERT_TRUE(store->Sync());
    uint64_t base = store->Stats().syncs;
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base);
    blocks = PutBlocks(*store, 1, 1, 1000);
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base + 1);
    ASSERT_TRUE(store->Sync());
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base + 1);
    ASSERT_TRUE(store->Delete(blocks[0].cid));  // a tombstone is an append too
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base + 2);
    auto more = PutBlocks(*store, 30, 100, 5000);  // rolls into new segments
    blocks.insert(blocks.end(), more.begin(), more.end());
    EXPECT_GT(store->Stats().segments, 1u);
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base + 3);
    ASSERT_TRUE(store->Sync());
    EXPECT_EQ(store->Stats().syncs, base + 3);
  }
  auto store = OpenOrDie(dir.path(), 64 * 1024);
  EXPECT_EQ(store->Get(blocks[0].cid).error().code(), ErrorCode::kNotFound);
  for (size_t i = 1; i < blocks.size(); ++i) {
    auto got = store->Get(blocks[i].cid);
    ASSERT_TRUE(got) << i << " " << got.error().ToString();
    EXPECT_EQ(*got, blocks[i].data);
  }
}

TEST(LogBlockstore, OpeningScansOnlyTheActiveSegment) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.path(), 64 * 1024);
    PutBlocks(*store, 60, 20, 6000);
  }
  auto store = OpenOrDie(dir.path(), 64 * 1024);
  // Sealed segments come from index files; only the last one's records are read from the log.
  EXPECT_LT(store->recovery().records_scanned, 11u);
  EXPECT_EQ(store->Stats().blocks, 60u);
}

TEST(LogBlockstore, TornTailIsCutAndEarlierBlocksSurvive) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path());
    blocks = PutBlocks(*store, 3, 30, 1000);
    ASSERT_TRUE(store->Sync());
  }
  fs::path seg = SegmentPath(dir.path(), 1);
  uint64_t full = fs::file_size(seg);
  ASSERT_EQ(full, kSegHeader + 3 * (kRecordOverhead + 1000));
  fs::resize_file(seg, full - 500);  // the third record loses half its data
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->recovery().truncated_bytes, kRecordOverhead + 500);
  ASSERT_EQ(store->recovery().problems.size(), 1u);
  EXPECT_NE(store->recovery().problems[0].find("incomplete data"), std::string::npos);
  EXPECT_EQ(*store->Get(blocks[0].cid), blocks[0].data);
  EXPECT_EQ(*store->Get(blocks[1].cid), blocks[1].data);
  EXPECT_EQ(store->Get(blocks[2].cid).error().code(), ErrorCode::kNotFound);
  // Appends continue right after the last valid record.
  ASSERT_TRUE(store->Put(blocks[2].cid, blocks[2].data));
  store.reset();
  store = OpenOrDie(dir.path());
  EXPECT_TRUE(store->recovery().problems.empty());
  EXPECT_EQ(*store->Get(blocks[2].cid), blocks[2].data);
}

TEST(LogBlockstore, TornRecordHeaderIsCut) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    PutBlocks(*store, 2, 40, 100);
  }
  fs::path seg = SegmentPath(dir.path(), 1);
  fs::resize_file(seg, fs::file_size(seg) - (kRecordOverhead + 100) + 7);
  auto store = OpenOrDie(dir.path());
  EXPECT_EQ(store->recovery().truncated_bytes, 7u);
  EXPECT_EQ(store->Stats().blocks, 1u);
}

TEST(LogBlockstore, CorruptDataReadsAsCorruptionNeverAsWrongBytes) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto blocks = PutBlocks(*store, 2, 50, 4000);
  ASSERT_TRUE(store->Sync());
  // Flip a byte inside the first block's data.
  FlipByte(SegmentPath(dir.path(), 1), kSegHeader + kRecordOverhead + 1234);
  auto got = store->Get(blocks[0].cid);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(*store->Get(blocks[1].cid), blocks[1].data);
}

// GetIntact (deal data for a provider, who checks the piece's CommP end to end) checks the
// record's own checksums instead of hashing the block: damage anywhere in a record is Corruption,
// and only bytes stored under the wrong multihash — which Put's callers rule out — pass it.
TEST(LogBlockstore, GetIntactChecksTheRecordAndNeverReturnsDamagedBytes) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto blocks = PutBlocks(*store, 3, 80, 3000);
  ASSERT_TRUE(store->Sync());
  for (const auto& b : blocks) {
    auto got = store->GetIntact(b.cid);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, b.data);
  }
  const uint64_t record = kRecordOverhead + 3000;
  FlipByte(SegmentPath(dir.path(), 1), kSegHeader + 2999);             // block 0's data
  FlipByte(SegmentPath(dir.path(), 1), kSegHeader + record + 20 + 7);  // block 1's multihash
  FlipByte(SegmentPath(dir.path(), 1), kSegHeader + 2 * record + 13);  // block 2's data CRC
  for (const auto& b : blocks) {
    auto got = store->GetIntact(b.cid);
    ASSERT_FALSE(got) << b.cid.ToString();
    EXPECT_EQ(got.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(got.error().message().find(b.cid.ToString()), std::string::npos)
        << got.error().message();
  }
  EXPECT_EQ(store->GetIntact(MakeBlock(99, 10).cid).error().code(), ErrorCode::kNotFound);

  // The trade-off, stated: bytes Put under another block's CID read back intact (Get refuses
  // them, as it hashes).
  testing::TempDir other;
  auto wrong = OpenOrDie(other.path());
  Block a = MakeBlock(90, 100);
  Block b = MakeBlock(91, 100);
  ASSERT_TRUE(wrong->Put(a.cid, b.data));
  EXPECT_EQ(*wrong->GetIntact(a.cid), b.data);
  EXPECT_EQ(wrong->Get(a.cid).error().code(), ErrorCode::kCorruption);
}

TEST(LogBlockstore, CorruptDataInSealedSegmentReadsAsCorruptionAfterReopen) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path(), 16 * 1024);
    blocks = PutBlocks(*store, 8, 60, 5000);  // segment 1 holds the first three and is sealed
  }
  FlipByte(SegmentPath(dir.path(), 1), kSegHeader + kRecordOverhead + 10);
  auto store = OpenOrDie(dir.path(), 16 * 1024);
  EXPECT_GT(store->recovery().segments_from_index, 0u);
  EXPECT_EQ(store->Get(blocks[0].cid).error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(*store->Get(blocks[1].cid), blocks[1].data);
}

TEST(LogBlockstore, CorruptRecordHeaderStopsRecoveryThereAndIsReported) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path());
    blocks = PutBlocks(*store, 3, 70, 1000);
  }
  uint64_t second = kSegHeader + kRecordOverhead + 1000;
  FlipByte(SegmentPath(dir.path(), 1), second + 9);  // inside the length field
  auto store = OpenOrDie(dir.path());
  ASSERT_EQ(store->recovery().problems.size(), 1u);
  EXPECT_NE(store->recovery().problems[0].find("offset " + std::to_string(second)),
            std::string::npos)
      << store->recovery().problems[0];
  EXPECT_EQ(*store->Get(blocks[0].cid), blocks[0].data);
  EXPECT_EQ(store->Get(blocks[1].cid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Get(blocks[2].cid).error().code(), ErrorCode::kNotFound);
}

TEST(LogBlockstore, DamagedIndexFileIsRebuiltFromTheLog) {
  testing::TempDir dir;
  std::vector<Block> blocks;
  {
    auto store = OpenOrDie(dir.path(), 16 * 1024);
    blocks = PutBlocks(*store, 8, 80, 5000);
  }
  fs::path idx = SegmentPath(dir.path(), 1).replace_extension(".idx");
  ASSERT_TRUE(fs::exists(idx));
  FlipByte(idx, 40);
  {
    auto store = OpenOrDie(dir.path(), 16 * 1024);
    ASSERT_FALSE(store->recovery().problems.empty());
    EXPECT_NE(store->recovery().problems[0].find("checksum mismatch"), std::string::npos);
    for (const auto& b : blocks) EXPECT_EQ(*store->Get(b.cid), b.data);
  }
  auto store = OpenOrDie(dir.path(), 16 * 1024);
  EXPECT_TRUE(store->recovery().problems.empty());  // rewritten on the previous open
}

TEST(LogBlockstore, ForeignFileWithSegmentNameIsRefused) {
  testing::TempDir dir;
  {
    auto store = OpenOrDie(dir.path(), 16 * 1024);
    PutBlocks(*store, 8, 90, 5000);
  }
  std::ofstream(SegmentPath(dir.path(), 1), std::ios::binary) << std::string(100, 'x');
  auto store = LogBlockstore::Open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kCorruption);
}

TEST(LogBlockstore, SecondOpenOfTheSameDirectoryIsUnavailable) {
  testing::TempDir dir;
  auto first = OpenOrDie(dir.path());
  auto second = LogBlockstore::Open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
}

TEST(LogBlockstore, MissingDirectoryIsNotFoundWithoutCreateIfMissing) {
  testing::TempDir dir;
  LogBlockstoreOptions options;
  options.create_if_missing = false;
  auto store = LogBlockstore::Open(dir.path() / "nope", options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kNotFound);
}

TEST(LogBlockstore, CompactionReclaimsSpaceAndKeepsLiveBlocks) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path(), 32 * 1024);
  auto blocks = PutBlocks(*store, 60, 100, 5000);
  for (int i = 0; i < 60; ++i) {
    if (i % 5 != 0) {
      ASSERT_TRUE(store->Delete(blocks[i].cid));
    }
  }
  auto before = store->Stats();
  auto stats = store->Compact(0.5);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_GT(stats->segments_compacted, 5u);
  EXPECT_LE(stats->blocks_moved, 12u);
  auto after = store->Stats();
  EXPECT_LT(after.disk_bytes, before.disk_bytes / 2);
  EXPECT_EQ(after.blocks, 12u);
  store.reset();
  store = OpenOrDie(dir.path(), 32 * 1024);
  EXPECT_TRUE(store->recovery().problems.empty());
  for (int i = 0; i < 60; ++i) {
    auto got = store->Get(blocks[i].cid);
    if (i % 5 == 0) {
      ASSERT_TRUE(got) << i;
      EXPECT_EQ(*got, blocks[i].data);
    } else {
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << i;
    }
  }
}

// The probe's case: a segment far larger than the data never fills, so it was never sealed and
// deleted data in it was never reclaimed. Compaction now seals it when that pays.
TEST(LogBlockstore, MostlyDeletedActiveSegmentIsSealedAndReclaimed) {
  testing::TempDir dir;
  LogBlockstoreOptions options;  // 1 GiB segments: 200 KB of blocks never fill one
  options.seal_min_reclaim = 64 * 1024;
  std::vector<Block> blocks;
  {
    auto store = std::move(*LogBlockstore::Open(dir.path(), options));
    blocks = PutBlocks(*store, 40, 900, 5000);
    for (int i = 2; i < 40; ++i) ASSERT_TRUE(store->Delete(blocks[i].cid));
    auto before = store->Stats();
    ASSERT_EQ(before.segments, 1u);
    auto stats = store->Compact(0.5);
    ASSERT_TRUE(stats) << stats.error().ToString();
    EXPECT_EQ(stats->segments_compacted, 1u);
    EXPECT_EQ(stats->blocks_moved, 2u);
    auto after = store->Stats();
    EXPECT_LT(after.disk_bytes, before.disk_bytes / 5);
    EXPECT_EQ(after.blocks, 2u);
    EXPECT_EQ(after.segments, 1u);  // the sealed one is gone; only the new active one is left
    // Not worth it: a second compaction finds nothing to seal (2 live blocks, no dead bytes).
    auto again = store->Compact(0.5);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->segments_compacted, 0u);
  }
  auto store = std::move(*LogBlockstore::Open(dir.path(), options));
  EXPECT_TRUE(store->recovery().problems.empty());
  for (int i = 0; i < 40; ++i) {
    auto got = store->Get(blocks[i].cid);
    if (i < 2) {
      ASSERT_TRUE(got) << i;
      EXPECT_EQ(*got, blocks[i].data);
    } else {
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << i;
    }
  }
}

TEST(LogBlockstore, BallastIsSetAsideAndRecreatedAfterCompaction) {
  testing::TempDir dir;
  LogBlockstoreOptions options;
  options.ballast_bytes = 256 * 1024;
  {
    auto store = std::move(*LogBlockstore::Open(dir.path(), options));
    ASSERT_TRUE(fs::exists(dir.path() / "BALLAST"));
    EXPECT_EQ(fs::file_size(dir.path() / "BALLAST"), 256u * 1024);
    fs::remove(dir.path() / "BALLAST");  // as a full disk's first tombstone would have
    ASSERT_TRUE(store->Compact(0.5));
    EXPECT_TRUE(fs::exists(dir.path() / "BALLAST"));
  }
  options.ballast_bytes = 0;
  testing::TempDir none;
  auto store = std::move(*LogBlockstore::Open(none.path(), options));
  EXPECT_FALSE(fs::exists(none.path() / "BALLAST"));
}

TEST(LogBlockstore, CompactingATombstoneSegmentDoesNotResurrectOlderBlocks) {
  testing::TempDir dir;
  std::vector<Block> first, second;
  {
    auto store = OpenOrDie(dir.path(), 8 * 1024);
    first = PutBlocks(*store, 4, 200, 1500);   // segment 1 (≈ 6 KiB), stays mostly live
    second = PutBlocks(*store, 4, 300, 1500);  // segment 2
    ASSERT_TRUE(store->Delete(first[0].cid));  // tombstone lands in segment 2 or 3
    for (const auto& b : second) ASSERT_TRUE(store->Delete(b.cid));
    PutBlocks(*store, 8, 400, 1500);  // move on so those segments are sealed
    auto stats = store->Compact(0.5);
    ASSERT_TRUE(stats) << stats.error().ToString();
    EXPECT_GE(stats->segments_compacted, 1u);
    EXPECT_TRUE(fs::exists(SegmentPath(dir.path(), 1)));  // 3 of 4 live: not compacted
  }
  auto store = OpenOrDie(dir.path(), 8 * 1024);
  EXPECT_FALSE(*store->Has(first[0].cid));  // deleted stays deleted
  for (int i = 1; i < 4; ++i) EXPECT_EQ(*store->Get(first[i].cid), first[i].data);
}

TEST(LogBlockstore, CompactionIsSafeBesideReadersAndWriters) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path(), 32 * 1024);
  std::vector<Block> blocks;
  for (int i = 0; i < 400; ++i) blocks.push_back(MakeBlock(1000 + i, 2000 + i));
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store->Put(blocks[i].cid, blocks[i].data));
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0};
  std::thread writer([&] {
    for (int i = 200; i < 400; ++i) {
      if (!store->Put(blocks[i].cid, blocks[i].data)) ++wrong;
      if (!store->Delete(blocks[i - 200].cid)) ++wrong;  // deletes the first half meanwhile
    }
    done = true;
  });
  std::thread reader([&] {
    while (!done) {
      for (int i = 0; i < 400; i += 7) {
        auto got = store->Get(blocks[i].cid);
        if (got ? *got != blocks[i].data : got.error().code() != ErrorCode::kNotFound) ++wrong;
      }
    }
  });
  int rounds = 0;
  while (!done) {
    if (!store->Compact(0.7)) ++wrong;
    ++rounds;
  }
  writer.join();
  reader.join();
  ASSERT_TRUE(store->Compact(0.7));
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(rounds, 0);
  store.reset();
  store = OpenOrDie(dir.path(), 32 * 1024);
  for (int i = 0; i < 400; ++i) {
    auto got = store->Get(blocks[i].cid);
    if (i < 200) {
      EXPECT_EQ(got.error().code(), ErrorCode::kNotFound) << i;
    } else {
      ASSERT_TRUE(got) << i;
      EXPECT_EQ(*got, blocks[i].data);
    }
  }
}

TEST(LogBlockstore, BlockLargerThanASegmentGetsItsOwn) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.path(), 4096);
  auto small = MakeBlock(1, 100), big = MakeBlock(2, 20000);
  ASSERT_TRUE(store->Put(small.cid, small.data));
  ASSERT_TRUE(store->Put(big.cid, big.data));
  store.reset();
  store = OpenOrDie(dir.path(), 4096);
  EXPECT_EQ(*store->Get(big.cid), big.data);
  EXPECT_EQ(*store->Get(small.cid), small.data);
}

}  // namespace
}  // namespace cairn::blockstore
