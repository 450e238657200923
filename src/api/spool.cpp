// Upload spools (contracts in spool.hpp).
#include "api/spool.hpp"

#include <random>
#include <string>

namespace cairn::api {

namespace {

template <typename T>
Result<T> Ctx(Result<T> r) {
  if (!r) return Err(r.error().WithContext("rpc: spool: "));
  return r;
}

}  // namespace

Result<std::unique_ptr<SpoolFile>> SpoolFile::Create(Env& env, const std::filesystem::path& dir) {
  CAIRN_TRY(Ctx(env.CreateDirs(dir)));
  std::random_device rd;
  for (int attempt = 0;; ++attempt) {
    const auto path = dir / ("upload-" + std::to_string(rd()) + std::to_string(rd()));
    auto file = env.Open(path, OpenMode::kCreateNew);
    if (file) return std::unique_ptr<SpoolFile>(new SpoolFile(env, std::move(*file)));
    if (file.error().code() != ErrorCode::kAlreadyExists || attempt == 3) {
      return Err(Ctx(std::move(file)).error());
    }
  }
}

SpoolFile::~SpoolFile() {
  const std::filesystem::path path = file_->path();
  file_.reset();
  (void)env_.Remove(path);  // best effort: a leftover is removed at the next start
}

Result<void> SpoolFile::FlushBuffer() {
  if (buffer_.empty()) return Ok();
  CAIRN_TRY(Ctx(file_->WriteAt(written_, buffer_)));
  written_ += buffer_.size();
  buffer_.clear();
  return Ok();
}

Result<void> SpoolFile::Write(ByteSpan data) {
  if (buffer_.size() + data.size() > kBufferSize) {
    CAIRN_TRY(FlushBuffer());
    if (data.size() >= kBufferSize) {
      CAIRN_TRY(Ctx(file_->WriteAt(written_, data)));
      written_ += data.size();
      return Ok();
    }
  }
  if (buffer_.capacity() == 0) buffer_.reserve(kBufferSize);
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  return Ok();
}

Result<void> SpoolFile::Rewind() {
  CAIRN_TRY(FlushBuffer());
  read_ = 0;
  return Ok();
}

Result<size_t> SpoolFile::Read(MutableByteSpan out) {
  if (read_ >= written_ || out.empty()) return size_t{0};
  const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), written_ - read_));
  const size_t got = CAIRN_TRY(Ctx(file_->ReadAt(read_, out.first(want))));
  if (got == 0) {
    return Err(ErrorCode::kIoError, "rpc: spool: " + file_->path().string() + " ended at " +
                                        std::to_string(read_) + " of " + std::to_string(written_) +
                                        " bytes");
  }
  read_ += got;
  return got;
}

Result<SpoolCleanup> RemoveStaleSpools(Env& env, const std::filesystem::path& dir) {
  SpoolCleanup out;
  if (!CAIRN_TRY(Ctx(env.IsDirectory(dir)))) return out;
  for (const std::string& name : CAIRN_TRY(Ctx(env.ListDir(dir)))) {
    if (name.rfind("upload-", 0) != 0) continue;
    uint64_t size = 0;
    if (auto file = env.Open(dir / name, OpenMode::kRead)) {
      if (auto s = (*file)->Size()) size = *s;
    }
    if (env.Remove(dir / name)) {
      ++out.files;
      out.bytes += size;
    }
  }
  return out;
}

}  // namespace cairn::api
