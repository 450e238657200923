#include "filecoin/types/base64.hpp"

#include "multiformats/multibase.hpp"

namespace cairn::filecoin {

std::string Base64Encode(ByteSpan data) {
  std::string out = multiformats::EncodeBase(multiformats::Multibase::kBase64, data);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Err(ErrorCode::kInvalidArgument,
               "base64: length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string_view body = text.substr(0, text.size() - pad);
  if (body.find('=') != std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument, "base64: '=' before the end");
  }
  // The unpadded decoder rejects characters outside the alphabet and non-zero trailing bits.
  auto bytes = multiformats::DecodeBase(multiformats::Multibase::kBase64, body);
  if (!bytes) return Err(ErrorCode::kInvalidArgument, "base64: not valid standard base64");
  return bytes;
}

}  // namespace cairn::filecoin
