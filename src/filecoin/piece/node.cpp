// Node hashing: SHA-256 of exactly 64 bytes, truncated to 254 bits.
//
// A 64-byte message is two SHA-256 blocks: the data block, then the constant padding block
// (0x80, zeros, bit length 512). The padding block's message schedule plus round constants is
// computed once (kPadWk), so its compression is 64 rounds with no schedule work. With SHA-NI two
// independent nodes are hashed interleaved: sha256rnds2 has a latency of several cycles but a
// throughput of one or two per cycle, so one dependency chain alone leaves the unit idle.
#include "filecoin/piece/node.hpp"

#include <cstring>

#include "filecoin/piece/internal/node_backends.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define CAIRN_PIECE_X86 1
#endif

namespace cairn::filecoin::piece {
namespace {

constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
constexpr uint32_t Sigma0(uint32_t x) { return Rotr(x, 7) ^ Rotr(x, 18) ^ (x >> 3); }
constexpr uint32_t Sigma1(uint32_t x) { return Rotr(x, 17) ^ Rotr(x, 19) ^ (x >> 10); }

struct PadSchedule {
  alignas(16) uint32_t wk[64];
};

// W + K of the padding block of a 64-byte message: W0 = 0x80000000, W15 = 512 (the bit length).
constexpr PadSchedule MakePadSchedule() {
  uint32_t w[64] = {};
  w[0] = 0x80000000u;
  w[15] = 512;
  for (int t = 16; t < 64; ++t) w[t] = Sigma1(w[t - 2]) + w[t - 7] + Sigma0(w[t - 15]) + w[t - 16];
  PadSchedule s{};
  for (int t = 0; t < 64; ++t) s.wk[t] = w[t] + kK[t];
  return s;
}
constexpr PadSchedule kPad = MakePadSchedule();

// ---- portable path -------------------------------------------------------------------------

void Rounds(uint32_t st[8], const uint32_t wk[64]) {
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
  for (int t = 0; t < 64; ++t) {
    uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + s1 + ch + wk[t];
    uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
  st[4] += e;
  st[5] += f;
  st[6] += g;
  st[7] += h;
}

void HashPortable(const uint8_t* in, uint8_t* out) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) {
    w[t] = (uint32_t{in[4 * t]} << 24) | (uint32_t{in[4 * t + 1]} << 16) |
           (uint32_t{in[4 * t + 2]} << 8) | uint32_t{in[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) w[t] = Sigma1(w[t - 2]) + w[t - 7] + Sigma0(w[t - 15]) + w[t - 16];
  for (int t = 0; t < 64; ++t) w[t] += kK[t];
  uint32_t st[8];
  std::memcpy(st, kInit, sizeof st);
  Rounds(st, w);
  Rounds(st, kPad.wk);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<uint8_t>(st[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(st[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(st[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(st[i]);
  }
  out[31] &= 0x3f;
}

// ---- SHA-NI path ---------------------------------------------------------------------------

#ifdef CAIRN_PIECE_X86

bool DetectShaNi() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = (c & (1u << 9)) != 0;
  const bool sse41 = (c & (1u << 19)) != 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool sha = (b & (1u << 29)) != 0;
  return ssse3 && sse41 && sha;
}

#define CAIRN_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// State in the SHA-NI lane order: abef = (F, E, B, A) in lanes 0..3, cdgh = (H, G, D, C).
struct ShaNiState {
  __m128i abef;
  __m128i cdgh;
};

CAIRN_SHA_TARGET inline ShaNiState InitState() {
  __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kInit));       // A B C D
  __m128i s1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kInit + 4));  // E F G H
  t = _mm_shuffle_epi32(t, 0xB1);                                             // B A D C
  s1 = _mm_shuffle_epi32(s1, 0x1B);                                           // H G F E
  ShaNiState s;
  s.abef = _mm_alignr_epi8(t, s1, 8);
  s.cdgh = _mm_blend_epi16(s1, t, 0xF0);
  return s;
}

// Four rounds on two independent states with message+constant vectors wk0 / wk1.
#define CAIRN_QUAD2(s0, s1, wk0, wk1)                                                      \
  do {                                                                                     \
    __m128i m0_ = (wk0);                                                                   \
    __m128i m1_ = (wk1);                                                                   \
    (s0).cdgh = _mm_sha256rnds2_epu32((s0).cdgh, (s0).abef, m0_);                          \
    (s1).cdgh = _mm_sha256rnds2_epu32((s1).cdgh, (s1).abef, m1_);                          \
    (s0).abef = _mm_sha256rnds2_epu32((s0).abef, (s0).cdgh, _mm_shuffle_epi32(m0_, 0x0E)); \
    (s1).abef = _mm_sha256rnds2_epu32((s1).abef, (s1).cdgh, _mm_shuffle_epi32(m1_, 0x0E)); \
  } while (0)

#define CAIRN_QUAD1(s0, wk0)                                                               \
  do {                                                                                     \
    __m128i m0_ = (wk0);                                                                   \
    (s0).cdgh = _mm_sha256rnds2_epu32((s0).cdgh, (s0).abef, m0_);                          \
    (s0).abef = _mm_sha256rnds2_epu32((s0).abef, (s0).cdgh, _mm_shuffle_epi32(m0_, 0x0E)); \
  } while (0)

CAIRN_SHA_TARGET inline __m128i KVec(int i) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kK + 4 * i));
}
CAIRN_SHA_TARGET inline __m128i PadVec(int i) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(kPad.wk + 4 * i));
}
CAIRN_SHA_TARGET inline __m128i ByteSwapMask() {
  return _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
}

// Message schedule of one data block: 16 vectors of 4 words.
CAIRN_SHA_TARGET inline void Schedule(const uint8_t* in, __m128i m[16]) {
  const __m128i mask = ByteSwapMask();
  for (int i = 0; i < 4; ++i) {
    m[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i)), mask);
  }
  for (int i = 4; i < 16; ++i) {
    __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(m[i - 4], m[i - 3]),
                              _mm_alignr_epi8(m[i - 1], m[i - 2], 4));
    m[i] = _mm_sha256msg2_epu32(t, m[i - 1]);
  }
}

CAIRN_SHA_TARGET inline void Store(const ShaNiState& s, uint8_t* out) {
  __m128i t = _mm_shuffle_epi32(s.abef, 0x1B);  // F E B A -> A B E F reversed
  __m128i u = _mm_shuffle_epi32(s.cdgh, 0xB1);  // D C H G
  __m128i dcba = _mm_blend_epi16(t, u, 0xF0);   // A B C D in lanes 0..3
  __m128i hgfe = _mm_alignr_epi8(u, t, 8);      // E F G H in lanes 0..3
  const __m128i mask = ByteSwapMask();
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(dcba, mask));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_shuffle_epi8(hgfe, mask));
  out[31] &= 0x3f;
}

CAIRN_SHA_TARGET void HashShaNi2(const uint8_t* in0, const uint8_t* in1, uint8_t* out0,
                                 uint8_t* out1) {
  __m128i m0[16];
  __m128i m1[16];
  Schedule(in0, m0);
  Schedule(in1, m1);
  const ShaNiState init = InitState();
  ShaNiState a = init;
  ShaNiState b = init;
  for (int i = 0; i < 16; ++i) {
    const __m128i k = KVec(i);
    CAIRN_QUAD2(a, b, _mm_add_epi32(m0[i], k), _mm_add_epi32(m1[i], k));
  }
  a.abef = _mm_add_epi32(a.abef, init.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, init.cdgh);
  b.abef = _mm_add_epi32(b.abef, init.abef);
  b.cdgh = _mm_add_epi32(b.cdgh, init.cdgh);
  const ShaNiState ca = a;
  const ShaNiState cb = b;
  for (int i = 0; i < 16; ++i) {
    const __m128i p = PadVec(i);
    CAIRN_QUAD2(a, b, p, p);
  }
  a.abef = _mm_add_epi32(a.abef, ca.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, ca.cdgh);
  b.abef = _mm_add_epi32(b.abef, cb.abef);
  b.cdgh = _mm_add_epi32(b.cdgh, cb.cdgh);
  // Both inputs are fully consumed (scheduled into registers) before anything is written, so
  // out0/out1 may alias in0/in1.
  Store(a, out0);
  Store(b, out1);
}

CAIRN_SHA_TARGET void HashShaNi1(const uint8_t* in, uint8_t* out) {
  __m128i m[16];
  Schedule(in, m);
  const ShaNiState init = InitState();
  ShaNiState a = init;
  for (int i = 0; i < 16; ++i) CAIRN_QUAD1(a, _mm_add_epi32(m[i], KVec(i)));
  a.abef = _mm_add_epi32(a.abef, init.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, init.cdgh);
  const ShaNiState c = a;
  for (int i = 0; i < 16; ++i) CAIRN_QUAD1(a, PadVec(i));
  a.abef = _mm_add_epi32(a.abef, c.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, c.cdgh);
  Store(a, out);
}

#undef CAIRN_QUAD1
#undef CAIRN_QUAD2

#endif

// Detected on first use (not at static initialisation, so other static initialisers may hash).
bool HasShaNi() {
#ifdef CAIRN_PIECE_X86
  static const bool has = DetectShaNi();
  return has;
#else
  return false;
#endif
}

// Hashes the 64 bytes at `in` into 32 at `out`; `out` may alias `in`.
void HashOne(const uint8_t* in, uint8_t* out) {
#ifdef CAIRN_PIECE_X86
  if (HasShaNi()) {
    HashShaNi1(in, out);
    return;
  }
#endif
  uint8_t copy[64];
  std::memcpy(copy, in, sizeof copy);
  HashPortable(copy, out);
}

}  // namespace

Node HashNode(const Node& left, const Node& right) {
  uint8_t block[64];
  std::memcpy(block, left.data(), 32);
  std::memcpy(block + 32, right.data(), 32);
  Node out;
  HashOne(block, out.data());
  return out;
}

void HashNodePairs(const uint8_t* in, uint8_t* out, size_t pairs) {
  size_t i = 0;
#ifdef CAIRN_PIECE_X86
  if (HasShaNi()) {
    // Pair i+1 is read (64 bytes at 64i+64) before out[i], out[i+1] (32i .. 32i+63) are written;
    // in the in-place case those bytes belong to pairs ≤ i that are already consumed.
    for (; i + 2 <= pairs; i += 2) {
      HashShaNi2(in + 64 * i, in + 64 * (i + 1), out + 32 * i, out + 32 * (i + 1));
    }
  }
#endif
  for (; i < pairs; ++i) HashOne(in + 64 * i, out + 32 * i);
}

bool HashUsesShaNi() { return HasShaNi(); }

namespace internal {
void HashNodePortable(const uint8_t* in, uint8_t* out) {
  uint8_t copy[64];
  std::memcpy(copy, in, sizeof copy);
  HashPortable(copy, out);
}
}  // namespace internal

}  // namespace cairn::filecoin::piece
