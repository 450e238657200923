// Opening the metadata database of a repo: the SQLite file, brought to this binary's schema
// (migrations.hpp). The composition root (apps/cairn) calls this; repositories take the result.
#pragma once

#include <memory>
#include <string>

#include "metadata/sqlite_database.hpp"

namespace cairn::metadata {

// Opens (creating if absent) the SQLite database at `path` and applies pending migrations.
// Errors: IoError (cannot open), Corruption (not a database), NotSupported (newer schema).
Result<std::unique_ptr<SqliteDatabase>> OpenSqliteMetadata(const std::string& path,
                                                           SqliteOptions options = {});

}  // namespace cairn::metadata
