#include "net/identity.hpp"

#include <sodium.h>

#include <cstring>

#include "multiformats/cid.hpp"
#include "multiformats/multibase.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::net {
namespace {

namespace mf = multiformats;

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  CAIRN_CHECK(ok);  // sodium_init only fails when the system has no randomness source
}

constexpr uint8_t kEd25519KeyType = 1;

// Parses `08 <type> 12 <len> <data>` (fields KeyType=1, Data=2, in this order, as every libp2p
// implementation writes them).
Result<std::pair<uint8_t, ByteSpan>> ParseKeyProto(ByteSpan proto, std::string_view what) {
  if (proto.size() < 4 || proto[0] != 0x08 || proto[2] != 0x12) {
    return Err(ErrorCode::kInvalidArgument, std::string(what) + ": not a libp2p key protobuf");
  }
  uint8_t type = proto[1];
  // The data length is a varint; Ed25519 keys need one byte, RSA keys two.
  size_t pos = 3;
  uint64_t len = 0;
  int shift = 0;
  for (;;) {
    if (pos >= proto.size() || shift > 21) {
      return Err(ErrorCode::kInvalidArgument, std::string(what) + ": truncated key length");
    }
    uint8_t b = proto[pos++];
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (len != proto.size() - pos) {
    return Err(ErrorCode::kInvalidArgument,
               std::string(what) + ": key data length does not match the message");
  }
  return std::make_pair(type, proto.subspan(pos));
}

}  // namespace

Result<PeerId> PeerId::FromPublicKeyProto(ByteSpan proto) {
  CAIRN_TRY(ParseKeyProto(proto, "peer id"));
  PeerId id;
  uint64_t code = proto.size() <= 42 ? mf::codec::kIdentity : mf::codec::kSha2_256;
  id.hash_ = CAIRN_TRY(mf::Multihash::Sum(code, proto));
  return id;
}

Result<PeerId> PeerId::Parse(std::string_view text) {
  if (text.empty()) return Err(ErrorCode::kInvalidArgument, "peer id: empty");
  Bytes bytes;
  if (text[0] == '1' || (text.size() >= 2 && text[0] == 'Q' && text[1] == 'm')) {
    auto b = mf::DecodeBase(mf::Multibase::kBase58Btc, text);
    if (!b) return Err(b.error().WithContext("peer id: "));
    bytes = std::move(*b);
  } else {
    auto cid = mf::Cid::Parse(text);
    if (!cid) return Err(cid.error().WithContext("peer id: "));
    if (cid->codec() != mf::codec::kLibp2pKey) {
      return Err(ErrorCode::kInvalidArgument, "peer id: CID codec is not libp2p-key");
    }
    bytes = cid->hash().Encode();
  }
  return FromBytes(bytes);
}

Result<PeerId> PeerId::FromBytes(ByteSpan bytes) {
  auto mh = mf::Multihash::Decode(bytes);
  if (!mh) return Err(mh.error().WithContext("peer id: "));
  if (mh->code() != mf::codec::kIdentity && mh->code() != mf::codec::kSha2_256) {
    return Err(ErrorCode::kInvalidArgument, "peer id: multihash must be identity or sha2-256");
  }
  if (mh->code() == mf::codec::kIdentity) CAIRN_TRY(ParseKeyProto(mh->digest(), "peer id"));
  PeerId id;
  id.hash_ = std::move(*mh);
  return id;
}

std::string PeerId::ToString() const {
  return mf::EncodeBase(mf::Multibase::kBase58Btc, hash_.Encode());
}

std::string PeerId::ToCidString() const {
  return mf::Cid::V1(mf::codec::kLibp2pKey, hash_).ToString(mf::Multibase::kBase36);
}

Ed25519Identity Ed25519Identity::Generate() {
  EnsureSodium();
  Ed25519Identity id;
  crypto_sign_keypair(id.public_key_.data(), id.secret_key_.data());
  return id;
}

Ed25519Identity Ed25519Identity::FromSeed(ByteSpan seed32) {
  EnsureSodium();
  CAIRN_CHECK(seed32.size() == crypto_sign_SEEDBYTES);  // callers pass a fixed-size seed
  Ed25519Identity id;
  crypto_sign_seed_keypair(id.public_key_.data(), id.secret_key_.data(), seed32.data());
  return id;
}

Result<Ed25519Identity> Ed25519Identity::FromPrivateKeyProto(ByteSpan proto) {
  auto [type, data] = CAIRN_TRY(ParseKeyProto(proto, "private key"));
  if (type != kEd25519KeyType) {
    return Err(ErrorCode::kInvalidArgument, "private key: only Ed25519 keys are supported");
  }
  if (data.size() != 64 && data.size() != 96) {
    return Err(ErrorCode::kInvalidArgument, "private key: Ed25519 data must be 64 bytes");
  }
  if (data.size() == 96 && std::memcmp(data.data() + 32, data.data() + 64, 32) != 0) {
    return Err(ErrorCode::kInvalidArgument,
               "private key: legacy 96-byte form has two different public keys");
  }
  Ed25519Identity id = FromSeed(data.subspan(0, 32));
  if (std::memcmp(id.public_key_.data(), data.data() + 32, 32) != 0) {
    return Err(ErrorCode::kInvalidArgument, "private key: public key does not match the seed");
  }
  return id;
}

Bytes Ed25519Identity::PrivateKeyProto() const {
  Bytes out = {0x08, kEd25519KeyType, 0x12, 0x40};
  out.insert(out.end(), secret_key_.begin(), secret_key_.end());
  return out;
}

Bytes Ed25519Identity::PublicKeyProto() const {
  Bytes out = {0x08, kEd25519KeyType, 0x12, 0x20};
  out.insert(out.end(), public_key_.begin(), public_key_.end());
  return out;
}

PeerId Ed25519Identity::peer_id() const {
  auto id = PeerId::FromPublicKeyProto(PublicKeyProto());
  CAIRN_CHECK(id.has_value());  // our own encoding is always a valid key protobuf
  return *id;
}

std::array<uint8_t, 64> Ed25519Identity::Sign(ByteSpan message) const {
  std::array<uint8_t, 64> sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_key_.data());
  return sig;
}

bool Ed25519Identity::Verify(ByteSpan public_key32, ByteSpan message, ByteSpan signature64) {
  EnsureSodium();
  if (public_key32.size() != 32 || signature64.size() != 64) return false;
  return crypto_sign_verify_detached(signature64.data(), message.data(), message.size(),
                                     public_key32.data()) == 0;
}

Result<Ed25519Identity> LoadOrCreateIdentity(const std::filesystem::path& path, Env& env) {
  if (CAIRN_TRY(env.Exists(path))) {
    // A key protobuf is 68 bytes (or 100, legacy); anything much larger is not one.
    auto data = ReadWholeFile(env, path, 4096);
    if (!data) return Err(data.error().WithContext("identity: "));
    auto id = Ed25519Identity::FromPrivateKeyProto(*data);
    if (!id) {
      return Err(ErrorCode::kCorruption,
                 "identity: " + path.string() + " is not a valid key: " + id.error().message());
    }
    return id;
  }
  Ed25519Identity id = Ed25519Identity::Generate();
  if (!path.parent_path().empty()) {
    if (auto made = env.CreateDirs(path.parent_path()); !made) {
      return Err(made.error().WithContext("identity: "));
    }
  }
  if (auto written = WriteFileAtomically(env, path, id.PrivateKeyProto()); !written) {
    return Err(written.error().WithContext("identity: "));
  }
  return id;
}

}  // namespace cairn::net
