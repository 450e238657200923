#include "common/bytes.hpp"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(Hex, RoundTrips) {
  Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abff");
  EXPECT_EQ(*HexDecode("0001ABff"), b);
}

TEST(Hex, RejectsOddLengthAndBadCharacters) {
  EXPECT_FALSE(HexDecode("abc"));
  auto r = HexDecode("zz");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("offset 0"), std::string::npos);
}

TEST(Endian, FixedWidthRoundTrip) {
  uint8_t buf[8];
  PutU64Le(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);
  EXPECT_EQ(GetU64Le(buf), 0x0102030405060708ull);
  PutU32Le(buf, 0xdeadbeef);
  EXPECT_EQ(GetU32Le(buf), 0xdeadbeefu);
}

}  // namespace
}  // namespace cairn
