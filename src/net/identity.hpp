// The node's libp2p identity (../shared/specs/libp2p/peer-ids.md): an Ed25519 key pair, its
// protobuf key encodings and its peer ID, plus loading/creating the persistent key file.
//
// Peer ID = multihash of the protobuf-encoded public key (identity multihash for Ed25519, whose
// encoding is 36 bytes ≤ 42), written as bare base58btc ("12D3KooW…") or as a CIDv1 with the
// libp2p-key codec.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/env.hpp"
#include "common/result.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::net {

class PeerId {
 public:
  // From a protobuf PublicKey message (KeyType + Data). Keys up to 42 bytes use the identity
  // multihash, larger ones sha2-256, as the spec requires.
  static Result<PeerId> FromPublicKeyProto(ByteSpan public_key_proto);
  // Parses "12D3KooW…"/"Qm…" (bare base58btc multihash) or a CIDv1 with the libp2p-key codec.
  static Result<PeerId> Parse(std::string_view text);
  // From the binary form (the multihash bytes, as the DHT and identify carry it); the same checks
  // as Parse.
  static Result<PeerId> FromBytes(ByteSpan multihash);

  const multiformats::Multihash& hash() const { return hash_; }
  std::string ToString() const;     // base58btc multihash
  std::string ToCidString() const;  // CIDv1 libp2p-key, base36 ("k51…")

  friend bool operator==(const PeerId&, const PeerId&) = default;

 private:
  multiformats::Multihash hash_;
};

class Ed25519Identity {
 public:
  // A new random key pair (libsodium's CSPRNG).
  static Ed25519Identity Generate();
  // From a 32-byte seed (deterministic; for tests).
  static Ed25519Identity FromSeed(ByteSpan seed32);
  // From a protobuf PrivateKey message with KeyType Ed25519 and 64-byte (or legacy 96-byte)
  // data. InvalidArgument when malformed or when the embedded public key does not match.
  static Result<Ed25519Identity> FromPrivateKeyProto(ByteSpan proto);

  Bytes PrivateKeyProto() const;  // 0x08 0x01 0x12 0x40 seed‖public
  Bytes PublicKeyProto() const;   // 0x08 0x01 0x12 0x20 public
  ByteSpan public_key() const { return public_key_; }
  PeerId peer_id() const;

  std::array<uint8_t, 64> Sign(ByteSpan message) const;
  static bool Verify(ByteSpan public_key32, ByteSpan message, ByteSpan signature64);

 private:
  std::array<uint8_t, 64> secret_key_{};  // libsodium layout: seed ‖ public
  std::array<uint8_t, 32> public_key_{};
};

// Loads the identity stored at `path` (a protobuf PrivateKey), or creates one there when the file
// does not exist (written to a temporary file, fsynced, renamed; mode 0600). Corruption when the
// file exists but cannot be parsed — it is never overwritten.
Result<Ed25519Identity> LoadOrCreateIdentity(const std::filesystem::path& path,
                                             Env& env = Env::Default());

}  // namespace cairn::net
