#include "metadata/internal/ids.hpp"

#include <openssl/rand.h>

#include "multiformats/multibase.hpp"

namespace cairn::metadata::internal {

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  // RAND_bytes fails only without an entropy source; see the header.
  CAIRN_CHECK(n == 0 || RAND_bytes(out.data(), static_cast<int>(n)) == 1);
  return out;
}

std::string Base32(ByteSpan data) {
  return multiformats::EncodeBase(multiformats::Multibase::kBase32, data);
}

std::string NewUuidV4() {
  Bytes b = RandomBytes(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace cairn::metadata::internal
