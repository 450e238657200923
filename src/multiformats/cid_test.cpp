#include "multiformats/cid.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

#include "multiformats/multicodec.hpp"

namespace cairn::multiformats {
namespace {

// Known answers from js multiformats 14.0.5 and Kubo.
TEST(Cid, ParsesV0AndConvertsToV1) {
  auto c = Cid::Parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->version(), 0);
  EXPECT_EQ(c->codec(), codec::kDagPb);
  EXPECT_EQ(c->ToString(), "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
  Cid v1 = c->ToV1();
  EXPECT_EQ(v1.ToString(), "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby");
  EXPECT_EQ(v1.ToString(Multibase::kBase36),
            "k2jmtxt4nv2kx0qz1ncwpjwzdixb27xsgqxk7kgho4nnmjceustvi80e");
  EXPECT_EQ(v1.ToString(Multibase::kBase58Btc),
            "zdj7WaCPMsy3FP2whSwpFXHjDEaTVmjnddYSn5W2Gdn4aEZFj");
  EXPECT_EQ(v1.ToString(Multibase::kBase64Url),
            "uAXASIEbUSBS5xa8UHDqqt8BdxehE6tX5HxKFiwIeukV2i0wO");
  EXPECT_EQ(c->ToString(Multibase::kBase32), v1.ToString());
  EXPECT_EQ(*v1.ToV0(), *c);
  for (auto text : {"k2jmtxt4nv2kx0qz1ncwpjwzdixb27xsgqxk7kgho4nnmjceustvi80e",
                    "zdj7WaCPMsy3FP2whSwpFXHjDEaTVmjnddYSn5W2Gdn4aEZFj",
                    "f0170122046d44814b9c5af141c3aaab7c05dc5e844ead5f91f12858b021eba45768b4c0e"}) {
    auto p = Cid::Parse(text);
    ASSERT_TRUE(p) << text;
    EXPECT_EQ(*p, v1) << text;
  }
}

TEST(Cid, ComputesRawAndDagPbCids) {
  auto raw = Cid::Compute(1, codec::kRaw, codec::kSha2_256, AsBytes("hello world"));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->ToString(), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  auto empty = Cid::Compute(1, codec::kRaw, codec::kSha2_256, {});
  EXPECT_EQ(empty->ToString(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  auto v0 = Cid::Compute(0, codec::kDagPb, codec::kSha2_256, {});
  EXPECT_EQ(v0->ToString(), "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n");
  EXPECT_FALSE(Cid::Compute(0, codec::kRaw, codec::kSha2_256, {}));
  EXPECT_FALSE(Cid::Compute(0, codec::kDagPb, codec::kSha2_512, {}));
  EXPECT_FALSE(raw->ToV0());
}

TEST(Cid, BinaryRoundTripAndPrefixDecoding) {
  Cid c = *Cid::Parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  Bytes b = c.ToBytes();
  EXPECT_EQ(HexEncode(b).substr(0, 8), "01551220");
  EXPECT_EQ(*Cid::FromBytes(b), c);
  b.push_back(0x42);
  EXPECT_FALSE(Cid::FromBytes(b));
  auto p = Cid::DecodePrefix(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->cid, c);
  EXPECT_EQ(p->size, b.size() - 1);
  Cid v0 = *Cid::Parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
  EXPECT_EQ(v0.ToBytes().size(), 34u);
  EXPECT_EQ(*Cid::FromBytes(v0.ToBytes()), v0);
}

TEST(Cid, RejectsMalformedText) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"", "empty"},
      {"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5", "46 characters"},
      {"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff50", "invalid"},
      {"!bafy", "unknown prefix"},
      {"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5", "trailing bits"},
      {"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n", ""},
      {"bciqbed3k6ya5i3qqwljochwxdrk5exzqkfqrmh3j4ylqe3ldhqeoskpa", "bare base58btc"},
      {"fxyz", "invalid"},
  };
  for (const auto& c : cases) {
    auto r = Cid::Parse(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message().find(c.reason), std::string::npos)
        << c.text << ": " << r.error().message();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(Cid::Parse(std::string(2000, 'b')));
  auto v2 = Cid::Parse(MultibaseEncode(Multibase::kBase32, Bytes{0x02, 0x55, 0x00, 0x00}));
  ASSERT_FALSE(v2);
  EXPECT_NE(v2.error().message().find("version 2 is not supported"), std::string::npos);
}

TEST(Cid, HashesAndOrdersForContainers) {
  std::unordered_set<Cid> set;
  set.insert(*Cid::Parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"));
  set.insert(Cid::Parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")->ToV1());
  set.insert(*Cid::Parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"));
  EXPECT_EQ(set.size(), 2u);  // v0 and v1 are different CIDs
}

}  // namespace
}  // namespace cairn::multiformats
