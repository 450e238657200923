// Runs the real `cairn piece aggregate` and `cairn piece verify-inclusion` on go-data-segment's
// sample (two CARs): known aggregate CIDs, proofs and payload bytes; proofs accepted; tampered
// proofs, wrong pieces and wrong aggregates rejected with a non-zero exit and a reason.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/testing/command.hpp"
#include "filecoin/aggregation/internal/test_util.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::aggregation {
namespace {

using testing::ReadFile;
using testing::TestdataPath;

using cairn::testing::CommandResult;
using cairn::testing::ShellQuote;

// Runs `cairn ARGS` through the shell; `out` holds its stdout and stderr.
CommandResult Cairn(const std::string& args) {
  return cairn::testing::RunCommand(cairn::testing::CairnBinary("cairn") + " " + args + " 2>&1");
}

class AggregationCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const Bytes text = ReadFile(TestdataPath("podsi_vectors.json"));
    vectors_ = boost::json::parse(std::string(text.begin(), text.end())).as_object();
    out_ = (std::filesystem::temp_directory_path() /
            ("cairn-aggregate-" + std::to_string(::getpid()) + ".data"))
               .string();
  }
  void TearDown() override { std::filesystem::remove(out_); }

  boost::json::object vectors_;
  std::string out_;
};

TEST_F(AggregationCli, AggregatesTheSampleCarsLikeGoDataSegment) {
  // VDA first on the command line: placement still puts the larger cat.png.car first.
  CommandResult run =
      Cairn("piece aggregate " + ShellQuote(TestdataPath("Verifiable_Data_Aggregation.png.car")) +
            " " + ShellQuote(TestdataPath("cat.png.car")) + " --out " + ShellQuote(out_));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto json = boost::json::parse(run.out).as_object();
  EXPECT_EQ(json.at("aggregateCidV1").as_string(), vectors_.at("aggregateV1").as_string());
  EXPECT_EQ(json.at("aggregateCidV2").as_string(), vectors_.at("aggregateV2").as_string());
  EXPECT_EQ(json.at("paddedSize").to_number<uint64_t>(), 1048576u);
  const auto& pieces = json.at("pieces").as_array();
  const auto& want = vectors_.at("pieces").as_array();
  ASSERT_EQ(pieces.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& p = pieces[i].as_object();
    EXPECT_EQ(p.at("input").to_number<int>(), 2 - static_cast<int>(i));
    EXPECT_EQ(p.at("pieceCidV1").as_string(), want[i].at("pieceV1").as_string());
    EXPECT_EQ(p.at("pieceCidV2").as_string(), want[i].at("pieceV2").as_string());
    EXPECT_EQ(p.at("offset").to_number<uint64_t>(),
              want[i].at("segmentDesc").at("offset").to_number<uint64_t>());
    EXPECT_EQ(p.at("size").to_number<uint64_t>(), want[i].at("paddedSize").to_number<uint64_t>());
    EXPECT_EQ(p.at("inclusionProof").as_string(), want[i].at("inclusionProofCborHex").as_string());
  }
  const Bytes payload = ReadFile(out_);
  EXPECT_EQ(HexEncode(multiformats::Sha256(payload)),
            "94b9c4a340d990591035a6fe893f06b3b4011df6b57b4a3ace1e5b2735773b96");
}

TEST_F(AggregationCli, VerifyInclusionAcceptsGoodAndRejectsBadProofs) {
  const std::string aggregate(vectors_.at("aggregateV2").as_string());
  const auto& want = vectors_.at("pieces").as_array();
  for (const auto& p : want) {
    const std::string piece(p.at("pieceV2").as_string());
    const std::string proof(p.at("inclusionProofCborHex").as_string());
    CommandResult ok = Cairn("piece verify-inclusion --aggregate " + aggregate + " --piece " +
                             piece + " --proof " + proof);
    EXPECT_EQ(ok.exit_code, 0) << ok.out;
    EXPECT_NE(ok.out.find("ok: piece " + piece), std::string::npos) << ok.out;
    // v1 aggregate + --size, and v1:SIZE piece.
    CommandResult v1 =
        Cairn("piece verify-inclusion --aggregate " +
              std::string(vectors_.at("aggregateV1").as_string()) + " --size 1048576 --piece " +
              std::string(p.at("pieceV1").as_string()) + ":" +
              std::to_string(p.at("paddedSize").to_number<uint64_t>()) + " --proof " + proof);
    EXPECT_EQ(v1.exit_code, 0) << v1.out;

    std::string tampered = proof;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == '0' ? '1' : '0';
    CommandResult bad = Cairn("piece verify-inclusion --aggregate " + aggregate + " --piece " +
                              piece + " --proof " + tampered);
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.out.find("podsi:"), std::string::npos) << bad.out;
    CommandResult truncated =
        Cairn("piece verify-inclusion --aggregate " + aggregate + " --piece " + piece +
              " --proof " + proof.substr(0, proof.size() - 2));
    EXPECT_NE(truncated.exit_code, 0);
    EXPECT_NE(truncated.out.find("dag-cbor"), std::string::npos) << truncated.out;
  }
  // A proof for the other piece.
  CommandResult swapped = Cairn("piece verify-inclusion --aggregate " + aggregate + " --piece " +
                                std::string(want[0].at("pieceV2").as_string()) + " --proof " +
                                std::string(want[1].at("inclusionProofCborHex").as_string()));
  EXPECT_NE(swapped.exit_code, 0) << swapped.out;
  // Wrong aggregate (a zero piece of the same size).
  CommandResult wrong = Cairn(
      "piece verify-inclusion --aggregate "
      "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq:1048576 "
      "--piece " +
      std::string(want[0].at("pieceV2").as_string()) + " --proof " +
      std::string(want[0].at("inclusionProofCborHex").as_string()));
  EXPECT_NE(wrong.exit_code, 0) << wrong.out;
  EXPECT_NE(wrong.out.find("leads to aggregate root"), std::string::npos) << wrong.out;
}

TEST_F(AggregationCli, AggregateRejectsBadPiecesWithReasons) {
  CommandResult no_size =
      Cairn("piece aggregate baga6ea4seaqnrm2n2g4m23t6rs26obxjw2tjtr7tcho24gepj2naqhevytduyoa");
  EXPECT_NE(no_size.exit_code, 0);
  EXPECT_NE(no_size.out.find("needs its padded size"), std::string::npos) << no_size.out;
  CommandResult odd = Cairn(
      "piece aggregate baga6ea4seaqnrm2n2g4m23t6rs26obxjw2tjtr7tcho24gepj2naqhevytduyoa:1000");
  EXPECT_NE(odd.exit_code, 0);
  EXPECT_NE(odd.out.find("not a power of two"), std::string::npos) << odd.out;
  CommandResult too_small =
      Cairn("piece aggregate " + ShellQuote(TestdataPath("cat.png.car")) + " --size 524288");
  EXPECT_NE(too_small.exit_code, 0);
  EXPECT_NE(too_small.out.find("do not fit"), std::string::npos) << too_small.out;
  CommandResult missing = Cairn("piece aggregate /nonexistent/piece.car");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("readable file"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace cairn::filecoin::aggregation
