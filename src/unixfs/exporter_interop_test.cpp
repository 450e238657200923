// Cross-check of the exporter against js-ipfs-unixfs: tests/interop/unixfs_export_crosscheck.mjs
// builds random files, directories and HAMT-sharded directories with ipfs-unixfs-importer, dumps
// the blocks and what ipfs-unixfs-exporter reads from them; this test loads the same blocks
// (verifying each against its CID) and checks that every read, range, listing and path
// resolution of ours gives the same answer. Needs `node` and tests/interop/node_modules.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "multiformats/multihash.hpp"
#include "unixfs/exporter.hpp"

namespace cairn::unixfs {
namespace {

namespace fs = std::filesystem;

class DirGetter : public BlockGetter {
 public:
  Result<Bytes> Get(const Cid& cid) override {
    auto it = blocks.find(cid.hash());
    if (it == blocks.end()) {
      return Err(ErrorCode::kNotFound, "interop: no block " + cid.ToString());
    }
    return it->second;
  }
  std::map<multiformats::Multihash, Bytes> blocks;
};

std::string Sha256Hex(Exporter& ex, const Cid& cid, uint64_t offset, std::optional<uint64_t> len,
                      uint64_t* size) {
  multiformats::Sha256Hasher hasher;
  uint64_t n = 0;
  FunctionSink sink([&](ByteSpan b) -> Result<void> {
    hasher.Update(b);
    n += b.size();
    return Ok();
  });
  auto r = ex.ReadRange(cid, offset, len, sink);
  EXPECT_TRUE(r) << cid.ToString() << " @" << offset << ": " << r.error().ToString();
  if (size != nullptr) *size = n;
  auto digest = hasher.Finish();
  return HexEncode(digest);
}

TEST(UnixfsExportInterop, MatchesJsExporterOnJsImportedDags) {
  const char* src = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "CAIRN_SOURCE_DIR is not set (run through ctest)";
  fs::path script = fs::path(src) / "tests/interop/unixfs_export_crosscheck.mjs";
  ASSERT_TRUE(fs::exists(script));
  ASSERT_TRUE(fs::exists(fs::path(src) / "tests/interop/node_modules/ipfs-unixfs-importer"))
      << "run npm ci in tests/interop";

  uint64_t seed = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  if (const char* s = std::getenv("CAIRN_INTEROP_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("seed %llu (set CAIRN_INTEROP_SEED to repeat)\n",
              static_cast<unsigned long long>(seed));

  const cairn::testing::TempDir tmp("cairn-unixfs-export");
  const fs::path& dir = tmp.path();
  const cairn::testing::CommandResult run = cairn::testing::RunNodeDriver(
      "unixfs_export_crosscheck.mjs",
      cairn::testing::ShellQuote(dir.string()) + " " + std::to_string(seed) + " 2>&1");
  if (run.exit_code != 0) {
    FAIL() << "node failed (" << run.exit_code << "): " << run.out;
  }

  DirGetter getter;
  for (const auto& f : fs::directory_iterator(dir / "blocks")) {
    auto cid = Cid::Parse(f.path().stem().string());
    ASSERT_TRUE(cid) << f.path();
    std::ifstream in(f.path(), std::ios::binary);
    Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(cid->hash().Verify(bytes)) << "block does not match its CID: " << f.path();
    getter.blocks[cid->hash()] = std::move(bytes);
  }
  ASSERT_GT(getter.blocks.size(), 100u);

  Exporter ex(getter);
  std::ifstream expected(dir / "expected.txt");
  std::string line;
  size_t facts = 0;
  std::map<std::string, size_t> kinds;
  while (std::getline(expected, line)) {
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string kind, path;
    in >> kind >> path;
    ++facts;
    ++kinds[kind];
    SCOPED_TRACE(line);
    if (kind == "file") {
      uint64_t size;
      std::string sha;
      in >> size >> sha;
      auto r = ex.Resolve(path);
      ASSERT_TRUE(r) << r.error().ToString();
      EXPECT_EQ(r->stat.type, NodeType::kFile);
      EXPECT_EQ(r->stat.size, size);
      uint64_t got_size = 0;
      EXPECT_EQ(Sha256Hex(ex, r->cid, 0, std::nullopt, &got_size), sha);
      EXPECT_EQ(got_size, size);
    } else if (kind == "range") {
      uint64_t offset, length;
      std::string sha;
      in >> offset >> length >> sha;
      auto r = ex.Resolve(path);
      ASSERT_TRUE(r) << r.error().ToString();
      EXPECT_EQ(Sha256Hex(ex, r->cid, offset, length, nullptr), sha);
    } else if (kind == "dir") {
      size_t count;
      in >> count;
      std::map<std::string, std::tuple<std::string, std::string, uint64_t>> want;
      for (size_t i = 0; i < count; ++i) {
        ASSERT_TRUE(std::getline(expected, line));
        std::istringstream e(line);
        std::string tag, name, cid, type;
        uint64_t size;
        e >> tag >> name >> cid >> type >> size;
        ASSERT_EQ(tag, "entry");
        want[name] = {cid, type, size};
      }
      auto r = ex.Resolve(path);
      ASSERT_TRUE(r) << r.error().ToString();
      std::map<std::string, std::tuple<std::string, std::string, uint64_t>> got;
      auto listed = ex.ListDirectory(r->cid, [&](const DirEntry& entry) -> Result<bool> {
        NodeStat stat = CAIRN_TRY(ex.Stat(entry.cid));
        bool is_dir = stat.type == NodeType::kDirectory || stat.type == NodeType::kHamtDirectory;
        EXPECT_EQ(got.count(entry.name), 0u) << "listed twice: " << entry.name;
        got[entry.name] = {entry.cid.ToString(), is_dir ? "directory" : "file", stat.size};
        return true;
      });
      ASSERT_TRUE(listed) << listed.error().ToString();
      EXPECT_EQ(got, want);
    } else if (kind == "resolve") {
      std::string cid;
      in >> cid;
      auto r = ex.Resolve(path);
      ASSERT_TRUE(r) << r.error().ToString();
      EXPECT_EQ(r->cid.ToString(), cid);
      EXPECT_EQ(r->path_blocks.back(), r->cid);
    } else if (kind == "missing") {
      auto r = ex.Resolve(path);
      ASSERT_FALSE(r);
      EXPECT_TRUE(r.error().code() == ErrorCode::kNotFound ||
                  r.error().code() == ErrorCode::kInvalidArgument)
          << r.error().ToString();
    } else {
      FAIL() << "unknown fact kind " << kind;
    }
  }
  EXPECT_GT(facts, 1000u);
  EXPECT_GT(kinds["dir"], 4u);
  EXPECT_GT(kinds["range"], 500u);
  EXPECT_GT(kinds["resolve"], 20u);
}

}  // namespace
}  // namespace cairn::unixfs
