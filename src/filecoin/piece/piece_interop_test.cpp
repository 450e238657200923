// Cross-check of CommP against @web3-storage/data-segment 5.3.0 (tests/interop/
// piece_commp_crosscheck.mjs) on random payloads around every power-of-two boundary of the piece
// capacity (127 * 2^k - 1, 127 * 2^k, 127 * 2^k + 1, and a random size below each), about 17 MiB
// in total (the JS peer hashes ≈ 6 MiB/s). Cairn's result must be the same for 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"

namespace cairn::filecoin::piece {
namespace {

namespace fs = std::filesystem;
using cairn::testing::Lines;
using cairn::testing::RunNodeDriver;
using cairn::testing::ShellQuote;

TEST(PieceInterop, CommPMatchesDataSegmentAroundPowerOfTwoBoundaries) {
  ASSERT_NE(std::getenv("CAIRN_SOURCE_DIR"), nullptr);
  const cairn::testing::TempDir tmp("cairn-piece-interop");
  const fs::path& dir = tmp.path();

  std::mt19937_64 rng(20261124);
  std::vector<uint64_t> sizes = {65, 66, 100};
  for (int k = 0; k <= 14; ++k) {
    const uint64_t cap = uint64_t{127} << k;
    for (uint64_t s : {cap - 1, cap, cap + 1}) {
      if (s >= 65) sizes.push_back(s);
    }
    const uint64_t lo = std::max<uint64_t>(65, cap / 2);
    sizes.push_back(lo + rng() % (cap - lo + 1));
  }
  std::map<std::string, Bytes> payloads;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Bytes b(sizes[i]);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    char name[32];
    std::snprintf(name, sizeof name, "p%03zu", i);
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    payloads[name] = std::move(b);
  }

  // The driver's exit status is not checked: every payload must have its line (checked below).
  const std::string out = RunNodeDriver("piece_commp_crosscheck.mjs", ShellQuote(dir.string())).out;
  size_t checked = 0;
  for (const std::string& line : Lines(out)) {
    const auto v = boost::json::parse(line).as_object();
    const std::string file(v.at("file").as_string());
    SCOPED_TRACE(file + " (" + std::to_string(payloads.at(file).size()) + " bytes)");
    ASSERT_FALSE(v.contains("error")) << line;
    const Bytes& payload = payloads.at(file);
    PieceInfo first;
    for (unsigned threads : {1u, 2u, 3u}) {
      auto info = ComputeCommP(payload, {.threads = threads});
      ASSERT_TRUE(info.has_value());
      if (threads == 1) first = *info;
      EXPECT_EQ(*info, first) << threads << " threads";
    }
    EXPECT_EQ(PieceCidV1(first.root).ToString(), std::string(v.at("v1").as_string()));
    EXPECT_EQ(PieceCidV2(first)->ToString(), std::string(v.at("v2").as_string()));
    EXPECT_EQ(first.padded_size(), v.at("paddedSize").to_number<uint64_t>());
    EXPECT_EQ(first.padding, v.at("padding").to_number<uint64_t>());
    ++checked;
  }
  EXPECT_EQ(checked, payloads.size()) << out;
}

}  // namespace
}  // namespace cairn::filecoin::piece
