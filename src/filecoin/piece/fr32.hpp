// fr32 padding (Filecoin spec, "Piece" / "Fr32 padding"): every 127 payload bytes (1016 bits)
// become 128 bytes: four 254-bit runs of the little-endian bit stream, each followed by two zero
// bits, so each 32-byte leaf is below the BLS12-381 scalar field modulus.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin::piece {

inline constexpr size_t kFr32UnpaddedChunk = 127;
inline constexpr size_t kFr32PaddedChunk = 128;

// Pads one 127-byte chunk `in` into 128 bytes at `out` (no overlap).
void Fr32PadChunk(const uint8_t* in, uint8_t* out);
// Reverses Fr32PadChunk: 128 bytes at `in` to 127 at `out`. The two spare bits of each 32-byte
// quarter are ignored (Fr32Unpad checks them).
void Fr32UnpadChunk(const uint8_t* in, uint8_t* out);

// Pads `chunks` consecutive 127-byte chunks (in: 127 * chunks bytes, out: 128 * chunks bytes).
void Fr32Pad(const uint8_t* in, uint8_t* out, size_t chunks);

// Pads `data` (any length; the tail is zero-filled to a multiple of 127 first).
Bytes Fr32Pad(ByteSpan data);
// Unpads `padded` (a multiple of 128 bytes). InvalidArgument when the length is not a multiple
// of 128 or a quarter's two top bits are set (not fr32 output).
Result<Bytes> Fr32Unpad(ByteSpan padded);

}  // namespace cairn::filecoin::piece
