// CommP: the piece commitment of a payload (Filecoin spec, "Piece commitment"; FRC-0069 for the
// padding it reports). The payload is fr32-padded (fr32.hpp), split into 32-byte leaves, zero-
// padded to the next power of two (at least 128 bytes) and reduced with HashNode; zero subtrees
// come from ZeroComm, never hashed.
//
// Memory is constant (at most about 3 MiB per thread, less for small payloads) whatever the
// payload size. Work is split into batches of 127 * 2^13 payload bytes (1 MiB padded, a height-15
// subtree), hashed in parallel by `threads` workers and stitched in order, so every thread count
// gives the same result.
//
// Sizes: any payload size ≥ 0 is accepted (FRC-0069 v2 CIDs encode the padding, so tiny and empty
// payloads have well-defined pieces). Storage deals need more: check CheckDealPayloadSize
// (piece_cid.hpp, ≥ 65 bytes as Lotus requires) before proposing a deal with the v1 CID.
#pragma once

#include <cstdint>
#include <memory>

#include "common/bytes.hpp"
#include "common/io.hpp"
#include "common/result.hpp"
#include "filecoin/piece/piece_cid.hpp"

namespace cairn::filecoin::piece {

struct CommPOptions {
  // Hashing threads; 0 means one per hardware thread (at most 64). 1 hashes on the caller's
  // thread only.
  unsigned threads = 0;
};

// Pushed CommP: feed bytes with Update (or Write, as a ByteSink: the CAR writer streams into it;
// or the zero-copy Writable/Commit pair), then Finish once.
// Not thread-safe: one producer thread drives a builder (its workers are internal).
class CommPBuilder final : public ByteSink {
 public:
  explicit CommPBuilder(CommPOptions options = {});
  ~CommPBuilder() override;
  CommPBuilder(const CommPBuilder&) = delete;
  CommPBuilder& operator=(const CommPBuilder&) = delete;

  // Appends `data` to the payload. InvalidArgument after Finish or when the payload would exceed
  // the largest piece (2^63 bytes padded).
  Result<void> Update(ByteSpan data);
  // ByteSink: the same as Update.
  Result<void> Write(ByteSpan data) override { return Update(data); }

  // Zero-copy feeding: a non-empty buffer the next payload bytes may be written into, valid until
  // the next call on the builder; Commit(n) appends its first n bytes (n ≤ its size).
  MutableByteSpan Writable();
  Result<void> Commit(size_t n);

  // Ends the payload and returns its piece: root (CommP), height, padding; the payload size is
  // info.payload_size(). Waits for the workers. InvalidArgument when called twice.
  Result<PieceInfo> Finish();

  uint64_t payload_size() const;

  class Impl;  // defined in commp.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

// CommP of everything `source` yields (common/io.hpp: the only input seam of this library), read
// in batch-sized pieces straight into the hashing buffers. A source error ends the computation
// and is returned as it is.
Result<PieceInfo> ComputeCommP(ByteSource& source, CommPOptions options = {});
// CommP of a buffer; whole batches are hashed in place (no copy).
Result<PieceInfo> ComputeCommP(ByteSpan payload, CommPOptions options = {});

}  // namespace cairn::filecoin::piece
