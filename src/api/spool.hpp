// Upload spools: the bytes of a file or CAR part of an upload, written to disk as they arrive and
// read back once the part is complete (UnixFS import, CAR verification). A spool lives under the
// repo's spool directory, through the Env (so tests can fill the disk or fail writes), and is
// removed when destroyed; spools left by a killed process are removed at start-up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "common/bytes.hpp"
#include "common/env.hpp"
#include "common/io.hpp"
#include "common/result.hpp"

namespace cairn::api {

// Written once (Write…), then read from the start (Rewind, Read…). Not thread-safe; calls may
// come from different threads one at a time. Errors are prefixed "rpc: spool: " and keep the
// Env's codes (StorageFull when the disk is full).
class SpoolFile final : public ByteSource {
 public:
  // A new, empty spool named `upload-<random>` in `dir` (created when missing).
  static Result<std::unique_ptr<SpoolFile>> Create(Env& env, const std::filesystem::path& dir);
  ~SpoolFile() override;  // removes the file (best effort)

  Result<void> Write(ByteSpan data);
  // Makes every written byte readable and moves the read position to the start.
  Result<void> Rewind();
  Result<size_t> Read(MutableByteSpan out) override;
  uint64_t size() const { return written_ + buffer_.size(); }

 private:
  static constexpr size_t kBufferSize = 256 * 1024;
  SpoolFile(Env& env, std::unique_ptr<File> file) : env_(env), file_(std::move(file)) {}
  Result<void> FlushBuffer();

  Env& env_;
  std::unique_ptr<File> file_;
  Bytes buffer_;          // written but not yet in the file
  uint64_t written_ = 0;  // bytes in the file
  uint64_t read_ = 0;     // read position
};

struct SpoolCleanup {
  uint64_t files = 0;
  uint64_t bytes = 0;
};
// Removes every `upload-*` file in `dir` (spools of uploads that were never acknowledged: the
// process that wrote them died). A missing `dir` is nothing to clean.
Result<SpoolCleanup> RemoveStaleSpools(Env& env, const std::filesystem::path& dir);

}  // namespace cairn::api
