// Base64 as Lotus' JSON carries bytes: Go's encoding/base64 StdEncoding (RFC 4648 §4, alphabet
// A–Z a–z 0–9 + /, '=' padding), which is what encoding/json emits for []byte (message Params,
// signature Data, miner multiaddrs, receipt Return, KeyInfo.PrivateKey).
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin {

// Padded standard base64 of `data` ("" for no bytes).
std::string Base64Encode(ByteSpan data);
// Decodes padded standard base64. Strict: the length is a multiple of 4, '=' only as the last one
// or two characters, no whitespace, and the unused bits of the last group are zero (so every
// input has one spelling). InvalidArgument otherwise; the message never repeats the input.
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace cairn::filecoin
