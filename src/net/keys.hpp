// libp2p public keys (../shared/specs/libp2p/peer-ids.md, "Keys"): the protobuf PublicKey message
// of every key type (RSA, Ed25519, Secp256k1, ECDSA), the peer ID derived from it and signature
// verification as each type defines it:
//   Ed25519    32-byte key, plain Ed25519 signature (libsodium);
//   Secp256k1  33-byte compressed point, DER ECDSA signature over SHA-256 of the message;
//   ECDSA      PKIX (DER SubjectPublicKeyInfo) key, DER ECDSA signature over SHA-256;
//   RSA        PKIX key, PKCS#1 v1.5 signature over SHA-256.
// The three non-Ed25519 types are verified with OpenSSL. Keys are only parsed and verified here;
// the node signs with its own Ed25519 key (net/identity.hpp).
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/identity.hpp"

namespace cairn::net {

enum class KeyType : uint8_t { kRsa = 0, kEd25519 = 1, kSecp256k1 = 2, kEcdsa = 3 };

class PublicKey {
 public:
  // Parses a protobuf PublicKey (Type = 1, Data = 2; both required, in any order). The data is
  // checked for its type's size (Ed25519 32, Secp256k1 33); RSA and ECDSA keys are limited to
  // 8 KiB. InvalidArgument names what is wrong.
  static Result<PublicKey> FromProto(ByteSpan proto);

  KeyType type() const { return type_; }
  ByteSpan data() const { return data_; }
  // The canonical encoding (08 <type> 12 <len> <data>), from which the peer ID is computed.
  Bytes ToProto() const;
  PeerId peer_id() const;
  // True when `signature` is this key's signature of `message`; false for a bad or malformed
  // signature (and for a key OpenSSL cannot load).
  bool Verify(ByteSpan message, ByteSpan signature) const;

 private:
  KeyType type_ = KeyType::kEd25519;
  Bytes data_;
};

}  // namespace cairn::net
