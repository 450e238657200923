// Noise for libp2p (../shared/specs/libp2p/noise.md; the Noise Protocol Framework, revision 34):
// the handshake Noise_XX_25519_ChaChaPoly_SHA256 with the libp2p handshake payload, and the
// transport ciphers that follow it.
//
//   XX:  -> e
//        <- e, ee, s, es      + payload (responder's identity key and signature)
//        -> s, se             + payload (initiator's identity key and signature)
//
// The payload is the protobuf NoiseHandshakePayload {identity_key = 1, identity_sig = 2,
// extensions = 4}; identity_sig is the identity key's signature of "noise-libp2p-static-key:" ‖
// the sender's Noise static public key. A bad signature, an unknown key type, or a peer ID other
// than the one the dialer expected fails the handshake. The static Noise key is generated per
// handshake and never stored (the spec allows it; it is never reused across connections).
//
// Pure: messages in, messages out. Framing on the wire (2-byte big-endian length, at most 65535)
// is the caller's, with AppendFrameHeader / kMaxFrame below. X25519, SHA-256 and HMAC-SHA-256 are
// libsodium's; ChaCha20-Poly1305 (IETF, nonce = 4 zero bytes ‖ 64-bit little-endian counter) is
// OpenSSL's (see CipherState).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "net/identity.hpp"
#include "net/keys.hpp"

namespace cairn::net::noise {

inline constexpr std::string_view kProtocolId = "/noise";
inline constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
inline constexpr std::string_view kSignaturePrefix = "noise-libp2p-static-key:";
inline constexpr size_t kMaxFrame = 65535;  // a noise message, tag included
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kMaxPlaintext = kMaxFrame - kTagSize;

// One direction's cipher: a key and a nonce counter. Not copyable by accident (a copy would
// reuse nonces); move it. ChaCha20-Poly1305 (IETF) comes from OpenSSL's EVP, which uses the
// CPU's AVX2/AVX-512 paths (2.3x libsodium's on this machine; docs/benchmarks.md "libp2p").
class CipherState {
 public:
  CipherState();
  explicit CipherState(const std::array<uint8_t, 32>& key);
  CipherState(CipherState&&) noexcept;
  CipherState& operator=(CipherState&&) noexcept;
  CipherState(const CipherState&) = delete;
  CipherState& operator=(const CipherState&) = delete;
  ~CipherState();

  bool has_key() const { return has_key_; }
  // Encrypts `plaintext` (at most kMaxPlaintext bytes) with associated data `ad` and appends
  // ciphertext ‖ tag to `out`. ResourceExhausted once 2^64-1 messages were sent.
  Result<void> EncryptAppend(ByteSpan ad, ByteSpan plaintext, Bytes& out);
  // Decrypts `ciphertext` (tag included) and appends the plaintext to `out`; InvalidArgument when
  // the tag does not verify (nothing is appended then) or the message is shorter than a tag.
  Result<void> DecryptAppend(ByteSpan ad, ByteSpan ciphertext, Bytes& out);
  // The transport's copy-free forms. EncryptTo writes ciphertext ‖ tag at `out`, which has room
  // for plaintext.size() + kTagSize bytes (`out` may be plaintext.data(): in place).
  // DecryptInPlace decrypts `message` (ciphertext ‖ tag) where it lies and returns the plaintext's
  // length (its bytes start at message.data()); errors as DecryptAppend. A failed message leaves
  // the nonce unchanged and its bytes unspecified: they must not be used.
  Result<void> EncryptTo(ByteSpan ad, ByteSpan plaintext, uint8_t* out);
  Result<size_t> DecryptInPlace(ByteSpan ad, std::span<uint8_t> message);

 private:
  struct Context;  // the EVP cipher context, made on first use
  std::unique_ptr<Context> ctx_;
  std::array<uint8_t, 32> key_{};
  bool has_key_ = false;
  uint64_t nonce_ = 0;
};

// Writes the 2-byte big-endian length of a noise message.
inline void AppendFrameHeader(Bytes& out, size_t length) {
  out.push_back(static_cast<uint8_t>(length >> 8));
  out.push_back(static_cast<uint8_t>(length));
}

// The libp2p handshake payload.
struct HandshakePayload {
  Bytes identity_key;  // protobuf PublicKey
  Bytes identity_sig;
  Bytes extensions;  // NoiseExtensions, opaque here (kept for the caller; never interpreted)

  Bytes Encode() const;
  // Strict protobuf (common/protobuf.hpp); unknown fields are skipped.
  static Result<HandshakePayload> Decode(ByteSpan bytes);
};

enum class Role { kInitiator, kResponder };

class Handshake {
 public:
  // `identity` must outlive the handshake. `expected_remote`, when set (the dialer knows whom it
  // dials), must equal the peer ID of the key the remote presents.
  Handshake(Role role, const Ed25519Identity& identity,
            std::optional<PeerId> expected_remote = std::nullopt);

  // Whose turn it is: true when the next step is WriteMessage.
  bool writing() const;
  bool complete() const { return step_ == 3; }

  // The next handshake message (without its frame header). Only when writing().
  Result<Bytes> WriteMessage();
  // Processes a received handshake message (without its frame header). Only when !writing().
  // InvalidArgument for a short or undecryptable message, a malformed payload, a bad signature
  // or an unexpected peer ID; the handshake is then dead and the connection must be closed.
  Result<void> ReadMessage(ByteSpan message);

  // After complete(): the remote's identity, and the two transport ciphers (Split()).
  const PublicKey& remote_key() const { return *remote_key_; }
  PeerId remote_peer() const { return remote_key_->peer_id(); }
  struct Ciphers {
    CipherState send;
    CipherState recv;
  };
  Ciphers Split();

 private:
  void MixHash(ByteSpan data);
  Result<void> MixKey(const std::array<uint8_t, 32>& dh_private, ByteSpan remote_public);
  Result<void> EncryptAndHash(ByteSpan plaintext, Bytes& out);
  Result<void> DecryptAndHash(ByteSpan ciphertext, Bytes& out);
  Bytes OurPayload() const;
  Result<void> CheckRemotePayload(ByteSpan payload);

  Role role_;
  const Ed25519Identity& identity_;
  std::optional<PeerId> expected_remote_;
  int step_ = 0;  // messages exchanged so far (0..3)
  bool failed_ = false;

  std::array<uint8_t, 32> ck_{};
  std::array<uint8_t, 32> h_{};
  CipherState cipher_;

  std::array<uint8_t, 32> s_priv_{}, s_pub_{};
  std::array<uint8_t, 32> e_priv_{}, e_pub_{};
  std::array<uint8_t, 32> re_{}, rs_{};
  std::optional<PublicKey> remote_key_;
};

}  // namespace cairn::net::noise
