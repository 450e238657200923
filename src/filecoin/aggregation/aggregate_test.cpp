#include "filecoin/aggregation/aggregate.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "filecoin/aggregation/internal/test_util.hpp"
#include "filecoin/piece/commp.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::aggregation {
namespace {

using testing::DenseRoot;
using testing::NodeFromHex;
using testing::NodeHex;
using testing::ReadFile;
using testing::TestdataPath;

boost::json::object Vectors() {
  const Bytes text = ReadFile(TestdataPath("podsi_vectors.json"));
  return boost::json::parse(std::string(text.begin(), text.end())).as_object();
}

Node CommitmentOfCid(std::string_view text) {
  auto cid = multiformats::Cid::Parse(text);
  EXPECT_TRUE(cid);
  Node node{};
  if (cid && cid->hash().digest().size() >= 32) {
    auto digest = cid->hash().digest();
    std::copy(digest.end() - 32, digest.end(), node.begin());
  }
  return node;
}

// The sample's pieces, in the reverse of placement order (VDA first) to exercise sorting.
std::vector<PieceInfo> SamplePieces() {
  return {
      {NodeFromHex("d8b34dd1b8cd6e7e8cb5e706e9b6a699c7f311ddae188f4e9a081c95c4c74c38"), 262144},
      {NodeFromHex("02771248c328f03d49dd3067ae71fda4c6230ded8315ea51539e7155c5b0261b"), 524288},
  };
}

TEST(Aggregate, SampleMatchesGoDataSegmentAndJs) {
  const auto v = Vectors();
  auto agg = Aggregate::Build(SamplePieces(), uint64_t{1} << 20);
  ASSERT_TRUE(agg) << agg.error().ToString();
  EXPECT_EQ(NodeHex(agg->root()),
            NodeHex(CommitmentOfCid(std::string(v.at("aggregateV1").as_string()))));
  EXPECT_EQ(agg->deal_size(), 1u << 20);
  EXPECT_EQ(agg->height(), 15u);
  EXPECT_EQ(agg->placement().index_start, 1048064u);
  EXPECT_EQ(agg->placement().max_index_entries, 8u);
  const auto& pieces = v.at("pieces").as_array();
  ASSERT_EQ(agg->entries().size(), pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i].as_object();
    const auto& desc = p.at("segmentDesc").as_object();
    const SegmentDesc& e = agg->entries()[i];
    EXPECT_EQ(NodeHex(e.commitment), desc.at("commDsHex").as_string());
    EXPECT_EQ(e.offset, desc.at("offset").to_number<uint64_t>());
    EXPECT_EQ(e.size, desc.at("size").to_number<uint64_t>());
    EXPECT_EQ(HexEncode(e.checksum), desc.at("checksumHex").as_string());
    EXPECT_EQ(agg->placement().pieces[i].input_index, 1 - i);  // largest first

    auto proof = agg->ProveEntry(i);
    ASSERT_TRUE(proof);
    EXPECT_EQ(HexEncode(EncodeInclusionProof(*proof)), p.at("inclusionProofCborHex").as_string());
    EXPECT_EQ(proof->subtree.index, p.at("subtreeProof").at("index").to_number<uint64_t>());
    EXPECT_EQ(proof->index.index, p.at("indexProof").at("index").to_number<uint64_t>());
    EXPECT_TRUE(VerifyInclusion(*proof, {e.commitment, e.size}, agg->piece()));
  }
}

TEST(Aggregate, ChoosesTheSmallestDealThatFits) {
  auto agg = Aggregate::Build(SamplePieces());
  ASSERT_TRUE(agg);
  EXPECT_EQ(agg->deal_size(), 1u << 20);

  // 4 pieces of 128 bytes fill 512 bytes; with a 256-byte index the smallest deal is 1 KiB.
  std::vector<PieceInfo> small(4, PieceInfo{Node{7}, 128});
  auto a = Aggregate::Build(small);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->deal_size(), 1024u);
  // 5 pieces need more than 4 index entries; deals up to 512 KiB have 4, so 1 MiB (8 entries).
  std::vector<PieceInfo> five(5, PieceInfo{Node{7}, 128});
  auto b = Aggregate::Build(five);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->deal_size(), 1u << 20);
}

TEST(Aggregate, IndexAreaUnpaddedEqualsGoDataSegmentIndexData) {
  auto agg = Aggregate::Build(SamplePieces(), uint64_t{1} << 20);
  ASSERT_TRUE(agg);
  EXPECT_EQ(agg->IndexAreaUnpadded(), ReadFile(TestdataPath("index.data")));
  EXPECT_EQ(agg->IndexAreaPadded().size(), 512u);
}

TEST(PlacePieces, LargestFirstStableAndAligned) {
  std::vector<PieceInfo> pieces = {{Node{1}, 128}, {Node{2}, 512}, {Node{3}, 128}, {Node{4}, 256}};
  auto p = PlacePieces(pieces, 4096);
  ASSERT_TRUE(p) << p.error().ToString();
  ASSERT_EQ(p->pieces.size(), 4u);
  EXPECT_EQ(p->pieces[0].input_index, 1u);
  EXPECT_EQ(p->pieces[0].offset, 0u);
  EXPECT_EQ(p->pieces[1].input_index, 3u);
  EXPECT_EQ(p->pieces[1].offset, 512u);
  EXPECT_EQ(p->pieces[2].input_index, 0u);
  EXPECT_EQ(p->pieces[2].offset, 768u);
  EXPECT_EQ(p->pieces[3].input_index, 2u);
  EXPECT_EQ(p->pieces[3].offset, 896u);
  EXPECT_EQ(p->index_start, 4096u - 256);
}

TEST(PlacePieces, RejectsBadInputWithReasons) {
  auto none = PlacePieces({});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("no pieces"), std::string::npos);

  std::vector<PieceInfo> bad = {{Node{}, 128}, {Node{}, 300}};
  auto r = PlacePieces(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("piece[1] size 300"), std::string::npos);

  std::vector<PieceInfo> tiny = {{Node{}, 64}};
  EXPECT_FALSE(PlacePieces(tiny));

  std::vector<PieceInfo> five(5, PieceInfo{Node{}, 128});
  r = PlacePieces(five, 4096);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("too many pieces"), std::string::npos);

  std::vector<PieceInfo> big = {{Node{}, 1024}};
  r = PlacePieces(big, 1024);  // no room for the index
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("do not fit"), std::string::npos);
  r = PlacePieces(big, 1000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("deal size 1000"), std::string::npos);
  std::vector<PieceInfo> halves = {{Node{}, 512}, {Node{}, 512}};
  EXPECT_FALSE(PlacePieces(halves, 1024));  // FRC-0058: two half-deal pieces never fit
  EXPECT_TRUE(PlacePieces(halves, 2048));

  // Sizes whose sum passes the largest deal: an error, never an overflow.
  std::vector<PieceInfo> huge(20000, PieceInfo{Node{}, kMaxDealSize});
  r = PlacePieces(huge);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("largest deal"), std::string::npos) << r.error().message();
  r = PlacePieces(huge, kMaxDealSize);
  ASSERT_FALSE(r);
  std::vector<PieceInfo> two_max = {{Node{}, kMaxDealSize}, {Node{}, kMaxDealSize}};
  r = PlacePieces(two_max, kMaxDealSize);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("do not fit"), std::string::npos) << r.error().message();
}

// Random pieces of random padded data: the sparse aggregate root must equal the dense root of the
// whole padded deal laid out by hand, and every proof must verify.
TEST(Aggregate, RandomAggregatesMatchDenseTreeOfTheLaidOutDeal) {
  std::mt19937_64 rng(58);
  for (int round = 0; round < 40; ++round) {
    const size_t count = 1 + rng() % 6;
    std::vector<PieceInfo> pieces;
    std::vector<Bytes> data;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t size = uint64_t{128} << (rng() % 6);
      Bytes padded(size);
      for (auto& b : padded) b = static_cast<uint8_t>(rng());
      for (size_t w = 31; w < padded.size(); w += 32) padded[w] &= 0x3f;
      pieces.push_back({DenseRoot(padded), size});
      data.push_back(std::move(padded));
    }
    std::optional<uint64_t> deal;
    if (round % 2 == 1) deal = uint64_t{1} << 20;
    auto agg = Aggregate::Build(pieces, deal);
    ASSERT_TRUE(agg) << agg.error().ToString();
    Bytes deal_bytes(agg->deal_size(), 0);
    for (const auto& placed : agg->placement().pieces) {
      std::copy(data[placed.input_index].begin(), data[placed.input_index].end(),
                deal_bytes.begin() + placed.offset);
    }
    const Bytes index = agg->IndexAreaPadded();
    std::copy(index.begin(), index.end(), deal_bytes.begin() + agg->placement().index_start);
    EXPECT_EQ(NodeHex(agg->root()), NodeHex(DenseRoot(deal_bytes))) << "round " << round;
    for (size_t i = 0; i < count; ++i) {
      auto proof = agg->Prove(pieces[i]);
      ASSERT_TRUE(proof);
      EXPECT_TRUE(VerifyInclusion(*proof, pieces[i], agg->piece())) << "round " << round;
      auto decoded = DecodeInclusionProof(EncodeInclusionProof(*proof));
      ASSERT_TRUE(decoded);
      EXPECT_EQ(*decoded, *proof);
    }
  }
}

TEST(Aggregate, ProveReportsMissingPiece) {
  auto agg = Aggregate::Build(SamplePieces());
  ASSERT_TRUE(agg);
  auto r = agg->Prove({Node{9}, 262144});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  // Right commitment, wrong size.
  EXPECT_FALSE(agg->Prove({SamplePieces()[0].commitment, 524288}));
  EXPECT_FALSE(agg->ProveEntry(2));
}

class VectorSink : public ByteSink {
 public:
  Result<void> Write(ByteSpan data) override {
    hasher.Update(data);
    if (keep) bytes.insert(bytes.end(), data.begin(), data.end());
    size += data.size();
    return Ok();
  }
  multiformats::Sha256Hasher hasher;
  bool keep = true;
  Bytes bytes;
  uint64_t size = 0;
};

TEST(AggregatePayload, ReproducesGoDataSegmentDealData) {
  const Bytes cat = ReadFile(TestdataPath("cat.png.car"));
  const Bytes vda = ReadFile(TestdataPath("Verifiable_Data_Aggregation.png.car"));
  ASSERT_EQ(cat.size(), 392375u);
  ASSERT_EQ(vda.size(), 188295u);
  auto agg = Aggregate::Build(SamplePieces(), uint64_t{1} << 20);
  ASSERT_TRUE(agg);
  // Placement order: cat (input 1) then VDA (input 0).
  SpanSource cat_src(cat), vda_src(vda);
  ByteSource* sources[] = {&cat_src, &vda_src};
  VectorSink sink;
  ASSERT_TRUE(WriteAggregatePayload(*agg, sources, sink));
  EXPECT_EQ(sink.size, 1040384u);
  // sha256 of go-data-segment's testdata/sample_aggregate/deal.data.
  EXPECT_EQ(HexEncode(sink.hasher.Finish()),
            "94b9c4a340d990591035a6fe893f06b3b4011df6b57b4a3ace1e5b2735773b96");
  EXPECT_TRUE(std::equal(cat.begin(), cat.end(), sink.bytes.begin()));
  EXPECT_TRUE(std::equal(vda.begin(), vda.end(), sink.bytes.begin() + UnpaddedSize(524288)));
  // The payload's CommP (computed by the piece library over the bytes) is the aggregate.
  auto commp = filecoin::piece::ComputeCommP(sink.bytes);
  ASSERT_TRUE(commp);
  EXPECT_EQ(NodeHex(commp->root), NodeHex(agg->root()));
  EXPECT_EQ(commp->padded_size(), agg->deal_size());
  EXPECT_EQ(commp->padding, 0u);
}

TEST(AggregatePayload, RejectsOversizedSourceAndWrongSourceCount) {
  std::vector<PieceInfo> pieces = {{Node{1}, 128}};
  auto agg = Aggregate::Build(pieces);
  ASSERT_TRUE(agg);
  Bytes too_long(128, 1);  // a 128-byte piece holds 127 bytes
  SpanSource src(too_long);
  ByteSource* sources[] = {&src};
  VectorSink sink;
  auto r = WriteAggregatePayload(*agg, sources, sink);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("more than the 127 bytes"), std::string::npos);
  VectorSink sink2;
  EXPECT_FALSE(WriteAggregatePayload(*agg, {}, sink2));
}

}  // namespace
}  // namespace cairn::filecoin::aggregation
