// Reading HAMT-sharded UnixFS directories (../shared/specs/ipfs/unixfs.md, "dag-pb HAMTDirectory"):
// the murmur3 hash that places names in buckets, the bucket sequence of a name, and the checks
// on a shard node's parameters and link names. The walks themselves (which fetch blocks) are in
// exporter.cpp; everything here is pure.
//
// Bucket order, as Kubo (boxo/ipld/unixfs/hamt) and js-ipfs-unixfs place entries: take the first
// 64 bits of MurmurHash3_x64_128(name, seed 0), i.e. `h1`, written big-endian, and consume
// log2(fanout) bits per level from the most significant end. For fanout 256 level i's bucket is
// byte 7-i of h1 counted from the low end ("470.txt": h1 = 0x006e88df5847e67c → buckets 00, 6E,
// 88, ... — the spec's example). When a name needs more than 64 bits (a HAMT deeper than 8
// levels at fanout 256), hashing continues with name || byte(n) for n = 1, 2, ... as
// js-hamt-sharding does; Kubo stops with an error there, so such HAMTs only come from JS writers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "unixfs/unixfs_pb.hpp"

namespace cairn::unixfs {

// The multihash code of murmur3-x64-64, the only HAMT hash function in use.
inline constexpr uint64_t kHamtHashMurmur3 = 0x22;
// Fanouts above this are rejected (CVE-2023-23625).
inline constexpr uint64_t kMaxHamtFanout = 1024;

struct Murmur3Hash128 {
  uint64_t h1 = 0;
  uint64_t h2 = 0;
};

// MurmurHash3_x64_128 (Austin Appleby's reference algorithm), reading the input as little-endian
// 64-bit words. The multihash (0x22) byte form is h1 then h2, each big-endian.
Murmur3Hash128 Murmur3X64_128(ByteSpan data, uint64_t seed = 0);

// The sequence of bucket indices a name takes through a HAMT with a given fanout.
class HamtHashBits {
 public:
  HamtHashBits(std::string_view name, unsigned bits_per_level);

  // The bucket index at the next level (0 .. 2^bits_per_level - 1).
  uint32_t Next();

 private:
  void Refill();
  uint32_t TakeBits(unsigned n);

  std::string_view name_;
  unsigned bits_per_level_;
  std::array<uint8_t, 8> buffer_{};
  unsigned bit_pos_ = 64;  // bits of buffer_ consumed; 64 = empty
  unsigned rehash_ = 0;    // how many buffers have been produced
};

// Validated parameters of a HAMT shard node.
struct HamtParams {
  uint32_t fanout = 0;
  unsigned bits_per_level = 0;  // log2(fanout)
  size_t prefix_len = 0;        // hex digits of (fanout - 1): 2 for fanout 256
};

// Checks a shard node's UnixFS Data: type HAMTShard, hashType murmur3 (0x22), fanout a power of
// two between 8 and kMaxHamtFanout. Corruption with the reason otherwise.
Result<HamtParams> CheckHamtShard(const UnixfsData& data);

// Parses the bucket index that prefixes a shard link name ("0A" or "0Afoo.txt" → 10). Accepts
// either hex case. Corruption when the name is shorter than the prefix, the prefix is not hex or
// the index is not below the fanout.
Result<uint32_t> ParseHamtPrefix(std::string_view link_name, const HamtParams& params);

}  // namespace cairn::unixfs
