#include "filecoin/types/secp256k1_key.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>

#include "filecoin/types/blake2b.hpp"

namespace cairn::filecoin {
namespace {

// One context for the process: after creation libsecp256k1 only reads it, so sharing it across
// threads is safe (secp256k1.h: "const" context functions are thread-safe).
const secp256k1_context* Context() {
  static secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

tl::unexpected<Error> Invalid(std::string message) {
  return Err(ErrorCode::kInvalidArgument, "secp256k1: " + message);
}

}  // namespace

Result<PrivateKey> PrivateKeyFromBytes(ByteSpan bytes) {
  if (bytes.size() != 32) {
    return Invalid("private key must be 32 bytes, got " + std::to_string(bytes.size()));
  }
  PrivateKey key;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  if (secp256k1_ec_seckey_verify(Context(), key.data()) != 1) {
    return Invalid("private key is zero or not below the curve order");
  }
  return key;
}

PublicKey DerivePublicKey(const PrivateKey& key) {
  secp256k1_pubkey pub;
  // PrivateKey values come from PrivateKeyFromBytes, which verified them.
  CAIRN_CHECK(secp256k1_ec_pubkey_create(Context(), &pub, key.data()) == 1);
  PublicKey out;
  size_t len = out.size();
  CAIRN_CHECK(secp256k1_ec_pubkey_serialize(Context(), out.data(), &len, &pub,
                                            SECP256K1_EC_UNCOMPRESSED) == 1 &&
              len == out.size());
  return out;
}

Address Secp256k1Address(const PrivateKey& key) {
  // A derived uncompressed key is always 65 bytes starting with 0x04.
  return *Address::FromSecp256k1PublicKey(DerivePublicKey(key));
}

Secp256k1Signature SignDigest(const PrivateKey& key, const Digest32& digest) {
  secp256k1_ecdsa_recoverable_signature sig;
  // The default nonce function (RFC 6979) fails only for an invalid key, excluded above.
  CAIRN_CHECK(secp256k1_ecdsa_sign_recoverable(Context(), &sig, digest.data(), key.data(), nullptr,
                                               nullptr) == 1);
  Secp256k1Signature out;
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Context(), out.data(), &recid, &sig);
  out[64] = static_cast<uint8_t>(recid);
  return out;
}

Secp256k1Signature SignBytes(const PrivateKey& key, ByteSpan message) {
  return SignDigest(key, Blake2b256(message));
}

Result<PublicKey> RecoverPublicKey(ByteSpan signature, const Digest32& digest) {
  if (signature.size() != 65) {
    return Invalid("signature must be 65 bytes, got " + std::to_string(signature.size()));
  }
  int recid = signature[64];
  if (recid > 3) {
    return Invalid("signature recovery id " + std::to_string(recid) + " is not 0..3");
  }
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(Context(), &sig, signature.data(),
                                                          recid) != 1) {
    return Invalid("signature R or S is not below the curve order");
  }
  secp256k1_ecdsa_signature plain;
  secp256k1_ecdsa_recoverable_signature_convert(Context(), &plain, &sig);
  if (secp256k1_ecdsa_signature_normalize(Context(), nullptr, &plain) == 1) {
    return Invalid("signature is high-S (malleable)");
  }
  secp256k1_pubkey pub;
  if (secp256k1_ecdsa_recover(Context(), &pub, &sig, digest.data()) != 1) {
    return Invalid("no public key recovers from the signature");
  }
  PublicKey out;
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Context(), out.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return out;
}

Result<void> VerifyBytes(ByteSpan signature, ByteSpan message, const Address& signer) {
  if (signer.empty() || signer.protocol() != AddressProtocol::kSecp256k1) {
    return Invalid("signer " + signer.ToString() + " is not an f1 address");
  }
  auto key = CAIRN_TRY(RecoverPublicKey(signature, Blake2b256(message)));
  auto hash = Blake2b160(key);
  if (!std::equal(hash.begin(), hash.end(), signer.payload().begin(), signer.payload().end())) {
    return Err(ErrorCode::kUnauthenticated, "secp256k1: signature is not by " + signer.ToString());
  }
  return Ok();
}

}  // namespace cairn::filecoin
