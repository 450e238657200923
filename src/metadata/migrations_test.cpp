#include "metadata/migrations.hpp"

#include <gtest/gtest.h>

#include <array>
#include <future>
#include <limits>
#include <memory>

#include "metadata/accounts.hpp"
#include "metadata/internal/pin_oracle.hpp"
#include "metadata/internal/test_db.hpp"
#include "metadata/pins.hpp"

namespace cairn::metadata {
namespace {

// These tests fill databases at older schemas, which have no events table.
constexpr PinStoreOptions kOldSchema{.record_events = false};

using testing::TempDb;

TEST(Migrations, FreshDatabaseReachesTheLatestVersionAndReopeningIsANoOp) {
  TempDb t(false);
  EXPECT_EQ(*SchemaVersion(t.db()), 0);
  auto v = Migrate(t.db(), BuiltinMigrations());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, static_cast<int64_t>(BuiltinMigrations().size()));
  t.Reopen();
  auto again = Migrate(t.db(), BuiltinMigrations());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *v);
  ASSERT_TRUE(t.db().Read([](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT version, name FROM schema_migrations ORDER BY version"));
    EXPECT_EQ(rows.size(), BuiltinMigrations().size());
    EXPECT_EQ(rows[0].Text(1), "accounts and tokens");
    return Ok();
  }));
}

TEST(Migrations, UpgradesAnOldDatabaseKeepingItsRows) {
  TempDb t(false);
  FakeClock clock;
  // A database as the version-1 binary left it: accounts and tokens, no pins table.
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations().subspan(0, 1), clock));
  EXPECT_EQ(*SchemaVersion(t.db()), 1);
  AccountStore accounts(t.db(), clock);
  auto alice = accounts.CreateAccount("alice");
  ASSERT_TRUE(alice);
  auto token = accounts.CreateToken(alice->id, ScopeSet::Default(), std::nullopt);
  ASSERT_TRUE(token);
  auto no_pins = t.db().Read([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Query("SELECT COUNT(*) FROM pins"));
    return Ok();
  });
  EXPECT_FALSE(no_pins);

  t.Reopen();
  auto v = Migrate(t.db(), BuiltinMigrations().subspan(0, 2), clock);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, 2);
  AccountStore upgraded(t.db(), clock);
  auto p = upgraded.Authenticate(token->secret, clock.WallMicros());
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->account.name, "alice");
  {
    PinStore pins(t.db(), clock, kOldSchema);
    auto pin = pins.Create(alice->id, NewPin{"bafkqaaa", std::nullopt, {}, {}});
    ASSERT_TRUE(pin) << pin.error().ToString();
    ASSERT_TRUE(pins.Create(alice->id, NewPin{"bafkqaaa", std::nullopt, {}, {}}));
    ASSERT_TRUE(pins.UpdateStatus(pin->requestid, PinStatus::kPinned, {}));
  }
  // Version 3 adds counters and must backfill them from the existing pins.
  auto v3 = Migrate(t.db(), BuiltinMigrations().subspan(0, 3), clock);
  ASSERT_TRUE(v3) << v3.error().ToString();
  EXPECT_EQ(*v3, 3);
  PinStore pins(t.db(), clock, kOldSchema);
  EXPECT_EQ(*pins.Count(alice->id, {}), 2u);
  EXPECT_EQ(*pins.Count(alice->id, PinFilter{.statuses = {PinStatus::kPinned}}), 1u);
  EXPECT_EQ(*pins.Count(alice->id, PinFilter{.statuses = {PinStatus::kQueued}}), 1u);
}

// Version 4 backfills pin_buckets: counts with before/after on a database that had pins before
// the upgrade must equal scans, and pins added afterwards land in the backfilled buckets' tail.
TEST(Migrations, Version4BackfillsBucketsThatAgreeWithScans) {
  TempDb t(false);
  FakeClock clock;
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations().subspan(0, 3), clock));
  AccountStore accounts(t.db(), clock);
  int64_t alice = accounts.CreateAccount("alice")->id;
  int64_t bob = accounts.CreateAccount("bob")->id;
  std::vector<int64_t> created;
  {
    PinStore pins(t.db(), clock, kOldSchema);
    std::vector<std::future<Result<PinRecord>>> pending;
    for (int i = 0; i < 2500; ++i) {
      auto done = std::make_shared<std::promise<Result<PinRecord>>>();
      pending.push_back(done->get_future());
      pins.CreateAsync(i % 4 ? alice : bob, NewPin{"bafkqaaa", std::nullopt, {}, {}},
                       [done](Result<PinRecord> r) { done->set_value(std::move(r)); });
    }
    for (auto& f : pending) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().ToString();
      created.push_back(r->created_us);
      if (created.size() % 3 == 0) {
        ASSERT_TRUE(pins.UpdateStatus(r->requestid, PinStatus::kPinned, {}));
      }
    }
  }
  auto v4 = Migrate(t.db(), BuiltinMigrations().subspan(0, 4), clock);
  ASSERT_TRUE(v4) << v4.error().ToString();
  EXPECT_EQ(*v4, 4);
  PinStore pins(t.db(), clock, kOldSchema);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(pins.Create(alice, NewPin{"bafkqaaa", std::nullopt, {}, {}}));
  auto scan = [&](int64_t account, int64_t before, bool pinned_only) {
    uint64_t n = 0;
    EXPECT_TRUE(t.db().Read([&](SqlSession& s) -> Result<void> {
      std::array<SqlValue, 2> p = {account, before};
      auto rows = CAIRN_TRY(s.Query(pinned_only ? "SELECT COUNT(*) FROM pins WHERE account_id = ? "
                                                  "AND created < ? AND status = 'pinned'"
                                                : "SELECT COUNT(*) FROM pins WHERE account_id = ? "
                                                  "AND created < ?",
                                    p));
      n = static_cast<uint64_t>(rows.at(0).Int(0));
      return Ok();
    }));
    return n;
  };
  for (size_t i = 0; i < created.size(); i += 37) {
    for (int64_t account : {alice, bob}) {
      PinFilter f;
      f.before_us = created[i];
      EXPECT_EQ(*pins.Count(account, f), scan(account, created[i], false));
      f.statuses = {PinStatus::kPinned};
      EXPECT_EQ(*pins.Count(account, f), scan(account, created[i], true));
    }
  }
  PinFilter all;
  all.before_us = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*pins.Count(alice, all), *pins.Count(alice, {}));
}

// Version 6 backfills pin_meta and pin_meta_buckets from the pins' JSON: meta-filtered lists and
// counts (with ranges and statuses, across bucket boundaries) on a database that had pins before
// the upgrade must equal a brute-force filter, before and after further writes.
TEST(Migrations, Version6BackfillsPinMetaThatAgreesWithBruteForce) {
  TempDb t(false);
  FakeClock clock;
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations().subspan(0, 5), clock));
  AccountStore accounts(t.db(), clock);
  int64_t alice = accounts.CreateAccount("alice")->id;
  int64_t bob = accounts.CreateAccount("bob")->id;
  auto meta_of = [](int i) {
    StringMap meta = {{"app", i % 7 ? "bench" : "other"}};
    if (i % 3 == 0) meta["env"] = "prod";
    if (i % 11 == 0) meta.clear();
    return meta;
  };
  std::vector<PinRecord> made;
  {
    PinStore pins(t.db(), clock, kOldSchema);
    std::vector<std::future<Result<PinRecord>>> pending;
    for (int i = 0; i < 3000; ++i) {
      auto done = std::make_shared<std::promise<Result<PinRecord>>>();
      pending.push_back(done->get_future());
      pins.CreateAsync(i % 4 ? alice : bob, NewPin{"bafkqaaa", "n", {}, meta_of(i)},
                       [done](Result<PinRecord> r) { done->set_value(std::move(r)); });
    }
    for (auto& f : pending) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().ToString();
      made.push_back(*r);
    }
    for (size_t i = 0; i < made.size(); i += 3) {
      ASSERT_TRUE(pins.UpdateStatus(made[i].requestid,
                                    i % 2 ? PinStatus::kPinned : PinStatus::kFailed, {}));
    }
    for (size_t i = 1; i < made.size(); i += 10) {
      ASSERT_TRUE(pins.Delete(made[i].account_id, made[i].requestid));
    }
  }
  auto v6 = Migrate(t.db(), BuiltinMigrations().subspan(0, 6), clock);
  ASSERT_TRUE(v6) << v6.error().ToString();
  EXPECT_EQ(*v6, 6);
  ASSERT_TRUE(t.db().Read([](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT MAX(inserted), COUNT(*) FROM pin_meta_buckets"));
    EXPECT_LE(rows.at(0).Int(0), 1024);
    EXPECT_GE(rows.at(0).Int(1), 4) << "alice's app=bench spans several buckets";
    return Ok();
  }));
  PinStore pins(t.db(), clock, kOldSchema);
  auto check = [&](const char* when) {
    for (int64_t account : {alice, bob}) {
      const std::vector<PinRecord> all = testing::OracleAllPins(pins, account);
      for (size_t i = 0; i < all.size(); i += 53) {
        for (const StringMap& meta :
             {StringMap{{"app", "bench"}}, StringMap{{"app", "other"}}, StringMap{{"env", "prod"}},
              StringMap{{"app", "bench"}, {"env", "prod"}}}) {
          for (const std::vector<PinStatus>& statuses :
               {std::vector<PinStatus>{}, std::vector<PinStatus>{PinStatus::kPinned},
                std::vector<PinStatus>{PinStatus::kQueued, PinStatus::kFailed}}) {
            PinFilter f;
            f.meta = meta;
            f.statuses = statuses;
            f.before_us = all[i].created_us;
            if (i % 2) f.after_us = all[all.size() - 1 - i / 2].created_us;
            uint64_t expected_count = 0;
            auto expected = testing::OracleList(all, f, &expected_count);
            auto list = pins.List(account, f);
            ASSERT_TRUE(list) << list.error().ToString();
            std::vector<std::string> got;
            for (const PinRecord& p : *list) got.push_back(p.requestid);
            EXPECT_EQ(got, expected) << when;
            EXPECT_EQ(*pins.Count(account, f), expected_count) << when;
          }
        }
      }
    }
  };
  check("after the backfill");
  // Writes after the upgrade land in the backfilled buckets' tail (and open new ones).
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(pins.Create(i % 2 ? alice : bob, NewPin{"bafkqaaa", "n", {}, meta_of(i)}));
  }
  for (size_t i = 2; i < made.size(); i += 10) {
    ASSERT_TRUE(pins.UpdateStatus(made[i].requestid, PinStatus::kPinned, {}));
  }
  ASSERT_TRUE(pins.ClaimQueued(200));
  check("after more writes");
}

TEST(Migrations, Version13QueuesThePinnedPinsThatHaveNoSegment) {
  TempDb t(false);
  FakeClock clock;
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations().subspan(0, 12), clock));
  // At version 12: pins queued, pinned without a segment, pinned with one.
  ASSERT_TRUE(
      t.db()
          .Write([](SqlSession& s) -> Result<void> {
            CAIRN_TRY(s.Exec("INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 0)"));
            const char* rows[][2] = {{"queued", "queued"},
                                     {"bare", "pinned"},
                                     {"segmented", "pinned"},
                                     {"old", "pinned"}};
            int64_t created = 10;
            for (const auto& [id, status] : rows) {
              std::array<SqlValue, 3> row = {std::string(id), std::string(status), created--};
              CAIRN_TRY(
                  s.Exec("INSERT INTO pins (requestid, account_id, cid_text, cid, origins, meta, "
                         "status, created, updated_at, info) VALUES (?1, 1, 'x', x'01', '[]', "
                         "'{}', ?2, ?3, 0, '{}')",
                         row));
            }
            // An aggregate of two segments, one of a pin since deleted.
            CAIRN_TRY(
                s.Exec("INSERT INTO fil_aggregates (id, piece_cid, padded_size, payload_size, "
                       "created_at) VALUES (1, 'baga', 256, 254, 0)"));
            CAIRN_TRY(
                s.Exec("INSERT INTO fil_segments (pin_requestid, root_cid, car_size, comm_p, "
                       "padded_size, aggregate_id, piece_offset, created_at) VALUES "
                       "('segmented', x'01', 1, x'00', 128, 1, 0, 0), "
                       "('deleted', x'01', 5, x'00', 128, 1, 128, 0)"));
            return Ok();
          })
          .has_value());
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations(), clock));
  auto rows = t.db().ReadQuery("SELECT requestid FROM fil_unsegmented ORDER BY created", {});
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "old");
  EXPECT_EQ((*rows)[1].Text(0), "bare");
  auto bytes = t.db().ReadQuery("SELECT live_bytes, all_bytes FROM fil_aggregates", {});
  ASSERT_EQ(bytes->size(), 1u);
  EXPECT_EQ((*bytes)[0].Int(0), 1);
  EXPECT_EQ((*bytes)[0].Int(1), 6);
}

TEST(Migrations, Version15KeepsSegmentsTheirIdsAndIndexAndAllowsShards) {
  TempDb t(false);
  FakeClock clock;
  ASSERT_TRUE(Migrate(t.db(), BuiltinMigrations().subspan(0, 14), clock));
  // At version 14: two pins with a segment each in one aggregate (one evicted), a block index,
  // a history row and a deal pointing at them.
  auto filled = t.db().Write([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec("INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', 0)"));
    int64_t created = 1;
    for (const char* id : {"p1", "p2"}) {
      std::array<SqlValue, 2> row = {std::string(id), created++};
      CAIRN_TRY(
          s.Exec("INSERT INTO pins (requestid, account_id, cid_text, cid, origins, meta, "
                 "status, created, updated_at, info) VALUES (?1, 1, 'x', x'01', '[]', "
                 "'{}', 'pinned', ?2, 0, '{}')",
                 row));
    }
    CAIRN_TRY(
        s.Exec("INSERT INTO fil_aggregates (id, piece_cid, padded_size, payload_size, "
               "created_at) VALUES (1, 'baga1', 1024, 1016, 0), (2, 'baga2', 1024, 1016, "
               "0)"));
    CAIRN_TRY(
        s.Exec("INSERT INTO fil_segments (id, pin_requestid, root_cid, car_size, comm_p, "
               "padded_size, aggregate_id, piece_offset, created_at, evicted_at) VALUES "
               "(7, 'p1', x'01', 100, x'00', 128, 1, 0, 5, NULL), "
               "(9, 'p2', x'02', 200, x'00', 256, 1, 256, 6, 77)"));
    CAIRN_TRY(
        s.Exec("INSERT INTO fil_segment_blocks (multihash, segment_id, data_offset, "
               "length) VALUES (x'1220aa', 7, 40, 60), (x'1220bb', 9, 50, 150)"));
    CAIRN_TRY(
        s.Exec("INSERT INTO fil_segment_history (segment_id, aggregate_id, piece_offset, "
               "superseded_at) VALUES (9, 2, 0, 3)"));
    return Ok();
  });
  ASSERT_TRUE(filled.has_value()) << filled.error().ToString();
  auto v = Migrate(t.db(), BuiltinMigrations(), clock);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  auto rows = t.db().ReadQuery(
      "SELECT id, pin_requestid, shard, shards, first_section, sections IS NULL, car_size, "
      "aggregate_id, piece_offset, evicted_at IS NOT NULL FROM fil_segments ORDER BY id",
      {});
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Int(0), 7);
  EXPECT_EQ((*rows)[0].Text(1), "p1");
  EXPECT_EQ((*rows)[0].Int(2), 0);
  EXPECT_EQ((*rows)[0].Int(3), 1);
  EXPECT_EQ((*rows)[0].Int(4), 0);
  EXPECT_EQ((*rows)[0].Int(5), 1);  // the whole export
  EXPECT_EQ((*rows)[1].Int(0), 9);
  EXPECT_EQ((*rows)[1].Int(6), 200);
  EXPECT_EQ((*rows)[1].Int(8), 256);
  EXPECT_EQ((*rows)[1].Int(9), 1);
  auto fk = t.db().ReadQuery("PRAGMA foreign_key_check", {});
  ASSERT_TRUE(fk.has_value());
  EXPECT_TRUE(fk->empty());
  // A second shard of p1 is allowed, a second shard 0 is not.
  ASSERT_TRUE(t.db()
                  .Write([](SqlSession& s) -> Result<void> {
                    CAIRN_TRY(s.Exec(
                        "INSERT INTO fil_segments (pin_requestid, shard, shards, first_section, "
                        "sections, root_cid, car_size, comm_p, padded_size, aggregate_id, "
                        "piece_offset, created_at) VALUES ('p1', 1, 2, 3, 4, x'01', 50, x'00', "
                        "128, 2, 128, 8)"));
                    return Ok();
                  })
                  .has_value());
  EXPECT_FALSE(t.db()
                   .Write([](SqlSession& s) -> Result<void> {
                     CAIRN_TRY(s.Exec(
                         "INSERT INTO fil_segments (pin_requestid, root_cid, car_size, comm_p, "
                         "padded_size, created_at) VALUES ('p1', x'01', 1, x'00', 128, 9)"));
                     return Ok();
                   })
                   .has_value());
  // The triggers came back with the table: placing a shard counted its bytes; deleting p1 takes
  // each of its shards' bytes out of its own aggregate, and p2's history aggregate keeps p2's.
  auto before = t.db().ReadQuery("SELECT id, live_bytes FROM fil_aggregates ORDER BY id", {});
  ASSERT_TRUE(before.has_value());
  const int64_t live1 = (*before)[0].Int(1), live2 = (*before)[1].Int(1);
  ASSERT_TRUE(t.db()
                  .Write([](SqlSession& s) -> Result<void> {
                    CAIRN_TRY(s.Exec("DELETE FROM pins WHERE requestid = 'p1'"));
                    return Ok();
                  })
                  .has_value());
  auto after =
      t.db().ReadQuery("SELECT id, live_bytes, pins_changed FROM fil_aggregates ORDER BY id", {});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)[0].Int(1), live1 - 100);
  EXPECT_EQ((*after)[1].Int(1), live2 - 50);
  EXPECT_EQ((*after)[0].Int(2), 1);
  EXPECT_EQ((*after)[1].Int(2), 1);
}

TEST(Migrations, RefusesADatabaseNewerThanTheBinary) {
  TempDb t;
  ASSERT_TRUE(t.db().Write([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Exec(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)"));
    return Ok();
  }));
  auto v = Migrate(t.db(), BuiltinMigrations());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kNotSupported);
  EXPECT_NE(v.error().message().find("99"), std::string::npos) << v.error().message();
}

TEST(Migrations, AFailingMigrationChangesNothing) {
  TempDb t(false);
  constexpr std::array<Migration, 2> bad = {{
      {1, "good", "CREATE TABLE a (x BIGINT);"},
      {2, "bad", "CREATE TABLE b (y BIGINT); THIS IS NOT SQL;"},
  }};
  auto v = Migrate(t.db(), bad);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("migration 2 (bad)"), std::string::npos)
      << v.error().message();
  EXPECT_EQ(*SchemaVersion(t.db()), 0);
  auto a = t.db().Read([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(s.Query("SELECT COUNT(*) FROM a"));
    return Ok();
  });
  EXPECT_FALSE(a) << "table a of the rolled-back migration 1 exists";
}

TEST(Migrations, RejectsAListWithGaps) {
  TempDb t(false);
  constexpr std::array<Migration, 1> gap = {{{2, "two", "CREATE TABLE a (x BIGINT);"}}};
  auto v = Migrate(t.db(), gap);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace cairn::metadata
