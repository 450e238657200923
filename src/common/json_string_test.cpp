#include "common/json_string.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

namespace cairn {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonString, EscapesAndPassesWellFormedUtf8) {
  EXPECT_EQ(Quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(Quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  // ?cid=%ff%fe as the query decoder hands it over.
  EXPECT_EQ(Quote("\xFF\xFE"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(Quote("a\x80z"), "\"a\\ufffdz\"");                    // stray continuation byte
  EXPECT_EQ(Quote("\xC3"), "\"\\ufffd\"");                        // truncated sequence
  EXPECT_EQ(Quote("\xC0\xAF"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(Quote("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate U+D800
  EXPECT_EQ(Quote("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
}

TEST(JsonString, RandomBytesAlwaysGiveValidJson) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    std::string quoted = Quote(s);
    boost::system::error_code ec;
    auto v = boost::json::parse(quoted, ec);
    ASSERT_FALSE(ec) << "round " << round;
    ASSERT_TRUE(v.is_string());
  }
}

}  // namespace
}  // namespace cairn
