#include "metadata/migrations.hpp"

#include <array>
#include <string>

namespace cairn::metadata {

namespace {

// Keep docs/formats/metadata-schema.md in step with these scripts. Never edit a released
// migration: add a new one.
constexpr std::string_view kAccountsAndTokens = R"sql(
CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  created_at  BIGINT  NOT NULL,
  disabled_at BIGINT
);
CREATE TABLE tokens (
  id           TEXT    PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  secret_hash  BLOB    NOT NULL UNIQUE,
  scopes       TEXT    NOT NULL,
  created_at   BIGINT  NOT NULL,
  expires_at   BIGINT,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
CREATE INDEX tokens_account ON tokens(account_id, created_at);
)sql";

constexpr std::string_view kPins = R"sql(
CREATE TABLE pins (
  requestid  TEXT    PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  cid_text   TEXT    NOT NULL,
  cid        BLOB    NOT NULL,
  name       TEXT,
  name_fold  TEXT,
  origins    TEXT    NOT NULL,
  meta       TEXT    NOT NULL,
  status     TEXT    NOT NULL CHECK (status IN ('queued', 'pinning', 'pinned', 'failed')),
  created    BIGINT  NOT NULL,
  updated_at BIGINT  NOT NULL,
  info       TEXT    NOT NULL,
  dag_size   BIGINT
);
CREATE UNIQUE INDEX pins_created ON pins(created);
CREATE INDEX pins_account_created ON pins(account_id, created);
CREATE INDEX pins_account_status_created ON pins(account_id, status, created);
CREATE INDEX pins_account_cid_created ON pins(account_id, cid, created);
CREATE INDEX pins_status_created ON pins(status, created);
CREATE INDEX pins_cid_status ON pins(cid, status);
)sql";

// Per-account, per-status pin counts, kept by triggers in the same transaction as the change, so
// that the unfiltered (or status-only) count of `GET /pins` is a lookup, not a scan.
constexpr std::string_view kPinCounts = R"sql(
CREATE TABLE pin_counts (
  account_id INTEGER NOT NULL,
  status     TEXT    NOT NULL,
  n          BIGINT  NOT NULL,
  PRIMARY KEY (account_id, status)
);
INSERT INTO pin_counts (account_id, status, n)
  SELECT account_id, status, COUNT(*) FROM pins GROUP BY account_id, status;
CREATE TRIGGER pins_count_insert AFTER INSERT ON pins BEGIN
  INSERT INTO pin_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER pins_count_delete AFTER DELETE ON pins BEGIN
  UPDATE pin_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
END;
CREATE TRIGGER pins_count_update AFTER UPDATE OF status, account_id ON pins
  WHEN OLD.status <> NEW.status OR OLD.account_id <> NEW.account_id BEGIN
  UPDATE pin_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
  INSERT INTO pin_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END;
)sql";

constexpr std::array<Migration, 3> kMigrations = {{
    {1, "accounts and tokens", kAccountsAndTokens},
    {2, "pins", kPins},
    {3, "pin counts", kPinCounts},
}};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

Result<int64_t> CurrentVersion(SqlSession& s) {
  auto rows = CAIRN_TRY(s.Query("SELECT MAX(version) FROM schema_migrations"));
  return rows.empty() ? 0 : rows[0].Int(0);
}

}  // namespace

std::span<const Migration> BuiltinMigrations() { return kMigrations; }

Result<int64_t> Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int64_t>(i) + 1) {
      return Err(ErrorCode::kInternal, "metadata: migration list out of order at version " +
                                           std::to_string(migrations[i].version));
    }
  }
  const int64_t latest = static_cast<int64_t>(migrations.size());
  int64_t version = 0;
  CAIRN_TRY(db.Write([&](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec(kCreateMigrationsTable));
    version = CAIRN_TRY(CurrentVersion(s));
    if (version > latest) {
      return Err(ErrorCode::kNotSupported,
                 "metadata: database schema version " + std::to_string(version) +
                     " is newer than this binary supports (" + std::to_string(latest) +
                     "); upgrade cairn");
    }
    for (int64_t v = version + 1; v <= latest; ++v) {
      const Migration& m = migrations[static_cast<size_t>(v - 1)];
      auto r = s.ExecScript(m.sqlite);
      if (!r) {
        return Err(r.error().WithContext("migration " + std::to_string(v) + " (" +
                                         std::string(m.name) + "): "));
      }
      std::array<SqlValue, 3> params = {v, std::string(m.name), clock.WallMicros()};
      CAIRN_TRY(s.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                       params));
    }
    version = latest;
    return Ok();
  }));
  return version;
}

Result<int64_t> SchemaVersion(Database& db) {
  int64_t version = 0;
  CAIRN_TRY(db.Write([&](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec(kCreateMigrationsTable));
    version = CAIRN_TRY(CurrentVersion(s));
    return Ok();
  }));
  return version;
}

}  // namespace cairn::metadata
