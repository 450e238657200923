#include "filecoin/types/big_int.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin {
namespace {

TEST(BigInt, ByteFormMatchesGoStateTypes) {
  EXPECT_TRUE(BigInt().ToBytes().empty());
  // Values from the AddBalance and DealProposal vectors.
  EXPECT_EQ(HexEncode(BigInt::Parse("100000000000000000")->ToBytes()), "00016345785d8a0000");
  EXPECT_EQ(HexEncode(BigInt::FromUint(200000).ToBytes()), "00030d40");
  EXPECT_EQ(HexEncode(BigInt::FromUint(976562).ToBytes()), "000ee6b2");
  EXPECT_EQ(HexEncode(BigInt::FromInt(-1).ToBytes()), "0101");
  EXPECT_EQ(BigInt::FromBytes(*HexDecode("00016345785d8a0000"))->ToString(), "100000000000000000");
  EXPECT_EQ(BigInt::FromBytes(*HexDecode("0101"))->ToString(), "-1");
  EXPECT_TRUE(BigInt::FromBytes({})->is_zero());
}

TEST(BigInt, FromBytesRejectsNonCanonicalForms) {
  EXPECT_FALSE(BigInt::FromBytes(*HexDecode("00")));
  EXPECT_FALSE(BigInt::FromBytes(*HexDecode("01")));
  EXPECT_FALSE(BigInt::FromBytes(*HexDecode("000001")));
  EXPECT_FALSE(BigInt::FromBytes(*HexDecode("0201")));
  Bytes big(129, 1);
  big[0] = 0;
  EXPECT_FALSE(BigInt::FromBytes(big));
  big.resize(128);
  EXPECT_TRUE(BigInt::FromBytes(big));
}

TEST(BigInt, DecimalRoundTripAndRejects) {
  for (const char* s : {"0", "1", "-1", "4294967296", "18446744073709551616",
                        "-340282366920938463463374607431768211457",
                        "1000000000000000000000000000000000000000000000000000"}) {
    auto v = BigInt::Parse(s);
    ASSERT_TRUE(v) << s;
    EXPECT_EQ(v->ToString(), s);
    EXPECT_EQ(*BigInt::FromBytes(v->ToBytes()), *v);
  }
  for (const char* s : {"", "-", "01", "-0", "1.5", "+1", " 1", "1e18"}) {
    EXPECT_FALSE(BigInt::Parse(s)) << s;
  }
  EXPECT_FALSE(BigInt::Parse(std::string(320, '9')));
}

TEST(BigInt, ArithmeticForBalances) {
  auto fil = *BigInt::Parse("1000000000000000000");
  auto tenth = *BigInt::Parse("100000000000000000");
  EXPECT_EQ((tenth * 10), fil);
  EXPECT_EQ((fil - tenth).ToString(), "900000000000000000");
  EXPECT_EQ((tenth - fil).ToString(), "-900000000000000000");
  EXPECT_EQ((tenth - fil + fil), tenth);
  EXPECT_TRUE(tenth < fil);
  EXPECT_TRUE(-fil < tenth);
  EXPECT_TRUE(-fil < -tenth);
  EXPECT_EQ((fil - fil), BigInt());
  EXPECT_TRUE((fil - fil).ToBytes().empty());
  // price per epoch × duration, past 2^64.
  auto total = BigInt::FromUint(976562) * 518400 * 1000000000000ULL * 100;
  EXPECT_EQ(total.ToString(), "50624974080000000000000000");
  EXPECT_EQ((BigInt::FromUint(UINT64_MAX) * UINT64_MAX).ToString(),
            "340282366920938463426481119284349108225");
  EXPECT_EQ(*BigInt::FromUint(UINT64_MAX).ToUint64(), UINT64_MAX);
  EXPECT_FALSE((BigInt::FromUint(UINT64_MAX) + BigInt::FromUint(1)).ToUint64());
  EXPECT_FALSE(BigInt::FromInt(-3).ToUint64());
}

}  // namespace
}  // namespace cairn::filecoin
