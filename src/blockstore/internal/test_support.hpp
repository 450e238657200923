// Test helpers shared by the block store's tests: temporary directories and random blocks.
#pragma once

#include <cstdint>
#include <random>

#include "common/bytes.hpp"
#include "common/testing/temp_dir.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
using TempDir = cairn::testing::TempDir;

// `size` pseudo-random bytes determined by `seed`.
inline Bytes RandomBytes(uint64_t seed, size_t size) {
  std::mt19937_64 rng(seed);
  Bytes out(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < size; ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return out;
}

struct Block {
  multiformats::Cid cid;
  Bytes data;
};

// A raw CIDv1 sha2-256 block of `size` bytes determined by `seed`.
inline Block MakeBlock(uint64_t seed, size_t size,
                       uint64_t hash_code = multiformats::codec::kSha2_256) {
  Block b;
  b.data = RandomBytes(seed, size);
  b.cid = *multiformats::Cid::Compute(1, multiformats::codec::kRaw, hash_code, b.data);
  return b;
}

}  // namespace cairn::blockstore::testing
