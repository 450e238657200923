#include "filecoin/types/message.hpp"

#include <gtest/gtest.h>

#include "filecoin/types/internal/test_vectors.hpp"

namespace cairn::filecoin {
namespace {

using testing::V;
using testing::VHex;

// The AddBalance vector of deal_vectors.json, built from its fields (glifLotusType).
Message AddBalance() {
  Message m;
  m.to = *Address::Parse(V("glifLotusType/To"));
  m.from = *Address::Parse(V("glifLotusType/From"));
  m.nonce = 7;
  m.value = *BigInt::Parse(V("glifLotusType/Value"));
  m.gas_limit = 5000000;
  m.gas_fee_cap = *BigInt::Parse(V("glifLotusType/GasFeeCap"));
  m.gas_premium = *BigInt::Parse(V("glifLotusType/GasPremium"));
  m.method = kMarketAddBalance;
  m.params = VHex("addBalanceMessage/paramsHex");
  return m;
}

TEST(Message, ReproducesAddBalanceVector) {
  Message m = AddBalance();
  // Params = CBOR of the address to credit.
  EXPECT_EQ(HexEncode(m.params), "55" + HexEncode(m.from.ToBytes()));
  EXPECT_EQ(HexEncode(m.Encode()), V("addBalanceMessage/messageCborHex"));
  EXPECT_EQ(m.GetCid().ToString(), V("addBalanceMessage/messageCid"));
  EXPECT_EQ(HexEncode(m.GetCid().ToBytes()), V("addBalanceMessage/cidBytesHex"));

  auto key = *PrivateKeyFromBytes(VHex("key/privHex"));
  SignedMessage sm = SignMessage(m, key);
  EXPECT_EQ(HexEncode(sm.signature.data), V("addBalanceMessage/sigOverBlake2bOfCidBytes_hex"));
  EXPECT_EQ(HexEncode(sm.Encode()), V("addBalanceMessage/signedMessageCborHex"));
  EXPECT_EQ(sm.GetCid().ToString(), V("addBalanceMessage/signedMessageCid"));
  EXPECT_TRUE(VerifySignedMessage(sm));
}

TEST(Message, DecodesVectorsBackToTheSameValues) {
  auto m = Message::Decode(VHex("addBalanceMessage/messageCborHex"));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(*m, AddBalance());
  auto sm = SignedMessage::Decode(VHex("addBalanceMessage/signedMessageCborHex"));
  ASSERT_TRUE(sm) << sm.error().ToString();
  EXPECT_EQ(sm->message, AddBalance());
  EXPECT_EQ(sm->signature.type, SignatureType::kSecp256k1);
  EXPECT_TRUE(VerifySignedMessage(*sm));
}

TEST(Message, TamperedSignedMessageFailsVerification) {
  auto key = *PrivateKeyFromBytes(VHex("key/privHex"));
  SignedMessage sm = SignMessage(AddBalance(), key);
  sm.message.nonce = 8;
  EXPECT_FALSE(VerifySignedMessage(sm));
}

void ExpectError(ByteSpan bytes, std::string_view needle) {
  auto m = Message::Decode(bytes);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find(needle), std::string::npos) << m.error().message();
}

TEST(Message, StrictDecodeNamesTheField) {
  Bytes good = VHex("addBalanceMessage/messageCborHex");
  // 11 fields: append an item and bump the array head 0x8a -> 0x8b.
  Bytes extra = good;
  extra[0] = 0x8b;
  extra.push_back(0x00);
  ExpectError(extra, "Message: expected 10 fields, got 11");
  // Nonce (0x07) replaced by a text string "a".
  Bytes wrong = good;
  size_t nonce_at = 1 + 1 + 3 + 22;  // version, To (43 00 05), From (55 + 21 bytes)
  ASSERT_EQ(wrong[nonce_at], 0x07);
  wrong[nonce_at] = 0x61;
  wrong.insert(wrong.begin() + nonce_at + 1, 'a');
  ExpectError(wrong, "Message.Nonce");
  // To = f05 with a trailing byte: address error, named.
  Bytes bad_to = good;
  ASSERT_EQ(bad_to[2], 0x42);
  bad_to[2] = 0x43;
  bad_to.insert(bad_to.begin() + 5, 0x00);
  ExpectError(bad_to, "Message.To");
  ExpectError(*HexDecode("8a"), "Message");
  ExpectError(*HexDecode("a0"), "expected an array");
}

}  // namespace
}  // namespace cairn::filecoin
