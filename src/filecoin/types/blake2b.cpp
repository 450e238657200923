#include "filecoin/types/blake2b.hpp"

#include <blake2.h>

#include "common/result.hpp"

namespace cairn::filecoin {
namespace {

template <size_t N>
std::array<uint8_t, N> Digest(ByteSpan data) {
  std::array<uint8_t, N> out{};
  // libb2 fails only for out_len outside 1..64 or a null input with a non-zero length; neither
  // can happen here (N is a compile-time constant in range, a span's data is valid for its size).
  int rc = blake2b(out.data(), data.data(), nullptr, N, data.size(), 0);
  CAIRN_CHECK(rc == 0);
  return out;
}

}  // namespace

std::array<uint8_t, 32> Blake2b256(ByteSpan data) { return Digest<32>(data); }
std::array<uint8_t, 20> Blake2b160(ByteSpan data) { return Digest<20>(data); }
std::array<uint8_t, 4> Blake2b32(ByteSpan data) { return Digest<4>(data); }
std::array<uint8_t, 64> Blake2b512(ByteSpan data) { return Digest<64>(data); }

}  // namespace cairn::filecoin
