#include "multiformats/multihash.hpp"

#include <blake2.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>

#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::multiformats {
namespace {

// The digest length a code requires, or 0 when any length up to kMaxDigestSize is allowed.
size_t RequiredLength(uint64_t code) {
  switch (code) {
    case codec::kSha2_256:
      return 32;
    case codec::kSha2_512:
      return 64;
    case codec::kBlake2b256:
      return 32;
    case codec::kSha2_256Trunc254Padded:
      return 32;
    default:
      return 0;
  }
}

std::string CodeLabel(uint64_t code) {
  if (auto name = CodecName(code)) return std::string(*name);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(code));
  return buf;
}

}  // namespace

namespace {
// OpenSSL 3 looks the algorithm up in its provider tables on every implicit use (SHA256(),
// EVP_sha256() in EVP_DigestInit_ex): about a microsecond, more than hashing a token or a small
// block takes. The implementation is fetched once and every thread keeps one context.
const EVP_MD* FetchedSha256() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    CAIRN_CHECK(m != nullptr);  // the default provider always has SHA-256
    return m;
  }();
  return md;
}
}  // namespace

std::array<uint8_t, 32> Sha256(ByteSpan data) {
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx local;
  CAIRN_CHECK(local.ctx != nullptr);  // allocation failure only
  std::array<uint8_t, 32> out;
  unsigned int len = 0;
  CAIRN_CHECK(EVP_DigestInit_ex2(local.ctx, FetchedSha256(), nullptr) == 1);
  CAIRN_CHECK(EVP_DigestUpdate(local.ctx, data.data(), data.size()) == 1);
  CAIRN_CHECK(EVP_DigestFinal_ex(local.ctx, out.data(), &len) == 1);
  return out;
}

struct Sha256Hasher::State {
  EVP_MD_CTX* ctx;
};

Sha256Hasher::Sha256Hasher() : state_(new State{EVP_MD_CTX_new()}) {
  CAIRN_CHECK(state_->ctx != nullptr);  // allocation failure only
  CAIRN_CHECK(EVP_DigestInit_ex2(state_->ctx, FetchedSha256(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(state_->ctx);
  delete state_;
}

void Sha256Hasher::Update(ByteSpan data) {
  CAIRN_CHECK(EVP_DigestUpdate(state_->ctx, data.data(), data.size()) == 1);
}

std::array<uint8_t, 32> Sha256Hasher::Finish() {
  std::array<uint8_t, 32> out;
  unsigned int len = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(state_->ctx, out.data(), &len) == 1);
  CAIRN_CHECK(EVP_DigestInit_ex2(state_->ctx, FetchedSha256(), nullptr) == 1);  // reusable
  return out;
}

bool Multihash::CanCompute(uint64_t code) {
  return code == codec::kSha2_256 || code == codec::kSha2_512 || code == codec::kBlake2b256 ||
         code == codec::kIdentity;
}

Result<Multihash> Multihash::Make(uint64_t code, ByteSpan digest) {
  size_t required = RequiredLength(code);
  if (required != 0 && digest.size() != required) {
    return Err(ErrorCode::kInvalidArgument, "multihash: " + CodeLabel(code) + " digest must be " +
                                                std::to_string(required) + " bytes, got " +
                                                std::to_string(digest.size()));
  }
  size_t max = code == codec::kIdentity ? kMaxIdentityDigest : kMaxDigestSize;
  if (digest.size() > max) {
    return Err(ErrorCode::kInvalidArgument,
               "multihash: " + CodeLabel(code) + " digest of " + std::to_string(digest.size()) +
                   " bytes exceeds the limit of " + std::to_string(max));
  }
  Multihash mh;
  mh.code_ = code;
  mh.digest_.assign(digest.begin(), digest.end());
  return mh;
}

Result<Multihash> Multihash::Sum(uint64_t code, ByteSpan data) {
  switch (code) {
    case codec::kSha2_256: {
      auto d = Sha256(data);
      return Make(code, d);
    }
    case codec::kSha2_512: {
      uint8_t d[64];
      SHA512(data.data(), data.size(), d);
      return Make(code, ByteSpan(d, 64));
    }
    case codec::kBlake2b256: {
      uint8_t d[32];
      if (blake2b(d, data.data(), nullptr, 32, data.size(), 0) != 0) {
        return Err(ErrorCode::kInternal, "multihash: blake2b failed");
      }
      return Make(code, ByteSpan(d, 32));
    }
    case codec::kIdentity:
      return Make(code, data);
    default:
      return Err(ErrorCode::kNotSupported,
                 "multihash: cannot compute hash function " + CodeLabel(code));
  }
}

Result<Multihash::Prefixed> Multihash::DecodePrefix(ByteSpan bytes) {
  auto code = DecodeVarint(bytes);
  if (!code) return Err(code.error().WithContext("multihash: code: "));
  auto len = DecodeVarint(bytes.subspan(code->size));
  if (!len) return Err(len.error().WithContext("multihash: length: "));
  size_t header = code->size + len->size;
  if (len->value > bytes.size() - header) {
    return Err(ErrorCode::kInvalidArgument,
               "multihash: digest length " + std::to_string(len->value) + " exceeds the " +
                   std::to_string(bytes.size() - header) + " bytes available");
  }
  Multihash mh = CAIRN_TRY(Make(code->value, bytes.subspan(header, len->value)));
  return Prefixed{std::move(mh), header + static_cast<size_t>(len->value)};
}

Result<Multihash> Multihash::Decode(ByteSpan bytes) {
  Prefixed p = CAIRN_TRY(DecodePrefix(bytes));
  if (p.size != bytes.size()) {
    return Err(ErrorCode::kInvalidArgument,
               "multihash: " + std::to_string(bytes.size() - p.size) + " trailing bytes");
  }
  return std::move(p.hash);
}

size_t Multihash::EncodedSize() const {
  return VarintSize(code_) + VarintSize(digest_.size()) + digest_.size();
}

void Multihash::AppendTo(Bytes& out) const {
  AppendVarint(out, code_);
  AppendVarint(out, digest_.size());
  out.insert(out.end(), digest_.begin(), digest_.end());
}

Bytes Multihash::Encode() const {
  Bytes out;
  out.reserve(EncodedSize());
  AppendTo(out);
  return out;
}

Result<void> Multihash::Verify(ByteSpan data) const {
  Multihash actual = CAIRN_TRY(Sum(code_, data));
  if (actual.digest_ != digest_) {
    return Err(ErrorCode::kCorruption, "multihash: " + CodeLabel(code_) +
                                           " digest mismatch: expected " + HexEncode(digest_) +
                                           ", data hashes to " + HexEncode(actual.digest_));
  }
  return Ok();
}

}  // namespace cairn::multiformats
