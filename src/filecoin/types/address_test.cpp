#include "filecoin/types/address.hpp"

#include <gtest/gtest.h>

#include "filecoin/types/internal/test_vectors.hpp"

namespace cairn::filecoin {
namespace {

using testing::V;
using testing::VHex;

TEST(Address, ReproducesSecp256k1Vector) {
  auto f1 = Address::Parse(V("key/f1"));
  ASSERT_TRUE(f1) << f1.error().ToString();
  EXPECT_EQ(HexEncode(f1->ToBytes()), V("key/addrBytesHex"));
  EXPECT_EQ(HexEncode(f1->payload()), V("key/blake2b160Payload"));
  EXPECT_EQ(f1->protocol(), AddressProtocol::kSecp256k1);
  EXPECT_EQ(f1->ToString(), V("key/f1"));
  EXPECT_EQ(f1->ToString(Network::kTestnet), V("key/t1"));
  auto t1 = Address::ParseWithNetwork(V("key/t1"));
  ASSERT_TRUE(t1);
  EXPECT_EQ(t1->first, *f1);
  EXPECT_EQ(t1->second, Network::kTestnet);
  auto from_key = Address::FromSecp256k1PublicKey(VHex("key/pubUncompressedHex"));
  ASSERT_TRUE(from_key);
  EXPECT_EQ(*from_key, *f1);
  auto from_bytes = Address::FromBytes(VHex("key/addrBytesHex"));
  ASSERT_TRUE(from_bytes);
  EXPECT_EQ(*from_bytes, *f1);
}

TEST(Address, ReproducesIdVectors) {
  for (const char* name : {"f0", "f0big"}) {
    std::string base = std::string(name);
    auto a = Address::Parse(V(base + "/str"));
    ASSERT_TRUE(a) << name;
    EXPECT_EQ(HexEncode(a->ToBytes()), V(base + "/bytesHex"));
    EXPECT_EQ(a->ToString(), V(base + "/str"));
    auto b = Address::FromBytes(VHex(base + "/bytesHex"));
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, *a);
  }
  EXPECT_EQ(Address::Parse("f01234")->id(), 1234u);
  EXPECT_EQ(Address::Id(5)->ToString(Network::kTestnet), "t05");
}

TEST(Address, ReproducesDelegatedVector) {
  auto a = Address::Parse(V("f410/str"));
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_EQ(HexEncode(a->ToBytes()), V("f410/bytesHex"));
  auto eth = *HexDecode(V("f410/eth").substr(2));
  auto made = Address::Delegated(kEamNamespace, eth);
  ASSERT_TRUE(made);
  EXPECT_EQ(*made, *a);
  EXPECT_EQ(made->ToString(), V("f410/str"));
}

TEST(Address, BlsAndActorRoundTrip) {
  Bytes key(48, 0xab);
  auto bls = Address::Make(AddressProtocol::kBls, key);
  ASSERT_TRUE(bls);
  auto back = Address::Parse(bls->ToString(Network::kTestnet));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *bls);
  EXPECT_EQ(back->ToString(Network::kTestnet).substr(0, 2), "t3");
  auto actor = Address::Make(AddressProtocol::kActor, Bytes(20, 7));
  ASSERT_TRUE(actor);
  EXPECT_EQ(*Address::Parse(actor->ToString()), *actor);
}

void ExpectRejected(std::string_view text, std::string_view needle) {
  auto a = Address::Parse(text);
  ASSERT_FALSE(a) << text;
  EXPECT_EQ(a.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(a.error().message().find(needle), std::string::npos)
      << text << ": " << a.error().message();
}

TEST(Address, ParseNamesWhatFailed) {
  ExpectRejected("x01234", "network letter");
  ExpectRejected("f91234", "unknown protocol");
  ExpectRejected("f0", "length");
  ExpectRejected("f4" + std::string(114, '1'), "length");
  ExpectRejected("f00123", "leading zero");
  ExpectRejected("f09223372036854775808", "up to");
  ExpectRejected("f0-1", "not a decimal");
  // Last checksum character changed.
  ExpectRejected("f1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphnq", "checksum");
  ExpectRejected("f1UK3GNGPYNYJ2GOQVXGLVAPSR7YCMDNOGYUZPHNY", "base32");
  ExpectRejected("f1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzph", "");  // wrong length or checksum
  ExpectRejected("f410", "no 'f'");
}

TEST(Address, LongestDelegatedAddressRoundTrips) {
  // Found by filecoin_address_fuzz: a 54-byte subaddress under a large namespace is 115
  // characters long, beyond go-address's 86 (which is f3's length).
  auto a = Address::Delegated(kMaxActorId, Bytes(kMaxSubaddressSize, 0xff));
  ASSERT_TRUE(a);
  std::string text = a->ToString(Network::kTestnet);
  EXPECT_EQ(text.size(), 115u);
  auto back = Address::Parse(text);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, *a);
}

TEST(Address, FromBytesIsStrict) {
  EXPECT_FALSE(Address::FromBytes({}));
  EXPECT_FALSE(Address::FromBytes(*HexDecode("05aa")));
  EXPECT_FALSE(Address::FromBytes(*HexDecode("00d20900")));  // trailing byte
  EXPECT_FALSE(Address::FromBytes(*HexDecode("008000")));    // non-minimal varint
  EXPECT_FALSE(Address::FromBytes(*HexDecode("01a2b6")));    // short f1 payload
  EXPECT_FALSE(Address::FromBytes(Bytes(1 + 1 + 55, 4)));    // subaddress too long
}

}  // namespace
}  // namespace cairn::filecoin
