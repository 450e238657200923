// Byte sources and sinks: the only I/O the CAR layer does. Readers pull from a ByteSource, writers
// push to a ByteSink; files, sockets and HTTP bodies are adapted to these by the layers above.
// In-memory implementations live here too (for tests, the gateway and small CARs).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::car {

// A forward-only stream of bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes into `out` and returns how many were read. 0 means the end of the
  // stream (and only then: a source that has more bytes but none ready yet must block). Errors are
  // the source's own (IoError, Timeout...).
  virtual Result<size_t> Read(MutableByteSpan out) = 0;
};

// A sink of bytes, written in order.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `data` or fails.
  virtual Result<void> Write(ByteSpan data) = 0;
};

// A sink that can also overwrite bytes it already wrote (a file, a buffer). CarV2Writer needs it to
// fill in the header once the payload size is known.
class SeekableSink : public ByteSink {
 public:
  // Overwrites bytes at absolute `offset`; offset + data.size() must not exceed what was written.
  virtual Result<void> WriteAt(uint64_t offset, ByteSpan data) = 0;
};

// Reads from a span the caller keeps alive.
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(ByteSpan data) : data_(data) {}
  Result<size_t> Read(MutableByteSpan out) override {
    const size_t n = std::min(out.size(), data_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
};

// Appends to a caller-owned buffer.
class BytesSink final : public SeekableSink {
 public:
  explicit BytesSink(Bytes& out) : out_(out) {}
  Result<void> Write(ByteSpan data) override {
    out_.insert(out_.end(), data.begin(), data.end());
    return Ok();
  }
  Result<void> WriteAt(uint64_t offset, ByteSpan data) override {
    if (offset > out_.size() || data.size() > out_.size() - offset) {
      return Err(ErrorCode::kInvalidArgument, "car: WriteAt beyond the written bytes");
    }
    std::memcpy(out_.data() + offset, data.data(), data.size());
    return Ok();
  }

 private:
  Bytes& out_;
};

}  // namespace cairn::car
