#include "filecoin/types/blake2b.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin {
namespace {

TEST(Blake2b, DigestLengthIsAParameterNotATruncation) {
  // RFC 7693 Appendix A: BLAKE2b-512("abc").
  EXPECT_EQ(HexEncode(Blake2b512(AsBytes("abc"))),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  auto d256 = Blake2b256(AsBytes("abc"));
  auto d512 = Blake2b512(AsBytes("abc"));
  EXPECT_NE(HexEncode(d256), HexEncode(ByteSpan(d512.data(), 32)));
}

}  // namespace
}  // namespace cairn::filecoin
