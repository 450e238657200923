// MemEnv: an in-memory Env (common/env.hpp) for tests and fuzzers, with the faults a real disk
// has. Everything it stores is lost with it.
//
// Durability model (what Crash() undoes): a file's bytes are durable once File::Sync() returns;
// a name created, renamed or removed is durable once SyncDir() of its parent returns.
// Directories themselves are always durable. Crash() puts every file back to its last synced
// bytes and every directory back to its last synced names; Files opened before the crash fail
// every call afterwards with IoError, as a process that died would never use them again.
//
// Faults are armed by counting calls from the moment they are set (1 = the next call). Each
// fires once. Thread-safe (one lock).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/env.hpp"

namespace cairn {

class MemEnv final : public Env {
 public:
  MemEnv() = default;

  // The `nth` WriteAt from now writes its first `keep_bytes` bytes (a short, torn write), then
  // fails with `code` (IoError for EIO, StorageFull for ENOSPC).
  void FailWrite(uint64_t nth, ErrorCode code, uint64_t keep_bytes = 0);
  // The `nth` File::Sync from now fails with IoError; the bytes stay written but not durable.
  void FailSync(uint64_t nth);
  // The `nth` Truncate from now fails with IoError and changes nothing.
  void FailTruncate(uint64_t nth);
  // Total bytes all files may hold (default: no limit). A write past it stores what fits and
  // fails with StorageFull; Allocate past it fails whole.
  void SetCapacity(std::optional<uint64_t> bytes);
  // A power cut (see the durability model above).
  void Crash();

  uint64_t write_calls() const;
  uint64_t sync_calls() const;
  // Bytes held by all files now.
  uint64_t used_bytes() const;

  Result<std::unique_ptr<File>> Open(const std::filesystem::path& path, OpenMode mode) override;
  Result<void> Rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Result<void> Remove(const std::filesystem::path& path) override;
  Result<bool> Exists(const std::filesystem::path& path) override;
  Result<bool> IsDirectory(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) override;
  Result<void> CreateDirs(const std::filesystem::path& dir) override;
  Result<void> SyncDir(const std::filesystem::path& dir) override;

 private:
  friend class MemFile;
  struct Node {
    Bytes data;
    Bytes synced;
    bool locked = false;
  };
  using Names = std::map<std::string, std::shared_ptr<Node>>;

  uint64_t UsedLocked() const;
  bool ParentExists(const std::filesystem::path& path) const;

  mutable std::mutex mu_;
  Names names_;          // GUARDED_BY(mu_): the directory entries now
  Names durable_names_;  // GUARDED_BY(mu_): the entries as of each directory's last SyncDir
  std::set<std::string> dirs_{"/", "."};  // GUARDED_BY(mu_)
  uint64_t generation_ = 0;               // GUARDED_BY(mu_): bumped by Crash()
  uint64_t writes_ = 0;                   // GUARDED_BY(mu_)
  uint64_t syncs_ = 0;                    // GUARDED_BY(mu_)
  uint64_t truncates_ = 0;                // GUARDED_BY(mu_)
  std::optional<uint64_t> fail_write_at_;
  ErrorCode fail_write_code_ = ErrorCode::kIoError;
  uint64_t fail_write_keep_ = 0;
  std::optional<uint64_t> fail_sync_at_;
  std::optional<uint64_t> fail_truncate_at_;
  std::optional<uint64_t> capacity_;
};

}  // namespace cairn
