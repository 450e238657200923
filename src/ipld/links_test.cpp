#include "ipld/links.hpp"

#include <gtest/gtest.h>

#include "ipld/dag_cbor.hpp"
#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::ipld {
namespace {

namespace codec = multiformats::codec;
using multiformats::Cid;

Cid RawCid(std::string_view s) {
  return *Cid::Compute(1, codec::kRaw, codec::kSha2_256, AsBytes(s));
}

TEST(Links, DagPbLinksInLinkOrder) {
  PbNode node;
  node.links.push_back({RawCid("b"), std::string("z"), 1});
  node.links.push_back({RawCid("a"), std::string("a"), 1});
  node.links.push_back({RawCid("b"), std::string("y"), 1});
  Bytes block = EncodeDagPb(node);
  Cid cid = *Cid::Compute(0, codec::kDagPb, codec::kSha2_256, block);
  auto links = Links(cid, block);
  ASSERT_TRUE(links.has_value()) << links.error().ToString();
  EXPECT_EQ(*links, (std::vector<Cid>{RawCid("b"), RawCid("a"), RawCid("b")}));
}

TEST(Links, DagCborLinksDepthFirstInDocumentOrder) {
  // {"b": [L1, {"x": L2}], "aa": L3, "c": L4} encodes as b, c, aa (length-first).
  auto v = CborValue::MakeMap({
      {"b", CborValue::MakeList({CborValue::Link(RawCid("1")),
                                 CborValue::MakeMap({{"x", CborValue::Link(RawCid("2"))}})})},
      {"aa", CborValue::Link(RawCid("3"))},
      {"c", CborValue::Link(RawCid("4"))},
  });
  Bytes block = *EncodeDagCbor(v);
  Cid cid = *Cid::Compute(1, codec::kDagCbor, codec::kSha2_256, block);
  auto links = Links(cid, block);
  ASSERT_TRUE(links.has_value()) << links.error().ToString();
  EXPECT_EQ(*links, (std::vector<Cid>{RawCid("1"), RawCid("2"), RawCid("4"), RawCid("3")}));
}

TEST(Links, RawAndIdentityHaveNone) {
  auto links = Links(RawCid("x"), AsBytes("x"));
  ASSERT_TRUE(links.has_value());
  EXPECT_TRUE(links->empty());
  Cid id = *Cid::Compute(1, codec::kRaw, codec::kIdentity, AsBytes("x"));
  EXPECT_TRUE(Links(id, AsBytes("x"))->empty());
}

TEST(Links, UndecodableBlocksAndUnknownCodecs) {
  Cid pb = *Cid::Compute(1, codec::kDagPb, codec::kSha2_256, AsBytes("\xff"));
  auto bad = Links(pb, AsBytes("\xff"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  Cid cbor = *Cid::Compute(1, codec::kDagCbor, codec::kSha2_256, AsBytes("\x9f"));
  EXPECT_FALSE(Links(cbor, AsBytes("\x9f")).has_value());
  Cid json = *Cid::Compute(1, codec::kDagJson, codec::kSha2_256, AsBytes("{}"));
  auto unsupported = Links(json, AsBytes("{}"));
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_EQ(unsupported.error().code(), ErrorCode::kNotSupported);
  EXPECT_NE(unsupported.error().message().find("dag-json"), std::string::npos);
}

}  // namespace
}  // namespace cairn::ipld
