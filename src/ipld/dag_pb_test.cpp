#include "ipld/dag_pb.hpp"

#include <gtest/gtest.h>

#include "multiformats/multicodec.hpp"

namespace cairn::ipld {
namespace {

using multiformats::Cid;

Bytes Hex(std::string_view h) { return *HexDecode(h); }

Cid MustParse(std::string_view s) { return *Cid::Parse(s); }

// Bytes produced by @ipld/dag-pb 4.2.0 for Data=0x0801 and three links (one without Name or
// Tsize, one CIDv0, one CIDv1 raw).
constexpr std::string_view kThreeLinks =
    "12240a221220bfccda787baba32b59c78450ac3d20b633360b43992c77289f9ed46d843561e612290a221220bfcc"
    "da787baba32b59c78450ac3d20b633360b43992c77289f9ed46d843561e61201611806122c0a2401551220b94d27"
    "b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde912016218ac020a020801";

PbNode ThreeLinks() {
  const Cid empty = MustParse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  const Cid raw = MustParse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  PbNode node;
  node.links.push_back(PbLink{empty, std::nullopt, std::nullopt});
  node.links.push_back(PbLink{empty, "a", 6});
  node.links.push_back(PbLink{raw, "b", 300});
  node.data = Bytes{0x08, 0x01};
  return node;
}

TEST(DagPb, EmptyFileNodeHasKuboCid) {
  const Bytes bytes = Hex("0a0408021800");
  auto node = DecodeDagPb(bytes);
  ASSERT_TRUE(node) << node.error().ToString();
  EXPECT_TRUE(node->links.empty());
  ASSERT_TRUE(node->data);
  EXPECT_EQ(HexEncode(*node->data), "08021800");
  EXPECT_EQ(EncodeDagPb(*node), bytes);
  auto cid = Cid::Compute(0, multiformats::codec::kDagPb, multiformats::codec::kSha2_256, bytes);
  ASSERT_TRUE(cid);
  EXPECT_EQ(cid->ToString(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
}

TEST(DagPb, EncodesLikeJsDagPb) {
  const PbNode node = ThreeLinks();
  EXPECT_EQ(HexEncode(EncodeDagPb(node)), kThreeLinks);
  EXPECT_EQ(EncodedDagPbSize(node), kThreeLinks.size() / 2);
}

TEST(DagPb, DecodesJsDagPbBytes) {
  auto node = DecodeDagPb(Hex(kThreeLinks));
  ASSERT_TRUE(node) << node.error().ToString();
  EXPECT_EQ(*node, ThreeLinks());
}

TEST(DagPb, EmptyBlockIsAnEmptyNode) {
  auto node = DecodeDagPb({});
  ASSERT_TRUE(node);
  EXPECT_TRUE(node->links.empty());
  EXPECT_FALSE(node->data);
  EXPECT_TRUE(EncodeDagPb(PbNode{}).empty());
}

TEST(DagPb, KeepsAbsentAndEmptyApart) {
  PbNode empty_data;
  empty_data.data = Bytes{};
  EXPECT_EQ(HexEncode(EncodeDagPb(empty_data)), "0a00");
  auto back = DecodeDagPb(EncodeDagPb(empty_data));
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->data);
  EXPECT_TRUE(back->data->empty());

  PbNode empty_name;
  empty_name.links.push_back(
      PbLink{MustParse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"), "", 0});
  auto back2 = DecodeDagPb(EncodeDagPb(empty_name));
  ASSERT_TRUE(back2);
  EXPECT_EQ(*back2, empty_name);
  EXPECT_EQ(back2->links[0].name, std::optional<std::string>(""));
}

TEST(DagPb, RoundTripsLargeTsize) {
  PbNode node;
  node.links.push_back(
      PbLink{MustParse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"), "x", UINT64_MAX});
  const Bytes bytes = EncodeDagPb(node);
  EXPECT_EQ(bytes.size(), EncodedDagPbSize(node));
  auto back = DecodeDagPb(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, node);
}

void ExpectRejected(std::string_view hex, std::string_view why) {
  auto node = DecodeDagPb(Hex(hex));
  ASSERT_FALSE(node) << hex;
  EXPECT_EQ(node.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(node.error().message().find(why), std::string::npos) << node.error().message();
}

// A valid link body: Hash = CIDv0 of the empty file node.
constexpr std::string_view kHash =
    "0a221220bfccda787baba32b59c78450ac3d20b633360b43992c77289f9ed46d843561e6";

TEST(DagPb, RejectsLinksAfterData) {
  ExpectRejected(std::string("0a0108") + "1224" + std::string(kHash), "Links after Data");
}

TEST(DagPb, RejectsDuplicateData) { ExpectRejected("0a01080a0108", "duplicate PBNode Data"); }

TEST(DagPb, RejectsUnknownNodeField) { ExpectRejected("1a0100", "unknown PBNode field 3"); }

TEST(DagPb, RejectsWrongNodeWireType) { ExpectRejected("0801", "wire type 0"); }

TEST(DagPb, RejectsLinkWithoutHash) { ExpectRejected("1203120161", "without Hash"); }

TEST(DagPb, RejectsLinkFieldsOutOfOrder) {
  // Name before Hash.
  ExpectRejected(std::string("1227") + "120161" + std::string(kHash), "out of order");
}

TEST(DagPb, RejectsDuplicateLinkField) {
  ExpectRejected(std::string("1228") + std::string(kHash) + "18011802", "duplicate PBLink field");
}

TEST(DagPb, RejectsUnknownLinkField) {
  ExpectRejected(std::string("1226") + std::string(kHash) + "2001", "unknown PBLink field 4");
}

TEST(DagPb, RejectsWrongLinkWireType) {
  // Tsize as bytes.
  ExpectRejected(std::string("1227") + std::string(kHash) + "1a0101", "wire type 2");
}

TEST(DagPb, RejectsInvalidCid) {
  ExpectRejected(
      "1204"
      "0a020102",
      "not a valid CID");
}

TEST(DagPb, RejectsTruncatedLength) { ExpectRejected("0a05080218", "exceeds the remaining"); }

TEST(DagPb, RejectsTruncatedVarint) { ExpectRejected("0a", "truncated varint"); }

TEST(DagPb, RejectsNonMinimalVarint) { ExpectRejected("0a8000", "non-minimal varint"); }

TEST(DagPb, RejectsVarintOverflow) {
  ExpectRejected(std::string("122f") + std::string(kHash) + "18ffffffffffffffffff02",
                 "overflows 64 bits");
}

TEST(DagPb, RejectsTrailingGarbage) {
  // A stray byte after a complete node is read as a key and fails as such.
  ExpectRejected("0a020801ff", "truncated varint");
}

}  // namespace
}  // namespace cairn::ipld
