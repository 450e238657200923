// The UnixFS `Data` protobuf message carried in a dag-pb node's Data field
// (../shared/specs/ipfs/unixfs.md, "Data Format"):
//
//   message Data {
//     enum DataType { Raw = 0; Directory = 1; File = 2; Metadata = 3; Symlink = 4; HAMTShard = 5; }
//     required DataType Type = 1;  optional bytes Data = 2;  optional uint64 filesize = 3;
//     repeated uint64 blocksizes = 4;  optional uint64 hashType = 5;  optional uint64 fanout = 6;
//     optional uint32 mode = 7;  optional UnixTime mtime = 8;
//   }
//   message UnixTime { required int64 Seconds = 1; optional fixed32 FractionalNanoseconds = 2; }
//
// Encoding writes fields in field-number order, only those present, byte-for-byte as Kubo (boxo)
// writes them, so that CIDs match. Decoding accepts any valid protobuf order (readers must accept
// what other implementations wrote) but rejects malformed varints, bad wire types, truncation,
// unknown DataType values and out-of-range values, with a reason.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"

namespace cairn::unixfs {

enum class DataType : uint8_t {
  kRaw = 0,
  kDirectory = 1,
  kFile = 2,
  kMetadata = 3,
  kSymlink = 4,
  kHamtShard = 5,
};

struct UnixTime {
  int64_t seconds = 0;
  std::optional<uint32_t> nanos;  // FractionalNanoseconds, 1..999999999 when present

  friend bool operator==(const UnixTime&, const UnixTime&) = default;
};

struct UnixfsData {
  DataType type = DataType::kFile;
  std::optional<Bytes> data;
  std::optional<uint64_t> filesize;
  std::vector<uint64_t> blocksizes;
  std::optional<uint64_t> hash_type;  // HAMT: 0x22 (murmur3-x64-64)
  std::optional<uint64_t> fanout;     // HAMT: 256 by default
  std::optional<uint32_t> mode;       // permission bits (lower 12 bits)
  std::optional<UnixTime> mtime;

  friend bool operator==(const UnixfsData&, const UnixfsData&) = default;
};

Bytes EncodeUnixfsData(const UnixfsData& data);
// With `data_view`, the Data field is not copied: it is set there (a view into `bytes`, nullopt
// when absent) and the result's `data` stays empty.
Result<UnixfsData> DecodeUnixfsData(ByteSpan bytes, std::optional<ByteSpan>* data_view = nullptr);

}  // namespace cairn::unixfs
