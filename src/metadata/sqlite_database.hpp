// SQLite implementation of the metadata `Database` seam (the embedded default, DESIGN.md
// "Storage").
//
// Connections and threads:
// - one writer connection, used by one Write() at a time (a mutex serializes writers; SQLite
//   allows one writer anyway, and queuing in-process is cheaper than SQLITE_BUSY retries);
// - a pool of reader connections (at most `max_readers`, opened on demand, each used by one
//   Read() at a time). WAL mode lets readers run beside the writer on their own snapshot.
// Connections are opened with SQLITE_OPEN_NOMUTEX: our locking guarantees that a connection is
// only ever used by one thread at a time.
//
// Durability: journal_mode=WAL with synchronous=FULL, so a transaction is on disk (the WAL is
// fsynced) when Write() returns. NORMAL would only sync at checkpoints, and a power loss could
// drop pins we already acknowledged with 202. The cost of FULL is one fsync per transaction;
// callers that need throughput batch many rows into one transaction (the pin store's group
// commit), which amortizes the fsync over the batch.
// busy_timeout (default 5 s) covers other processes (e.g. a CLI run beside `cairn serve`)
// holding the write lock. foreign_keys=ON on every connection.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metadata/database.hpp"

namespace cairn::metadata {

struct SqliteOptions {
  int max_readers = 8;
  int busy_timeout_ms = 5000;
  // FULL (durable at commit) unless a test or a throw-away database asks for NORMAL.
  bool synchronous_full = true;
  // Pages are read through a shared memory map of up to this many bytes of the database file
  // (PRAGMA mmap_size): a page a reader already has costs no read() and no copy. 0 reads every
  // page with pread into each connection's own cache.
  int64_t mmap_bytes = int64_t{1} << 30;
};

class SqliteConnection;

class SqliteDatabase : public Database {
 public:
  // Opens (creating if absent) the database file at `path`. IoError if it cannot be opened or
  // is not a database.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                      SqliteOptions options = {});
  ~SqliteDatabase() override;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Result<void> Write(const SessionFn& fn) override;
  Result<void> Read(const SessionFn& fn) override;
  Result<std::vector<SqlRow>> ReadQuery(std::string_view sql,
                                        std::span<const SqlValue> params) override;

  const std::string& path() const { return path_; }

 private:
  SqliteDatabase(std::string path, SqliteOptions options);
  Result<std::unique_ptr<SqliteConnection>> OpenConnection(bool writer);
  Result<std::unique_ptr<SqliteConnection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqliteConnection> conn);

  const std::string path_;
  const SqliteOptions options_;

  std::mutex write_mu_;
  std::unique_ptr<SqliteConnection> writer_;  // GUARDED_BY(write_mu_)

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;  // GUARDED_BY(read_mu_)
  int open_readers_ = 0;                                         // GUARDED_BY(read_mu_)
};

}  // namespace cairn::metadata
