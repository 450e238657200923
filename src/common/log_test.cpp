#include "common/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cairn::log {
namespace {

TEST(Log, FieldsAreValidJsonWhateverTheirText) {
  std::string quirky = "a\"b\\c\nd\te\x01 ü";
  std::string members = FormatFields(
      "pin.failed",
      {{"requestid", "r-1"}, {"reason", quirky}, {"blocks", uint64_t{42}}, {"delta", int64_t{-7}}});
  auto parsed = boost::json::parse("{" + members + "}");
  const auto& obj = parsed.as_object();
  EXPECT_EQ(obj.at("event").as_string(), "pin.failed");
  EXPECT_EQ(obj.at("requestid").as_string(), "r-1");
  EXPECT_EQ(std::string(obj.at("reason").as_string()), quirky);
  EXPECT_EQ(obj.at("blocks").as_int64(), 42);
  EXPECT_EQ(obj.at("delta").as_int64(), -7);
}

TEST(Log, EventAloneIsAnObjectMember) {
  EXPECT_EQ(FormatFields("serve.stop", {}), R"("event":"serve.stop")");
}

}  // namespace
}  // namespace cairn::log
