// Cross-check of ComputeCarPiece against @web3-storage/data-segment 5.3.0
// (tests/interop/piece_commp_crosscheck.mjs): the CAR export of small UnixFS DAGs is written to
// files, the JS peer computes their pieces from the bytes, and Cairn's streamed result must match
// (v1 and v2 CIDs, padded size, padding).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "blockstore/memory_blockstore.hpp"
#include "common/io.hpp"
#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "unixfs/importer.hpp"

namespace cairn::filecoin::dealdata {
namespace {

namespace fs = std::filesystem;
using cairn::testing::Lines;
using cairn::testing::RunNodeDriver;
using cairn::testing::ShellQuote;

Cid AddFile(blockstore::Blockstore& store, size_t size, uint64_t seed,
            const unixfs::ImportOptions& options) {
  std::mt19937_64 rng(seed);
  Bytes data(size);
  for (auto& x : data) x = static_cast<uint8_t>(rng());
  SpanSource source(data);
  ipld::StoreSink<blockstore::Blockstore> sink(store);
  auto node = unixfs::ImportFile(source, options, sink);
  EXPECT_TRUE(node.has_value());
  return node->cid;
}

TEST(CarPieceInterop, MatchesDataSegmentOnExportedCars) {
  ASSERT_NE(std::getenv("CAIRN_SOURCE_DIR"), nullptr);
  const cairn::testing::TempDir tmp("cairn-dealdata-interop");
  const fs::path& dir = tmp.path();

  blockstore::MemoryBlockstore store;
  auto options = unixfs::ImportOptions::KuboDefaults();
  options.chunk_size = 1024;
  auto v1 = *unixfs::ImportOptions::FromProfile("unixfs-v1-2025");
  v1.chunk_size = 4096;
  // A multi-block v0 file, a multi-block v1 raw-leaf file, a one-block file.
  const std::map<std::string, Cid> roots = {
      {"a-v0-multiblock", AddFile(store, 5000, 1, options)},
      {"b-v1-rawleaves", AddFile(store, 20000, 2, v1)},
      {"c-small", AddFile(store, 40, 3, options)},
  };
  std::map<std::string, CarPiece> pieces;
  for (const auto& [name, root] : roots) {
    ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
    Bytes car;
    BytesSink sink(car);
    ASSERT_TRUE(car::ExportDag(root, getter, sink).has_value());
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(car.data()), static_cast<std::streamsize>(car.size()));
    auto got = ComputeCarPiece(root, store, {.threads = 2});
    ASSERT_TRUE(got.has_value()) << got.error().ToString();
    EXPECT_EQ(got->car_size, car.size());
    pieces[name] = *got;
  }

  // The driver's exit status is not checked: every payload must have its line (checked below).
  const std::string out = RunNodeDriver("piece_commp_crosscheck.mjs", ShellQuote(dir.string())).out;
  size_t checked = 0;
  for (const std::string& line : Lines(out)) {
    const auto v = boost::json::parse(line).as_object();
    const std::string file(v.at("file").as_string());
    SCOPED_TRACE(file);
    ASSERT_FALSE(v.contains("error")) << line;
    const CarPiece& p = pieces.at(file);
    EXPECT_EQ(p.piece_cid_v1.ToString(), std::string(v.at("v1").as_string()));
    EXPECT_EQ(p.piece_cid_v2.ToString(), std::string(v.at("v2").as_string()));
    EXPECT_EQ(p.piece.padded_size(), v.at("paddedSize").to_number<uint64_t>());
    EXPECT_EQ(p.piece.padding, v.at("padding").to_number<uint64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, pieces.size()) << out;
}

}  // namespace
}  // namespace cairn::filecoin::dealdata
