#include "multiformats/varint.hpp"

#include <gtest/gtest.h>

namespace cairn::multiformats {
namespace {

TEST(Varint, EncodesKnownValues) {
  struct Case {
    uint64_t value;
    std::string hex;
  } cases[] = {{0, "00"},         {1, "01"},
               {127, "7f"},       {128, "8001"},
               {255, "ff01"},     {300, "ac02"},
               {16384, "808001"}, {0x7fffffffffffffffull, "ffffffffffffffff7f"}};
  for (const auto& c : cases) {
    Bytes out;
    AppendVarint(out, c.value);
    EXPECT_EQ(HexEncode(out), c.hex) << c.value;
    EXPECT_EQ(VarintSize(c.value), out.size());
    auto d = DecodeVarint(out);
    ASSERT_TRUE(d) << c.hex;
    EXPECT_EQ(d->value, c.value);
    EXPECT_EQ(d->size, out.size());
  }
}

TEST(Varint, DecodesOnlyThePrefix) {
  Bytes in = {0xac, 0x02, 0xff};
  auto d = DecodeVarint(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->value, 300u);
  EXPECT_EQ(d->size, 2u);
}

TEST(Varint, RejectsEmptyTruncatedOverlongAndNonMinimal) {
  EXPECT_FALSE(DecodeVarint(Bytes{}));
  EXPECT_FALSE(DecodeVarint(Bytes{0x80}));
  EXPECT_FALSE(DecodeVarint(Bytes{0x80, 0x00}));  // non-minimal zero
  EXPECT_FALSE(DecodeVarint(Bytes{0xff, 0x80, 0x00}));
  Bytes ten(9, 0xff);
  ten.push_back(0x01);
  auto r = DecodeVarint(ten);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("9 bytes"), std::string::npos);
}

}  // namespace
}  // namespace cairn::multiformats
