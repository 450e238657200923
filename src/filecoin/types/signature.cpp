#include "filecoin/types/signature.hpp"

#include <algorithm>

namespace cairn::filecoin {

Bytes Signature::ToBytes() const {
  Bytes out(1 + data.size());
  out[0] = static_cast<uint8_t>(type);
  std::copy(data.begin(), data.end(), out.begin() + 1);
  return out;
}

Result<Signature> Signature::FromBytes(ByteSpan bytes) {
  if (bytes.empty()) {
    return Err(ErrorCode::kInvalidArgument, "signature: empty");
  }
  size_t want = 0;
  switch (bytes[0]) {
    case 1:
    case 3:
      want = 65;
      break;
    case 2:
      want = 96;
      break;
    default:
      return Err(ErrorCode::kInvalidArgument,
                 "signature: unknown type " + std::to_string(bytes[0]));
  }
  if (bytes.size() - 1 != want) {
    return Err(ErrorCode::kInvalidArgument, "signature: type " + std::to_string(bytes[0]) +
                                                " needs " + std::to_string(want) + " bytes, got " +
                                                std::to_string(bytes.size() - 1));
  }
  return Signature{static_cast<SignatureType>(bytes[0]), Bytes(bytes.begin() + 1, bytes.end())};
}

}  // namespace cairn::filecoin
