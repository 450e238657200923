// CAR format pieces shared by the reader and the writer: the CARv1 header
// (../shared/specs/ipld/carv1.md, "Header"), the CARv2 pragma and fixed header
// (../shared/specs/ipld/carv2.md, "Pragma", "Header", "Characteristics") and the CARv2 index
// formats IndexSorted (0x0400) and MultihashIndexSorted (0x0401) ("Index format").
//
// Index byte layout as go-car v2 / boxo write it (the spec's prose says "count"; the field holds
// the bucket's byte length, count * width):
//   IndexSorted          = varint(0x0400) | uint32le(#width buckets) | bucket*
//   MultihashIndexSorted = varint(0x0401) | uint32le(#code groups) | (uint64le(code) |
//                          uint32le(#width buckets) | bucket*)*
//   bucket               = uint32le(width = digest length + 8) | uint64le(width * n) |
//                          (digest | uint64le(offset))* sorted bytewise by digest
// Groups ascend by code, buckets by width. Offsets are from the start of the CARv1 payload to the
// section's length varint.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::car {

using multiformats::Cid;

// The 11-byte CARv2 pragma: varint(10) | dag-cbor {"version": 2}.
inline constexpr std::array<uint8_t, 11> kCarV2Pragma = {0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72,
                                                         0x73, 0x69, 0x6f, 0x6e, 0x02};
inline constexpr uint64_t kCarV2HeaderSize = 40;
// Where a CARv2 written without padding starts its payload: pragma + fixed header.
inline constexpr uint64_t kCarV2DataOffset = kCarV2Pragma.size() + kCarV2HeaderSize;

inline constexpr uint64_t kIndexSorted = 0x0400;
inline constexpr uint64_t kMultihashIndexSorted = 0x0401;

// The 40-byte CARv2 header.
struct CarV2Header {
  std::array<uint8_t, 16> characteristics{};
  uint64_t data_offset = 0;   // from the pragma's first byte to the CARv1 payload
  uint64_t data_size = 0;     // CARv1 payload length
  uint64_t index_offset = 0;  // 0: no index

  // The "fully-indexed" characteristic (leftmost bit).
  bool fully_indexed() const { return (characteristics[0] & 0x80) != 0; }

  Bytes Encode() const;  // exactly kCarV2HeaderSize bytes
  // Parses the 40 bytes and checks the offsets are consistent (data after the header, index after
  // the data, no overflow). InvalidArgument otherwise.
  static Result<CarV2Header> Decode(ByteSpan bytes);

  friend bool operator==(const CarV2Header&, const CarV2Header&) = default;
};

// The dag-cbor CARv1 header {roots: [CID...], version: 1}.
Bytes EncodeCarV1Header(const std::vector<Cid>& roots);  // without the length varint
// Parses a CARv1 header block (without its length varint). Requires a map with `version` 1 and
// `roots` a list of links (possibly empty). Unknown keys are ignored.
Result<std::vector<Cid>> DecodeCarV1Header(ByteSpan block);

// One index record.
struct IndexEntry {
  std::optional<uint64_t> hash_code;  // absent in IndexSorted, which does not record it
  Bytes digest;
  uint64_t offset = 0;  // from the start of the CARv1 payload

  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

struct CarIndex {
  uint64_t format = kMultihashIndexSorted;  // kIndexSorted or kMultihashIndexSorted
  std::vector<IndexEntry> entries;          // in the order stored (code, width, digest)
};

// Decodes an index (starting at its format varint). Checks every length against the input before
// allocating; rejects unknown formats (NotSupported), widths <= 8, bucket lengths that are not a
// multiple of the width, unsorted buckets and trailing bytes (InvalidArgument).
Result<CarIndex> DecodeCarIndex(ByteSpan bytes);

// MultihashIndexSorted of `entries` (every entry needs a hash_code), as go-car writes it.
Bytes EncodeMultihashIndexSorted(std::vector<IndexEntry> entries);
// IndexSorted of `entries` (hash codes ignored).
Bytes EncodeIndexSorted(std::vector<IndexEntry> entries);

// Appends one CARv1 section varint(len) | cid | data.
void AppendSection(Bytes& out, const Cid& cid, ByteSpan data);

}  // namespace cairn::car
