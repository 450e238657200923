#include "net/noise.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>

#include "common/protobuf.hpp"

namespace cairn::net::noise {
namespace {

using Key = std::array<uint8_t, 32>;

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  CAIRN_CHECK(ok);  // sodium_init only fails without a randomness source
}

Key Hmac(ByteSpan key, ByteSpan a, ByteSpan b = {}) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, a.data(), a.size());
  if (!b.empty()) crypto_auth_hmacsha256_update(&st, b.data(), b.size());
  Key out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

// Noise HKDF with two outputs.
std::pair<Key, Key> Hkdf2(const Key& chaining_key, ByteSpan ikm) {
  Key temp = Hmac(chaining_key, ikm);
  const uint8_t one = 1, two = 2;
  Key out1 = Hmac(temp, ByteSpan(&one, 1));
  Key out2 = Hmac(temp, out1, ByteSpan(&two, 1));
  sodium_memzero(temp.data(), temp.size());
  return {out1, out2};
}

void Nonce(uint64_t n, uint8_t out[12]) {
  std::memset(out, 0, 4);
  PutU64Le(out + 4, n);
}

void GenerateKeyPair(Key& priv, Key& pub) {
  randombytes_buf(priv.data(), priv.size());
  crypto_scalarmult_base(pub.data(), priv.data());
}

}  // namespace

struct CipherState::Context {
  Context() : ctx(EVP_CIPHER_CTX_new()) {
    CAIRN_CHECK(ctx != nullptr);
    CAIRN_CHECK(EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, nullptr, nullptr, 1) == 1);
  }
  ~Context() { EVP_CIPHER_CTX_free(ctx); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  EVP_CIPHER_CTX* ctx;
};

CipherState::CipherState() = default;
CipherState::CipherState(const std::array<uint8_t, 32>& key) : key_(key), has_key_(true) {}
CipherState::CipherState(CipherState&&) noexcept = default;
CipherState& CipherState::operator=(CipherState&&) noexcept = default;
CipherState::~CipherState() { sodium_memzero(key_.data(), key_.size()); }

Result<void> CipherState::EncryptTo(ByteSpan ad, ByteSpan plaintext, uint8_t* out) {
  CAIRN_CHECK(has_key_ && plaintext.size() <= kMaxPlaintext);  // callers split frames
  if (nonce_ == UINT64_MAX) {
    return Err(ErrorCode::kResourceExhausted, "noise: nonce space exhausted");
  }
  uint8_t nonce[12];
  Nonce(nonce_++, nonce);
  if (!ctx_) ctx_ = std::make_unique<Context>();
  EVP_CIPHER_CTX* c = ctx_->ctx;
  int len = 0;
  // Lengths are at most kMaxFrame (and handshake hashes): they fit an int.
  bool ok =
      EVP_CipherInit_ex(c, nullptr, nullptr, key_.data(), nonce, 1) == 1 &&
      (ad.empty() ||
       EVP_CipherUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1) &&
      EVP_CipherUpdate(c, out, &len, plaintext.data(), static_cast<int>(plaintext.size())) == 1 &&
      EVP_CipherFinal_ex(c, out + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          out + plaintext.size()) == 1;
  if (!ok) return Err(ErrorCode::kInternal, "noise: OpenSSL ChaCha20-Poly1305 encryption failed");
  return Ok();
}

Result<void> CipherState::EncryptAppend(ByteSpan ad, ByteSpan plaintext, Bytes& out) {
  size_t at = out.size();
  out.resize(at + plaintext.size() + kTagSize);
  auto r = EncryptTo(ad, plaintext, out.data() + at);
  if (!r) out.resize(at);
  return r;
}

Result<size_t> CipherState::DecryptInPlace(ByteSpan ad, std::span<uint8_t> message) {
  CAIRN_CHECK(has_key_);  // the handshake decrypts only once a key is mixed in
  if (message.size() < kTagSize) {
    return Err(ErrorCode::kInvalidArgument, "noise: message shorter than its tag");
  }
  if (nonce_ == UINT64_MAX) {
    return Err(ErrorCode::kResourceExhausted, "noise: nonce space exhausted");
  }
  uint8_t nonce[12];
  Nonce(nonce_, nonce);
  if (!ctx_) ctx_ = std::make_unique<Context>();
  EVP_CIPHER_CTX* c = ctx_->ctx;
  const size_t n = message.size() - kTagSize;
  int len = 0;
  // The tag is checked by Final, after Update has written the plaintext over the ciphertext.
  bool ok = EVP_CipherInit_ex(c, nullptr, nullptr, key_.data(), nonce, 0) == 1 &&
            (ad.empty() ||
             EVP_CipherUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1) &&
            EVP_CipherUpdate(c, message.data(), &len, message.data(), static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                                message.data() + n) == 1 &&
            EVP_CipherFinal_ex(c, message.data() + len, &len) == 1;
  if (!ok) return Err(ErrorCode::kInvalidArgument, "noise: message failed authentication");
  ++nonce_;
  return n;
}

Result<void> CipherState::DecryptAppend(ByteSpan ad, ByteSpan ciphertext, Bytes& out) {
  size_t at = out.size();
  out.insert(out.end(), ciphertext.begin(), ciphertext.end());
  auto n = DecryptInPlace(ad, std::span<uint8_t>(out.data() + at, ciphertext.size()));
  if (!n) {
    out.resize(at);
    return Err(n.error());
  }
  out.resize(at + *n);
  return Ok();
}

Bytes HandshakePayload::Encode() const {
  protobuf::Writer w;
  w.BytesField(1, identity_key);
  w.BytesField(2, identity_sig);
  if (!extensions.empty()) w.BytesField(4, extensions);
  return w.Take();
}

Result<HandshakePayload> HandshakePayload::Decode(ByteSpan bytes) {
  protobuf::Reader reader(bytes, "noise handshake payload");
  HandshakePayload p;
  for (;;) {
    auto field = CAIRN_TRY(reader.Next());
    if (!field) break;
    if (field->number == 1) {
      auto b = CAIRN_TRY(field->AsBytes("noise identity_key"));
      p.identity_key.assign(b.begin(), b.end());
    } else if (field->number == 2) {
      auto b = CAIRN_TRY(field->AsBytes("noise identity_sig"));
      p.identity_sig.assign(b.begin(), b.end());
    } else if (field->number == 4) {
      auto b = CAIRN_TRY(field->AsBytes("noise extensions"));
      p.extensions.assign(b.begin(), b.end());
    }
  }
  return p;
}

Handshake::Handshake(Role role, const Ed25519Identity& identity,
                     std::optional<PeerId> expected_remote)
    : role_(role), identity_(identity), expected_remote_(std::move(expected_remote)) {
  EnsureSodium();
  // The protocol name is exactly HASHLEN (32) bytes, so h = name; ck = h; empty prologue mixed.
  static_assert(kProtocolName.size() == 32);
  std::memcpy(h_.data(), kProtocolName.data(), 32);
  ck_ = h_;
  MixHash({});
  GenerateKeyPair(s_priv_, s_pub_);
  GenerateKeyPair(e_priv_, e_pub_);
}

bool Handshake::writing() const {
  return role_ == Role::kInitiator ? (step_ == 0 || step_ == 2) : step_ == 1;
}

void Handshake::MixHash(ByteSpan data) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, h_.data(), h_.size());
  crypto_hash_sha256_update(&st, data.data(), data.size());
  crypto_hash_sha256_final(&st, h_.data());
}

Result<void> Handshake::MixKey(const Key& dh_private, ByteSpan remote_public) {
  Key shared;
  if (crypto_scalarmult(shared.data(), dh_private.data(), remote_public.data()) != 0) {
    return Err(ErrorCode::kInvalidArgument, "noise: peer sent a low-order X25519 key");
  }
  auto [ck, k] = Hkdf2(ck_, shared);
  sodium_memzero(shared.data(), shared.size());
  ck_ = ck;
  cipher_ = CipherState(k);
  return Ok();
}

Result<void> Handshake::EncryptAndHash(ByteSpan plaintext, Bytes& out) {
  if (!cipher_.has_key()) {
    out.insert(out.end(), plaintext.begin(), plaintext.end());
    MixHash(plaintext);
    return Ok();
  }
  size_t at = out.size();
  CAIRN_TRY(cipher_.EncryptAppend(h_, plaintext, out));
  MixHash(ByteSpan(out).subspan(at));
  return Ok();
}

Result<void> Handshake::DecryptAndHash(ByteSpan ciphertext, Bytes& out) {
  if (!cipher_.has_key()) {
    out.insert(out.end(), ciphertext.begin(), ciphertext.end());
    MixHash(ciphertext);
    return Ok();
  }
  CAIRN_TRY(cipher_.DecryptAppend(h_, ciphertext, out));
  MixHash(ciphertext);
  return Ok();
}

Bytes Handshake::OurPayload() const {
  Bytes signed_data = ToBytes(kSignaturePrefix);
  signed_data.insert(signed_data.end(), s_pub_.begin(), s_pub_.end());
  auto sig = identity_.Sign(signed_data);
  HandshakePayload p;
  p.identity_key = identity_.PublicKeyProto();
  p.identity_sig.assign(sig.begin(), sig.end());
  return p.Encode();
}

Result<void> Handshake::CheckRemotePayload(ByteSpan bytes) {
  auto payload = CAIRN_TRY(HandshakePayload::Decode(bytes));
  auto key = PublicKey::FromProto(payload.identity_key);
  if (!key) return Err(key.error().WithContext("noise: "));
  Bytes signed_data = ToBytes(kSignaturePrefix);
  signed_data.insert(signed_data.end(), rs_.begin(), rs_.end());
  if (!key->Verify(signed_data, payload.identity_sig)) {
    return Err(ErrorCode::kInvalidArgument,
               "noise: the identity signature of the static key does not verify");
  }
  if (expected_remote_ && key->peer_id() != *expected_remote_) {
    return Err(ErrorCode::kInvalidArgument, "noise: peer is " + key->peer_id().ToString() +
                                                ", expected " + expected_remote_->ToString());
  }
  remote_key_ = std::move(*key);
  return Ok();
}

Result<Bytes> Handshake::WriteMessage() {
  CAIRN_CHECK(!failed_ && writing() && !complete());  // the caller follows writing()
  Bytes out;
  auto fail = [&](Error e) -> Result<Bytes> {
    failed_ = true;
    return Err(std::move(e));
  };
  if (step_ == 0) {  // -> e
    out.insert(out.end(), e_pub_.begin(), e_pub_.end());
    MixHash(e_pub_);
    if (auto r = EncryptAndHash({}, out); !r) return fail(r.error());
  } else if (step_ == 1) {  // <- e, ee, s, es + payload
    out.insert(out.end(), e_pub_.begin(), e_pub_.end());
    MixHash(e_pub_);
    if (auto r = MixKey(e_priv_, re_); !r) return fail(r.error());
    if (auto r = EncryptAndHash(s_pub_, out); !r) return fail(r.error());
    if (auto r = MixKey(s_priv_, re_); !r) return fail(r.error());
    if (auto r = EncryptAndHash(OurPayload(), out); !r) return fail(r.error());
  } else {  // -> s, se + payload
    if (auto r = EncryptAndHash(s_pub_, out); !r) return fail(r.error());
    if (auto r = MixKey(s_priv_, re_); !r) return fail(r.error());
    if (auto r = EncryptAndHash(OurPayload(), out); !r) return fail(r.error());
  }
  if (out.size() > kMaxFrame) return fail(Error(ErrorCode::kInternal, "noise: message too big"));
  ++step_;
  return out;
}

Result<void> Handshake::ReadMessage(ByteSpan msg) {
  CAIRN_CHECK(!failed_ && !writing() && !complete());  // the caller follows writing()
  auto result = [&]() -> Result<void> {
    Bytes plain;
    if (step_ == 0) {  // -> e (payload ignored: libp2p sends none in message 1)
      if (msg.size() < 32) return Err(ErrorCode::kInvalidArgument, "noise: message 1 too short");
      std::memcpy(re_.data(), msg.data(), 32);
      MixHash(re_);
      return DecryptAndHash(msg.subspan(32), plain);
    }
    if (step_ == 1) {  // <- e, ee, s, es + payload
      if (msg.size() < 32 + 48 + kTagSize) {
        return Err(ErrorCode::kInvalidArgument, "noise: message 2 too short");
      }
      std::memcpy(re_.data(), msg.data(), 32);
      MixHash(re_);
      CAIRN_TRY(MixKey(e_priv_, re_));
      CAIRN_TRY(DecryptAndHash(msg.subspan(32, 48), plain));
      std::memcpy(rs_.data(), plain.data(), 32);
      CAIRN_TRY(MixKey(e_priv_, rs_));
      plain.clear();
      CAIRN_TRY(DecryptAndHash(msg.subspan(80), plain));
      return CheckRemotePayload(plain);
    }
    // -> s, se + payload
    if (msg.size() < 48 + kTagSize) {
      return Err(ErrorCode::kInvalidArgument, "noise: message 3 too short");
    }
    CAIRN_TRY(DecryptAndHash(msg.subspan(0, 48), plain));
    std::memcpy(rs_.data(), plain.data(), 32);
    CAIRN_TRY(MixKey(e_priv_, rs_));
    plain.clear();
    CAIRN_TRY(DecryptAndHash(msg.subspan(48), plain));
    return CheckRemotePayload(plain);
  }();
  if (!result) {
    failed_ = true;
    return result;
  }
  ++step_;
  return Ok();
}

Handshake::Ciphers Handshake::Split() {
  CAIRN_CHECK(complete());  // keys exist only after message 3
  auto [k1, k2] = Hkdf2(ck_, {});
  Ciphers c;
  if (role_ == Role::kInitiator) {
    c.send = CipherState(k1);
    c.recv = CipherState(k2);
  } else {
    c.send = CipherState(k2);
    c.recv = CipherState(k1);
  }
  sodium_memzero(e_priv_.data(), e_priv_.size());
  sodium_memzero(s_priv_.data(), s_priv_.size());
  return c;
}

}  // namespace cairn::net::noise
