// BLAKE2b with the digest-length parameter set (RFC 7693 §2.5), as Filecoin uses it:
// blake2b-256 (message and proposal CIDs, signing digests), blake2b-160 (f1/f2 address payloads)
// and blake2b-32 (address checksums). These are not truncations of BLAKE2b-512: the output length
// is part of the parameter block, so every length gives unrelated bytes. Backed by libb2.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"

namespace cairn::filecoin {

std::array<uint8_t, 32> Blake2b256(ByteSpan data);
std::array<uint8_t, 20> Blake2b160(ByteSpan data);
std::array<uint8_t, 4> Blake2b32(ByteSpan data);
std::array<uint8_t, 64> Blake2b512(ByteSpan data);

}  // namespace cairn::filecoin
