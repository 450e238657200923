#include "metadata/sqlite_database.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace cairn::metadata {

namespace {

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg =
      "metadata: " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext & 0xff) {
    case SQLITE_CONSTRAINT:
      if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error(ErrorCode::kAlreadyExists, msg);
      }
      return Error(ErrorCode::kInvalidArgument, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ErrorCode::kUnavailable, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kCorruption, msg);
    case SQLITE_FULL:
      return Error(ErrorCode::kStorageFull, msg);
    default:
      return Error(ErrorCode::kIoError, msg);
  }
}

}  // namespace

bool SqlRow::IsNull(size_t i) const {
  return std::holds_alternative<std::nullptr_t>(values_.at(i));
}

int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (IsNull(i)) return 0;
  // The schema declares this column an integer; anything else is a repository bug.
  CAIRN_CHECK(std::holds_alternative<int64_t>(v));
  return std::get<int64_t>(v);
}

std::string SqlRow::Text(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (IsNull(i)) return {};
  if (const auto* b = std::get_if<Bytes>(&v)) return std::string(b->begin(), b->end());
  // Text columns hold text by schema.
  CAIRN_CHECK(std::holds_alternative<std::string>(v));
  return std::get<std::string>(v);
}

Bytes SqlRow::Blob(size_t i) const {
  const SqlValue& v = values_.at(i);
  if (IsNull(i)) return {};
  if (const auto* s = std::get_if<std::string>(&v)) return ToBytes(*s);
  // Blob columns hold blobs by schema.
  CAIRN_CHECK(std::holds_alternative<Bytes>(v));
  return std::get<Bytes>(v);
}

std::string SqlContains(SqlDialect dialect, std::string_view haystack, std::string_view needle) {
  std::string fn = dialect == SqlDialect::kSqlite ? "instr(" : "strpos(";
  return fn + std::string(haystack) + ", " + std::string(needle) + ") > 0";
}

// One sqlite3 connection with a cache of prepared statements (keyed by SQL text).
class SqliteConnection : public SqlSession {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<int64_t> Exec(std::string_view sql, std::span<const SqlValue> params) override {
    sqlite3_stmt* stmt = CAIRN_TRY(Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      Error e = SqliteError(db_, rc, "exec");
      sqlite3_reset(stmt);
      return Err(e);
    }
    sqlite3_reset(stmt);
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    std::span<const SqlValue> params) override {
    sqlite3_stmt* stmt = CAIRN_TRY(Prepare(sql, params));
    std::vector<SqlRow> rows;
    int ncol = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<SqlValue> values;
      values.reserve(ncol);
      for (int c = 0; c < ncol; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_double(stmt, c)));
            break;
          case SQLITE_BLOB: {
            const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, c));
            int n = sqlite3_column_bytes(stmt, c);
            values.emplace_back(Bytes(p, p + n));
            break;
          }
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            int n = sqlite3_column_bytes(stmt, c);
            values.emplace_back(std::string(p ? p : "", static_cast<size_t>(n)));
            break;
          }
        }
      }
      rows.emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) {
      Error e = SqliteError(db_, rc, "query");
      sqlite3_reset(stmt);
      return Err(e);
    }
    sqlite3_reset(stmt);
    return rows;
  }

  Result<void> ExecScript(std::string_view sql) override {
    std::string text(sql);
    char* errmsg = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &errmsg);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(db_, rc, "script");
      sqlite3_free(errmsg);
      return Err(e);
    }
    return Ok();
  }

  sqlite3* handle() { return db_; }

 private:
  static constexpr size_t kMaxCachedStatements = 256;

  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::span<const SqlValue> params) {
    std::string key(sql);
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return Err(SqliteError(db_, rc, "prepare"));
      if (stmt == nullptr) {
        return Err(ErrorCode::kInternal, "metadata: empty SQL statement");
      }
      if (cache_.size() >= kMaxCachedStatements) {
        for (auto& [s, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
      }
      cache_.emplace(std::move(key), stmt);
    }
    sqlite3_clear_bindings(stmt);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return Err(ErrorCode::kInternal, "metadata: statement expects " +
                                           std::to_string(sqlite3_bind_parameter_count(stmt)) +
                                           " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return sqlite3_bind_null(stmt, idx);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              return sqlite3_bind_int64(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
              return sqlite3_bind_text64(stmt, idx, v.data(), v.size(), SQLITE_TRANSIENT,
                                         SQLITE_UTF8);
            } else {
              return sqlite3_bind_blob64(stmt, idx, v.data(), v.size(), SQLITE_TRANSIENT);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) return Err(SqliteError(db_, rc, "bind"));
    }
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

SqliteDatabase::SqliteDatabase(std::string path, SqliteOptions options)
    : path_(std::move(path)), options_(options) {}

SqliteDatabase::~SqliteDatabase() = default;

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             SqliteOptions options) {
  if (options.max_readers < 1) options.max_readers = 1;
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, options));
  db->writer_ = CAIRN_TRY(db->OpenConnection(/*writer=*/true));
  return db;
}

Result<std::unique_ptr<SqliteConnection>> SqliteDatabase::OpenConnection(bool writer) {
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (writer ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY);
  int rc = sqlite3_open_v2(path_.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(handle, rc, "open " + path_);
    sqlite3_close_v2(handle);
    return Err(ErrorCode::kIoError, e.message());
  }
  auto conn = std::make_unique<SqliteConnection>(handle);
  sqlite3_busy_timeout(handle, options_.busy_timeout_ms);
  sqlite3_extended_result_codes(handle, 1);
  std::string pragmas = "PRAGMA foreign_keys=ON;";
  pragmas += "PRAGMA mmap_size=" + std::to_string(std::max<int64_t>(0, options_.mmap_bytes)) + ";";
  if (writer) {
    pragmas += "PRAGMA journal_mode=WAL;";
    pragmas +=
        options_.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  }
  auto r = conn->ExecScript(pragmas);
  if (!r) {
    return Err(r.error().code() == ErrorCode::kCorruption
                   ? r.error()
                   : Error(ErrorCode::kIoError, r.error().message() + " (" + path_ + ")"));
  }
  if (writer) {
    // journal_mode=WAL silently stays "delete" on file systems without shared memory; say so.
    auto mode = CAIRN_TRY(conn->Query("PRAGMA journal_mode", {}));
    if (mode.empty() || mode[0].Text(0) != "wal") {
      return Err(ErrorCode::kIoError, "metadata: " + path_ + ": cannot enable WAL journal mode");
    }
  }
  return conn;
}

Result<void> SqliteDatabase::Write(const SessionFn& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  CAIRN_TRY(writer_->Exec("BEGIN IMMEDIATE", {}));
  Result<void> r = fn(*writer_);
  if (!r) {
    (void)writer_->Exec("ROLLBACK", {});
    return r;
  }
  auto c = writer_->Exec("COMMIT", {});
  if (!c) {
    (void)writer_->Exec("ROLLBACK", {});
    return Err(c.error());
  }
  return Ok();
}

Result<std::unique_ptr<SqliteConnection>> SqliteDatabase::AcquireReader() {
  std::unique_lock<std::mutex> lock(read_mu_);
  read_cv_.wait(lock,
                [&] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
  if (!idle_readers_.empty()) {
    auto conn = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return conn;
  }
  ++open_readers_;
  lock.unlock();
  auto conn = OpenConnection(/*writer=*/false);
  if (!conn) {
    std::lock_guard<std::mutex> relock(read_mu_);
    --open_readers_;
    read_cv_.notify_one();
  }
  return conn;
}

void SqliteDatabase::ReleaseReader(std::unique_ptr<SqliteConnection> conn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  idle_readers_.push_back(std::move(conn));
  read_cv_.notify_one();
}

Result<void> SqliteDatabase::Read(const SessionFn& fn) {
  auto conn = CAIRN_TRY(AcquireReader());
  Result<void> r = conn->Exec("BEGIN", {}).map([](int64_t) {});
  if (r) {
    r = fn(*conn);
    auto c = conn->Exec(r ? "COMMIT" : "ROLLBACK", {});
    if (r && !c) r = Err(c.error());
  }
  ReleaseReader(std::move(conn));
  return r;
}

Result<std::vector<SqlRow>> SqliteDatabase::ReadQuery(std::string_view sql,
                                                      std::span<const SqlValue> params) {
  auto conn = CAIRN_TRY(AcquireReader());
  auto rows = conn->Query(sql, params);  // autocommit: the statement is its own transaction
  ReleaseReader(std::move(conn));
  return rows;
}

}  // namespace cairn::metadata
