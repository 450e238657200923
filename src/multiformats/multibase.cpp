#include "multiformats/multibase.hpp"

#include <array>
#include <string>

namespace cairn::multiformats {
namespace {

constexpr std::string_view kBase16Lower = "0123456789abcdef";
constexpr std::string_view kBase16Upper = "0123456789ABCDEF";
constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase36Lower = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase64Std =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlpha =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct BaseInfo {
  Multibase base;
  char prefix;
  std::string_view name;
  std::string_view alphabet;
  int bits;  // bits per character for RFC 4648 bases; 0 for the base-N (36, 58) bases
};

constexpr std::array<BaseInfo, 8> kBases = {{
    {Multibase::kBase16, 'f', "base16", kBase16Lower, 4},
    {Multibase::kBase16Upper, 'F', "base16upper", kBase16Upper, 4},
    {Multibase::kBase32, 'b', "base32", kBase32Lower, 5},
    {Multibase::kBase32Upper, 'B', "base32upper", kBase32Upper, 5},
    {Multibase::kBase36, 'k', "base36", kBase36Lower, 0},
    {Multibase::kBase58Btc, 'z', "base58btc", kBase58, 0},
    {Multibase::kBase64, 'm', "base64", kBase64Std, 6},
    {Multibase::kBase64Url, 'u', "base64url", kBase64UrlAlpha, 6},
}};

const BaseInfo& Info(Multibase base) {
  for (const auto& b : kBases) {
    if (b.base == base) return b;
  }
  CAIRN_CHECK(false);  // every enumerator is in kBases
}

std::string EncodeRfc4648(ByteSpan data, std::string_view alphabet, int bits) {
  std::string out;
  out.reserve((data.size() * 8 + bits - 1) / bits);
  const uint32_t mask = (1u << bits) - 1;
  uint32_t buffer = 0;
  int have = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    have += 8;
    while (have >= bits) {
      have -= bits;
      out.push_back(alphabet[(buffer >> have) & mask]);
    }
  }
  if (have > 0) out.push_back(alphabet[(buffer << (bits - have)) & mask]);
  return out;
}

Result<Bytes> DecodeRfc4648(std::string_view text, const BaseInfo& info) {
  std::array<int16_t, 256> lookup;
  lookup.fill(-1);
  for (size_t i = 0; i < info.alphabet.size(); ++i) {
    lookup[static_cast<uint8_t>(info.alphabet[i])] = static_cast<int16_t>(i);
  }
  // Trailing '=' padding is tolerated (some writers emit it) but must be at the end.
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  Bytes out;
  out.reserve(text.size() * info.bits / 8);
  uint32_t buffer = 0;
  int have = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = lookup[static_cast<uint8_t>(text[i])];
    if (v < 0) {
      return Err(ErrorCode::kInvalidArgument, std::string("multibase: invalid ") +
                                                  std::string(info.name) + " character at " +
                                                  std::to_string(i));
    }
    buffer = (buffer << info.bits) | static_cast<uint32_t>(v);
    have += info.bits;
    if (have >= 8) {
      have -= 8;
      out.push_back(static_cast<uint8_t>(buffer >> have));
    }
  }
  if (have >= info.bits || (buffer & ((1u << have) - 1)) != 0) {
    return Err(ErrorCode::kInvalidArgument,
               std::string("multibase: ") + std::string(info.name) + " input has trailing bits");
  }
  return out;
}

std::string EncodeBaseN(ByteSpan data, std::string_view alphabet) {
  const uint32_t radix = static_cast<uint32_t>(alphabet.size());
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // Digits in radix, little-endian; each input byte multiplies by 256 and adds.
  std::vector<uint8_t> digits;
  digits.reserve(data.size() * 138 / 100 + 1);
  for (size_t i = zeros; i < data.size(); ++i) {
    uint32_t carry = data[i];
    for (auto& d : digits) {
      carry += static_cast<uint32_t>(d) << 8;
      d = static_cast<uint8_t>(carry % radix);
      carry /= radix;
    }
    while (carry > 0) {
      digits.push_back(static_cast<uint8_t>(carry % radix));
      carry /= radix;
    }
  }
  std::string out(zeros, alphabet[0]);
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(alphabet[*it]);
  return out;
}

Result<Bytes> DecodeBaseN(std::string_view text, const BaseInfo& info) {
  const uint32_t radix = static_cast<uint32_t>(info.alphabet.size());
  std::array<int16_t, 256> lookup;
  lookup.fill(-1);
  for (size_t i = 0; i < info.alphabet.size(); ++i) {
    lookup[static_cast<uint8_t>(info.alphabet[i])] = static_cast<int16_t>(i);
  }
  size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == info.alphabet[0]) ++zeros;
  std::vector<uint8_t> bytes;  // little-endian base-256
  bytes.reserve(text.size());
  for (size_t i = zeros; i < text.size(); ++i) {
    int v = lookup[static_cast<uint8_t>(text[i])];
    if (v < 0) {
      return Err(ErrorCode::kInvalidArgument, std::string("multibase: invalid ") +
                                                  std::string(info.name) + " character at " +
                                                  std::to_string(i));
    }
    uint32_t carry = static_cast<uint32_t>(v);
    for (auto& b : bytes) {
      carry += static_cast<uint32_t>(b) * radix;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(zeros, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

}  // namespace

Result<Multibase> MultibaseFromName(std::string_view name) {
  for (const auto& b : kBases) {
    if (b.name == name) return b.base;
  }
  if (name == "base58" || name == "b58") return Multibase::kBase58Btc;
  return Err(ErrorCode::kInvalidArgument, "multibase: unknown base '" + std::string(name) + "'");
}

std::string_view MultibaseName(Multibase base) { return Info(base).name; }
char MultibasePrefix(Multibase base) { return Info(base).prefix; }

std::string EncodeBase(Multibase base, ByteSpan data) {
  const BaseInfo& info = Info(base);
  if (info.bits == 0) return EncodeBaseN(data, info.alphabet);
  return EncodeRfc4648(data, info.alphabet, info.bits);
}

Result<Bytes> DecodeBase(Multibase base, std::string_view text) {
  const BaseInfo& info = Info(base);
  if (info.bits == 0) return DecodeBaseN(text, info);
  return DecodeRfc4648(text, info);
}

std::string MultibaseEncode(Multibase base, ByteSpan data) {
  std::string out(1, MultibasePrefix(base));
  out += EncodeBase(base, data);
  return out;
}

Result<Multibase> MultibaseOf(std::string_view text) {
  if (text.empty()) return Err(ErrorCode::kInvalidArgument, "multibase: empty input");
  for (const auto& b : kBases) {
    if (b.prefix == text[0]) return b.base;
  }
  std::string shown = (text[0] >= 0x21 && text[0] < 0x7f)
                          ? std::string(1, text[0])
                          : "\\x" + HexEncode(AsBytes(text.substr(0, 1)));
  return Err(ErrorCode::kInvalidArgument, "multibase: unknown prefix '" + shown + "'");
}

Result<Bytes> MultibaseDecode(std::string_view text) {
  Multibase base = CAIRN_TRY(MultibaseOf(text));
  return DecodeBase(base, text.substr(1));
}

}  // namespace cairn::multiformats
