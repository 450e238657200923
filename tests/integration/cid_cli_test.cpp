#include <gtest/gtest.h>

#include "tests/integration/run.hpp"

namespace cairn::testing {
namespace {

TEST(CidCli, InspectShowsBothEncodings) {
  auto r = RunCairn("cid inspect QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Codec:     dag-pb (0x70)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"),
            std::string::npos);
  auto j =
      RunCairn("cid inspect --json bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_NE(j.out.find("\"cidV0\":\"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\""),
            std::string::npos)
      << j.out;
}

TEST(CidCli, InspectRejectsGarbageWithAReason) {
  auto r = RunCairn("cid inspect 'not a cid'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown prefix 'n'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace cairn::testing
