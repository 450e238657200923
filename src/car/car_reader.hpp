// Streaming CAR reader (../shared/specs/ipld/carv1.md "Format Description", carv2.md "Format
// Description"): reads a CARv1 or CARv2 from a ByteSource in constant memory (one section at a
// time) and verifies every block against its CID.
//
// CARv1: varint(len) | dag-cbor header {roots, version: 1} | sections varint(len) | CID | data.
// CARv2: the 11-byte pragma, the 40-byte header, then the CARv1 payload at data_offset, exactly
// data_size bytes long, then optionally the index at index_offset (read with ReadIndex()).
//
// Errors name the byte offset in the stream: "car: section at offset 812: block does not match
// its CID". A block whose hash Cairn cannot compute is an error (NotSupported) unless
// options.verify is false; identity CIDs are checked (the data must equal the digest).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "car/car_format.hpp"
#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::car {

struct CarReaderOptions {
  // Check every block against its CID (and fail on hashes Cairn cannot compute).
  bool verify = true;
  // Largest header block accepted (go-car's default bound is 32 MiB; real headers are tiny).
  uint64_t max_header_size = 1 << 20;
  // Largest section (CID + data) accepted. Kubo's block limit is 2 MiB; go-car allows 32 MiB.
  uint64_t max_section_size = 32 << 20;
  // Largest CARv2 index ReadIndex() loads into memory.
  uint64_t max_index_size = 1ULL << 30;
};

struct CarBlock {
  Cid cid;
  Bytes data;
  uint64_t offset = 0;  // of the section's length varint, from the start of the CARv1 payload
};

class CarReader {
 public:
  // Reads and checks the header(s): for CARv2 the pragma, the fixed header and the inner CARv1
  // header. `source` must outlive the reader. Errors: InvalidArgument for malformed headers or a
  // version other than 1 or 2 (with the version in the message), IoError etc. from the source.
  static Result<std::unique_ptr<CarReader>> Open(ByteSource& source, CarReaderOptions options = {});

  int version() const { return version_; }
  // The roots of the (inner) CARv1 header; may be empty.
  const std::vector<Cid>& roots() const { return roots_; }
  // The CARv2 header, for version 2.
  const std::optional<CarV2Header>& v2_header() const { return v2_; }

  // The next block, or nullopt at the end of the payload. After an error the reader is unusable
  // (every later call returns the same error).
  Result<std::optional<CarBlock>> Next();

  // For a CARv2 with an index: reads it (after the payload; call once Next() returned nullopt,
  // otherwise the rest of the payload is skipped unverified). nullopt when the CAR has no index
  // (CARv1, or index_offset 0).
  Result<std::optional<CarIndex>> ReadIndex();

  // Bytes consumed from the source so far.
  uint64_t position() const { return pos_; }

 private:
  CarReader(ByteSource& source, CarReaderOptions options) : source_(source), options_(options) {}

  Result<void> ReadHeaders();
  // Reads exactly out.size() bytes; `what` names the thing for the truncation error.
  Result<void> ReadExact(MutableByteSpan out, const char* what);
  // Reads up to out.size() bytes, honouring the CARv2 payload limit; 0 at the end.
  Result<size_t> ReadSome(MutableByteSpan out);
  Result<void> Skip(uint64_t n, const char* what);
  // Reads a varint; nullopt if the payload ended cleanly before its first byte.
  Result<std::optional<uint64_t>> ReadVarint(const char* what);
  Result<std::optional<CarBlock>> ReadSection();

  ByteSource& source_;
  CarReaderOptions options_;
  int version_ = 0;
  std::vector<Cid> roots_;
  std::optional<CarV2Header> v2_;
  uint64_t pos_ = 0;                     // absolute position in the source
  uint64_t payload_start_ = 0;           // absolute position of the CARv1 payload
  std::optional<uint64_t> payload_end_;  // CARv2 only
  std::optional<Error> failed_;
  bool index_read_ = false;
};

}  // namespace cairn::car
