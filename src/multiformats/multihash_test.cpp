#include "multiformats/multihash.hpp"

#include <gtest/gtest.h>

#include "multiformats/multicodec.hpp"

namespace cairn::multiformats {
namespace {

TEST(Multihash, Sha256OfHelloWorld) {
  auto mh = Multihash::Sum(codec::kSha2_256, AsBytes("hello world"));
  ASSERT_TRUE(mh);
  EXPECT_EQ(HexEncode(mh->Encode()),
            "1220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_TRUE(mh->Verify(AsBytes("hello world")));
  auto bad = mh->Verify(AsBytes("hello world!"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorruption);
}

TEST(Multihash, Sha512AndBlake2b256KnownAnswers) {
  auto s512 = Multihash::Sum(codec::kSha2_512, AsBytes("abc"));
  ASSERT_TRUE(s512);
  EXPECT_EQ(HexEncode(s512->digest()).substr(0, 16), "ddaf35a193617aba");
  // BLAKE2b-256("abc"), RFC 7693 parameters with a 32-byte digest (not a truncated 64-byte one).
  auto b2 = Multihash::Sum(codec::kBlake2b256, AsBytes("abc"));
  ASSERT_TRUE(b2);
  EXPECT_EQ(HexEncode(b2->digest()),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  EXPECT_EQ(HexEncode(b2->Encode()).substr(0, 8), "a0e40220");
}

TEST(Multihash, IdentityCarriesTheData) {
  auto mh = Multihash::Sum(codec::kIdentity, AsBytes("hi"));
  ASSERT_TRUE(mh);
  EXPECT_EQ(HexEncode(mh->Encode()), "00026869");
  Bytes big(kMaxIdentityDigest + 1, 'x');
  EXPECT_FALSE(Multihash::Sum(codec::kIdentity, big));
}

TEST(Multihash, DecodeRejectsBadInput) {
  EXPECT_FALSE(Multihash::Decode(Bytes{}));
  EXPECT_FALSE(Multihash::Decode(Bytes{0x12, 0x20, 0x00}));  // digest shorter than declared
  EXPECT_FALSE(Multihash::Decode(Bytes{0x12, 0x01, 0x00}));  // sha2-256 must be 32 bytes
  Bytes trailing = Multihash::Sum(codec::kSha2_256, AsBytes("x"))->Encode();
  trailing.push_back(0);
  EXPECT_FALSE(Multihash::Decode(trailing));
  auto p = Multihash::DecodePrefix(trailing);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size, trailing.size() - 1);
}

TEST(Multihash, UnknownCodesParseButCannotVerify) {
  Bytes enc = {0x80, 0x40, 0x02, 0xaa, 0xbb};  // code 0x2000
  auto mh = Multihash::Decode(enc);
  ASSERT_TRUE(mh);
  EXPECT_EQ(mh->code(), 0x2000u);
  auto v = mh->Verify(AsBytes("x"));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kNotSupported);
}

TEST(Sha256Hasher, StreamingEqualsOneShot) {
  Sha256Hasher h;
  h.Update(AsBytes("hello "));
  h.Update(AsBytes("world"));
  EXPECT_EQ(h.Finish(), Sha256(AsBytes("hello world")));
  h.Update(AsBytes("abc"));  // reusable after Finish
  EXPECT_EQ(h.Finish(), Sha256(AsBytes("abc")));
}

}  // namespace
}  // namespace cairn::multiformats
