#include "metadata/open.hpp"

#include "metadata/migrations.hpp"

namespace cairn::metadata {

Result<std::unique_ptr<SqliteDatabase>> OpenSqliteMetadata(const std::string& path,
                                                           SqliteOptions options) {
  auto db = CAIRN_TRY(SqliteDatabase::Open(path, options));
  CAIRN_TRY(Migrate(*db, BuiltinMigrations()));
  return db;
}

}  // namespace cairn::metadata
