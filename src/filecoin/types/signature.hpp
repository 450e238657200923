// Filecoin's crypto.Signature (go-state-types crypto/signature.go): a type byte and the raw
// signature. Its CBOR form is one byte string, type ‖ data (1 secp256k1: 65 bytes R‖S‖V; 2 BLS:
// 96 bytes; 3 delegated: 65 bytes).
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin {

enum class SignatureType : uint8_t { kSecp256k1 = 1, kBls = 2, kDelegated = 3 };

struct Signature {
  SignatureType type = SignatureType::kSecp256k1;
  Bytes data;

  // type ‖ data.
  Bytes ToBytes() const;
  // Strict: a known type and that type's length. InvalidArgument naming the problem otherwise.
  static Result<Signature> FromBytes(ByteSpan bytes);
  static Signature Secp256k1(ByteSpan sig65) {
    return Signature{SignatureType::kSecp256k1, Bytes(sig65.begin(), sig65.end())};
  }

  friend bool operator==(const Signature&, const Signature&) = default;
};

}  // namespace cairn::filecoin
