// Env: the one seam between Cairn's storage code and the file system, as LevelDB has one. The
// block store, the node identity and the upload spool reach the disk only through it, so tests
// can run them on MemEnv (common/mem_env.hpp), which injects faults: short writes, EIO or ENOSPC
// at write N, failed syncs, and a crash that drops every byte and name not yet synced.
//
// Errors: every failure names the operation and the path ("write /repo/blocks/0000000001.seg:
// No space left on device"). Codes: StorageFull for a full disk or quota (ENOSPC, EDQUOT);
// NotFound for a missing file or directory; Unavailable for a lock held elsewhere; IoError for
// everything else. Callers add their subsystem prefix.
//
// Durability: bytes written to a File are durable once File::Sync() returns; a created, renamed
// or removed name is durable once SyncDir() of its directory returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn {

// The Error for a failed system call on `what`, from `err` (an errno value), with the mapping
// above. `prefix` goes first ("blockstore: ").
Error ErrnoError(int err, const std::string& what, const std::string& prefix = "");

enum class OpenMode {
  kRead,            // existing file, read only
  kReadWrite,       // existing file
  kCreateNew,       // read-write; AlreadyExists if the name exists
  kCreateTruncate,  // read-write; created or emptied
  kCreateOrOpen,    // read-write; created if missing, kept otherwise
};

// An open file with positional I/O. One File may be used from several threads for reads while
// one thread writes (as pread/pwrite allow).
class File {
 public:
  virtual ~File() = default;
  // Reads up to out.size() bytes at `offset`; returns how many (fewer only at end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, MutableByteSpan out) = 0;
  // Writes `parts` back to back at `offset`, all of them or an error. After an error any prefix
  // of the bytes may have reached the file (callers that need a clean end truncate).
  virtual Result<void> WriteAt(uint64_t offset, std::span<const ByteSpan> parts) = 0;
  Result<void> WriteAt(uint64_t offset, ByteSpan data) {
    return WriteAt(offset, std::span<const ByteSpan>(&data, 1));
  }
  // Makes the file's data durable (fdatasync).
  virtual Result<void> Sync() = 0;
  virtual Result<void> Truncate(uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;
  // Reserves `size` bytes of disk for the file (posix_fallocate); StorageFull when there is no
  // room.
  virtual Result<void> Allocate(uint64_t size) = 0;
  // Takes an exclusive advisory lock on the file, without waiting: Unavailable when another
  // process (or another File of the same name) holds it. Released when the File is destroyed.
  virtual Result<void> LockExclusive() = 0;
  virtual const std::filesystem::path& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process's real file system. Files are created with mode 0600.
  static Env& Default();

  virtual Result<std::unique_ptr<File>> Open(const std::filesystem::path& path, OpenMode mode) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Result<void> Rename(const std::filesystem::path& from,
                              const std::filesystem::path& to) = 0;
  // Removes a file; NotFound when it does not exist.
  virtual Result<void> Remove(const std::filesystem::path& path) = 0;
  virtual Result<bool> Exists(const std::filesystem::path& path) = 0;
  virtual Result<bool> IsDirectory(const std::filesystem::path& path) = 0;
  // The names (not paths) in a directory, in no particular order.
  virtual Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) = 0;
  // Creates a directory and its missing parents (mode 0700); success if it exists.
  virtual Result<void> CreateDirs(const std::filesystem::path& dir) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Result<void> SyncDir(const std::filesystem::path& dir) = 0;
};

// Replaces `path` with `data` so that a crash leaves either the old content or the new, never a
// mix: writes `path`.tmp, syncs it, renames it over `path` and syncs the directory. The file has
// mode 0600. On error the temp file is removed (best effort).
Result<void> WriteFileAtomically(Env& env, const std::filesystem::path& path, ByteSpan data);

// The whole content of `path`; InvalidArgument when it is larger than `max_size` bytes.
Result<Bytes> ReadWholeFile(Env& env, const std::filesystem::path& path, uint64_t max_size);

}  // namespace cairn
