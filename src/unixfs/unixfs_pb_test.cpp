#include "unixfs/unixfs_pb.hpp"

#include <gtest/gtest.h>

namespace cairn::unixfs {
namespace {

Bytes Hex(std::string_view hex) { return *HexDecode(hex); }

// Known encodings below were produced by js-ipfs-unixfs (ipfs-unixfs 11, the one the pinned
// importer uses), whose bytes equal Kubo's for the same message.
TEST(UnixfsPb, EncodesEmptyFileAsKuboDoes) {
  UnixfsData d;
  d.type = DataType::kFile;
  d.filesize = 0;
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "08021800");
}

TEST(UnixfsPb, EncodesDirectoryAsKuboDoes) {
  UnixfsData d;
  d.type = DataType::kDirectory;
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "0801");
}

TEST(UnixfsPb, EncodesLeafWithDataBeforeFilesize) {
  UnixfsData d;
  d.type = DataType::kFile;
  d.data = ToBytes("hello\n");
  d.filesize = 6;
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "0802120668656c6c6f0a1806");
}

TEST(UnixfsPb, EncodesBlocksizesUnpacked) {
  UnixfsData d;
  d.type = DataType::kFile;
  d.filesize = 262444;
  d.blocksizes = {262144, 300};
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "080218ac82102080801020ac02");
}

TEST(UnixfsPb, EncodesModeAndMtimeWithFixed32Nanos) {
  UnixfsData d;
  d.type = DataType::kFile;
  d.filesize = 0;
  d.mode = 0644;
  d.mtime = UnixTime{1, 5};
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "0802180038a403420708011505000000");
}

TEST(UnixfsPb, EncodesNegativeSecondsAsTenByteVarint) {
  UnixfsData d;
  d.type = DataType::kDirectory;
  d.mtime = UnixTime{-1, std::nullopt};
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "0801420b08ffffffffffffffffff01");
}

TEST(UnixfsPb, StripsZeroNanosWhenEncoding) {
  UnixfsData d;
  d.type = DataType::kDirectory;
  d.mtime = UnixTime{7, 0};
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "080142020807");
}

TEST(UnixfsPb, EncodesHamtShardFields) {
  UnixfsData d;
  d.type = DataType::kHamtShard;
  d.data = Bytes{1, 2};
  d.hash_type = 0x22;
  d.fanout = 256;
  EXPECT_EQ(HexEncode(EncodeUnixfsData(d)), "0805120201022822308002");
}

TEST(UnixfsPb, RoundTripsEveryField) {
  UnixfsData d;
  d.type = DataType::kFile;
  d.data = Bytes{0, 1, 2, 255};
  d.filesize = 1ull << 40;
  d.blocksizes = {0, 1, 1ull << 63, 262144};
  d.hash_type = 0x22;
  d.fanout = 256;
  d.mode = 0xffffffffu;
  d.mtime = UnixTime{-1234567890123, 999999999};
  auto back = DecodeUnixfsData(EncodeUnixfsData(d));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, d);
}

TEST(UnixfsPb, KeepsAbsentAndEmptyDataDistinct) {
  UnixfsData absent;
  absent.type = DataType::kFile;
  UnixfsData empty = absent;
  empty.data = Bytes{};
  EXPECT_EQ(HexEncode(EncodeUnixfsData(empty)), "08021200");
  EXPECT_FALSE(DecodeUnixfsData(EncodeUnixfsData(absent))->data.has_value());
  EXPECT_TRUE(DecodeUnixfsData(EncodeUnixfsData(empty))->data.has_value());
}

TEST(UnixfsPb, DecodesKnownBytes) {
  auto d = DecodeUnixfsData(Hex("080218ac82102080801020ac02"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, DataType::kFile);
  EXPECT_EQ(d->filesize, 262444u);
  EXPECT_EQ(d->blocksizes, (std::vector<uint64_t>{262144, 300}));
  EXPECT_FALSE(d->data);
  EXPECT_FALSE(d->mode);
  EXPECT_FALSE(d->mtime);
}

TEST(UnixfsPb, AcceptsPackedBlocksizes) {
  // Field 4, wire type 2, 5 bytes: 262144 (3 bytes) and 300 (2 bytes).
  auto packed = DecodeUnixfsData(Hex("08022205808010ac02"));
  ASSERT_TRUE(packed) << packed.error().ToString();
  EXPECT_EQ(packed->blocksizes, (std::vector<uint64_t>{262144, 300}));
}

TEST(UnixfsPb, AcceptsFieldsOutOfOrderAndSkipsUnknownFields) {
  // filesize, then an unknown varint field 9, an unknown bytes field 10, then Type.
  auto d =
      DecodeUnixfsData(Hex("1805"
                           "4801"
                           "5202abcd"
                           "0802"));
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->type, DataType::kFile);
  EXPECT_EQ(d->filesize, 5u);
}

TEST(UnixfsPb, RejectsMissingType) {
  auto d = DecodeUnixfsData(Hex("1800"));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(d.error().message().find("Type"), std::string::npos);
  EXPECT_FALSE(DecodeUnixfsData({}));
}

TEST(UnixfsPb, RejectsUnknownDataType) {
  auto d = DecodeUnixfsData(Hex("0806"));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("unknown DataType 6"), std::string::npos);
}

TEST(UnixfsPb, RejectsTruncation) {
  EXPECT_FALSE(DecodeUnixfsData(Hex("08")));
  EXPECT_FALSE(DecodeUnixfsData(Hex("0802120568656c6c")));  // Data says 5, has 4
  EXPECT_FALSE(DecodeUnixfsData(Hex("080218ff")));          // varint never ends
  EXPECT_FALSE(DecodeUnixfsData(Hex("0802420308011505")));  // mtime cut inside
}

TEST(UnixfsPb, RejectsOverlongVarint) {
  EXPECT_FALSE(DecodeUnixfsData(Hex("080218ffffffffffffffffffff01")));  // 11 bytes
  EXPECT_FALSE(DecodeUnixfsData(Hex("080218ffffffffffffffffff02")));    // > 64 bits
}

TEST(UnixfsPb, RejectsWrongWireTypes) {
  EXPECT_FALSE(DecodeUnixfsData(Hex("0a0102")));          // Type as bytes
  EXPECT_FALSE(DecodeUnixfsData(Hex("08021005")));        // Data as varint
  EXPECT_FALSE(DecodeUnixfsData(Hex("08023d00000000")));  // mode (7) as fixed32
  EXPECT_FALSE(DecodeUnixfsData(Hex("08024301")));        // group start wire type
  EXPECT_FALSE(DecodeUnixfsData(Hex("08020701")));        // field 0
}

TEST(UnixfsPb, RejectsModeAboveUint32) {
  auto d = DecodeUnixfsData(Hex("0802388080808010"));  // 2^32
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("mode"), std::string::npos);
}

TEST(UnixfsPb, RejectsNanosOutsideRange) {
  EXPECT_FALSE(DecodeUnixfsData(Hex("0801420708011500000000")));  // 0
  auto big =
      DecodeUnixfsData(Hex("08014207080115"
                           "00ca9a3b"));  // 1'000'000'000
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("FractionalNanoseconds"), std::string::npos);
  auto max =
      DecodeUnixfsData(Hex("08014207080115"
                           "ffc99a3b"));  // 999'999'999
  ASSERT_TRUE(max) << max.error().ToString();
  EXPECT_EQ(max->mtime->nanos, 999999999u);
}

TEST(UnixfsPb, RejectsMtimeWithoutSeconds) {
  EXPECT_FALSE(DecodeUnixfsData(Hex("080142051501000000")));
}

TEST(UnixfsPb, ErrorsCarryTheOffset) {
  auto d =
      DecodeUnixfsData(Hex("08021805"
                           "0807"));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("offset 6"), std::string::npos) << d.error().message();
}

}  // namespace
}  // namespace cairn::unixfs
