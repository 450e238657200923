// Multibase (https://github.com/multiformats/multibase): self-describing base encodings.
// Supported: base16 ('f'), base16upper ('F'), base32 ('b'), base32upper ('B'), base36 ('k'),
// base58btc ('z'), base64 ('m'), base64url ('u'). Encoding adds the prefix character; decoding
// reads it. Decoding rejects characters outside the alphabet and non-canonical trailing bits.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace cairn::multiformats {

enum class Multibase {
  kBase16,
  kBase16Upper,
  kBase32,
  kBase32Upper,
  kBase36,
  kBase58Btc,
  kBase64,
  kBase64Url,
};

// "base32" -> kBase32 ... ; unknown names are InvalidArgument.
Result<Multibase> MultibaseFromName(std::string_view name);
std::string_view MultibaseName(Multibase base);
char MultibasePrefix(Multibase base);

// Prefix + encoding of `data`.
std::string MultibaseEncode(Multibase base, ByteSpan data);
// Reads the prefix and decodes the rest. Errors: empty input, unknown prefix, bad character.
Result<Bytes> MultibaseDecode(std::string_view text);
// Which base the prefix of `text` names (without decoding).
Result<Multibase> MultibaseOf(std::string_view text);

// The bare encodings, without a prefix (used by CIDv0, which is bare base58btc).
std::string EncodeBase(Multibase base, ByteSpan data);
Result<Bytes> DecodeBase(Multibase base, std::string_view text);

}  // namespace cairn::multiformats
