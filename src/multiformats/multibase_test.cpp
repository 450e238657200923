#include "multiformats/multibase.hpp"

#include <gtest/gtest.h>

#include <random>

namespace cairn::multiformats {
namespace {

// Known answers from the multibase spec's test vectors (checked with js multiformats 14.0.5).
TEST(Multibase, EncodesYesMani) {
  Bytes data = ToBytes("yes mani !");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase16, data), "f796573206d616e692021");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase16Upper, data), "F796573206D616E692021");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase32, data), "bpfsxgidnmfxgsibb");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase32Upper, data), "BPFSXGIDNMFXGSIBB");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase36, data), "k2lcpzo5yikidynfl");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase58Btc, data), "z7paNL19xttacUY");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64, data), "meWVzIG1hbmkgIQ");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase64Url, data), "ueWVzIG1hbmkgIQ");
}

TEST(Multibase, KeepsLeadingZeros) {
  EXPECT_EQ(MultibaseEncode(Multibase::kBase58Btc, Bytes{0, 0, 1, 2, 3}), "z11Ldp");
  EXPECT_EQ(MultibaseEncode(Multibase::kBase36, Bytes{0, 0, 255}), "k0073");
  EXPECT_EQ(*MultibaseDecode("z11Ldp"), (Bytes{0, 0, 1, 2, 3}));
  EXPECT_EQ(*MultibaseDecode("k0073"), (Bytes{0, 0, 255}));
}

TEST(Multibase, RoundTripsRandomBytesInEveryBase) {
  std::mt19937 rng(7);
  for (int n = 0; n < 70; ++n) {
    Bytes data(n);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    if (n % 5 == 0 && n > 0) data[0] = 0;
    for (Multibase base :
         {Multibase::kBase16, Multibase::kBase16Upper, Multibase::kBase32, Multibase::kBase32Upper,
          Multibase::kBase36, Multibase::kBase58Btc, Multibase::kBase64, Multibase::kBase64Url}) {
      std::string text = MultibaseEncode(base, data);
      auto back = MultibaseDecode(text);
      ASSERT_TRUE(back) << text << " " << back.error().ToString();
      EXPECT_EQ(*back, data) << MultibaseName(base) << " " << text;
    }
  }
}

TEST(Multibase, RejectsUnknownPrefixBadCharactersAndTrailingBits) {
  auto r = MultibaseDecode("!abc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("unknown prefix '!'"), std::string::npos);
  EXPECT_FALSE(MultibaseDecode(""));
  EXPECT_FALSE(MultibaseDecode("bAB"));    // upper case in base32 lower
  EXPECT_FALSE(MultibaseDecode("z0OIl"));  // not in the base58 alphabet
  EXPECT_FALSE(MultibaseDecode("f0"));     // half a byte
  EXPECT_FALSE(MultibaseDecode("bpb"));    // non-zero trailing bits
  EXPECT_FALSE(MultibaseDecode("b7"));     // a lone character holds no byte
}

TEST(Multibase, NamesRoundTrip) {
  EXPECT_EQ(*MultibaseFromName("base58btc"), Multibase::kBase58Btc);
  EXPECT_EQ(*MultibaseFromName("base32"), Multibase::kBase32);
  EXPECT_EQ(MultibaseName(Multibase::kBase64Url), "base64url");
  EXPECT_FALSE(MultibaseFromName("base99"));
}

}  // namespace
}  // namespace cairn::multiformats
