#include "filecoin/aggregation/segment.hpp"

#include <gtest/gtest.h>

#include "filecoin/aggregation/internal/merkle.hpp"
#include "filecoin/aggregation/internal/test_util.hpp"

namespace cairn::filecoin::aggregation {
namespace {

using testing::NodeFromHex;
using testing::ReadFile;
using testing::TestdataPath;

TEST(IndexGeometry, MaxEntriesFollowFrc0058) {
  EXPECT_EQ(MaxIndexEntriesInDeal(512), 4u);
  EXPECT_EQ(MaxIndexEntriesInDeal(256 * 1024), 4u);
  EXPECT_EQ(MaxIndexEntriesInDeal(512 * 1024), 4u);
  EXPECT_EQ(MaxIndexEntriesInDeal(1 << 20), 8u);  // podsi_vectors.json maxIndexEntries
  EXPECT_EQ(MaxIndexEntriesInDeal(uint64_t{32} << 30), 262144u);  // "256Ki entries ... 32GiB"
  EXPECT_EQ(MaxIndexEntriesInDeal(uint64_t{64} << 30), 524288u);
  EXPECT_EQ(IndexAreaStart(1 << 20), 1048064u);  // podsi_vectors.json indexAreaStartPadded
  EXPECT_EQ(IndexAreaStart(uint64_t{32} << 30), (uint64_t{32} << 30) - (16u << 20));
}

TEST(PaddedSize, RejectsNonPowersOfTwoAndTinySizes) {
  EXPECT_TRUE(ValidatePaddedSize(128, "piece"));
  EXPECT_TRUE(ValidatePaddedSize(kMaxDealSize, "piece"));
  auto odd = ValidatePaddedSize(1000, "piece[3]");
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message().find("piece[3] size 1000 is not a power of two"),
            std::string::npos);
  EXPECT_FALSE(ValidatePaddedSize(64, "piece"));
  EXPECT_FALSE(ValidatePaddedSize(0, "piece"));
  EXPECT_FALSE(ValidatePaddedSize(kMaxDealSize * 2, "piece"));
}

TEST(SegmentDesc, ChecksumsMatchGoDataSegment) {
  // podsi_vectors.json / index.json: cat.png.car and "Verifiable Data Aggregation.png.car".
  auto cat = SegmentDesc::Make(
      NodeFromHex("02771248c328f03d49dd3067ae71fda4c6230ded8315ea51539e7155c5b0261b"), 0, 524288);
  EXPECT_EQ(HexEncode(cat.checksum), "f09f73f5f2710ab83fd968425c73b91e");
  auto vda = SegmentDesc::Make(
      NodeFromHex("d8b34dd1b8cd6e7e8cb5e706e9b6a699c7f311ddae188f4e9a081c95c4c74c38"), 524288,
      262144);
  EXPECT_EQ(HexEncode(vda.checksum), "8403b5d28d6670d2356a212c72c53a03");
  EXPECT_TRUE(cat.Validate());
  EXPECT_TRUE(vda.Validate());
}

TEST(SegmentDesc, SerializesAndParsesThePaddedForm) {
  auto entry = SegmentDesc::Make(
      NodeFromHex("02771248c328f03d49dd3067ae71fda4c6230ded8315ea51539e7155c5b0261b"), 0, 524288);
  const auto bytes = entry.Serialize();
  EXPECT_EQ(HexEncode(bytes),
            "02771248c328f03d49dd3067ae71fda4c6230ded8315ea51539e7155c5b0261b"
            "0000000000000000"
            "0000080000000000"
            "f09f73f5f2710ab83fd968425c73b91e");
  EXPECT_EQ(SegmentDesc::Parse(bytes), entry);
  EXPECT_EQ(bytes[31] & 0xc0, 0);  // both words are valid fr32 words
  EXPECT_EQ(bytes[63] & 0xc0, 0);
}

TEST(SegmentDesc, ValidateRejectsBadChecksumAndUnalignedFields) {
  auto entry = SegmentDesc::Make(Node{1}, 128, 128);
  auto bad_sum = entry;
  bad_sum.checksum[0] ^= 1;
  auto r = bad_sum.Validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("checksum"), std::string::npos);
  auto unaligned = SegmentDesc::Make(Node{1}, 100, 128);
  r = unaligned.Validate();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("offset 100"), std::string::npos);
  auto bad_size = SegmentDesc::Make(Node{1}, 128, 200);
  EXPECT_FALSE(bad_size.Validate());
}

TEST(ZeroRoots, MatchGoDataSegmentZeroComm) {
  const Bytes zerocomm = ReadFile(TestdataPath("zerocomm.bin"));
  ASSERT_EQ(zerocomm.size(), 64u * 32);
  for (unsigned level = 0; level < 64; ++level) {
    const Node& root = internal::ZeroRoot(level);
    EXPECT_TRUE(std::equal(root.begin(), root.end(), zerocomm.begin() + 32 * level))
        << "level " << level;
  }
}

TEST(Fr32Unpad, InvertsTheKnownPaddingOfOneQuad) {
  // 127 bytes with every bit pattern position exercised; pad by hand (bit stream split into
  // 254-bit words) and check unpad returns the input.
  Bytes raw(127);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 37 + 11);
  Bytes padded(128, 0);
  for (size_t bit = 0; bit < 127 * 8; ++bit) {
    const unsigned v = (raw[bit / 8] >> (bit % 8)) & 1;
    const size_t word = bit / 254, in_word = bit % 254;
    const size_t out_bit = word * 256 + in_word;
    padded[out_bit / 8] |= static_cast<uint8_t>(v << (out_bit % 8));
  }
  Bytes out(127);
  internal::Fr32Unpad(padded, out);
  EXPECT_EQ(out, raw);
}

}  // namespace
}  // namespace cairn::filecoin::aggregation
