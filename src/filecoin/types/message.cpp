#include "filecoin/types/message.hpp"

#include "filecoin/types/blake2b.hpp"
#include "filecoin/types/internal/cbor_fields.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin {

using internal::CborValue;
using multiformats::Cid;
using multiformats::Multihash;

Cid Blake2bCborCid(ByteSpan cbor) {
  auto digest = Blake2b256(cbor);
  // A 32-byte digest is valid for blake2b-256.
  return Cid::V1(multiformats::codec::kDagCbor,
                 *Multihash::Make(multiformats::codec::kBlake2b256, digest));
}

Cid Sha256CborCid(ByteSpan cbor) {
  auto digest = multiformats::Sha256(cbor);
  // A 32-byte digest is valid for sha2-256.
  return Cid::V1(multiformats::codec::kDagCbor,
                 *Multihash::Make(multiformats::codec::kSha2_256, digest));
}

CborValue Message::ToCbor() const {
  return CborValue::MakeList({
      CborValue::Uint(version),
      internal::AddressValue(to),
      internal::AddressValue(from),
      CborValue::Uint(nonce),
      internal::BigIntValue(value),
      CborValue::Int(gas_limit),
      internal::BigIntValue(gas_fee_cap),
      internal::BigIntValue(gas_premium),
      CborValue::Uint(method),
      CborValue::ByteString(params),
  });
}

Bytes Message::Encode() const { return internal::EncodeValue(ToCbor()); }

Cid Message::GetCid() const { return Blake2bCborCid(Encode()); }

Result<Message> Message::FromCbor(const CborValue& v, std::string_view field) {
  std::string f(field);
  const auto& t = *CAIRN_TRY(internal::Tuple(v, 10, f));
  Message m;
  m.version = CAIRN_TRY(internal::Uint(t[0], f + ".Version"));
  m.to = CAIRN_TRY(internal::AddressField(t[1], f + ".To"));
  m.from = CAIRN_TRY(internal::AddressField(t[2], f + ".From"));
  m.nonce = CAIRN_TRY(internal::Uint(t[3], f + ".Nonce"));
  m.value = CAIRN_TRY(internal::BigIntField(t[4], f + ".Value"));
  m.gas_limit = CAIRN_TRY(internal::Int(t[5], f + ".GasLimit"));
  m.gas_fee_cap = CAIRN_TRY(internal::BigIntField(t[6], f + ".GasFeeCap"));
  m.gas_premium = CAIRN_TRY(internal::BigIntField(t[7], f + ".GasPremium"));
  m.method = CAIRN_TRY(internal::Uint(t[8], f + ".Method"));
  m.params = CAIRN_TRY(internal::ByteString(t[9], f + ".Params"));
  return m;
}

Result<Message> Message::Decode(ByteSpan bytes) {
  return FromCbor(CAIRN_TRY(internal::DecodeTop(bytes, "Message")));
}

CborValue SignedMessage::ToCbor() const {
  return CborValue::MakeList({message.ToCbor(), CborValue::ByteString(signature.ToBytes())});
}

Bytes SignedMessage::Encode() const { return internal::EncodeValue(ToCbor()); }

Cid SignedMessage::GetCid() const {
  if (signature.type == SignatureType::kBls) {
    return message.GetCid();
  }
  return Blake2bCborCid(Encode());
}

Result<SignedMessage> SignedMessage::Decode(ByteSpan bytes) {
  auto v = CAIRN_TRY(internal::DecodeTop(bytes, "SignedMessage"));
  const auto& t = *CAIRN_TRY(internal::Tuple(v, 2, "SignedMessage"));
  SignedMessage sm;
  sm.message = CAIRN_TRY(Message::FromCbor(t[0], "SignedMessage.Message"));
  sm.signature = CAIRN_TRY(internal::SignatureField(t[1], "SignedMessage.Signature"));
  return sm;
}

SignedMessage SignMessage(const Message& message, const PrivateKey& key) {
  auto sig = SignBytes(key, message.GetCid().ToBytes());
  return SignedMessage{message, Signature::Secp256k1(sig)};
}

Result<void> VerifySignedMessage(const SignedMessage& signed_message) {
  if (signed_message.signature.type != SignatureType::kSecp256k1) {
    return Err(ErrorCode::kNotSupported, "message signature: only secp256k1 is verified here");
  }
  return VerifyBytes(signed_message.signature.data, signed_message.message.GetCid().ToBytes(),
                     signed_message.message.from);
}

}  // namespace cairn::filecoin
