// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the block store's record
// headers, record data and index files (docs/formats/blockstore.md). Uses the SSE4.2 crc32
// instruction when the CPU has it, a table otherwise; both give the same values.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"

namespace cairn::blockstore::internal {

// Extends `crc` (0 for a fresh checksum) over `data`. Crc32c(0, "123456789") == 0xE3069283.
uint32_t Crc32c(uint32_t crc, ByteSpan data);

}  // namespace cairn::blockstore::internal
