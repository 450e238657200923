// Test helper: a migrated SQLite database in a fresh temporary directory, removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "metadata/migrations.hpp"
#include "metadata/sqlite_database.hpp"

namespace cairn::metadata::testing {

class TempDb {
 public:
  explicit TempDb(bool migrate = true, SqliteOptions options = {}) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-metadata-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    auto db = SqliteDatabase::Open(path(), options);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    db_ = std::move(*db);
    if (migrate) {
      auto v = Migrate(*db_, BuiltinMigrations());
      EXPECT_TRUE(v.has_value()) << v.error().ToString();
    }
  }
  ~TempDb() {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return (dir_ / "cairn.db").string(); }
  SqliteDatabase& db() { return *db_; }
  // Closes and reopens the database file (e.g. to check what survived).
  void Reopen(SqliteOptions options = {}) {
    db_.reset();
    auto db = SqliteDatabase::Open(path(), options);
    EXPECT_TRUE(db.has_value()) << db.error().ToString();
    db_ = std::move(*db);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

}  // namespace cairn::metadata::testing
