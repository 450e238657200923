// Filecoin chain messages (../shared/FILECOIN.md §3.3; go-state-types/lotus chain/types).
//
// Message CBOR is a 10-tuple [Version, To, From, Nonce, Value, GasLimit, GasFeeCap, GasPremium,
// Method, Params]; addresses and BigInts are byte strings. The message CID is CIDv1 dag-cbor
// blake2b-256 of that CBOR. A secp256k1 sender signs blake2b-256 of the CID *bytes*.
// SignedMessage = [Message, Signature]; its CID (blake2b-256) is what MpoolPush returns for secp
// messages (for BLS messages it is the unsigned message's CID, as in Lotus).
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "filecoin/types/secp256k1_key.hpp"
#include "filecoin/types/signature.hpp"
#include "ipld/dag_cbor.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin {

// CIDv1 dag-cbor with a blake2b-256 multihash of `cbor` (messages, deal proposals).
multiformats::Cid Blake2bCborCid(ByteSpan cbor);
// CIDv1 dag-cbor with a sha2-256 multihash of `cbor` (Boost's SignedProposalCid).
multiformats::Cid Sha256CborCid(ByteSpan cbor);

inline constexpr uint64_t kMethodSend = 0;
inline constexpr uint64_t kMarketAddBalance = 2;
inline constexpr uint64_t kMarketWithdrawBalance = 3;

struct Message {
  uint64_t version = 0;
  Address to;
  Address from;
  uint64_t nonce = 0;
  BigInt value;
  int64_t gas_limit = 0;
  BigInt gas_fee_cap;
  BigInt gas_premium;
  uint64_t method = 0;
  Bytes params;

  ipld::CborValue ToCbor() const;
  Bytes Encode() const;
  multiformats::Cid GetCid() const;
  // Strict: exactly 10 fields of the right types, canonical addresses and BigInts. `field`
  // names the value in errors.
  static Result<Message> FromCbor(const ipld::CborValue& v, std::string_view field = "Message");
  static Result<Message> Decode(ByteSpan bytes);

  friend bool operator==(const Message&, const Message&) = default;
};

struct SignedMessage {
  Message message;
  Signature signature;

  ipld::CborValue ToCbor() const;
  Bytes Encode() const;
  multiformats::Cid GetCid() const;
  static Result<SignedMessage> Decode(ByteSpan bytes);

  friend bool operator==(const SignedMessage&, const SignedMessage&) = default;
};

// Signs with `key` (the caller makes sure message.from is its f1 address).
SignedMessage SignMessage(const Message& message, const PrivateKey& key);
// OK when a secp256k1 signature over the message CID bytes recovers to message.from (an f1
// address); Unauthenticated or InvalidArgument otherwise (BLS and delegated are NotSupported).
Result<void> VerifySignedMessage(const SignedMessage& signed_message);

}  // namespace cairn::filecoin
