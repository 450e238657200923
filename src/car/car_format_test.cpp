#include "car/car_format.hpp"

#include <gtest/gtest.h>

#include "car/car_test_util.hpp"

namespace cairn::car {
namespace {

using testing::Raw;

TEST(CarFormat, V1HeaderMatchesGoCarBytes) {
  // {roots:[bafyrei...], version:1} as @ipld/car and go-car write it: 0x3a then a265726f6f7473...
  Cid root = *Cid::Parse("bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  Bytes h = EncodeCarV1Header({root});
  EXPECT_EQ(HexEncode(h),
            "a265726f6f747381d82a58250001711220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
            "95991b7852b8556776657273696f6e01");
  auto roots = DecodeCarV1Header(h);
  ASSERT_TRUE(roots.has_value()) << roots.error().ToString();
  ASSERT_EQ(roots->size(), 1u);
  EXPECT_EQ((*roots)[0], root);
}

TEST(CarFormat, V1HeaderAllowsEmptyRootsAndRejectsOtherVersions) {
  auto empty = DecodeCarV1Header(EncodeCarV1Header({}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  // {roots: [], version: 3}
  auto v3 = DecodeCarV1Header(*HexDecode("a265726f6f7473806776657273696f6e03"));
  ASSERT_FALSE(v3.has_value());
  EXPECT_NE(v3.error().message().find("version 3"), std::string::npos);
  EXPECT_FALSE(DecodeCarV1Header(*HexDecode("a16776657273696f6e01")).has_value());  // no roots
  EXPECT_FALSE(DecodeCarV1Header(*HexDecode("a265726f6f7473816161")).has_value());  // no version
  // roots: ["a"] (not a link)
  EXPECT_FALSE(DecodeCarV1Header(*HexDecode("a265726f6f747381616167766572736"
                                            "96f6e01"))
                   .has_value());
  EXPECT_FALSE(DecodeCarV1Header(*HexDecode("80")).has_value());  // not a map
}

TEST(CarFormat, V2HeaderRoundTripsAndChecksOffsets) {
  CarV2Header h;
  h.characteristics[0] = 0x80;
  h.data_offset = 51;
  h.data_size = 100;
  h.index_offset = 151;
  auto back = CarV2Header::Decode(h.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
  EXPECT_TRUE(back->fully_indexed());
  h.data_offset = 50;
  EXPECT_FALSE(CarV2Header::Decode(h.Encode()).has_value());
  h.data_offset = 51;
  h.index_offset = 150;
  EXPECT_FALSE(CarV2Header::Decode(h.Encode()).has_value());
  h.index_offset = 0;
  EXPECT_TRUE(CarV2Header::Decode(h.Encode()).has_value());
  h.data_size = UINT64_MAX;
  EXPECT_FALSE(CarV2Header::Decode(h.Encode()).has_value());
}

std::vector<IndexEntry> SomeEntries() {
  std::vector<IndexEntry> e;
  for (int i = 0; i < 5; ++i) {
    auto b = Raw("block " + std::to_string(i));
    ByteSpan d = b.cid.hash().digest();
    e.push_back({b.cid.hash().code(), Bytes(d.begin(), d.end()), static_cast<uint64_t>(100 * i)});
  }
  auto blake = testing::MakeBlock(testing::codec::kRaw, ToBytes("b"), testing::codec::kBlake2b256);
  ByteSpan d = blake.cid.hash().digest();
  e.push_back({blake.cid.hash().code(), Bytes(d.begin(), d.end()), 7});
  e.push_back({testing::codec::kSha2_256, Bytes(20, 0xab), 9});  // a second width bucket
  return e;
}

TEST(CarFormat, MultihashIndexSortedRoundTripsSorted) {
  Bytes enc = EncodeMultihashIndexSorted(SomeEntries());
  EXPECT_EQ(HexEncode(Bytes(enc.begin(), enc.begin() + 6)), "810802000000");  // 0x0401, 2 codes
  auto idx = DecodeCarIndex(enc);
  ASSERT_TRUE(idx.has_value()) << idx.error().ToString();
  EXPECT_EQ(idx->format, kMultihashIndexSorted);
  ASSERT_EQ(idx->entries.size(), 7u);
  // sha2-256 (0x12) before blake2b (0xb220); width 28 before 40; digests ascending.
  EXPECT_EQ(idx->entries[0].digest, Bytes(20, 0xab));
  for (size_t i = 2; i < 6; ++i) EXPECT_LT(idx->entries[i - 1].digest, idx->entries[i].digest);
  EXPECT_EQ(*idx->entries[6].hash_code, testing::codec::kBlake2b256);
  EXPECT_EQ(EncodeMultihashIndexSorted(idx->entries), enc);
}

TEST(CarFormat, IndexSortedRoundTrips) {
  Bytes enc = EncodeIndexSorted(SomeEntries());
  auto idx = DecodeCarIndex(enc);
  ASSERT_TRUE(idx.has_value()) << idx.error().ToString();
  EXPECT_EQ(idx->format, kIndexSorted);
  EXPECT_EQ(idx->entries.size(), 7u);
  EXPECT_FALSE(idx->entries[0].hash_code.has_value());
  EXPECT_EQ(EncodeIndexSorted(idx->entries), enc);
}

TEST(CarFormat, IndexRejectsMalformedBuckets) {
  Bytes enc = EncodeIndexSorted(SomeEntries());
  // Truncated.
  EXPECT_FALSE(DecodeCarIndex(ByteSpan(enc).first(enc.size() - 1)).has_value());
  // Trailing byte.
  Bytes trailing = enc;
  trailing.push_back(0);
  EXPECT_FALSE(DecodeCarIndex(trailing).has_value());
  // Huge bucket length: rejected without allocating.
  Bytes huge = *HexDecode(
      "8008"
      "01000000"
      "28000000"
      "ffffffffffffff7f");
  auto r = DecodeCarIndex(huge);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("multiple"), std::string::npos);
  Bytes past = *HexDecode(
      "8008"
      "01000000"
      "28000000"
      "2800000000000000");
  EXPECT_FALSE(DecodeCarIndex(past).has_value());
  Bytes narrow = *HexDecode(
      "8008"
      "01000000"
      "08000000"
      "0000000000000000");
  EXPECT_FALSE(DecodeCarIndex(narrow).has_value());
  // Unsorted: swap the first two digests of the 40-byte bucket.
  Bytes unsorted = EncodeIndexSorted(SomeEntries());
  const size_t b2 = 2 + 4 + 12 + 28 + 12;  // second bucket's first record
  std::swap_ranges(unsorted.begin() + b2, unsorted.begin() + b2 + 40, unsorted.begin() + b2 + 40);
  auto u = DecodeCarIndex(unsorted);
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message().find("not sorted"), std::string::npos);
  auto unknown = DecodeCarIndex(*HexDecode("8208"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotSupported);
}

}  // namespace
}  // namespace cairn::car
