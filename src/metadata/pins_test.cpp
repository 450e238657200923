#include "metadata/pins.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "metadata/accounts.hpp"
#include "metadata/internal/pin_oracle.hpp"
#include "metadata/internal/test_db.hpp"
#include "multiformats/multicodec.hpp"

// g++ 12 reports a false "maybe-uninitialized" inside std::optional<std::string> assignments at
// -O2 (GCC bug 105562 family); nothing here reads an uninitialized string.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cairn::metadata {
namespace {

using multiformats::Cid;
using testing::TempDb;

constexpr uint64_t kRaw = 0x55;
constexpr uint64_t kDagPb = 0x70;
constexpr uint64_t kSha256 = 0x12;

Cid RawCid(int i) { return *Cid::Compute(1, kRaw, kSha256, AsBytes("block " + std::to_string(i))); }

NewPin PinOf(const Cid& cid, std::optional<std::string> name = std::nullopt, StringMap meta = {}) {
  return NewPin{cid.ToString(), std::move(name), {}, std::move(meta)};
}

class PinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_ = accounts_.CreateAccount("alice")->id;
    bob_ = accounts_.CreateAccount("bob")->id;
  }
  PinRecord MustCreate(int64_t account, const NewPin& pin) {
    auto r = pins_.Create(account, pin);
    EXPECT_TRUE(r) << r.error().ToString();
    clock_.Advance(1000);
    return r ? *r : PinRecord{};
  }
  // Creates `n` pins at once through the group commit (pin i is make(i) = {account, pin}) and
  // returns them in order; a failed create fails the test.
  std::vector<PinRecord> CreateConcurrently(
      int n, const std::function<std::pair<int64_t, NewPin>(int)>& make) {
    std::vector<std::future<Result<PinRecord>>> pending;
    for (int i = 0; i < n; ++i) {
      auto done = std::make_shared<std::promise<Result<PinRecord>>>();
      pending.push_back(done->get_future());
      auto [account, pin] = make(i);
      pins_.CreateAsync(account, std::move(pin),
                        [done](Result<PinRecord> r) { done->set_value(std::move(r)); });
    }
    std::vector<PinRecord> made;
    for (auto& f : pending) {
      auto r = f.get();
      EXPECT_TRUE(r) << r.error().ToString();
      if (r) made.push_back(*r);
    }
    return made;
  }
  std::vector<std::string> ListNames(int64_t account, PinFilter f) {
    std::vector<std::string> out;
    auto list = pins_.List(account, f);
    EXPECT_TRUE(list) << list.error().ToString();
    if (!list) return out;
    for (const PinRecord& p : *list) out.push_back(p.name.value_or("<none>"));
    auto count = pins_.Count(account, f);
    EXPECT_TRUE(count);
    if (count && f.limit >= 1000) {
      EXPECT_EQ(*count, out.size()) << "Count disagrees with List";
    }
    return out;
  }

  TempDb t_;
  FakeClock clock_;
  AccountStore accounts_{t_.db(), clock_};
  PinStore pins_{t_.db(), clock_};
  int64_t alice_ = 0;
  int64_t bob_ = 0;
};

TEST_F(PinsTest, CreateStoresThePinAsSubmittedAndGetReturnsIt) {
  Cid cid = RawCid(1);
  std::string upper = cid.ToString(multiformats::Multibase::kBase32Upper);
  NewPin in{upper,
            "My File.pdf",
            {"/ip4/1.2.3.4/tcp/4001/p2p/QmPeer", "/dns/x/tcp/1"},
            {{"app_id", "99"}, {"k\"ey", "v\\al\nue"}}};
  auto created = pins_.Create(alice_, in);
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ(created->status, PinStatus::kQueued);
  EXPECT_EQ(created->created_us, clock_.WallMicros());
  EXPECT_EQ(created->requestid.size(), 36u);
  EXPECT_EQ(created->requestid[14], '4');

  auto got = pins_.Get(alice_, created->requestid);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->cid_text, upper) << "the CID text is echoed exactly as submitted";
  EXPECT_EQ(got->cid, cid);
  EXPECT_EQ(got->name, "My File.pdf");
  EXPECT_EQ(got->origins, in.origins);
  EXPECT_EQ(got->meta, in.meta);
  EXPECT_EQ(got->status, PinStatus::kQueued);
  EXPECT_EQ(got->created_us, created->created_us);
  EXPECT_TRUE(got->info.empty());
  EXPECT_FALSE(got->dag_size);
  EXPECT_FALSE(got->name.has_value() && got->name->empty());

  auto unnamed = MustCreate(alice_, PinOf(RawCid(2)));
  EXPECT_FALSE(pins_.Get(alice_, unnamed.requestid)->name.has_value());
}

TEST_F(PinsTest, CreateRejectsBadInput) {
  auto bad_cid = pins_.Create(alice_, NewPin{"not-a-cid", std::nullopt, {}, {}});
  ASSERT_FALSE(bad_cid);
  EXPECT_EQ(bad_cid.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_cid.error().message().find("not-a-cid"), std::string::npos);
  EXPECT_EQ(pins_.Create(alice_, PinOf(RawCid(1), std::string(256, 'n'))).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(pins_.Create(alice_, PinOf(RawCid(1), std::string(255, 'n'))));
  NewPin many_origins = PinOf(RawCid(1));
  many_origins.origins.assign(21, "/ip4/1.1.1.1/tcp/1");
  EXPECT_EQ(pins_.Create(alice_, many_origins).error().code(), ErrorCode::kInvalidArgument);
  auto unknown = pins_.Create(9999, PinOf(RawCid(1)));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_F(PinsTest, UnknownAccountInABatchDoesNotFailItsNeighbours) {
  std::vector<std::future<Result<PinRecord>>> results;
  std::vector<std::promise<Result<PinRecord>>> promises(50);
  for (int i = 0; i < 50; ++i) {
    results.push_back(promises[i].get_future());
    pins_.CreateAsync(i % 10 == 0 ? 424242 : alice_, PinOf(RawCid(i)),
                      [&promises, i](Result<PinRecord> r) { promises[i].set_value(std::move(r)); });
  }
  for (int i = 0; i < 50; ++i) {
    auto r = results[i].get();
    if (i % 10 == 0) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
    } else {
      EXPECT_TRUE(r) << r.error().ToString();
    }
  }
  EXPECT_EQ(*pins_.Count(alice_, {}), 45u);
}

TEST_F(PinsTest, TenantsCannotSeeOrTouchEachOthersPins) {
  auto a = MustCreate(alice_, PinOf(RawCid(1), "shared-name"));
  auto b = MustCreate(bob_, PinOf(RawCid(1), "shared-name"));
  EXPECT_EQ(pins_.Get(bob_, a.requestid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(pins_.Delete(bob_, a.requestid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(pins_.Replace(bob_, a.requestid, PinOf(RawCid(2))).error().code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(pins_.Get(alice_, a.requestid)) << "bob's attempts left alice's pin alone";
  PinFilter f;
  f.cids = {RawCid(1)};
  f.name = "shared-name";
  auto list = pins_.List(alice_, f);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].requestid, a.requestid);
  EXPECT_EQ(*pins_.Count(bob_, f), 1u);
  EXPECT_EQ((*pins_.List(bob_, f))[0].requestid, b.requestid);
}

TEST_F(PinsTest, CreatedIsUniqueWhenTheClockStandsStill) {
  std::vector<int64_t> created;
  for (int i = 0; i < 50; ++i)
    created.push_back(pins_.Create(alice_, PinOf(RawCid(i)))->created_us);
  for (size_t i = 1; i < created.size(); ++i) EXPECT_EQ(created[i], created[i - 1] + 1);
  EXPECT_EQ(created[0], clock_.WallMicros());
}

TEST_F(PinsTest, CreatedIsUniqueUnderConcurrentCreates) {
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::vector<int64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = pins_.Create(t % 2 ? alice_ : bob_, PinOf(RawCid(t * 1000 + i)));
        if (r) seen[t].push_back(r->created_us);
        if (i % 7 == 0) clock_.Advance(1);  // the clock moves a little, sometimes
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& v : seen) {
    EXPECT_EQ(v.size(), static_cast<size_t>(kPerThread));
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(PinsTest, CreatedNeverGoesBackwardsWhenTheClockDoes) {
  auto first = MustCreate(alice_, PinOf(RawCid(1)));
  clock_.Advance(-1'000'000);
  auto second = MustCreate(alice_, PinOf(RawCid(2)));
  EXPECT_GT(second.created_us, first.created_us);
}

TEST_F(PinsTest, ReplaceSwapsThePinAtomically) {
  auto old_pin = MustCreate(alice_, PinOf(RawCid(1), "old", {{"k", "v"}}));
  ASSERT_TRUE(pins_.UpdateStatus(old_pin.requestid, PinStatus::kPinned, {{"x", "y"}}, 77));
  auto replaced = pins_.Replace(alice_, old_pin.requestid, PinOf(RawCid(2), "new"));
  ASSERT_TRUE(replaced) << replaced.error().ToString();
  EXPECT_NE(replaced->requestid, old_pin.requestid);
  EXPECT_GT(replaced->created_us, old_pin.created_us);
  EXPECT_EQ(replaced->status, PinStatus::kQueued);
  EXPECT_EQ(pins_.Get(alice_, old_pin.requestid).error().code(), ErrorCode::kNotFound);
  auto got = pins_.Get(alice_, replaced->requestid);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->cid, RawCid(2));
  EXPECT_EQ(got->name, "new");
  EXPECT_TRUE(got->meta.empty());
  EXPECT_TRUE(got->info.empty());
  EXPECT_EQ(*pins_.Count(alice_, {}), 1u);
  // A replacement that fails validation leaves the old pin in place.
  EXPECT_FALSE(pins_.Replace(alice_, replaced->requestid, NewPin{"nope", {}, {}, {}}));
  EXPECT_TRUE(pins_.Get(alice_, replaced->requestid));
  EXPECT_EQ(pins_.Replace(alice_, "no-such-id", PinOf(RawCid(3))).error().code(),
            ErrorCode::kNotFound);
}

TEST_F(PinsTest, DeleteRemovesOnlyThatPin) {
  auto a = MustCreate(alice_, PinOf(RawCid(1)));
  auto b = MustCreate(alice_, PinOf(RawCid(2)));
  ASSERT_TRUE(pins_.Delete(alice_, a.requestid));
  EXPECT_EQ(pins_.Get(alice_, a.requestid).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(pins_.Delete(alice_, a.requestid).error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(pins_.Get(alice_, b.requestid));
}

TEST_F(PinsTest, UpdateStatusSetsStatusInfoAndSize) {
  auto a = MustCreate(alice_, PinOf(RawCid(1)));
  clock_.Advance(5);
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kPinning,
                                 {{"status_details", "fetching 3 of 9 blocks"}}));
  auto got = *pins_.Get(alice_, a.requestid);
  EXPECT_EQ(got.status, PinStatus::kPinning);
  EXPECT_EQ(got.info.at("status_details"), "fetching 3 of 9 blocks");
  EXPECT_EQ(got.updated_us, clock_.WallMicros());
  EXPECT_EQ(got.created_us, a.created_us) << "created is immutable";
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kPinned, {}, 123456));
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kPinned, {{"a", "b"}}));
  got = *pins_.Get(alice_, a.requestid);
  EXPECT_EQ(got.status, PinStatus::kPinned);
  EXPECT_EQ(got.dag_size, 123456) << "dag_size kept when not given";
  EXPECT_EQ(got.info, (StringMap{{"a", "b"}}));
  EXPECT_EQ(pins_.UpdateStatus("nope", PinStatus::kFailed, {}).error().code(),
            ErrorCode::kNotFound);
}

TEST_F(PinsTest, ListIsNewestFirstAndHonoursLimit) {
  for (int i = 0; i < 15; ++i) MustCreate(alice_, PinOf(RawCid(i), "p" + std::to_string(i)));
  PinFilter f;
  auto page = ListNames(alice_, f);
  ASSERT_EQ(page.size(), 10u) << "default limit is 10";
  EXPECT_EQ(page.front(), "p14");
  EXPECT_EQ(page.back(), "p5");
  f.limit = 1000;
  EXPECT_EQ(ListNames(alice_, f).size(), 15u);
  f.limit = 3;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"p14", "p13", "p12"}));
  EXPECT_EQ(*pins_.Count(alice_, f), 15u) << "count ignores limit";
  for (int bad : {0, -1, 1001}) {
    f.limit = bad;
    EXPECT_EQ(pins_.List(alice_, f).error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(PinsTest, CidFilterMatchesNormalizedCids) {
  Cid v0 = *Cid::Compute(0, kDagPb, kSha256, AsBytes("dir"));
  Cid v1 = v0.ToV1();
  Cid raw_same_hash = Cid::V1(kRaw, v0.hash());
  MustCreate(alice_, NewPin{v0.ToString(), "as-v0", {}, {}});
  MustCreate(alice_, NewPin{v1.ToString(multiformats::Multibase::kBase36), "as-v1-base36", {}, {}});
  MustCreate(alice_, NewPin{raw_same_hash.ToString(), "raw", {}, {}});
  MustCreate(alice_, PinOf(RawCid(1), "other"));
  PinFilter f;
  f.limit = 1000;
  f.cids = {v1};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"as-v1-base36", "as-v0"}));
  f.cids = {v0};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"as-v1-base36", "as-v0"}));
  f.cids = {raw_same_hash, RawCid(1)};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"other", "raw"}));
  f.cids = {RawCid(99)};
  EXPECT_TRUE(ListNames(alice_, f).empty());
  f.cids.assign(11, RawCid(1));
  EXPECT_EQ(pins_.List(alice_, f).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(pins_.Count(alice_, f).error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(PinsTest, NameFilterHonoursEveryMatchStrategy) {
  for (const char* n :
       {"Report.PDF", "report.pdf", "my report.pdf", "RÉSUMÉ", "résumé", "100%_x"}) {
    MustCreate(alice_, PinOf(RawCid(static_cast<int>(std::string(n).size())), n));
  }
  MustCreate(alice_, PinOf(RawCid(50)));  // no name: never matches a name filter
  PinFilter f;
  f.limit = 1000;
  f.name = "report.pdf";
  f.match = NameMatch::kExact;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"report.pdf"}));
  f.match = NameMatch::kIexact;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"report.pdf", "Report.PDF"}));
  f.match = NameMatch::kPartial;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"my report.pdf", "report.pdf"}));
  f.name = "REPORT";
  EXPECT_TRUE(ListNames(alice_, f).empty());
  f.match = NameMatch::kIpartial;
  EXPECT_EQ(ListNames(alice_, f),
            (std::vector<std::string>{"my report.pdf", "report.pdf", "Report.PDF"}));
  // Wildcard characters of LIKE are plain characters here.
  f.name = "%_";
  f.match = NameMatch::kPartial;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"100%_x"}));
  f.name = "_";
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"100%_x"}));
  // Case folding is ASCII only: É and é stay distinct, R/r fold.
  f.name = "rÉsumÉ";
  f.match = NameMatch::kIexact;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"RÉSUMÉ"}));
  f.name = "résumé";
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"résumé"}));
}

TEST_F(PinsTest, StatusFilterTakesAnySubset) {
  std::vector<PinStatus> order = {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned,
                                  PinStatus::kFailed};
  for (int i = 0; i < 12; ++i) {
    auto p = MustCreate(
        alice_, PinOf(RawCid(i), std::string(PinStatusName(order[i % 4])) + std::to_string(i)));
    ASSERT_TRUE(pins_.UpdateStatus(p.requestid, order[i % 4], {}));
  }
  PinFilter f;
  f.limit = 1000;
  f.statuses = {PinStatus::kPinned};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"pinned10", "pinned6", "pinned2"}));
  f.statuses = {PinStatus::kFailed, PinStatus::kQueued};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"failed11", "queued8", "failed7",
                                                            "queued4", "failed3", "queued0"}));
  f.statuses = {PinStatus::kFailed, PinStatus::kQueued, PinStatus::kFailed};  // duplicates
  EXPECT_EQ(ListNames(alice_, f).size(), 6u);
  f.statuses = order;
  EXPECT_EQ(ListNames(alice_, f).size(), 12u);
  f.limit = 4;
  EXPECT_EQ(ListNames(alice_, f),
            (std::vector<std::string>{"failed11", "pinned10", "pinning9", "queued8"}))
      << "the per-status branches merge newest first";
  EXPECT_EQ(*pins_.Count(alice_, f), 12u);
}

TEST_F(PinsTest, BeforeAndAfterAreStrictBounds) {
  std::vector<PinRecord> made;
  for (int i = 0; i < 5; ++i)
    made.push_back(MustCreate(alice_, PinOf(RawCid(i), "n" + std::to_string(i))));
  PinFilter f;
  f.limit = 1000;
  f.before_us = made[3].created_us;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"n2", "n1", "n0"}));
  f.after_us = made[0].created_us;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"n2", "n1"}));
  f.before_us = made[3].created_us + 1;
  f.after_us = made[3].created_us - 1;
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"n3"}));
  f.before_us = made[2].created_us;
  f.after_us = made[2].created_us;
  EXPECT_TRUE(ListNames(alice_, f).empty());
  EXPECT_EQ(*pins_.Count(alice_, f), 0u);
  f.before_us.reset();
  f.after_us = made[4].created_us;
  EXPECT_TRUE(ListNames(alice_, f).empty());
}

TEST_F(PinsTest, MetaFilterRequiresEveryKeyValue) {
  MustCreate(alice_, PinOf(RawCid(1), "both", {{"app", "x"}, {"env", "prod"}}));
  MustCreate(alice_, PinOf(RawCid(2), "app-only", {{"app", "x"}}));
  MustCreate(alice_, PinOf(RawCid(3), "other-app", {{"app", "y"}, {"env", "prod"}}));
  MustCreate(alice_, PinOf(RawCid(4), "odd-key", {{"we\"ird.$key", "v"}}));
  MustCreate(alice_, PinOf(RawCid(5), "none"));
  PinFilter f;
  f.limit = 1000;
  f.meta = {{"app", "x"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"app-only", "both"}));
  f.meta = {{"app", "x"}, {"env", "prod"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"both"}));
  f.meta = {{"env", "prod"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"other-app", "both"}));
  f.meta = {{"app", "X"}};
  EXPECT_TRUE(ListNames(alice_, f).empty()) << "values match exactly";
  f.meta = {{"we\"ird.$key", "v"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"odd-key"}));
}

TEST_F(PinsTest, FiltersCombine) {
  Cid target = RawCid(7);
  for (int i = 0; i < 40; ++i) {
    auto p = MustCreate(alice_, PinOf(i % 2 ? target : RawCid(i), i % 3 ? "Photo" : "doc",
                                      {{"batch", std::to_string(i % 4)}}));
    ASSERT_TRUE(
        pins_.UpdateStatus(p.requestid, i % 5 ? PinStatus::kPinned : PinStatus::kFailed, {}));
  }
  // The same 40 pins for bob, who must not show up.
  for (int i = 0; i < 40; ++i) MustCreate(bob_, PinOf(target, "Photo", {{"batch", "1"}}));
  auto all = *pins_.List(alice_, PinFilter{.statuses = {}, .limit = 1000});
  ASSERT_EQ(all.size(), 40u);
  PinFilter f;
  f.limit = 1000;
  f.cids = {target};
  f.name = "photo";
  f.match = NameMatch::kIexact;
  f.statuses = {PinStatus::kPinned};
  f.meta = {{"batch", "1"}};
  f.before_us = all[5].created_us;  // i = 34
  f.after_us = all[35].created_us;  // i = 4
  // Expected by brute force over the same rows.
  std::vector<std::string> expected;
  for (int i = 39; i >= 0; --i) {
    const PinRecord& p = all[39 - i];
    bool match = i % 2 == 1 && i % 3 != 0 && i % 5 != 0 && i % 4 == 1 &&
                 p.created_us < *f.before_us && p.created_us > *f.after_us;
    if (match) expected.push_back(p.requestid);
  }
  ASSERT_FALSE(expected.empty());
  auto got = *pins_.List(alice_, f);
  std::vector<std::string> got_ids;
  for (const auto& p : got) got_ids.push_back(p.requestid);
  EXPECT_EQ(got_ids, expected);
  EXPECT_EQ(*pins_.Count(alice_, f), expected.size());
}

TEST_F(PinsTest, PagingWithBeforeVisitsEveryPinOnce) {
  constexpr int kPins = 3000;
  // Create concurrently (group commit) with a clock that stands still, so `created` bumps.
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kPins; i += 16) {
        ASSERT_TRUE(pins_.Create(alice_, PinOf(RawCid(i), "n" + std::to_string(i))));
      }
    });
  }
  for (auto& th : threads) th.join();
  // Every third pin pinned (one statement rather than a thousand commits).
  ASSERT_TRUE(t_.db().Write([](SqlSession& s) -> Result<void> {
    CAIRN_TRY(
        s.Exec("UPDATE pins SET status = 'pinned' WHERE CAST(substr(name, 2) AS INTEGER) % 3 = 0"));
    return Ok();
  }));
  for (int i = 0; i < 100; ++i) MustCreate(bob_, PinOf(RawCid(i)));

  for (auto statuses : {std::vector<PinStatus>{}, std::vector<PinStatus>{PinStatus::kPinned},
                        std::vector<PinStatus>{PinStatus::kPinned, PinStatus::kQueued}}) {
    PinFilter f;
    f.statuses = statuses;
    f.limit = 97;
    uint64_t total = *pins_.Count(alice_, f);
    uint64_t expected_total = statuses.size() == 1 ? kPins / 3 : kPins;
    EXPECT_EQ(total, expected_total);
    std::set<std::string> seen;
    int64_t last = INT64_MAX;
    uint64_t remaining = total;
    for (;;) {
      auto page = pins_.List(alice_, f);
      ASSERT_TRUE(page);
      if (page->empty()) break;
      EXPECT_EQ(*pins_.Count(alice_, f), remaining) << "count honours before";
      for (const PinRecord& p : *page) {
        EXPECT_LT(p.created_us, last) << "strictly newest first";
        last = p.created_us;
        EXPECT_TRUE(seen.insert(p.requestid).second) << "duplicate " << p.requestid;
      }
      remaining -= page->size();
      f.before_us = page->back().created_us;
    }
    EXPECT_EQ(seen.size(), expected_total) << "no gaps";
    EXPECT_EQ(remaining, 0u);
  }
}

TEST_F(PinsTest, QueryPlansUseTheIndexesWithoutSorting) {
  for (int i = 0; i < 20; ++i) MustCreate(alice_, PinOf(RawCid(i), "n"));
  auto plan = [&](const PinFilter& f) {
    auto p = pins_.ExplainList(alice_, f);
    EXPECT_TRUE(p) << p.error().ToString();
    return p ? *p : std::string();
  };
  const PinFilter no_filter;
  std::string none = plan(no_filter);
  EXPECT_NE(none.find("USING INDEX pins_account_created"), std::string::npos) << none;
  EXPECT_EQ(none.find("TEMP B-TREE"), std::string::npos) << none;

  PinFilter paged;
  paged.before_us = clock_.WallMicros();
  paged.name = "x";
  paged.match = NameMatch::kIpartial;
  paged.statuses = {PinStatus::kPinned};
  paged.meta = {{"a", "b"}};
  MustCreate(alice_, PinOf(RawCid(100), "x", {{"a", "b"}, {"c", "d"}}));
  std::string p2 = plan(paged);
  EXPECT_NE(p2.find("SEARCH m USING PRIMARY KEY (account_id=? AND key=? AND value=? AND "
                    "status=? AND created<?)"),
            std::string::npos)
      << p2;
  EXPECT_NE(p2.find("SEARCH p USING INDEX pins_created (created=?)"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("TEMP B-TREE"), std::string::npos) << p2;
  EXPECT_EQ(p2.find("SCAN"), std::string::npos) << p2;
  // Without a status: one such walk per status, merged (each sorts at most `limit` rows).
  paged.statuses = {};
  paged.meta = {{"a", "b"}, {"c", "d"}};
  std::string p2b = plan(paged);
  size_t walks = 0;
  for (size_t at = 0; (at = p2b.find("SEARCH m USING PRIMARY KEY (account_id=? AND key=? AND "
                                     "value=? AND status=? AND created<?)",
                                     at)) != std::string::npos;
       ++at) {
    ++walks;
  }
  EXPECT_EQ(walks, 4u) << p2b;
  EXPECT_NE(p2b.find("SEARCH mk USING PRIMARY KEY (account_id=? AND key=? AND value=? AND "
                     "status=? AND created=?)"),
            std::string::npos)
      << p2b;
  // A pair the account never had: no statement at all.
  paged.meta = {{"a", "b"}, {"never", "seen"}};
  EXPECT_NE(plan(paged).find("NO ROWS"), std::string::npos);

  PinFilter named;
  named.before_us = clock_.WallMicros();
  named.name = "n";
  std::string by_name = plan(named);
  EXPECT_NE(by_name.find("USING INDEX pins_account_name_created (account_id=? AND name=? AND "
                         "created<?)"),
            std::string::npos)
      << by_name;
  EXPECT_EQ(by_name.find("TEMP B-TREE"), std::string::npos) << by_name;

  PinFilter one_status;
  one_status.statuses = {PinStatus::kPinned};
  one_status.before_us = clock_.WallMicros();
  std::string p3 = plan(one_status);
  EXPECT_NE(p3.find("USING INDEX pins_account_status_created (account_id=? AND status=? AND "
                    "created<?)"),
            std::string::npos)
      << p3;
  EXPECT_EQ(p3.find("TEMP B-TREE"), std::string::npos) << p3;

  PinFilter many;
  many.statuses = {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned};
  std::string p4 = plan(many);
  size_t uses = 0;
  for (size_t at = 0;
       (at = p4.find("USING INDEX pins_account_status_created", at)) != std::string::npos; ++at) {
    ++uses;
  }
  EXPECT_EQ(uses, 3u) << p4;

  PinFilter by_cid;
  by_cid.cids = {RawCid(1), RawCid(2)};
  std::string p5 = plan(by_cid);
  EXPECT_NE(p5.find("USING INDEX pins_account_cid_created (account_id=? AND cid=?)"),
            std::string::npos)
      << p5;
  by_cid.statuses = {PinStatus::kPinned};
  std::string p6 = plan(by_cid);
  EXPECT_NE(p6.find("USING INDEX pins_account_cid_created (account_id=? AND cid=?)"),
            std::string::npos)
      << p6;
}

TEST_F(PinsTest, ClaimQueuedTakesTheOldestAcrossAccounts) {
  auto a1 = MustCreate(alice_, PinOf(RawCid(1)));
  auto b1 = MustCreate(bob_, PinOf(RawCid(2)));
  auto a2 = MustCreate(alice_, PinOf(RawCid(3)));
  auto a3 = MustCreate(alice_, PinOf(RawCid(4)));
  ASSERT_TRUE(pins_.UpdateStatus(a2.requestid, PinStatus::kPinned, {}));
  auto first = pins_.ClaimQueued(2);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].requestid, a1.requestid);
  EXPECT_EQ((*first)[1].requestid, b1.requestid);
  EXPECT_EQ((*first)[0].status, PinStatus::kPinning);
  EXPECT_EQ(pins_.Get(alice_, a1.requestid)->status, PinStatus::kPinning);
  auto second = *pins_.ClaimQueued(10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].requestid, a3.requestid);
  EXPECT_TRUE(pins_.ClaimQueued(10)->empty());
  for (const PinRecord& p : *first)
    ASSERT_TRUE(pins_.UpdateStatus(p.requestid, PinStatus::kQueued, {}));
  ASSERT_TRUE(pins_.UpdateStatus(second[0].requestid, PinStatus::kQueued, {}));
  EXPECT_EQ(pins_.ClaimQueued(10)->size(), 3u);
}

TEST_F(PinsTest, ListCidsGivesDistinctRootsInPages) {
  Cid v0 = *Cid::Compute(0, kDagPb, kSha256, AsBytes("x"));
  MustCreate(alice_, NewPin{v0.ToString(), {}, {}, {}});
  MustCreate(bob_, NewPin{v0.ToV1().ToString(), {}, {}, {}});
  std::vector<PinRecord> made;
  for (int i = 0; i < 10; ++i) made.push_back(MustCreate(i % 2 ? alice_ : bob_, PinOf(RawCid(i))));
  ASSERT_TRUE(pins_.UpdateStatus(made[0].requestid, PinStatus::kFailed, {}));
  std::vector<PinStatus> live = {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned};
  std::vector<Cid> all;
  std::optional<Cid> after;
  for (;;) {
    auto page = pins_.ListCids(live, after, 3);
    ASSERT_TRUE(page);
    if (page->empty()) break;
    all.insert(all.end(), page->begin(), page->end());
    after = page->back();
  }
  std::set<Cid> expected = {v0.ToV1()};
  for (int i = 1; i < 10; ++i) expected.insert(RawCid(i));
  EXPECT_EQ(std::set<Cid>(all.begin(), all.end()), expected);
  EXPECT_EQ(all.size(), expected.size()) << "distinct";
  std::vector<PinStatus> failed = {PinStatus::kFailed};
  EXPECT_EQ(*pins_.ListCids(failed, std::nullopt, 10), std::vector<Cid>{RawCid(0)});
}

TEST_F(PinsTest, HasCidMatchesNormalizedCidsAndStatuses) {
  Cid v0 = *Cid::Compute(0, kDagPb, kSha256, AsBytes("has"));
  PinRecord pin = MustCreate(alice_, NewPin{v0.ToString(), {}, {}, {}});
  std::vector<PinStatus> pinned = {PinStatus::kPinned};
  EXPECT_FALSE(*pins_.HasCid(v0, pinned));
  ASSERT_TRUE(pins_.UpdateStatus(pin.requestid, PinStatus::kPinned, {}));
  EXPECT_TRUE(*pins_.HasCid(v0, pinned));
  EXPECT_TRUE(*pins_.HasCid(v0.ToV1(), pinned));
  EXPECT_FALSE(*pins_.HasCid(RawCid(77), pinned));
  std::vector<PinStatus> failed = {PinStatus::kFailed};
  EXPECT_FALSE(*pins_.HasCid(v0, failed));
}

TEST_F(PinsTest, ListersSeeConsistentPagesWhileWritersCreate) {
  std::atomic<bool> stop{false};
  std::atomic<int> problems{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        PinFilter f;
        f.limit = 50;
        auto page = pins_.List(alice_, f);
        if (!page) {
          ++problems;
          continue;
        }
        for (size_t i = 1; i < page->size(); ++i) {
          if ((*page)[i].created_us >= (*page)[i - 1].created_us) ++problems;
        }
        for (const auto& p : *page) {
          if (p.account_id != alice_) ++problems;
        }
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 150; ++i) {
        if (!pins_.Create(w % 2 ? alice_ : bob_, PinOf(RawCid(w * 1000 + i)))) ++problems;
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(problems.load(), 0);
  EXPECT_EQ(*pins_.Count(alice_, {}), 300u);
  EXPECT_EQ(*pins_.Count(bob_, {}), 300u);
}

// Status updates and claims ride the creates' group commit: a failing one (an unknown pin) in a
// shared batch fails alone, its neighbours are committed.
TEST_F(PinsTest, GroupedWritesFailAloneAndNeighboursCommit) {
  std::vector<PinRecord> made;
  for (int i = 0; i < 40; ++i) made.push_back(MustCreate(alice_, PinOf(RawCid(5000 + i))));
  std::atomic<int> bad_ok{0}, good_failed{0}, creates_failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 40; i += 8) {
        if (!pins_.UpdateStatus(made[i].requestid, PinStatus::kPinned,
                                {{"n", std::to_string(i)}})) {
          ++good_failed;
        }
        if (pins_.UpdateStatus("no-such-" + std::to_string(i), PinStatus::kFailed, {})) ++bad_ok;
        if (!pins_.Create(bob_, PinOf(RawCid(6000 + i)))) ++creates_failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good_failed.load(), 0);
  EXPECT_EQ(bad_ok.load(), 0);
  EXPECT_EQ(creates_failed.load(), 0);
  for (int i = 0; i < 40; ++i) {
    auto p = pins_.Get(alice_, made[i].requestid);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, PinStatus::kPinned);
    EXPECT_EQ(p->info["n"], std::to_string(i));
  }
  PinFilter queued;
  queued.statuses = {PinStatus::kQueued};
  EXPECT_EQ(*pins_.Count(bob_, queued), 40u);
  auto claimed = pins_.ClaimQueued(100);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->size(), 40u);
  EXPECT_EQ(*pins_.Count(bob_, queued), 0u);
}

TEST_F(PinsTest, FlushWaitsForEverythingQueuedBefore) {
  std::atomic<int> answered{0};
  for (int i = 0; i < 200; ++i) {
    pins_.CreateAsync(alice_, PinOf(RawCid(7000 + i)), [&answered](Result<PinRecord> r) {
      if (r) ++answered;
    });
  }
  ASSERT_TRUE(pins_.Flush());
  EXPECT_EQ(answered.load(), 200);
}

TEST_F(PinsTest, CountersAgreeWithScansAfterEveryKindOfChange) {
  std::vector<PinRecord> made;
  for (int i = 0; i < 30; ++i) made.push_back(MustCreate(i % 3 ? alice_ : bob_, PinOf(RawCid(i))));
  ASSERT_TRUE(pins_.UpdateStatus(made[1].requestid, PinStatus::kPinned, {}));
  ASSERT_TRUE(pins_.UpdateStatus(made[2].requestid, PinStatus::kFailed, {}));
  ASSERT_TRUE(pins_.UpdateStatus(made[2].requestid, PinStatus::kFailed, {{"again", "same"}}));
  ASSERT_TRUE(pins_.Delete(alice_, made[4].requestid));
  ASSERT_TRUE(pins_.Replace(alice_, made[1].requestid, PinOf(RawCid(100))));
  auto claimed = pins_.ClaimQueued(5);
  ASSERT_TRUE(claimed);
  ASSERT_TRUE(pins_.UpdateStatus(made[5].requestid, PinStatus::kPinned, {}));
  for (const PinRecord& p : *claimed) {
    if (p.requestid != made[5].requestid) {
      ASSERT_TRUE(pins_.UpdateStatus(p.requestid, PinStatus::kQueued, {}));
    }
  }
  ASSERT_TRUE(pins_.ClaimQueued(2));
  std::vector<std::vector<PinStatus>> sets = {{},
                                              {PinStatus::kQueued},
                                              {PinStatus::kPinning},
                                              {PinStatus::kPinned},
                                              {PinStatus::kFailed},
                                              {PinStatus::kPinned, PinStatus::kQueued}};
  for (int64_t account : {alice_, bob_, int64_t{12345}}) {
    for (const auto& statuses : sets) {
      PinFilter fast;
      fast.statuses = statuses;
      PinFilter scan = fast;
      scan.after_us = 0;  // any range filter takes the scanning path
      EXPECT_EQ(*pins_.Count(account, fast), *pins_.Count(account, scan))
          << "account " << account << ", " << statuses.size() << " statuses";
    }
  }
  EXPECT_EQ(*pins_.Count(alice_, {}), 19u);
  auto all = pins_.CountAllByStatus();
  ASSERT_TRUE(all) << all.error().ToString();
  for (PinStatus status :
       {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned, PinStatus::kFailed}) {
    PinFilter one;
    one.statuses = {status};
    one.after_us = 0;  // scanning path
    EXPECT_EQ((*all)[static_cast<size_t>(status)],
              *pins_.Count(alice_, one) + *pins_.Count(bob_, one))
        << PinStatusName(status);
  }
}

// Counts with before/after (and statuses) come from pin_buckets plus the pins of the boundary
// buckets: they must equal a scan of the rows for every range, across bucket boundaries (two
// accounts interleaved, > 3 buckets each), after deletes, replaces and status changes.
TEST_F(PinsTest, RangeCountsAgreeWithScansAcrossBuckets) {
  constexpr int kPins = 5000;
  std::vector<PinRecord> made = CreateConcurrently(kPins, [&](int i) {
    return std::pair{i % 5 == 0 ? bob_ : alice_, PinOf(RawCid(i))};
  });
  ASSERT_EQ(made.size(), static_cast<size_t>(kPins));
  for (int i = 0; i < kPins; i += 7) {
    ASSERT_TRUE(pins_.UpdateStatus(made[i].requestid, PinStatus::kPinned, {}));
  }
  for (int i = 3; i < kPins; i += 11) {
    ASSERT_TRUE(pins_.UpdateStatus(made[i].requestid, PinStatus::kFailed, {}));
  }
  for (int i = 1; i < kPins; i += 13) {
    ASSERT_TRUE(pins_.Delete(made[i].account_id, made[i].requestid));
  }
  ASSERT_TRUE(pins_.Replace(made[2].account_id, made[2].requestid, PinOf(RawCid(-1))));
  ASSERT_TRUE(pins_.ClaimQueued(40));
  const int64_t first = made.front().created_us;
  const int64_t last = made.back().created_us + 10;
  auto scan = [&](int64_t account, const std::vector<PinStatus>& statuses,
                  std::optional<int64_t> after, std::optional<int64_t> before) {
    std::string sql = "SELECT COUNT(*) FROM pins WHERE account_id = ?";
    std::vector<SqlValue> p = {account};
    if (after) {
      sql += " AND created > ?";
      p.emplace_back(*after);
    }
    if (before) {
      sql += " AND created < ?";
      p.emplace_back(*before);
    }
    for (size_t i = 0; i < statuses.size(); ++i) {
      sql += i ? ", ?" : " AND status IN (?";
      p.emplace_back(std::string(PinStatusName(statuses[i])));
    }
    if (!statuses.empty()) sql += ")";
    uint64_t n = 0;
    EXPECT_TRUE(t_.db().Read([&](SqlSession& s) -> Result<void> {
      n = static_cast<uint64_t>(CAIRN_TRY(s.Query(sql, p)).at(0).Int(0));
      return Ok();
    }));
    return n;
  };
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> when(first - 100, last + 100);
  std::vector<std::vector<PinStatus>> sets = {
      {}, {PinStatus::kPinned}, {PinStatus::kQueued, PinStatus::kFailed}, {PinStatus::kPinning}};
  for (int round = 0; round < 400; ++round) {
    int64_t a = when(rng);
    int64_t b = when(rng);
    std::optional<int64_t> after = round % 3 == 1 ? std::nullopt : std::optional(std::min(a, b));
    std::optional<int64_t> before = round % 3 == 2 ? std::nullopt : std::optional(std::max(a, b));
    if (!after && !before) before = a;
    for (int64_t account : {alice_, bob_}) {
      const auto& statuses = sets[round % sets.size()];
      PinFilter f;
      f.statuses = statuses;
      f.after_us = after;
      f.before_us = before;
      auto got = pins_.Count(account, f);
      ASSERT_TRUE(got) << got.error().ToString();
      EXPECT_EQ(*got, scan(account, statuses, after, before))
          << "account " << account << " after " << after.value_or(-1) << " before "
          << before.value_or(-1) << " statuses " << statuses.size();
    }
  }
  // Ranges on the exact created values of pins (the strict bounds), and empty ranges.
  for (int i = 0; i < kPins; i += 97) {
    PinFilter f;
    f.before_us = made[i].created_us;
    EXPECT_EQ(*pins_.Count(made[i].account_id, f), scan(made[i].account_id, {}, {}, f.before_us));
    f.after_us = made[i].created_us;
    f.before_us = made[i].created_us + 1;
    EXPECT_EQ(*pins_.Count(made[i].account_id, f), 0u);
    f.before_us = std::nullopt;
    EXPECT_EQ(*pins_.Count(made[i].account_id, f), scan(made[i].account_id, {}, f.after_us, {}));
  }
  PinFilter none;
  none.after_us = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*pins_.Count(alice_, none), 0u);
  none.after_us = std::nullopt;
  none.before_us = first - 1;
  EXPECT_EQ(*pins_.Count(alice_, none), 0u);
}

// A pin at the meta cap (1000 keys) gets 1000 pin_meta rows; filters on any of them find it, a
// status change moves them all, and deleting the pin removes them all (with their counts).
TEST_F(PinsTest, PinAtTheMetaKeyCapIsFoundByEveryKeyAndLeavesNoRows) {
  StringMap meta;
  for (int i = 0; i < 1000; ++i) meta["k" + std::to_string(i)] = "v" + std::to_string(i % 7);
  auto big = MustCreate(alice_, PinOf(RawCid(1), "big", meta));
  MustCreate(alice_, PinOf(RawCid(2), "small", {{"k5", "v5"}}));
  auto rows = [&] {
    int64_t n = 0;
    EXPECT_TRUE(t_.db().Read([&](SqlSession& s) -> Result<void> {
      n = CAIRN_TRY(s.Query("SELECT COUNT(*) FROM pin_meta")).at(0).Int(0);
      return Ok();
    }));
    return n;
  };
  EXPECT_EQ(rows(), 1001);
  ASSERT_TRUE(pins_.UpdateStatus(big.requestid, PinStatus::kPinned, {}));
  PinFilter f;
  f.limit = 1000;
  f.meta = {{"k5", "v5"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"small", "big"}));
  f.statuses = {PinStatus::kPinned};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"big"}));
  f.meta = {{"k5", "v5"}, {"k999", "v5"}, {"k0", "v0"}};
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"big"}));
  f.meta = {{"k5", "v5"}, {"k999", "v6"}};
  EXPECT_TRUE(ListNames(alice_, f).empty());
  ASSERT_TRUE(pins_.Delete(alice_, big.requestid));
  EXPECT_EQ(rows(), 1);
  f.statuses = {};
  f.meta = {{"k5", "v5"}};
  f.before_us = clock_.WallMicros();
  EXPECT_EQ(ListNames(alice_, f), (std::vector<std::string>{"small"}));
  f.meta = {{"k999", "v5"}};
  EXPECT_EQ(*pins_.Count(alice_, f), 0u);
}

// The meta filter is served from pin_meta and its bucket counters (migration 6). List and Count
// must equal a brute-force filter over every pin, for random filters (one to three meta pairs,
// statuses, names, CIDs, before/after) after creates, status changes, claims, requeues, deletes
// and replaces; the common pair has more than 1024 pins, so counts cross bucket boundaries.
TEST_F(PinsTest, MetaFiltersAgreeWithBruteForce) {
  std::mt19937_64 rng(20261130);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::vector<std::string> names = {"Photo", "photo-2", "doc", "DOC"};
  auto random_meta = [&]() {
    StringMap meta;
    if (pick(10) < 8) meta["app"] = pick(4) ? "bench" : "other";  // "bench": > 1024 pins
    if (pick(2)) meta["env"] = pick(3) ? "prod" : "dev";
    if (pick(3) == 0) meta["tier"] = std::to_string(pick(4));
    if (pick(50) == 0) meta["we\"ird key"] = "ü";
    return meta;
  };
  auto random_pin = [&](int i) {
    std::optional<std::string> name;
    if (pick(4)) name = names[static_cast<size_t>(pick(4))];
    return PinOf(RawCid(i % 300), name, random_meta());
  };
  constexpr int kPins = 3000;
  std::vector<PinRecord> made = CreateConcurrently(kPins, [&](int i) {
    return std::pair{pick(6) ? alice_ : bob_, random_pin(i)};
  });
  ASSERT_EQ(made.size(), static_cast<size_t>(kPins));
  const std::array<PinStatus, 4> statuses = {PinStatus::kQueued, PinStatus::kPinning,
                                             PinStatus::kPinned, PinStatus::kFailed};
  for (int i = 0; i < kPins; i += 2) {
    ASSERT_TRUE(pins_.UpdateStatus(made[i].requestid, statuses[static_cast<size_t>(pick(4))], {}));
  }
  auto claimed = pins_.ClaimQueued(100);
  ASSERT_TRUE(claimed);
  for (size_t i = 0; i < claimed->size(); i += 2) {
    ASSERT_TRUE(pins_.UpdateStatus((*claimed)[i].requestid, PinStatus::kQueued, {}));
  }
  ASSERT_TRUE(pins_.ClaimQueued(50));
  for (int i = 1; i < kPins; i += 9) {
    ASSERT_TRUE(pins_.Delete(made[i].account_id, made[i].requestid));
  }
  for (int i = 5; i < kPins; i += 31) {
    if (i % 9 == 1) continue;  // deleted above
    auto r = pins_.Replace(made[i].account_id, made[i].requestid, random_pin(i));
    ASSERT_TRUE(r) << r.error().ToString();
  }

  for (int64_t account : {alice_, bob_}) {
    const std::vector<PinRecord> all = testing::OracleAllPins(pins_, account);
    ASSERT_GT(all.size(), 100u);
    const int64_t oldest = all.back().created_us;
    const int64_t newest = all.front().created_us;
    std::uniform_int_distribution<int64_t> when(oldest - 10, newest + 10);
    for (int round = 0; round < 300; ++round) {
      PinFilter f;
      f.limit = 1 + pick(40);
      // Pairs from a random pin (so most filters match something), sometimes one that never
      // occurs.
      const PinRecord& like = all[static_cast<size_t>(pick(static_cast<int>(all.size())))];
      for (const auto& [k, v] : like.meta) {
        if (f.meta.empty() || pick(2)) f.meta[k] = v;
      }
      if (f.meta.empty() || pick(10) == 0) f.meta[pick(2) ? "app" : "nope"] = "missing";
      if (pick(3) == 0) f.meta["app"] = "bench";
      if (pick(2)) {
        for (PinStatus s : statuses) {
          if (pick(2)) f.statuses.push_back(s);
        }
      }
      if (pick(4) == 0) {
        f.name = pick(2) ? names[static_cast<size_t>(pick(4))] : "hot";
        f.match = static_cast<NameMatch>(pick(4));
      }
      if (pick(8) == 0) f.cids = {like.cid, RawCid(pick(300))};
      if (pick(2)) f.before_us = when(rng);
      if (pick(3) == 0) f.after_us = when(rng);
      uint64_t expected_count = 0;
      const std::vector<std::string> expected = testing::OracleList(all, f, &expected_count);
      auto list = pins_.List(account, f);
      ASSERT_TRUE(list) << list.error().ToString();
      std::vector<std::string> got;
      for (const PinRecord& p : *list) got.push_back(p.requestid);
      EXPECT_EQ(got, expected) << "round " << round << ", " << f.meta.size() << " pairs";
      auto count = pins_.Count(account, f);
      ASSERT_TRUE(count) << count.error().ToString();
      EXPECT_EQ(*count, expected_count) << "round " << round << ", " << f.meta.size() << " pairs";
    }
    // Paging through the common pair visits every match once, and each page's count (the
    // matches older than the page's `before`) is exact.
    PinFilter f;
    f.meta = {{"app", "bench"}};
    f.limit = 97;
    uint64_t total = 0;
    std::vector<std::string> expected =
        testing::OracleList(all, PinFilter{.meta = f.meta, .limit = 1000000}, &total);
    ASSERT_GT(total, 1024u / (account == alice_ ? 1 : 8));
    std::vector<std::string> seen;
    for (;;) {
      uint64_t remaining = 0;
      testing::OracleList(all, f, &remaining);
      EXPECT_EQ(*pins_.Count(account, f), remaining);
      auto page = pins_.List(account, f);
      ASSERT_TRUE(page);
      if (page->empty()) break;
      for (const PinRecord& p : *page) seen.push_back(p.requestid);
      f.before_us = page->back().created_us;
    }
    EXPECT_EQ(seen, expected);
  }
}

// Throughput of durable creates (synchronous=FULL) through the group commit, from many callers
// at once as an HTTP server would issue them. Prints the rate; asserts only correctness (timed
// assertions do not belong in tests, see DESIGN.md).
TEST(PinStoreThroughput, ConcurrentDurableCreates) {
  TempDb t;
  SystemClock& clock = SystemClock::Instance();
  AccountStore accounts(t.db(), clock);
  int64_t account = accounts.CreateAccount("load")->id;
  PinStore pins(t.db(), clock);
  constexpr int kCallers = 200, kPerCaller = 50;
  std::atomic<int> failed{0};
  // Baseline: one caller, so every pin is its own transaction and fsync.
  constexpr int kSequential = 300;
  auto seq_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSequential; ++i) {
    if (!pins.Create(account, PinOf(RawCid(-1 - i), "file.bin", {{"app", "bench"}}))) ++failed;
  }
  double seq_rate =
      kSequential /
      std::chrono::duration<double>(std::chrono::steady_clock::now() - seq_start).count();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int i = 0; i < kPerCaller; ++i) {
        if (!pins.Create(account,
                         PinOf(RawCid(c * kPerCaller + i), "file.bin", {{"app", "bench"}}))) {
          ++failed;
        }
      }
    });
  }
  for (auto& th : callers) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(*pins.Count(account, {}), static_cast<uint64_t>(kCallers * kPerCaller + kSequential));
  double rate = kCallers * kPerCaller / secs;
  std::printf(
      "[ metric ] durable pin creates: one caller (a commit per pin) %.0f/s; %d callers "
      "(group commit) %.0f/s = %.1fx; goal 5000/s = %.1fx\n",
      seq_rate, kCallers, rate, rate / seq_rate, rate / 5000);
}

}  // namespace
}  // namespace cairn::metadata
