#include "net/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

#include "common/protobuf.hpp"

namespace cairn::net {
namespace {

constexpr size_t kMaxKeyData = 8192;

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

PkeyPtr LoadPkix(ByteSpan der) {
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (key != nullptr && p != der.data() + der.size()) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return PkeyPtr(key);
}

PkeyPtr LoadSecp256k1(ByteSpan point) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return nullptr;
  OSSL_PARAM* params = nullptr;
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ==
          1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
      (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)) != nullptr &&
      EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return PkeyPtr(key);
}

bool VerifySha256(EVP_PKEY* key, ByteSpan message, ByteSpan signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(),
                             message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

Result<PublicKey> PublicKey::FromProto(ByteSpan proto) {
  protobuf::Reader reader(proto, "public key");
  std::optional<uint64_t> type;
  std::optional<ByteSpan> data;
  for (;;) {
    auto field = CAIRN_TRY(reader.Next());
    if (!field) break;
    if (field->number == 1) {
      type = CAIRN_TRY(field->AsVarint("public key type"));
    } else if (field->number == 2) {
      data = CAIRN_TRY(field->AsBytes("public key data"));
    }
  }
  if (!type || !data) {
    return Err(ErrorCode::kInvalidArgument, "public key: Type and Data are both required");
  }
  if (*type > 3) {
    return Err(ErrorCode::kInvalidArgument,
               "public key: unknown key type " + std::to_string(*type));
  }
  PublicKey key;
  key.type_ = static_cast<KeyType>(*type);
  switch (key.type_) {
    case KeyType::kEd25519:
      if (data->size() != 32) {
        return Err(ErrorCode::kInvalidArgument, "public key: Ed25519 key must be 32 bytes");
      }
      break;
    case KeyType::kSecp256k1:
      if (data->size() != 33 || ((*data)[0] != 0x02 && (*data)[0] != 0x03)) {
        return Err(ErrorCode::kInvalidArgument,
                   "public key: secp256k1 key must be a 33-byte compressed point");
      }
      break;
    case KeyType::kRsa:
    case KeyType::kEcdsa:
      if (data->empty() || data->size() > kMaxKeyData) {
        return Err(ErrorCode::kInvalidArgument, "public key: PKIX key must be 1..8192 bytes");
      }
      break;
  }
  key.data_.assign(data->begin(), data->end());
  return key;
}

Bytes PublicKey::ToProto() const {
  protobuf::Writer w;
  w.Varint(1, static_cast<uint8_t>(type_));
  w.BytesField(2, data_);
  return w.Take();
}

PeerId PublicKey::peer_id() const {
  auto id = PeerId::FromPublicKeyProto(ToProto());
  CAIRN_CHECK(id.has_value());  // ToProto writes the canonical form FromPublicKeyProto reads
  return *id;
}

bool PublicKey::Verify(ByteSpan message, ByteSpan signature) const {
  switch (type_) {
    case KeyType::kEd25519:
      return Ed25519Identity::Verify(data_, message, signature);
    case KeyType::kSecp256k1: {
      auto key = LoadSecp256k1(data_);
      return key && VerifySha256(key.get(), message, signature);
    }
    case KeyType::kRsa:
    case KeyType::kEcdsa: {
      auto key = LoadPkix(data_);
      if (!key) return false;
      int id = EVP_PKEY_get_base_id(key.get());
      if ((type_ == KeyType::kRsa) != (id == EVP_PKEY_RSA)) return false;
      return VerifySha256(key.get(), message, signature);
    }
  }
  return false;
}

}  // namespace cairn::net
