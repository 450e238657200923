#include "filecoin/types/secp256k1_key.hpp"

#include <gtest/gtest.h>

#include "filecoin/types/blake2b.hpp"
#include "filecoin/types/internal/test_vectors.hpp"

namespace cairn::filecoin {
namespace {

using testing::V;
using testing::VHex;

PrivateKey TestKey() { return *PrivateKeyFromBytes(VHex("key/privHex")); }

TEST(Secp256k1, DerivesVectorPublicKeyAndAddress) {
  EXPECT_EQ(HexEncode(DerivePublicKey(TestKey())), V("key/pubUncompressedHex"));
  EXPECT_EQ(Secp256k1Address(TestKey()).ToString(), V("key/f1"));
}

TEST(Secp256k1, SignsTheDealProposalVector) {
  Bytes proposal = VHex("dealProposal/cborHex");
  EXPECT_EQ(HexEncode(Blake2b256(proposal)), V("dealProposal/blake2b256Hex"));
  auto sig = SignBytes(TestKey(), proposal);
  EXPECT_EQ(HexEncode(sig), V("dealProposal/sig65Hex_r_s_v"));
  auto signer = *Address::Parse(V("key/f1"));
  EXPECT_TRUE(VerifyBytes(sig, proposal, signer));
}

TEST(Secp256k1, RecoversAndRejectsOtherSigners) {
  Bytes msg = ToBytes("hello");
  auto sig = SignBytes(TestKey(), msg);
  auto pub = RecoverPublicKey(sig, Blake2b256(msg));
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, DerivePublicKey(TestKey()));
  auto other = Secp256k1Address(*PrivateKeyFromBytes(Bytes(32, 1)));
  auto wrong = VerifyBytes(sig, msg, other);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  auto id = VerifyBytes(sig, msg, *Address::Id(1000));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code(), ErrorCode::kInvalidArgument);
  // A different message recovers some other key.
  EXPECT_FALSE(VerifyBytes(sig, ToBytes("hellp"), Secp256k1Address(TestKey())));
}

TEST(Secp256k1, RejectsHighSAndMalformedSignatures) {
  Bytes msg = ToBytes("malleable");
  auto sig = SignBytes(TestKey(), msg);
  // s' = n - s, flip v: the same point, high-S.
  static const uint8_t kOrder[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                     0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                     0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  Secp256k1Signature high = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kOrder[i] - sig[32 + i] - borrow;
    borrow = d < 0;
    high[32 + i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  high[64] ^= 1;
  auto r = RecoverPublicKey(high, Blake2b256(msg));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("high-S"), std::string::npos);
  EXPECT_FALSE(RecoverPublicKey(ByteSpan(sig.data(), 64), Blake2b256(msg)));
  Secp256k1Signature bad_v = sig;
  bad_v[64] = 4;
  EXPECT_FALSE(RecoverPublicKey(bad_v, Blake2b256(msg)));
}

TEST(Secp256k1, RejectsInvalidPrivateKeys) {
  EXPECT_FALSE(PrivateKeyFromBytes(Bytes(32, 0)));
  EXPECT_FALSE(PrivateKeyFromBytes(Bytes(32, 0xff)));
  EXPECT_FALSE(PrivateKeyFromBytes(Bytes(31, 1)));
}

}  // namespace
}  // namespace cairn::filecoin
