// Versioned schema migrations for the metadata database (docs/formats/metadata-schema.md).
//
// The table `schema_migrations(version, name, applied_at)` records every applied migration.
// `Migrate` applies the pending ones in version order, all in one write transaction, so a failed
// upgrade leaves the database exactly as it was. A database whose highest applied version is
// newer than the newest migration this binary knows is refused (NotSupported): an old binary
// must not write into a schema it does not understand.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/clock.hpp"
#include "metadata/database.hpp"

namespace cairn::metadata {

struct Migration {
  int64_t version;          // 1, 2, 3, ... without gaps
  std::string_view name;    // short description, recorded in schema_migrations
  std::string_view sqlite;  // the script for SQLite (a PostgreSQL text joins it with that backend)
};

// The migrations of this binary, in order.
std::span<const Migration> BuiltinMigrations();

// Brings the schema of `db` to the last of `migrations` (which must be ordered, versions 1..n).
// Returns the schema version after the call. Errors: NotSupported if the database is newer than
// `migrations`; the failing statement's error (and no change at all) if a migration fails.
Result<int64_t> Migrate(Database& db, std::span<const Migration> migrations,
                        const Clock& clock = SystemClock::Instance());

// The highest applied version (0 for a fresh database).
Result<int64_t> SchemaVersion(Database& db);

}  // namespace cairn::metadata
