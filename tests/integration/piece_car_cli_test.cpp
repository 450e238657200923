// End-to-end: `cairn piece commp --car CID` on the real binary equals `cairn car export CID |
// cairn piece commp -` (the piece of the same CAR bytes, once streamed from the block store, once
// through a pipe), for a file and a directory added with `cairn add`; a missing block fails with
// its CID.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>

#include "tests/integration/run.hpp"

namespace cairn::testing {
namespace {

class PieceCarCli : public ::testing::Test {
 protected:
  std::string Repo() { return "--repo '" + (dir_ / "repo") + "' "; }
  RunResult Cairn(const std::string& args) { return RunCairn(Repo() + args); }
  // Runs `cairn FIRST | cairn SECOND` through the shell; returns the second command's output,
  // both commands' stderr, and a non-zero status when either fails (pipefail).
  RunResult Pipe(const std::string& first, const std::string& second) {
    const std::string bin = ShellQuote(CairnBinary()) + " " + Repo();
    const std::string err1 = dir_ / "pipe.err1", err2 = dir_ / "pipe.err2";
    const std::string cmd = "set -o pipefail; " + bin + first + " 2>" + ShellQuote(err1) + " | " +
                            bin + second + " 2>" + ShellQuote(err2);
    CommandResult run = RunCommand("bash -c " + ShellQuote(cmd));
    RunResult r;
    r.exit_code = run.exit_code;
    r.out = std::move(run.out);
    r.err = ReadFile(err1) + ReadFile(err2);
    return r;
  }
  std::string Add(const std::string& args) {
    auto r = Cairn("add -Q " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  std::string WriteRandom(const std::string& name, size_t size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string data(size, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    WriteFile(dir_ / name, data);
    return dir_ / name;
  }

  // Compares the streamed piece of `cid` with the piece of its exported CAR, for two thread
  // counts; returns the streamed JSON.
  boost::json::object ExpectSamePieceAsExportPipe(const std::string& cid) {
    auto piped = Pipe("car export " + cid, "piece commp -");
    EXPECT_EQ(piped.exit_code, 0) << piped.err;
    auto car = Cairn("car export " + cid + " -o '" + (dir_ / "dag.car") + "'");
    EXPECT_EQ(car.exit_code, 0) << car.err;
    const uint64_t car_size = ReadFile(dir_ / "dag.car").size();
    const auto want = boost::json::parse(piped.out).as_object();
    boost::json::object first;
    for (const char* threads : {"1", "2"}) {
      SCOPED_TRACE(std::string("--threads ") + threads);
      auto r = Cairn("piece commp --car " + cid + " --threads " + threads);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      if (r.exit_code != 0) return {};
      auto got = boost::json::parse(r.out).as_object();
      for (const char* key : {"pieceCidV1", "pieceCidV2", "payloadSize", "paddedSize"}) {
        EXPECT_EQ(got.at(key), want.at(key)) << key;
      }
      EXPECT_EQ(got.at("root").as_string(), cid);
      EXPECT_EQ(got.at("carSize").to_number<uint64_t>(), car_size);
      EXPECT_EQ(got.at("payloadSize").to_number<uint64_t>(), car_size);
      first = got;
    }
    return first;
  }

  TempDir dir_;
};

TEST_F(PieceCarCli, FileMatchesExportPipedIntoCommP) {
  const std::string cid = Add("--chunker size-65536 '" + WriteRandom("f", 1300000, 1) + "'");
  auto p = ExpectSamePieceAsExportPipe(cid);
  EXPECT_EQ(p.at("paddedSize").to_number<uint64_t>(), uint64_t{2} << 20);
}

TEST_F(PieceCarCli, DirectoryWithCidV1MatchesExportPipedIntoCommP) {
  std::filesystem::create_directories(dir_.path() / "d" / "sub");
  WriteRandom("d/a", 3000, 2);
  WriteRandom("d/sub/b", 300000, 3);
  WriteFile(dir_ / "d/empty", "");
  const std::string cid = Add("-r --cid-version 1 '" + (dir_ / "d") + "'");
  ASSERT_EQ(cid.rfind("bafy", 0), 0u) << cid;
  ExpectSamePieceAsExportPipe(cid);
}

TEST_F(PieceCarCli, MissingBlockFailsNamingIt) {
  const std::string cid = Add("--chunker size-1024 '" + WriteRandom("f", 10000, 4) + "'");
  // The CAR's block CIDs in export order; remove a leaf (not the root).
  auto ls = Pipe("car export " + cid, "car ls -");
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  std::vector<std::string> cids;
  for (size_t pos = 0, end; (end = ls.out.find('\n', pos)) != std::string::npos; pos = end + 1) {
    cids.push_back(ls.out.substr(pos, end - pos));
  }
  ASSERT_GE(cids.size(), 3u);
  const std::string leaf = cids[2];
  auto rm = Cairn("block rm " + leaf);
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto r = Cairn("piece commp --car " + cid);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("NOT_FOUND"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(leaf), std::string::npos) << r.err;
}

TEST_F(PieceCarCli, FileAndCarAreExclusiveAndOneIsRequired) {
  WriteFile(dir_ / "f", "x");
  EXPECT_NE(Cairn("piece commp '" + (dir_ / "f") + "' --car bafkqaaa").exit_code, 0);
  auto none = Cairn("piece commp");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("--car"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace cairn::testing
