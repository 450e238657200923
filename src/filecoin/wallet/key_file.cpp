#include "filecoin/wallet/key_file.hpp"

#include <sys/random.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ostream>

#include "filecoin/types/base64.hpp"

namespace cairn::filecoin::wallet {

namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

// Overwrites `data` in a way the compiler may not drop as a dead store.
void Wipe(void* data, size_t size) {
  auto* p = static_cast<volatile uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) p[i] = 0;
}

}  // namespace

Result<SecretKey> SecretKey::FromBytes(ByteSpan bytes) {
  auto key = PrivateKeyFromBytes(bytes);
  if (!key) {
    return Err(ErrorCode::kInvalidArgument, "wallet: not a valid secp256k1 private key (" +
                                                std::to_string(bytes.size()) +
                                                " bytes; want 32 bytes, 0 < k < n)");
  }
  SecretKey out(*key);
  Wipe(key->data(), key->size());
  return out;
}

Result<SecretKey> SecretKey::Generate() {
  // A uniformly random 32-byte string is a valid key unless it is 0 or >= n (probability about
  // 2^-128); draw again in that case.
  for (int attempt = 0; attempt < 8; ++attempt) {
    PrivateKey raw{};
    size_t got = 0;
    while (got < raw.size()) {
      ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Err(ErrorCode::kIoError,
                   std::string("wallet: getrandom failed: ") + std::strerror(errno));
      }
      got += static_cast<size_t>(n);
    }
    auto key = PrivateKeyFromBytes(raw);
    Wipe(raw.data(), raw.size());
    if (key) {
      SecretKey out(*key);
      Wipe(key->data(), key->size());
      return out;
    }
  }
  return Err(ErrorCode::kInternal, "wallet: the random source gave no valid key in 8 draws");
}

SecretKey::~SecretKey() { Wipe(key_.data(), key_.size()); }

std::ostream& operator<<(std::ostream& out, const SecretKey&) { return out << kRedacted; }
void PrintTo(const SecretKey&, std::ostream* out) { *out << kRedacted; }

std::string FormatKeyFile(const SecretKey& key) {
  // Built by hand: both values are fixed-alphabet strings that need no escaping.
  return "{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + Base64Encode(key.secret()) + "\"}\n";
}

Result<SecretKey> ParseKeyFile(std::string_view text) {
  if (text.size() > kMaxKeyFileBytes) {
    return Err(ErrorCode::kInvalidArgument, "wallet: key file is " + std::to_string(text.size()) +
                                                " bytes, more than " +
                                                std::to_string(kMaxKeyFileBytes));
  }
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 4;
  boost::json::value doc = boost::json::parse(text, ec, {}, opts);
  if (ec) return Err(ErrorCode::kInvalidArgument, "wallet: key file is not valid JSON");
  const auto* obj = doc.if_object();
  if (!obj) return Err(ErrorCode::kInvalidArgument, "wallet: key file must be a JSON object");
  for (const auto& member : *obj) {
    if (member.key() != "Type" && member.key() != "PrivateKey") {
      // Member names are ours to show only when they are short plain words; never the values.
      return Err(ErrorCode::kInvalidArgument,
                 "wallet: key file has a member other than Type and PrivateKey");
    }
  }
  const auto* type = obj->if_contains("Type");
  if (!type || !type->is_string()) {
    return Err(ErrorCode::kInvalidArgument, "wallet: key file: Type must be a string");
  }
  const auto& type_name = type->get_string();
  if (type_name == "bls" || type_name == "delegated") {
    return Err(ErrorCode::kNotSupported, "wallet: key file: " + std::string(type_name) +
                                             " keys are not supported (secp256k1 only)");
  }
  if (type_name != "secp256k1") {
    return Err(ErrorCode::kInvalidArgument,
               "wallet: key file: Type must be \"secp256k1\" (or Lotus' \"bls\", \"delegated\")");
  }
  const auto* encoded = obj->if_contains("PrivateKey");
  if (!encoded || !encoded->is_string()) {
    return Err(ErrorCode::kInvalidArgument, "wallet: key file: PrivateKey must be a string");
  }
  auto raw = Base64Decode(encoded->get_string());
  if (!raw) {
    return Err(ErrorCode::kInvalidArgument, "wallet: key file: PrivateKey is not padded base64");
  }
  auto key = SecretKey::FromBytes(*raw);
  Wipe(raw->data(), raw->size());
  if (!key) {
    return Err(ErrorCode::kInvalidArgument,
               "wallet: key file: PrivateKey is not a valid secp256k1 key (want 32 bytes, "
               "0 < k < n)");
  }
  return key;
}

}  // namespace cairn::filecoin::wallet
