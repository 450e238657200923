// The real file system behind Env (contracts in env.hpp).
#include "common/env.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn {

namespace fs = std::filesystem;

Error ErrnoError(int err, const std::string& what, const std::string& prefix) {
  ErrorCode code = ErrorCode::kIoError;
  if (err == ENOSPC || err == EDQUOT) {
    code = ErrorCode::kStorageFull;
  } else if (err == ENOENT) {
    code = ErrorCode::kNotFound;
  } else if (err == EEXIST) {
    code = ErrorCode::kAlreadyExists;
  } else if (err == EWOULDBLOCK) {
    code = ErrorCode::kUnavailable;
  }
  return Error(code, prefix + what + ": " + std::strerror(err));
}

namespace {

tl::unexpected<Error> Fail(const std::string& op, const fs::path& path) {
  return Err(ErrnoError(errno, op + " " + path.string()));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, MutableByteSpan out) override {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t r =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Fail("read", path_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Result<void> WriteAt(uint64_t offset, std::span<const ByteSpan> parts) override {
    constexpr size_t kMaxParts = 8;
    if (parts.size() > kMaxParts) {
      for (ByteSpan part : parts) {
        CAIRN_TRY(WriteAt(offset, std::span<const ByteSpan>(&part, 1)));
        offset += part.size();
      }
      return Ok();
    }
    uint64_t total = 0;
    for (ByteSpan part : parts) total += part.size();
    uint64_t done = 0;
    while (done < total) {
      // Skip what was already written (short writes are rare but legal).
      iovec iov[kMaxParts];
      int n = 0;
      uint64_t skip = done;
      for (ByteSpan part : parts) {
        if (skip >= part.size()) {
          skip -= part.size();
          continue;
        }
        iov[n].iov_base = const_cast<uint8_t*>(part.data()) + skip;
        iov[n].iov_len = part.size() - skip;
        skip = 0;
        ++n;
      }
      const ssize_t w = ::pwritev(fd_, iov, n, static_cast<off_t>(offset + done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Fail("write", path_);
      if (w == 0) return Err(ErrorCode::kIoError, "write " + path_.string() + ": wrote nothing");
      done += static_cast<uint64_t>(w);
    }
    return Ok();
  }

  Result<void> Sync() override {
    if (::fdatasync(fd_) != 0) return Fail("sync", path_);
    return Ok();
  }

  Result<void> Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Fail("truncate", path_);
    return Ok();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Fail("stat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<void> Allocate(uint64_t size) override {
    const int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (rc != 0) return Err(ErrnoError(rc, "allocate " + path_.string()));
    return Ok();
  }

  Result<void> LockExclusive() override {
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) return Fail("lock", path_);
    return Ok();
  }

  const fs::path& path() const override { return path_; }

 private:
  int fd_;
  fs::path path_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<File>> Open(const fs::path& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreateNew:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
      case OpenMode::kCreateTruncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
      case OpenMode::kCreateOrOpen:
        flags |= O_RDWR | O_CREAT;
        break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
      return Fail(mode == OpenMode::kRead || mode == OpenMode::kReadWrite ? "open" : "create",
                  path);
    return std::unique_ptr<File>(new PosixFile(fd, path));
  }

  Result<void> Rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Fail("rename " + from.string() + " to", to);
    return Ok();
  }

  Result<void> Remove(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0) return Fail("remove", path);
    return Ok();
  }

  Result<bool> Exists(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Fail("stat", path);
  }

  Result<bool> IsDirectory(const fs::path& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return S_ISDIR(st.st_mode);
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Fail("stat", path);
  }

  Result<std::vector<std::string>> ListDir(const fs::path& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Fail("list", dir);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return Err(ErrnoError(err, "list " + dir.string()));
    return names;
  }

  Result<void> CreateDirs(const fs::path& dir) override {
    // Each missing component is made with mode 0700 (as the contract says, whatever the umask
    // widens or not: mkdir only narrows by the umask), so a key store is private from birth.
    fs::path path;
    for (const auto& part : dir) {
      path /= part;
      if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) continue;
      return Fail("create", path);
    }
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return Err(ErrorCode::kIoError, "create " + dir.string() + ": not a directory");
    }
    return Ok();
  }

  Result<void> SyncDir(const fs::path& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Fail("open dir", dir);
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) return Err(ErrnoError(saved, "fsync dir " + dir.string()));
    return Ok();
  }
};

}  // namespace

Env& Env::Default() {
  static PosixEnv env;
  return env;
}

Result<void> WriteFileAtomically(Env& env, const fs::path& path, ByteSpan data) {
  fs::path tmp = path;
  tmp += ".tmp";
  auto written = [&]() -> Result<void> {
    auto file = CAIRN_TRY(env.Open(tmp, OpenMode::kCreateTruncate));
    CAIRN_TRY(file->WriteAt(0, data));
    CAIRN_TRY(file->Sync());
    return Ok();
  }();
  if (written) written = env.Rename(tmp, path);
  if (!written) {
    (void)env.Remove(tmp);  // best effort: the error that matters is `written`
    return written;
  }
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  return env.SyncDir(dir);
}

Result<Bytes> ReadWholeFile(Env& env, const fs::path& path, uint64_t max_size) {
  auto file = CAIRN_TRY(env.Open(path, OpenMode::kRead));
  const uint64_t size = CAIRN_TRY(file->Size());
  if (size > max_size) {
    return Err(ErrorCode::kInvalidArgument, path.string() + ": " + std::to_string(size) +
                                                " bytes, more than the " +
                                                std::to_string(max_size) + " allowed");
  }
  Bytes out(static_cast<size_t>(size));
  const size_t got = CAIRN_TRY(file->ReadAt(0, out));
  out.resize(got);
  return out;
}

}  // namespace cairn
