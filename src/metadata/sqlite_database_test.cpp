#include "metadata/sqlite_database.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>

#include "metadata/internal/test_db.hpp"

namespace cairn::metadata {
namespace {

using testing::TempDb;

Result<void> MakeTable(Database& db) {
  return db.Write([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.ExecScript("CREATE TABLE t (k TEXT PRIMARY KEY, i BIGINT, b BLOB, n TEXT)"));
    return Ok();
  });
}

TEST(SqliteDatabase, RoundTripsEveryValueType) {
  TempDb t(/*migrate=*/false);
  ASSERT_TRUE(MakeTable(t.db()));
  Bytes blob = {0, 1, 2, 255};
  ASSERT_TRUE(t.db().Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 4> p = {std::string("key"), int64_t{-1234567890123}, blob, nullptr};
    int64_t n = CAIRN_TRY(s.Exec("INSERT INTO t VALUES (?, ?, ?, ?)", p));
    EXPECT_EQ(n, 1);
    return Ok();
  }));
  ASSERT_TRUE(t.db().Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT k, i, b, n FROM t"));
    EXPECT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Text(0), "key");
    EXPECT_EQ(rows[0].Int(1), -1234567890123);
    EXPECT_EQ(rows[0].Blob(2), blob);
    EXPECT_TRUE(rows[0].IsNull(3));
    return Ok();
  }));
}

TEST(SqliteDatabase, RollsBackWhenTheCallbackFails) {
  TempDb t(false);
  ASSERT_TRUE(MakeTable(t.db()));
  auto r = t.db().Write([](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> p = {std::string("a")};
    CAIRN_TRY(s.Exec("INSERT INTO t (k) VALUES (?)", p));
    return Err(ErrorCode::kInternal, "test: abort");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "test: abort");
  ASSERT_TRUE(t.db().Read([](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT COUNT(*) FROM t"));
    EXPECT_EQ(rows[0].Int(0), 0);
    return Ok();
  }));
}

TEST(SqliteDatabase, MapsUniqueViolationToAlreadyExists) {
  TempDb t(false);
  ASSERT_TRUE(MakeTable(t.db()));
  auto insert = [&] {
    return t.db().Write([](SqlSession& s) -> Result<void> {
      std::array<SqlValue, 1> p = {std::string("dup")};
      CAIRN_TRY(s.Exec("INSERT INTO t (k) VALUES (?)", p));
      return Ok();
    });
  };
  ASSERT_TRUE(insert());
  auto r = insert();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
}

TEST(SqliteDatabase, RejectsWrongParameterCountAndBadSql) {
  TempDb t(false);
  ASSERT_TRUE(MakeTable(t.db()));
  auto r = t.db().Read([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Query("SELECT * FROM t WHERE k = ?"));
    return Ok();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
  auto bad = t.db().Read([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Query("SELEKT nonsense"));
    return Ok();
  });
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("syntax"), std::string::npos) << bad.error().ToString();
}

TEST(SqliteDatabase, UsesWalAndFullSync) {
  TempDb t(false);
  ASSERT_TRUE(t.db().Write([](SqlSession& s) -> Result<void> {
    auto mode = CAIRN_TRY(s.Query("PRAGMA journal_mode"));
    EXPECT_EQ(mode[0].Text(0), "wal");
    auto sync = CAIRN_TRY(s.Query("PRAGMA synchronous"));
    EXPECT_EQ(sync[0].Int(0), 2);  // FULL
    auto fk = CAIRN_TRY(s.Query("PRAGMA foreign_keys"));
    EXPECT_EQ(fk[0].Int(0), 1);
    return Ok();
  }));
}

TEST(SqliteDatabase, OpeningAFileThatIsNotADatabaseFails) {
  TempDb t(false);
  std::string other = t.path() + ".junk";
  {
    FILE* f = std::fopen(other.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::string junk(4096, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  auto db = SqliteDatabase::Open(other);
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.error().code() == ErrorCode::kCorruption ||
              db.error().code() == ErrorCode::kIoError)
      << db.error().ToString();
  auto missing_dir = SqliteDatabase::Open("/nonexistent-dir/cairn.db");
  ASSERT_FALSE(missing_dir);
  EXPECT_EQ(missing_dir.error().code(), ErrorCode::kIoError);
}

// Inserts rows "a<i>" and "b<i>" in one transaction per i, for i < n: readers never see an odd
// count.
Result<void> InsertPairs(Database& db, int n) {
  for (int i = 0; i < n; ++i) {
    CAIRN_TRY(db.Write([&](SqlSession& s) -> Result<void> {
      std::array<SqlValue, 1> p1 = {"a" + std::to_string(i)};
      std::array<SqlValue, 1> p2 = {"b" + std::to_string(i)};
      CAIRN_TRY(s.Exec("INSERT INTO t (k) VALUES (?)", p1));
      CAIRN_TRY(s.Exec("INSERT INTO t (k) VALUES (?)", p2));
      return Ok();
    }));
  }
  return Ok();
}

TEST(SqliteDatabase, ReadersSeeASnapshotWhileAWriterCommits) {
  TempDb t(false);
  ASSERT_TRUE(MakeTable(t.db()));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        auto r = t.db().Read([&](SqlSession& s) -> Result<void> {
          auto a = CAIRN_TRY(s.Query("SELECT COUNT(*) FROM t"));
          auto b = CAIRN_TRY(s.Query("SELECT COUNT(*) FROM t"));
          // Rows are inserted in pairs; a snapshot never sees half a pair or a change between
          // two statements of one Read.
          if (a[0].Int(0) != b[0].Int(0) || a[0].Int(0) % 2 != 0) ++bad;
          return Ok();
        });
        if (!r) ++bad;
      }
    });
  }
  auto written = InsertPairs(t.db(), 200);
  stop = true;
  for (auto& r : readers) r.join();
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_EQ(bad.load(), 0);
}

// ReadQuery runs one statement without an explicit transaction: it sees whole commits only, and
// a failing statement leaves the reader usable.
TEST(SqliteDatabase, ReadQuerySeesWholeCommitsAndSurvivesErrors) {
  TempDb t(false);
  ASSERT_TRUE(MakeTable(t.db()));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      auto rows = t.db().ReadQuery("SELECT COUNT(*) FROM t", {});
      if (!rows || (*rows)[0].Int(0) % 2 != 0) ++bad;
      if (t.db().ReadQuery("SELECT nope FROM t", {})) ++bad;
    }
  });
  auto written = InsertPairs(t.db(), 100);
  stop = true;
  reader.join();
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_EQ(bad.load(), 0);
  std::array<SqlValue, 1> key = {std::string("b7")};
  auto rows = t.db().ReadQuery("SELECT k FROM t WHERE k = ?", key);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "b7");
}

}  // namespace
}  // namespace cairn::metadata
