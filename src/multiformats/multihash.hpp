// Multihash (https://github.com/multiformats/multihash): <varint code><varint length><digest>.
// Computes and verifies sha2-256 (OpenSSL, SHA-NI where the CPU has it), sha2-512, blake2b-256
// (libb2) and identity. Other codes can be parsed and carried but not computed or verified.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.hpp"

namespace cairn::multiformats {

// Identity multihashes longer than this are rejected (Kubo's limit, too).
inline constexpr size_t kMaxIdentityDigest = 128;
// Any digest longer than this is rejected when parsing untrusted bytes.
inline constexpr size_t kMaxDigestSize = 128;

class Multihash {
 public:
  Multihash() = default;
  // A multihash with `code` and `digest`. InvalidArgument when the digest length does not fit
  // the code (sha2-256 must be 32 bytes, ...) or exceeds kMaxDigestSize.
  static Result<Multihash> Make(uint64_t code, ByteSpan digest);
  // Hashes `data` with `code`. NotSupported for codes Cairn cannot compute.
  static Result<Multihash> Sum(uint64_t code, ByteSpan data);
  // Parses exactly `bytes` (no trailing bytes allowed).
  static Result<Multihash> Decode(ByteSpan bytes);
  struct Prefixed;
  // Parses a multihash at the start of `bytes`; reports how many bytes it used.
  static Result<Prefixed> DecodePrefix(ByteSpan bytes);

  // Whether Cairn can compute (and so verify) hashes of this code.
  static bool CanCompute(uint64_t code);

  uint64_t code() const { return code_; }
  ByteSpan digest() const { return digest_; }
  Bytes Encode() const;
  void AppendTo(Bytes& out) const;
  size_t EncodedSize() const;

  // Ok when hashing `data` with this multihash's code gives this digest; Corruption when it does
  // not; NotSupported when the code cannot be computed.
  Result<void> Verify(ByteSpan data) const;

  friend bool operator==(const Multihash&, const Multihash&) = default;
  friend auto operator<=>(const Multihash&, const Multihash&) = default;

 private:
  uint64_t code_ = 0;
  Bytes digest_;
};

struct Multihash::Prefixed {
  Multihash hash;
  size_t size;
};

// Plain digests, for code that needs a hash but not a multihash.
std::array<uint8_t, 32> Sha256(ByteSpan data);

// Incremental SHA-256 (for streams).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteSpan data);
  std::array<uint8_t, 32> Finish();

 private:
  struct State;
  State* state_;
};

}  // namespace cairn::multiformats
