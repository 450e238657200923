// Byte streams: the one I/O seam of the pure layers. Everything that reads a stream of bytes
// (the CAR reader, the UnixFS importer, CommP, aggregate payloads) pulls from a ByteSource;
// everything that writes one (the CAR writers, aggregate payloads, CommP as a consumer) pushes to
// a ByteSink. Files, sockets, spools and HTTP bodies are adapted to these once, by the layer that
// owns them; the span and file implementations live here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn {

// A forward-only stream of bytes.
//
// Thread-safety: none. Calls must not overlap, but successive calls may come from different
// threads (the UnixFS importer reads on helper threads), so an implementation must not depend on
// the calling thread.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes into the front of `out` and returns how many were read (never
  // more than out.size()). Short reads are allowed. 0 means the end of the stream, and only then
  // (for a non-empty `out`): a source with more bytes but none ready yet blocks. After the end,
  // every call returns 0. Errors are the source's own (IoError, Timeout, ...); a consumer stops
  // at the first one and returns it unchanged (or with context added).
  virtual Result<size_t> Read(MutableByteSpan out) = 0;
};

// A sink of bytes, written in order.
//
// Thread-safety: none; calls must not overlap.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `data` (which may be empty) or fails; `data` is valid only during the call.
  // After an error the sink holds an unspecified prefix of what was written, and a producer
  // stops and returns the error.
  virtual Result<void> Write(ByteSpan data) = 0;
  // Write(data), where `owner` keeps `data` alive for as long as anyone holds it: a sink that
  // queues bytes for later (an HTTP body pushed to a socket) may keep the owner instead of
  // copying. The default copies through Write.
  virtual Result<void> WriteShared(ByteSpan data, const std::shared_ptr<const void>& owner) {
    (void)owner;
    return Write(data);
  }
};

// A sink that can also overwrite bytes it already wrote (a buffer, a file). CarV2Writer needs it
// to fill in its header once the payload size is known.
class SeekableSink : public ByteSink {
 public:
  // Overwrites bytes at absolute `offset`. InvalidArgument when offset + data.size() exceeds
  // what was written.
  virtual Result<void> WriteAt(uint64_t offset, ByteSpan data) = 0;
};

// Reads from a span the caller keeps alive for the source's lifetime.
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(ByteSpan data) : data_(data) {}
  Result<size_t> Read(MutableByteSpan out) override;

 private:
  ByteSpan data_;  // what is left to read
};

// Appends to a caller-owned buffer, which must outlive the sink.
class BytesSink final : public SeekableSink {
 public:
  explicit BytesSink(Bytes& out) : out_(out) {}
  Result<void> Write(ByteSpan data) override;
  // Offsets count from the start of the buffer (bytes it held before the sink count too).
  Result<void> WriteAt(uint64_t offset, ByteSpan data) override;

 private:
  Bytes& out_;
};

// A ByteSink that calls `fn(ByteSpan) -> Result<void>` for each write (a lambda over a socket,
// a hasher, a test's buffer): FunctionSink sink([&](ByteSpan b) -> Result<void> { ... });
template <typename Fn>
class FunctionSink final : public ByteSink {
 public:
  explicit FunctionSink(Fn fn) : fn_(std::move(fn)) {}
  Result<void> Write(ByteSpan data) override { return fn_(data); }

 private:
  Fn fn_;
};

// Reads a file descriptor (a file, a pipe, stdin) with POSIX read(2), retrying EINTR. Reads of
// at least kBufferSize bytes go straight into the caller's span; smaller ones (the CAR reader
// reads varints a byte at a time) are served from an internal buffer of kBufferSize bytes,
// allocated on first use. Errors: IoError "reading <name> failed: <strerror>".
class FileSource final : public ByteSource {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;

  // Opens `path` read-only (O_CLOEXEC); the source closes it. IoError
  // "cannot open <path>: <strerror>".
  static Result<FileSource> Open(const std::string& path);
  // Reads `fd`, which stays the caller's (it is not closed); `name` names it in errors.
  static FileSource Borrow(int fd, std::string name) { return {fd, std::move(name), false}; }

  FileSource(FileSource&& other) noexcept;
  FileSource& operator=(FileSource&& other) noexcept;
  ~FileSource() override;

  Result<size_t> Read(MutableByteSpan out) override;
  // Starts again from the beginning (lseek to 0, buffer dropped). IoError for what cannot seek
  // (a pipe): "cannot rewind <name>: <strerror>".
  Result<void> Rewind();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  FileSource(int fd, std::string name, bool owned)
      : fd_(fd), name_(std::move(name)), owned_(owned) {}
  Result<size_t> ReadFd(MutableByteSpan out);

  int fd_;
  std::string name_;
  bool owned_;
  Bytes buffer_;      // read-ahead for small reads; empty until the first one
  size_t begin_ = 0;  // buffer_[begin_, end_) is read but not yet returned
  size_t end_ = 0;
};

// Writes a file descriptor (a file, a pipe, stdout) with POSIX write(2), retrying EINTR and
// short writes. Writes smaller than kBufferSize are gathered in an internal buffer (the CAR
// writer writes each section's prefix apart from its data) and written when it fills, on Flush
// and on Close; larger ones go straight to the descriptor after what is buffered. Errors: IoError
// "writing <name> failed: <strerror>". Flush or Close and check the result: the destructor
// flushes and closes too, but cannot report a failure.
class FileSink final : public ByteSink {
 public:
  static constexpr size_t kBufferSize = 64 * 1024;

  // Creates or truncates `path` (mode 0666 less the umask, O_CLOEXEC); the sink closes it.
  // IoError "cannot create <path>: <strerror>".
  static Result<FileSink> Create(const std::string& path);
  // Writes `fd`, which stays the caller's (Close flushes but does not close it).
  static FileSink Borrow(int fd, std::string name) { return {fd, std::move(name), false}; }

  FileSink(FileSink&& other) noexcept;
  FileSink& operator=(FileSink&& other) noexcept;
  ~FileSink() override;

  Result<void> Write(ByteSpan data) override;
  // Writes what is buffered. No fsync: durability is the caller's business.
  Result<void> Flush();
  // Flush, then close an owned descriptor ("closing <name> failed: <strerror>"). Later calls
  // (and the destructor) do nothing; no Write after Close.
  Result<void> Close();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  FileSink(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {}
  Result<void> WriteFd(ByteSpan data);

  int fd_;
  std::string name_;
  bool owned_;
  Bytes buffer_;  // bytes written but not yet passed to write(2)
};

}  // namespace cairn
