// Random identifiers and secrets for the metadata layer: bytes from OpenSSL's CSPRNG
// (RAND_bytes), written in unpadded lower-case base32 or as a UUIDv4.
#pragma once

#include <cstddef>
#include <string>

#include "common/bytes.hpp"

namespace cairn::metadata::internal {

// `n` bytes from the CSPRNG. Aborts if the CSPRNG fails (it only fails when the OS has no
// entropy source, and continuing would hand out guessable secrets).
Bytes RandomBytes(size_t n);
// Lower-case RFC 4648 base32 without padding.
std::string Base32(ByteSpan data);
// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string NewUuidV4();

}  // namespace cairn::metadata::internal
