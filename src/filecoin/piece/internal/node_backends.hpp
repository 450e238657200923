// The node hash backends, exposed for tests and benchmarks only: production code calls HashNode /
// HashNodePairs, which pick SHA-NI at run time.
#pragma once

#include <cstdint>

namespace cairn::filecoin::piece::internal {

// Portable SHA-256 compression path: 64 bytes at `in` → 32-byte truncated node at `out`.
void HashNodePortable(const uint8_t* in, uint8_t* out);

}  // namespace cairn::filecoin::piece::internal
