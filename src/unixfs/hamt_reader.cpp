#include "unixfs/hamt_reader.hpp"

#include <string>

namespace cairn::unixfs {
namespace {

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t FinalMix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t kC1 = 0x87c37b91114253d5ULL;
constexpr uint64_t kC2 = 0x4cf5ad432745937fULL;

}  // namespace

Murmur3Hash128 Murmur3X64_128(ByteSpan data, uint64_t seed) {
  const size_t len = data.size();
  const size_t blocks = len / 16;
  uint64_t h1 = seed;
  uint64_t h2 = seed;
  const uint8_t* p = data.data();
  for (size_t i = 0; i < blocks; ++i, p += 16) {
    uint64_t k1 = GetU64Le(p);
    uint64_t k2 = GetU64Le(p + 8);
    k1 *= kC1;
    k1 = Rotl(k1, 31);
    k1 *= kC2;
    h1 ^= k1;
    h1 = Rotl(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= kC2;
    k2 = Rotl(k2, 33);
    k2 *= kC1;
    h2 ^= k2;
    h2 = Rotl(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const size_t tail = len & 15;
  uint64_t k1 = 0;
  uint64_t k2 = 0;
  for (size_t i = tail; i > 8; --i) {
    k2 ^= static_cast<uint64_t>(p[i - 1]) << (8 * (i - 9));
  }
  if (tail > 8) {
    k2 *= kC2;
    k2 = Rotl(k2, 33);
    k2 *= kC1;
    h2 ^= k2;
  }
  for (size_t i = tail < 8 ? tail : 8; i > 0; --i) {
    k1 ^= static_cast<uint64_t>(p[i - 1]) << (8 * (i - 1));
  }
  if (tail > 0) {
    k1 *= kC1;
    k1 = Rotl(k1, 31);
    k1 *= kC2;
    h1 ^= k1;
  }
  h1 ^= len;
  h2 ^= len;
  h1 += h2;
  h2 += h1;
  h1 = FinalMix(h1);
  h2 = FinalMix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

HamtHashBits::HamtHashBits(std::string_view name, unsigned bits_per_level)
    : name_(name), bits_per_level_(bits_per_level) {}

void HamtHashBits::Refill() {
  uint64_t h1;
  if (rehash_ == 0) {
    h1 = Murmur3X64_128(AsBytes(name_)).h1;
  } else {
    // js-hamt-sharding's continuation: hash(name || byte(n)).
    Bytes extended(name_.begin(), name_.end());
    extended.push_back(static_cast<uint8_t>(rehash_));
    h1 = Murmur3X64_128(extended).h1;
  }
  ++rehash_;
  for (int i = 0; i < 8; ++i) {
    buffer_[i] = static_cast<uint8_t>(h1 >> (56 - 8 * i));  // big-endian, as Go's Sum() writes it
  }
  bit_pos_ = 0;
}

uint32_t HamtHashBits::TakeBits(unsigned n) {
  uint32_t out = 0;
  while (n > 0) {
    if (bit_pos_ == 64) {
      Refill();
    }
    unsigned byte = bit_pos_ / 8;
    unsigned used = bit_pos_ % 8;
    unsigned avail = 8 - used;
    unsigned take = n < avail ? n : avail;
    uint32_t bits = (buffer_[byte] >> (avail - take)) & ((1u << take) - 1);
    out = (out << take) | bits;
    bit_pos_ += take;
    n -= take;
  }
  return out;
}

uint32_t HamtHashBits::Next() { return TakeBits(bits_per_level_); }

Result<HamtParams> CheckHamtShard(const UnixfsData& data) {
  if (data.type != DataType::kHamtShard) {
    return Err(ErrorCode::kCorruption, "unixfs: HAMT child is not a HAMT shard (type " +
                                           std::to_string(static_cast<int>(data.type)) + ")");
  }
  if (!data.hash_type || *data.hash_type != kHamtHashMurmur3) {
    return Err(ErrorCode::kCorruption,
               "unixfs: HAMT shard hashType " +
                   (data.hash_type ? std::to_string(*data.hash_type) : std::string("absent")) +
                   " is not murmur3-x64-64 (34)");
  }
  if (!data.fanout) {
    return Err(ErrorCode::kCorruption, "unixfs: HAMT shard has no fanout");
  }
  uint64_t fanout = *data.fanout;
  if (fanout < 8 || fanout > kMaxHamtFanout || (fanout & (fanout - 1)) != 0) {
    return Err(ErrorCode::kCorruption, "unixfs: HAMT fanout " + std::to_string(fanout) +
                                           " is not a power of two in [8, 1024]");
  }
  HamtParams params;
  params.fanout = static_cast<uint32_t>(fanout);
  while ((1ull << params.bits_per_level) < fanout) {
    ++params.bits_per_level;
  }
  for (uint64_t v = fanout - 1; v > 0; v >>= 4) {
    ++params.prefix_len;
  }
  return params;
}

Result<uint32_t> ParseHamtPrefix(std::string_view link_name, const HamtParams& params) {
  if (link_name.size() < params.prefix_len) {
    return Err(ErrorCode::kCorruption, "unixfs: HAMT link name '" + std::string(link_name) +
                                           "' is shorter than its " +
                                           std::to_string(params.prefix_len) + "-digit prefix");
  }
  uint32_t index = 0;
  for (size_t i = 0; i < params.prefix_len; ++i) {
    char c = link_name[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return Err(ErrorCode::kCorruption, "unixfs: HAMT link name '" + std::string(link_name) +
                                             "' does not start with a hex bucket index");
    }
    index = index * 16 + digit;
  }
  if (index >= params.fanout) {
    return Err(ErrorCode::kCorruption, "unixfs: HAMT link name '" + std::string(link_name) +
                                           "' names bucket " + std::to_string(index) +
                                           " beyond fanout " + std::to_string(params.fanout));
  }
  return index;
}

}  // namespace cairn::unixfs
