#include "common/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cairn {
namespace {

Error Errno(const std::string& what) {
  return Error(ErrorCode::kIoError, what + ": " + std::strerror(errno));
}

}  // namespace

Result<size_t> SpanSource::Read(MutableByteSpan out) {
  const size_t n = std::min(out.size(), data_.size());
  if (n > 0) std::memcpy(out.data(), data_.data(), n);
  data_ = data_.subspan(n);
  return n;
}

Result<void> BytesSink::Write(ByteSpan data) {
  out_.insert(out_.end(), data.begin(), data.end());
  return Ok();
}

Result<void> BytesSink::WriteAt(uint64_t offset, ByteSpan data) {
  if (offset > out_.size() || data.size() > out_.size() - offset) {
    return Err(ErrorCode::kInvalidArgument, "WriteAt beyond the written bytes");
  }
  if (!data.empty()) std::memcpy(out_.data() + offset, data.data(), data.size());
  return Ok();
}

// --- FileSource ----------------------------------------------------------------------------

Result<FileSource> FileSource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err(Errno("cannot open " + path));
  return FileSource(fd, path, true);
}

FileSource::FileSource(FileSource&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      owned_(std::exchange(other.owned_, false)),
      buffer_(std::move(other.buffer_)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)) {}

FileSource& FileSource::operator=(FileSource&& other) noexcept {
  if (this != &other) {
    if (owned_) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    owned_ = std::exchange(other.owned_, false);
    buffer_ = std::move(other.buffer_);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
  }
  return *this;
}

FileSource::~FileSource() {
  if (owned_) ::close(fd_);
}

Result<size_t> FileSource::ReadFd(MutableByteSpan out) {
  while (true) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Err(Errno("reading " + name_ + " failed"));
  }
}

Result<size_t> FileSource::Read(MutableByteSpan out) {
  if (out.empty()) return size_t{0};
  if (begin_ == end_) {
    if (out.size() >= kBufferSize) return ReadFd(out);
    if (buffer_.empty()) buffer_.resize(kBufferSize);
    begin_ = 0;
    end_ = CAIRN_TRY(ReadFd(MutableByteSpan(buffer_)));
    if (end_ == 0) return size_t{0};
  }
  const size_t n = std::min(out.size(), end_ - begin_);
  std::memcpy(out.data(), buffer_.data() + begin_, n);
  begin_ += n;
  return n;
}

Result<void> FileSource::Rewind() {
  if (::lseek(fd_, 0, SEEK_SET) < 0) return Err(Errno("cannot rewind " + name_));
  begin_ = end_ = 0;
  return Ok();
}

// --- FileSink ------------------------------------------------------------------------------

Result<FileSink> FileSink::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return Err(Errno("cannot create " + path));
  return FileSink(fd, path, true);
}

FileSink::FileSink(FileSink&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      owned_(std::exchange(other.owned_, false)),
      buffer_(std::move(other.buffer_)) {
  other.buffer_.clear();
}

FileSink& FileSink::operator=(FileSink&& other) noexcept {
  if (this != &other) {
    (void)Close();  // the destructor's contract: best effort, nothing to report to
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    owned_ = std::exchange(other.owned_, false);
    buffer_ = std::move(other.buffer_);
    other.buffer_.clear();
  }
  return *this;
}

FileSink::~FileSink() { (void)Close(); }  // callers that need the outcome call Close first

Result<void> FileSink::WriteFd(ByteSpan data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Errno("writing " + name_ + " failed"));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Ok();
}

Result<void> FileSink::Write(ByteSpan data) {
  if (data.size() < kBufferSize - buffer_.size()) {
    if (buffer_.capacity() < kBufferSize) buffer_.reserve(kBufferSize);
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return Ok();
  }
  CAIRN_TRY(Flush());
  if (data.size() < kBufferSize) {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return Ok();
  }
  return WriteFd(data);
}

Result<void> FileSink::Flush() {
  if (buffer_.empty()) return Ok();
  auto written = WriteFd(buffer_);
  buffer_.clear();  // after a failure the descriptor holds an unknown prefix either way
  return written;
}

Result<void> FileSink::Close() {
  if (fd_ < 0) return Ok();
  auto flushed = Flush();
  if (owned_ && ::close(fd_) != 0 && flushed) flushed = Err(Errno("closing " + name_ + " failed"));
  fd_ = -1;
  owned_ = false;
  return flushed;
}

}  // namespace cairn
