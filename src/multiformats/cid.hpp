// CID (https://github.com/multiformats/cid): content identifiers, versions 0 and 1.
//
// CIDv0 = a bare sha2-256 multihash, implicitly dag-pb, written as bare base58btc ("Qm...").
// CIDv1 = <varint 1><varint codec><multihash>, written in multibase (base32 lower by default).
// Parsing accepts both; the text a user submitted can be kept separately by callers that must
// echo it back exactly (the Pinning Service API does).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "multiformats/multibase.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::multiformats {

class Cid {
 public:
  Cid() = default;

  // CIDv0 of a sha2-256 multihash. InvalidArgument for any other hash.
  static Result<Cid> V0(Multihash hash);
  // CIDv1 with `codec`.
  static Cid V1(uint64_t codec, Multihash hash);
  // version 0 (codec must be dag-pb, hash sha2-256/32) or 1.
  static Result<Cid> Make(int version, uint64_t codec, Multihash hash);
  // Hashes `data` with `hash_code` and builds the CID of it.
  static Result<Cid> Compute(int version, uint64_t codec, uint64_t hash_code, ByteSpan data);

  // Parses the text form: "Qm..." (v0) or a multibase-prefixed v1. Errors say why
  // ("cid: unknown multibase prefix '!'", "cid: version 2 is not supported").
  static Result<Cid> Parse(std::string_view text);
  // Parses exactly `bytes` (binary CID; a 34-byte 0x12 0x20 prefix is v0).
  static Result<Cid> FromBytes(ByteSpan bytes);
  struct Prefixed;
  // Parses a binary CID at the start of `bytes` (CAR sections, dag-pb links).
  static Result<Prefixed> DecodePrefix(ByteSpan bytes);

  int version() const { return version_; }
  uint64_t codec() const { return codec_; }
  const Multihash& hash() const { return hash_; }
  bool empty() const { return version_ < 0; }

  // Binary form: the bare multihash for v0, <1><codec><multihash> for v1.
  Bytes ToBytes() const;
  void AppendTo(Bytes& out) const;
  // Default text: base58btc for v0, base32 for v1.
  std::string ToString() const;
  // Text in `base`. v0 can only be written in base58btc; any other base writes its v1 form.
  std::string ToString(Multibase base) const;

  // Same multihash and codec as version 1.
  Cid ToV1() const;
  // InvalidArgument unless codec is dag-pb and the hash sha2-256/32 bytes.
  Result<Cid> ToV0() const;

  friend bool operator==(const Cid&, const Cid&) = default;
  friend auto operator<=>(const Cid&, const Cid&) = default;

 private:
  int version_ = -1;
  uint64_t codec_ = 0;
  Multihash hash_;
};

struct Cid::Prefixed {
  Cid cid;
  size_t size;
};

struct CidHash {
  size_t operator()(const Cid& cid) const;
};

}  // namespace cairn::multiformats

template <>
struct std::hash<cairn::multiformats::Cid> {
  size_t operator()(const cairn::multiformats::Cid& cid) const {
    return cairn::multiformats::CidHash{}(cid);
  }
};
