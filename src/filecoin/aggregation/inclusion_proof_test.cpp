#include "filecoin/aggregation/inclusion_proof.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/aggregation/internal/test_util.hpp"
#include "ipld/dag_cbor.hpp"

namespace cairn::filecoin::aggregation {
namespace {

using testing::NodeFromHex;
using testing::ReadFile;
using testing::TestdataPath;

struct Sample {
  PieceInfo piece;
  Bytes cbor;
  uint64_t subtree_index, subtree_len, index_index, index_len;
};

std::vector<Sample> Samples() {
  const Bytes text = ReadFile(TestdataPath("podsi_vectors.json"));
  auto v = boost::json::parse(std::string(text.begin(), text.end())).as_object();
  std::vector<Sample> out;
  for (const auto& item : v.at("pieces").as_array()) {
    const auto& p = item.as_object();
    Sample s;
    s.piece = {NodeFromHex(p.at("segmentDesc").at("commDsHex").as_string()),
               p.at("paddedSize").to_number<uint64_t>()};
    s.cbor = *HexDecode(p.at("inclusionProofCborHex").as_string());
    s.subtree_index = p.at("subtreeProof").at("index").to_number<uint64_t>();
    s.subtree_len = p.at("subtreeProof").at("pathLen").to_number<uint64_t>();
    s.index_index = p.at("indexProof").at("index").to_number<uint64_t>();
    s.index_len = p.at("indexProof").at("pathLen").to_number<uint64_t>();
    out.push_back(std::move(s));
  }
  return out;
}

// aggregateV1 of podsi_vectors.json
// (baga6ea4seaqnqkeoqevjjjfe46wo2lpfclcbmkyms4wkz5srou3vzmr3w3c72bq).
PieceInfo SampleAggregate() {
  auto agg = Aggregate::Build(
      std::vector<PieceInfo>{
          {NodeFromHex("02771248c328f03d49dd3067ae71fda4c6230ded8315ea51539e7155c5b0261b"), 524288},
          {NodeFromHex("d8b34dd1b8cd6e7e8cb5e706e9b6a699c7f311ddae188f4e9a081c95c4c74c38"),
           262144}},
      uint64_t{1} << 20);
  return agg->piece();
}

TEST(InclusionProofCodec, DecodesJsProofsAndReencodesThemByteForByte) {
  for (const auto& s : Samples()) {
    auto proof = DecodeInclusionProof(s.cbor);
    ASSERT_TRUE(proof) << proof.error().ToString();
    EXPECT_EQ(proof->subtree.index, s.subtree_index);
    EXPECT_EQ(proof->subtree.path.size(), s.subtree_len);
    EXPECT_EQ(proof->index.index, s.index_index);
    EXPECT_EQ(proof->index.path.size(), s.index_len);
    EXPECT_EQ(EncodeInclusionProof(*proof), s.cbor);
  }
}

TEST(InclusionProofVerify, AcceptsJsProofsForTheSampleAggregate) {
  const PieceInfo aggregate = SampleAggregate();
  for (const auto& s : Samples()) {
    auto proof = DecodeInclusionProof(s.cbor);
    ASSERT_TRUE(proof);
    auto resolved = ResolveAggregate(*proof, s.piece);
    ASSERT_TRUE(resolved) << resolved.error().ToString();
    EXPECT_EQ(*resolved, aggregate);
    EXPECT_TRUE(VerifyInclusion(*proof, s.piece, aggregate));
  }
}

TEST(InclusionProofVerify, RejectsWrongPieceAggregateAndTamperedPaths) {
  const PieceInfo aggregate = SampleAggregate();
  const auto samples = Samples();
  const auto proof = *DecodeInclusionProof(samples[1].cbor);
  const PieceInfo piece = samples[1].piece;

  // The other piece's commitment with this proof.
  auto r = VerifyInclusion(proof, {samples[0].piece.commitment, piece.size}, aggregate);
  ASSERT_FALSE(r);
  // Right piece, wrong size: the implied aggregate size changes.
  r = VerifyInclusion(proof, {piece.commitment, piece.size * 2}, aggregate);
  ASSERT_FALSE(r);
  // Wrong aggregate root and wrong aggregate size.
  PieceInfo other = aggregate;
  other.commitment[0] ^= 1;
  r = VerifyInclusion(proof, piece, other);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("leads to aggregate root"), std::string::npos);
  r = VerifyInclusion(proof, piece, {aggregate.commitment, aggregate.size * 2});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("aggregate of 1048576 bytes, not 2097152"), std::string::npos);

  // Every single-node tamper in either path breaks it.
  for (size_t i = 0; i < proof.subtree.path.size(); ++i) {
    auto bad = proof;
    bad.subtree.path[i][5] ^= 0x10;
    EXPECT_FALSE(VerifyInclusion(bad, piece, aggregate)) << "subtree node " << i;
  }
  for (size_t i = 0; i < proof.index.path.size(); ++i) {
    auto bad = proof;
    bad.index.path[i][0] ^= 0x01;
    EXPECT_FALSE(VerifyInclusion(bad, piece, aggregate)) << "index node " << i;
  }
  // Shifted positions.
  auto bad = proof;
  bad.subtree.index = 3;
  EXPECT_FALSE(VerifyInclusion(bad, piece, aggregate));
  bad = proof;
  bad.index.index -= 1;
  EXPECT_FALSE(VerifyInclusion(bad, piece, aggregate));
  // Truncated paths.
  bad = proof;
  bad.subtree.path.pop_back();
  bad.subtree.index = 0;
  EXPECT_FALSE(VerifyInclusion(bad, piece, aggregate));
  bad = proof;
  bad.index.path.pop_back();
  bad.index.index &= (uint64_t{1} << bad.index.path.size()) - 1;
  r = VerifyInclusion(bad, piece, aggregate);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("index path has 13 nodes"), std::string::npos);
}

TEST(InclusionProofVerify, RejectsIndexEntryOutsideTheIndexArea) {
  // A consistent proof (both paths reach the same root) whose index entry lies in the data area:
  // build a tree by hand where the "entry" sits at leaf position 0.
  const Node piece_root = NodeFromHex("11" + std::string(62, '0'));
  const PieceInfo piece{piece_root, 128};
  // Deal of 1024 bytes (32 leaves): place the piece at offset 512 (node level 2, index 4), and its
  // entry at leaves 0-1 (level-1 index 0), which is not the index area [768, 1024).
  std::vector<PieceInfo> dummy = {{Node{}, 128}};
  auto entry = SegmentDesc::Make(piece_root, 512, 128);
  // Compute the root of: entry at bytes 0..63, piece at 512..639, zeros elsewhere.
  Bytes deal(1024, 0);
  auto e = entry.Serialize();
  std::copy(e.begin(), e.end(), deal.begin());
  // The piece "data" is a single node standing for 4 leaves: fold it in at level 2 by hand.
  std::vector<Node> level2(8);
  for (size_t i = 0; i < 8; ++i)
    level2[i] = testing::DenseRoot(ByteSpan(deal).subspan(i * 128, 128));
  level2[4] = piece_root;
  std::vector<std::vector<Node>> levels = {level2};
  while (levels.back().size() > 1) {
    const auto& cur = levels.back();
    std::vector<Node> up(cur.size() / 2);
    for (size_t i = 0; i < up.size(); ++i) up[i] = internal::HashNodes(cur[2 * i], cur[2 * i + 1]);
    levels.push_back(up);
  }
  InclusionProof proof;
  proof.subtree.index = 4;
  for (size_t l = 0, idx = 4; l + 1 < levels.size(); ++l, idx >>= 1) {
    proof.subtree.path.push_back(levels[l][idx ^ 1]);
  }
  proof.index.index = 0;
  // Level-1 sibling of the entry node: leaves 2-3 (zero), then level-2 sibling... climb densely.
  proof.index.path.push_back(testing::DenseRoot(ByteSpan(deal).subspan(64, 64)));
  for (size_t l = 0, idx = 0; l + 1 < levels.size(); ++l, idx >>= 1) {
    proof.index.path.push_back(levels[l][idx ^ 1]);
  }
  ASSERT_EQ(*ComputeRoot(proof.subtree, piece_root), levels.back()[0]);
  ASSERT_EQ(*ComputeRoot(proof.index, entry.TreeNode()), levels.back()[0]);
  auto r = ResolveAggregate(proof, piece);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("lies before the index area"), std::string::npos)
      << r.error().message();
}

TEST(InclusionProofCodec, RejectsEveryTruncationAndTrailingBytes) {
  const Bytes cbor = Samples()[0].cbor;
  for (size_t n = 0; n < cbor.size(); ++n) {
    EXPECT_FALSE(DecodeInclusionProof(ByteSpan(cbor.data(), n))) << "prefix " << n;
  }
  Bytes longer = cbor;
  longer.push_back(0);
  EXPECT_FALSE(DecodeInclusionProof(longer));
}

Bytes Encode(const std::function<void(ipld::CborWriter&)>& fn) {
  Bytes out;
  ipld::CborWriter w(out);
  fn(w);
  return out;
}

void ExpectRejected(const Bytes& bytes, std::string_view reason) {
  auto r = DecodeInclusionProof(bytes);
  ASSERT_FALSE(r) << "accepted " << HexEncode(bytes);
  EXPECT_NE(r.error().message().find(reason), std::string::npos) << r.error().message();
}

TEST(InclusionProofCodec, RejectsMalformedShapesWithReasons) {
  const Node node{};
  auto proof_data = [&](ipld::CborWriter& w, uint64_t index, size_t len, size_t node_size) {
    w.WriteArrayHeader(2);
    w.WriteUint(index);
    w.WriteArrayHeader(len);
    Bytes n(node_size, 0);
    for (size_t i = 0; i < len; ++i) w.WriteBytes(n);
  };
  ExpectRejected(Encode([&](auto& w) { w.WriteMapHeader(0); }), "2-element list [subtree, index]");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(3);
                   proof_data(w, 0, 1, 32);
                   proof_data(w, 0, 1, 32);
                   proof_data(w, 0, 1, 32);
                 }),
                 "2-element list");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 0, 2, 31);
                   proof_data(w, 0, 1, 32);
                 }),
                 "subtree path element 0 is 31 bytes, want 32");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 0, 1, 32);
                   proof_data(w, 0, 1, 33);
                 }),
                 "index path element 0 is 33 bytes");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 0, kMaxProofDepth + 1, 32);
                   proof_data(w, 0, 1, 32);
                 }),
                 "more than the maximum 63");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 4, 2, 32);
                   proof_data(w, 0, 1, 32);
                 }),
                 "subtree index 4 does not fit");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   w.WriteArrayHeader(2);
                   w.WriteNegativeInt(0);
                   w.WriteArrayHeader(0);
                   proof_data(w, 0, 1, 32);
                 }),
                 "subtree index is not an unsigned integer");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 0, 0, 32);
                   w.WriteArrayHeader(2);
                   w.WriteUint(0);
                   w.WriteArrayHeader(1);
                   w.WriteString(std::string(32, 'a'));
                 }),
                 "index path element 0 is not a byte string");
  ExpectRejected(Encode([&](auto& w) {
                   w.WriteArrayHeader(2);
                   proof_data(w, 0, 0, 32);
                   w.WriteArrayHeader(2);
                   w.WriteUint(0);
                   w.WriteBytes(node);
                 }),
                 "index path is not a list");
  // A claimed path length far beyond the input is a decode error, not an allocation.
  ExpectRejected(Bytes{0x82, 0x82, 0x00, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                 "podsi: ");
}

TEST(ComputeRoot, ClimbsLeftAndRight) {
  const Node a = NodeFromHex("01" + std::string(62, '0'));
  const Node b = NodeFromHex("02" + std::string(62, '0'));
  EXPECT_EQ(*ComputeRoot({0, {b}}, a), internal::HashNodes(a, b));
  EXPECT_EQ(*ComputeRoot({1, {b}}, a), internal::HashNodes(b, a));
  EXPECT_EQ(*ComputeRoot({0, {}}, a), a);
  EXPECT_FALSE(ComputeRoot({1, {}}, a));
  EXPECT_FALSE(ComputeRoot({0, std::vector<Node>(64)}, a));
}

}  // namespace
}  // namespace cairn::filecoin::aggregation
