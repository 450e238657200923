// Cross-checks aggregates and PoDSI proofs against @web3-storage/data-segment (Node, driver
// tests/interop/aggregation_crosscheck.mjs) on random piece sets: same aggregate root and height,
// byte-identical proofs, our proofs accepted by the JS verifier, JS proofs accepted by ours, and
// tampered proofs rejected by both.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/aggregation/internal/test_util.hpp"

namespace cairn::filecoin::aggregation {
namespace {

using testing::NodeHex;

struct Case {
  Aggregate aggregate;
  std::vector<InclusionProof> proofs;  // placement order
};

TEST(AggregationInterop, RandomAggregatesMatchDataSegmentJs) {
  std::mt19937_64 rng(20260058);
  std::vector<Case> cases;
  boost::json::array requests;
  for (int round = 0; round < 60; ++round) {
    const size_t count = 1 + rng() % (round < 40 ? 6 : 20);
    std::vector<PieceInfo> pieces;
    for (size_t i = 0; i < count; ++i) {
      PieceInfo p;
      for (auto& b : p.commitment) b = static_cast<uint8_t>(rng());
      p.commitment[31] &= 0x3f;
      p.size = uint64_t{128} << (rng() % 16);  // 128 B .. 4 MiB
      pieces.push_back(p);
    }
    std::optional<uint64_t> deal;
    if (round % 3 == 2) deal = uint64_t{1} << 24;  // 16 MiB, when everything fits
    auto agg = Aggregate::Build(pieces, deal);
    if (!agg) agg = Aggregate::Build(pieces);
    ASSERT_TRUE(agg) << agg.error().ToString();
    Case c{std::move(*agg), {}};
    boost::json::array js_pieces, check;
    for (size_t i = 0; i < c.aggregate.entries().size(); ++i) {
      const SegmentDesc& e = c.aggregate.entries()[i];
      js_pieces.push_back(
          {{"root", NodeHex(e.commitment)}, {"height", std::countr_zero(e.size / 32)}});
      auto proof = c.aggregate.ProveEntry(i);
      ASSERT_TRUE(proof);
      check.push_back({{"piece", i}, {"proof", HexEncode(EncodeInclusionProof(*proof))}});
      c.proofs.push_back(*proof);
    }
    // One tampered proof per case: flip a bit of the top index-path node.
    InclusionProof bad = c.proofs[0];
    bad.index.path.back()[3] ^= 0x04;
    check.push_back({{"piece", 0}, {"proof", HexEncode(EncodeInclusionProof(bad))}});
    requests.push_back(
        {{"size", c.aggregate.deal_size()}, {"pieces", js_pieces}, {"check", check}});
    cases.push_back(std::move(c));
  }

  const cairn::testing::TempDir dir("cairn-aggregation-interop");
  const std::string request_path = dir / "request.json";
  {
    std::ofstream out(request_path);
    out << boost::json::serialize(boost::json::object{{"cases", requests}});
  }
  const cairn::testing::CommandResult run = cairn::testing::RunNodeDriver(
      "aggregation_crosscheck.mjs", cairn::testing::ShellQuote(request_path));
  ASSERT_EQ(run.exit_code, 0) << "node aggregation_crosscheck.mjs " << request_path;
  const std::string& text = run.out;
  const auto response = boost::json::parse(text).as_object();
  const auto& results = response.at("cases").as_array();
  ASSERT_EQ(results.size(), cases.size());

  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const auto& r = results[k].as_object();
    ASSERT_FALSE(r.contains("error")) << "case " << k << ": " << r.at("error").as_string();
    EXPECT_EQ(r.at("root").as_string(), NodeHex(c.aggregate.root())) << "case " << k;
    EXPECT_EQ(r.at("height").to_number<unsigned>(), c.aggregate.height()) << "case " << k;
    const auto& proofs = r.at("proofs").as_array();
    ASSERT_EQ(proofs.size(), c.proofs.size());
    for (size_t i = 0; i < proofs.size(); ++i) {
      const Bytes js = *HexDecode(proofs[i].as_string());
      EXPECT_EQ(js, EncodeInclusionProof(c.proofs[i])) << "case " << k << " piece " << i;
      auto decoded = DecodeInclusionProof(js);
      ASSERT_TRUE(decoded) << decoded.error().ToString();
      const SegmentDesc& e = c.aggregate.entries()[i];
      EXPECT_TRUE(VerifyInclusion(*decoded, {e.commitment, e.size}, c.aggregate.piece()))
          << "case " << k << " piece " << i;
    }
    const auto& check = r.at("check").as_array();
    ASSERT_EQ(check.size(), c.proofs.size() + 1);
    for (size_t i = 0; i < c.proofs.size(); ++i) {
      EXPECT_EQ(check[i].as_string(), "ok") << "case " << k << " piece " << i;
    }
    EXPECT_NE(check.back().as_string(), "ok") << "JS accepted a tampered proof, case " << k;
    InclusionProof bad = c.proofs[0];
    bad.index.path.back()[3] ^= 0x04;
    EXPECT_FALSE(
        VerifyInclusion(bad, {c.aggregate.entries()[0].commitment, c.aggregate.entries()[0].size},
                        c.aggregate.piece()));
  }
}

}  // namespace
}  // namespace cairn::filecoin::aggregation
