// The SQL seam of the metadata layer (DESIGN.md "Storage": SQL with versioned migrations, SQLite
// embedded, PostgreSQL later). Repositories (accounts, tokens, pins) talk to a `Database` only;
// the interface is the small set of things both engines do the same way: statements with bound
// parameters, write transactions, read snapshots.
//
// SQL text conventions, so that one repository works on both engines:
// - parameters are positional `?` (a PostgreSQL implementation rewrites them to $1, $2, ...);
// - values are NULL, 64-bit integers, text and blobs (SQLite BLOB = PostgreSQL BYTEA);
// - engine-specific fragments (JSON access, substring search) are asked of `dialect()`;
// - the schema text of each migration is per engine (see migrations.hpp and
//   docs/formats/metadata-schema.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::metadata {

enum class SqlDialect { kSqlite, kPostgres };

// One bound parameter or one result column value.
using SqlValue = std::variant<std::nullptr_t, int64_t, std::string, Bytes>;

// One result row. Accessors take the 0-based column index; asking for a type the column does not
// hold is a programming error in the repository (the schema fixes the types), checked by
// CAIRN_CHECK, except that NULL reads as 0 / "" / {} (test with IsNull first where NULL is legal).
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;
  std::string Text(size_t i) const;
  Bytes Blob(size_t i) const;
  const SqlValue& value(size_t i) const { return values_.at(i); }

 private:
  std::vector<SqlValue> values_;
};

// A connection lent to one callback. Valid only inside that callback and only on its thread.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement that returns no rows (INSERT/UPDATE/DELETE/DDL); returns the number of rows
  // it changed. Constraint violations are AlreadyExists (UNIQUE/PRIMARY KEY) or InvalidArgument
  // (FOREIGN KEY, CHECK, NOT NULL); engine failures IoError/Corruption/Unavailable.
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const SqlValue> params = {}) = 0;
  // Runs one query and returns every row.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            std::span<const SqlValue> params = {}) = 0;
  // Runs a script of several statements without parameters (migrations).
  virtual Result<void> ExecScript(std::string_view sql) = 0;
};

using SessionFn = std::function<Result<void>(SqlSession&)>;

// A database: thread-safe; any number of threads may call Write and Read at once.
class Database {
 public:
  virtual ~Database() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs `fn` in one write transaction: committed (durably, see the implementation) if `fn`
  // returns success, rolled back if it returns an error (which Write returns). Write transactions
  // are serialized.
  virtual Result<void> Write(const SessionFn& fn) = 0;
  // Runs `fn` on a read-only snapshot (statements inside see one consistent state). Reads run
  // concurrently with each other and with a write.
  virtual Result<void> Read(const SessionFn& fn) = 0;
  // One query on its own snapshot: Read() with a single statement, which an implementation may
  // run without an explicit transaction (SQLite: autocommit, saving BEGIN and COMMIT).
  virtual Result<std::vector<SqlRow>> ReadQuery(std::string_view sql,
                                                std::span<const SqlValue> params) {
    std::vector<SqlRow> rows;
    CAIRN_TRY(Read([&](SqlSession& s) -> Result<void> {
      rows = CAIRN_TRY(s.Query(sql, params));
      return Ok();
    }));
    return rows;
  }
};

// Dialect fragments. `InStr(haystack, needle)` is an SQL expression true when the needle
// (a bound parameter expression) occurs in the haystack, case-sensitively, without LIKE's
// wildcards (SQLite: instr(h, n) > 0; PostgreSQL: strpos(h, n) > 0).
std::string SqlContains(SqlDialect dialect, std::string_view haystack, std::string_view needle);

}  // namespace cairn::metadata
