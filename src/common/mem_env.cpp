// In-memory Env with injected faults (contracts in mem_env.hpp).
#include "common/mem_env.hpp"

#include <algorithm>
#include <cstring>

namespace cairn {

namespace fs = std::filesystem;

namespace {

std::string Key(const fs::path& path) { return path.lexically_normal().string(); }

std::string Parent(const std::string& key) {
  fs::path p = fs::path(key).parent_path();
  return p.empty() ? "." : p.string();
}

tl::unexpected<Error> Injected(ErrorCode code, const std::string& op, const std::string& path) {
  const char* why = code == ErrorCode::kStorageFull ? "No space left on device (injected)"
                                                    : "Input/output error (injected)";
  return Err(code, op + " " + path + ": " + why);
}

}  // namespace

// A File of a MemEnv: operations go to the shared node under the env's lock.
class MemFile final : public File {
 public:
  MemFile(MemEnv& env, std::shared_ptr<MemEnv::Node> node, fs::path path, uint64_t generation)
      : env_(env), node_(std::move(node)), path_(std::move(path)), generation_(generation) {}
  ~MemFile() override {
    std::lock_guard lock(env_.mu_);
    if (holds_lock_) node_->locked = false;
  }

  Result<size_t> ReadAt(uint64_t offset, MutableByteSpan out) override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("read"));
    const Bytes& d = node_->data;
    if (offset >= d.size()) return size_t{0};
    const size_t n = std::min<uint64_t>(out.size(), d.size() - offset);
    std::memcpy(out.data(), d.data() + offset, n);
    return n;
  }

  Result<void> WriteAt(uint64_t offset, std::span<const ByteSpan> parts) override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("write"));
    ++env_.writes_;
    Bytes all;
    for (ByteSpan p : parts) all.insert(all.end(), p.begin(), p.end());
    uint64_t keep = all.size();
    std::optional<ErrorCode> fail;
    if (env_.fail_write_at_ && --*env_.fail_write_at_ == 0) {
      env_.fail_write_at_.reset();
      keep = std::min<uint64_t>(keep, env_.fail_write_keep_);
      fail = env_.fail_write_code_;
    }
    if (env_.capacity_) {
      const uint64_t end = offset + keep;
      const uint64_t grow = end > node_->data.size() ? end - node_->data.size() : 0;
      const uint64_t used = env_.UsedLocked();
      if (used + grow > *env_.capacity_) {
        const uint64_t room = *env_.capacity_ > used ? *env_.capacity_ - used : 0;
        // What fits: the bytes up to the current end plus `room` more.
        const uint64_t fits_end = std::max<uint64_t>(node_->data.size(), offset) + room;
        keep = fits_end > offset ? std::min<uint64_t>(keep, fits_end - offset) : 0;
        fail = ErrorCode::kStorageFull;
      }
    }
    if (keep > 0) {
      if (node_->data.size() < offset + keep) node_->data.resize(offset + keep);
      std::memcpy(node_->data.data() + offset, all.data(), keep);
    }
    if (fail) return Injected(*fail, "write", path_.string());
    return Ok();
  }

  Result<void> Sync() override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("sync"));
    ++env_.syncs_;
    if (env_.fail_sync_at_ && --*env_.fail_sync_at_ == 0) {
      env_.fail_sync_at_.reset();
      return Injected(ErrorCode::kIoError, "sync", path_.string());
    }
    node_->synced = node_->data;
    return Ok();
  }

  Result<void> Truncate(uint64_t size) override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("truncate"));
    ++env_.truncates_;
    if (env_.fail_truncate_at_ && --*env_.fail_truncate_at_ == 0) {
      env_.fail_truncate_at_.reset();
      return Injected(ErrorCode::kIoError, "truncate", path_.string());
    }
    node_->data.resize(size);
    return Ok();
  }

  Result<uint64_t> Size() override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("stat"));
    return static_cast<uint64_t>(node_->data.size());
  }

  Result<void> Allocate(uint64_t size) override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("allocate"));
    if (size <= node_->data.size()) return Ok();
    if (env_.capacity_ && env_.UsedLocked() + (size - node_->data.size()) > *env_.capacity_) {
      return Injected(ErrorCode::kStorageFull, "allocate", path_.string());
    }
    node_->data.resize(size);
    return Ok();
  }

  Result<void> LockExclusive() override {
    std::lock_guard lock(env_.mu_);
    CAIRN_TRY(Alive("lock"));
    if (holds_lock_) return Ok();
    if (node_->locked) {
      return Err(ErrorCode::kUnavailable,
                 "lock " + path_.string() + ": Resource temporarily unavailable");
    }
    node_->locked = holds_lock_ = true;
    return Ok();
  }

  const fs::path& path() const override { return path_; }

 private:
  Result<void> Alive(const char* op) const {
    if (generation_ != env_.generation_) {
      return Err(ErrorCode::kIoError,
                 std::string(op) + " " + path_.string() + ": file opened before a simulated crash");
    }
    return Ok();
  }

  MemEnv& env_;
  std::shared_ptr<MemEnv::Node> node_;
  fs::path path_;
  uint64_t generation_;
  bool holds_lock_ = false;
};

void MemEnv::FailWrite(uint64_t nth, ErrorCode code, uint64_t keep_bytes) {
  std::lock_guard lock(mu_);
  fail_write_at_ = nth;
  fail_write_code_ = code;
  fail_write_keep_ = keep_bytes;
}

void MemEnv::FailSync(uint64_t nth) {
  std::lock_guard lock(mu_);
  fail_sync_at_ = nth;
}

void MemEnv::FailTruncate(uint64_t nth) {
  std::lock_guard lock(mu_);
  fail_truncate_at_ = nth;
}

void MemEnv::SetCapacity(std::optional<uint64_t> bytes) {
  std::lock_guard lock(mu_);
  capacity_ = bytes;
}

void MemEnv::Crash() {
  std::lock_guard lock(mu_);
  ++generation_;
  names_ = durable_names_;
  for (auto& [name, node] : names_) {
    node->data = node->synced;
    node->locked = false;
  }
}

uint64_t MemEnv::write_calls() const {
  std::lock_guard lock(mu_);
  return writes_;
}

uint64_t MemEnv::sync_calls() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t MemEnv::used_bytes() const {
  std::lock_guard lock(mu_);
  return UsedLocked();
}

uint64_t MemEnv::UsedLocked() const {
  uint64_t used = 0;
  for (const auto& [name, node] : names_) used += node->data.size();
  return used;
}

bool MemEnv::ParentExists(const fs::path& path) const { return dirs_.count(Parent(Key(path))) > 0; }

Result<std::unique_ptr<File>> MemEnv::Open(const fs::path& path, OpenMode mode) {
  std::lock_guard lock(mu_);
  const std::string key = Key(path);
  if (dirs_.count(key)) {
    return Err(ErrorCode::kIoError, "open " + path.string() + ": Is a directory");
  }
  auto it = names_.find(key);
  const bool creates = mode == OpenMode::kCreateNew || mode == OpenMode::kCreateTruncate ||
                       mode == OpenMode::kCreateOrOpen;
  if (it == names_.end()) {
    if (!creates || !ParentExists(path)) {
      return Err(ErrorCode::kNotFound, std::string(creates ? "create " : "open ") + path.string() +
                                           ": No such file or directory");
    }
    it = names_.emplace(key, std::make_shared<Node>()).first;
  } else if (mode == OpenMode::kCreateNew) {
    return Err(ErrorCode::kAlreadyExists, "create " + path.string() + ": File exists");
  } else if (mode == OpenMode::kCreateTruncate) {
    it->second->data.clear();
  }
  return std::unique_ptr<File>(new MemFile(*this, it->second, path, generation_));
}

Result<void> MemEnv::Rename(const fs::path& from, const fs::path& to) {
  std::lock_guard lock(mu_);
  auto it = names_.find(Key(from));
  if (it == names_.end() || !ParentExists(to)) {
    return Err(ErrorCode::kNotFound,
               "rename " + from.string() + " to " + to.string() + ": No such file or directory");
  }
  auto node = it->second;
  names_.erase(it);
  names_[Key(to)] = std::move(node);
  return Ok();
}

Result<void> MemEnv::Remove(const fs::path& path) {
  std::lock_guard lock(mu_);
  if (names_.erase(Key(path)) == 0) {
    return Err(ErrorCode::kNotFound, "remove " + path.string() + ": No such file or directory");
  }
  return Ok();
}

Result<bool> MemEnv::Exists(const fs::path& path) {
  std::lock_guard lock(mu_);
  const std::string key = Key(path);
  return names_.count(key) > 0 || dirs_.count(key) > 0;
}

Result<bool> MemEnv::IsDirectory(const fs::path& path) {
  std::lock_guard lock(mu_);
  return dirs_.count(Key(path)) > 0;
}

Result<std::vector<std::string>> MemEnv::ListDir(const fs::path& dir) {
  std::lock_guard lock(mu_);
  const std::string key = Key(dir);
  if (!dirs_.count(key)) {
    return Err(ErrorCode::kNotFound, "list " + dir.string() + ": No such file or directory");
  }
  std::vector<std::string> out;
  for (const auto& [name, node] : names_) {
    if (Parent(name) == key) out.push_back(fs::path(name).filename().string());
  }
  for (const std::string& d : dirs_) {
    if (d != key && Parent(d) == key) out.push_back(fs::path(d).filename().string());
  }
  return out;
}

Result<void> MemEnv::CreateDirs(const fs::path& dir) {
  std::lock_guard lock(mu_);
  fs::path p = fs::path(Key(dir));
  while (!p.empty() && p != p.root_path()) {
    if (names_.count(p.string())) {
      return Err(ErrorCode::kIoError, "create " + dir.string() + ": " + p.string() + " is a file");
    }
    dirs_.insert(p.string());
    p = p.parent_path();
  }
  return Ok();
}

Result<void> MemEnv::SyncDir(const fs::path& dir) {
  std::lock_guard lock(mu_);
  const std::string key = Key(dir);
  if (!dirs_.count(key)) {
    return Err(ErrorCode::kNotFound, "open dir " + dir.string() + ": No such file or directory");
  }
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    it = Parent(it->first) == key ? durable_names_.erase(it) : std::next(it);
  }
  for (const auto& [name, node] : names_) {
    if (Parent(name) == key) durable_names_[name] = node;
  }
  return Ok();
}

}  // namespace cairn
