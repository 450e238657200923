// secp256k1 keys and signatures as Filecoin uses them (lotus lib/sigs/secp, go-crypto;
// ../shared/FILECOIN.md §3.1 "Signing the proposal", §3.3), backed by libsecp256k1.
//
// A signature is 65 bytes R(32) ‖ S(32) ‖ V(1), V the recovery id, over a 32-byte digest that the
// caller computed (Filecoin signs blake2b-256 of the signed bytes: of the CBOR for deal proposals
// and asks, of the CID bytes for messages — see SignBytes). Signing is RFC 6979 deterministic and
// always low-S; verification recovers the public key, rejects high-S signatures (Lotus verifies
// with RejectMalleable) and compares blake2b-160 of the recovered key with the f1 payload.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"

namespace cairn::filecoin {

using PrivateKey = std::array<uint8_t, 32>;
using PublicKey = std::array<uint8_t, 65>;  // uncompressed: 0x04 ‖ X ‖ Y
using Secp256k1Signature = std::array<uint8_t, 65>;
using Digest32 = std::array<uint8_t, 32>;

// InvalidArgument unless `bytes` is 32 bytes and a valid secret (0 < k < n).
Result<PrivateKey> PrivateKeyFromBytes(ByteSpan bytes);
// The uncompressed public key of a valid private key.
PublicKey DerivePublicKey(const PrivateKey& key);
// The f1 address of a valid private key.
Address Secp256k1Address(const PrivateKey& key);

// Low-S recoverable signature of `digest`.
Secp256k1Signature SignDigest(const PrivateKey& key, const Digest32& digest);
// Signature of blake2b-256(message), Filecoin's signing convention.
Secp256k1Signature SignBytes(const PrivateKey& key, ByteSpan message);

// The public key that produced `signature` over `digest`. InvalidArgument for a signature that is
// not 65 bytes, has V > 3, is high-S, or recovers no key.
Result<PublicKey> RecoverPublicKey(ByteSpan signature, const Digest32& digest);
// OK when `signature` over blake2b-256(message) recovers to the f1 address `signer`;
// Unauthenticated when it recovers to another key, InvalidArgument when it is malformed or
// `signer` is not an f1 address.
Result<void> VerifyBytes(ByteSpan signature, ByteSpan message, const Address& signer);

}  // namespace cairn::filecoin
