#include "filecoin/types/base64.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin {
namespace {

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Base64, EncodesWithPaddingAsGoDoes) {
  EXPECT_EQ(Base64Encode({}), "");
  EXPECT_EQ(Base64Encode(B("f")), "Zg==");
  EXPECT_EQ(Base64Encode(B("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(B("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(B("foobar")), "Zm9vYmFy");
  // The AddBalance vector's Params as Lotus JSON carries them (deal_vectors.json glifLotusType).
  auto params = HexDecode("5501a2b66699f86e13a33a15b997503e51fe04c1b5c6");
  ASSERT_TRUE(params);
  EXPECT_EQ(Base64Encode(*params), "VQGitmaZ+G4TozoVuZdQPlH+BMG1xg==");
}

TEST(Base64, DecodesOnlyTheCanonicalPaddedForm) {
  EXPECT_EQ(*Base64Decode(""), Bytes{});
  EXPECT_EQ(*Base64Decode("Zg=="), B("f"));
  EXPECT_EQ(*Base64Decode("Zm8="), B("fo"));
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), B("foobar"));
  for (const char* bad :
       {"Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm=v", "Zm9_", "====", "Zm8=Zm8="}) {
    auto r = Base64Decode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.error().message().find(bad), std::string::npos) << "input not echoed";
    }
  }
}

}  // namespace
}  // namespace cairn::filecoin
