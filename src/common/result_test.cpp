#include "common/result.hpp"

#include <gtest/gtest.h>

namespace cairn {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Err(ErrorCode::kInvalidArgument, "odd: " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  int h = CAIRN_TRY(Half(v));
  return CAIRN_TRY(Half(h));
}

Result<void> CheckEven(int v) {
  CAIRN_TRY(Half(v));
  return Ok();
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "odd: 3");
  EXPECT_EQ(r.error().ToString(), "INVALID_ARGUMENT: odd: 3");
}

TEST(Result, VoidResults) {
  EXPECT_TRUE(CheckEven(4));
  EXPECT_FALSE(CheckEven(5));
}

TEST(Result, WithContextPrefixesTheMessage) {
  Error e(ErrorCode::kNotFound, "block x");
  EXPECT_EQ(e.WithContext("car: ").message(), "car: block x");
  EXPECT_EQ(e.WithContext("car: ").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cairn
