#include "pinning/pin_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "blockstore/memory_blockstore.hpp"
#include "metadata/accounts.hpp"
#include "metadata/open.hpp"
#include "pinning/test_dag.hpp"

namespace cairn::pinning {
namespace {

namespace mf = multiformats;

using metadata::PinStatus;
using testing::MakeDag;
using testing::Serve;

class PinServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-pins-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(*metadata::OpenSqliteMetadata((dir_ / "db").string()));
    accounts_ = std::make_unique<metadata::AccountStore>(*db_, clock_);
    account_ = accounts_->CreateAccount("alice")->id;
    pins_ = std::make_unique<metadata::PinStore>(*db_, clock_);
  }
  void TearDown() override {
    service_.reset();
    pins_.reset();
    accounts_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartService(PinServiceOptions o = {}) {
    o.poll_interval_us = 10'000;
    service_ = std::make_unique<PinService>(*pins_, store_, source_, clock_, o);
    ASSERT_TRUE(service_->Start());
  }
  std::string AddPin(const mf::Cid& cid, std::vector<std::string> origins = {}) {
    metadata::NewPin p;
    p.cid = cid.ToString();
    p.origins = std::move(origins);
    auto created = pins_->Create(account_, p);
    EXPECT_TRUE(created) << created.error().ToString();
    if (service_) service_->Notify();
    return created->requestid;
  }
  // Waits (real time, bounded) until the pin reaches `status`.
  metadata::PinRecord WaitFor(const std::string& id, PinStatus status) {
    metadata::PinRecord last;
    for (int i = 0; i < 1000; ++i) {
      auto p = pins_->Get(account_, id);
      if (p) {
        last = *p;
        if (p->status == status) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "pin " << id << " stayed " << metadata::PinStatusName(last.status) << ": "
                  << (last.info.count("status_details") ? last.info["status_details"] : "");
    return last;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<metadata::SqliteDatabase> db_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  int64_t account_ = 0;
  fetch::FakeHttpGetter http_;
  fetch::GatewayBlockSource source_{http_, {.gateways = {"http://gw"}}};
  blockstore::MemoryBlockstore store_;
  std::unique_ptr<PinService> service_;
};

TEST_F(PinServiceTest, QueuedPinsBecomePinnedWithTheirSize) {
  auto dag = MakeDag("p1", 3, 4);
  Serve(http_, "http://gw", dag);
  StartService();
  auto id = AddPin(dag.root);
  auto pin = WaitFor(id, PinStatus::kPinned);
  EXPECT_EQ(pin.info["dag_size"], std::to_string(dag.bytes));
  EXPECT_EQ(*pin.dag_size, static_cast<int64_t>(dag.bytes));
  for (const auto& [cid, data] : dag.blocks) EXPECT_TRUE(*store_.Has(cid));
}

TEST_F(PinServiceTest, HttpOriginsAreUsedAsSources) {
  auto dag = MakeDag("origin", 2, 2);
  Serve(http_, "http://10.0.0.1:8080", dag);  // only the origin has it
  StartService();
  auto id = AddPin(dag.root, {"/ip4/10.0.0.1/tcp/8080/http"});
  WaitFor(id, PinStatus::kPinned);
}

TEST_F(PinServiceTest, MissingContentIsRetriedThenFailsAtTheDeadline) {
  auto dag = MakeDag("late", 1, 1);
  StartService({.find_deadline_us = 60'000'000, .retry_initial_us = 1'000'000});
  auto id = AddPin(dag.root);
  auto pin = WaitFor(id, PinStatus::kPinning);
  for (int i = 0; i < 200 && pin.info["status_details"].find("retrying") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pin = *pins_->Get(account_, id);
  }
  EXPECT_NE(pin.info["status_details"].find("retrying"), std::string::npos)
      << pin.info["status_details"];
  // The content appears; the next retry finds it.
  Serve(http_, "http://gw", dag);
  clock_.Advance(2'000'000);
  WaitFor(id, PinStatus::kPinned);

  auto never = MakeDag("never", 1, 1);
  auto id2 = AddPin(never.root);
  WaitFor(id2, PinStatus::kPinning);
  clock_.Advance(61'000'000);
  auto failed = WaitFor(id2, PinStatus::kFailed);
  EXPECT_NE(failed.info["status_details"].find("failed:"), std::string::npos);
  EXPECT_GE(service_->stats().retries.load(), 1u);
}

TEST_F(PinServiceTest, NeverFailsBeforeTheDeadlineAndThenNamesTheLastError) {
  // Regression: with a 3 s deadline and retries after 2 s then 4 s, the pin used to fail at 2 s
  // (the next retry would have been late), before its deadline.
  auto dag = MakeDag("absent", 1, 1);
  StartService({.find_deadline_us = 3'000'000, .retry_initial_us = 2'000'000});
  auto id = AddPin(dag.root);
  auto details = [&] {
    auto p = pins_->Get(account_, id);
    return p ? p->info["status_details"] : std::string();
  };
  auto wait_details = [&](const std::string& want) {
    for (int i = 0; i < 1000 && details().find(want) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return details();
  };
  EXPECT_NE(wait_details("retrying in 2 s").find("retrying in 2 s"), std::string::npos)
      << details();
  clock_.Advance(2'000'000);  // second attempt: 1 s left, so one more try at the deadline
  EXPECT_NE(wait_details("retrying in 1 s").find("retrying in 1 s"), std::string::npos)
      << details();
  EXPECT_EQ(pins_->Get(account_, id)->status, PinStatus::kPinning);
  clock_.Advance(1'000'000);
  auto failed = WaitFor(id, PinStatus::kFailed);
  std::string why = failed.info["status_details"];
  EXPECT_NE(why.find("find deadline (3 s)"), std::string::npos) << why;
  EXPECT_NE(why.find("404"), std::string::npos) << "the last fetch error is kept: " << why;
}

TEST_F(PinServiceTest, RetriesDoNotStarveFreshPins) {
  StartService({.workers = 1, .find_deadline_us = 3600'000'000, .retry_initial_us = 1'000'000});
  std::vector<std::string> stuck;
  for (int i = 0; i < 3; ++i)
    stuck.push_back(AddPin(MakeDag("stuck" + std::to_string(i), 1, 1).root));
  for (const auto& id : stuck) WaitFor(id, PinStatus::kPinning);
  auto fresh = MakeDag("fresh", 1, 2);
  Serve(http_, "http://gw", fresh);
  WaitFor(AddPin(fresh.root), PinStatus::kPinned);
}

TEST_F(PinServiceTest, PinsLeftPinningByACrashAreResumed) {
  auto dag = MakeDag("crash", 2, 2);
  Serve(http_, "http://gw", dag);
  auto id = AddPin(dag.root);
  ASSERT_EQ(pins_->ClaimQueued(10)->size(), 1u);  // a worker claimed it, then the process died
  ASSERT_EQ(pins_->Get(account_, id)->status, PinStatus::kPinning);
  StartService();
  WaitFor(id, PinStatus::kPinned);
}

TEST_F(PinServiceTest, GarbageCollectionKeepsEveryBlockAnyPinNeeds) {
  auto a = MakeDag("gc-a", 2, 3, /*shared=*/2);
  auto b = MakeDag("gc-b", 2, 3, /*shared=*/2);
  Serve(http_, "http://gw", a);
  Serve(http_, "http://gw", b);
  StartService();
  auto ida = AddPin(a.root);
  auto idb = AddPin(b.root);
  WaitFor(ida, PinStatus::kPinned);
  WaitFor(idb, PinStatus::kPinned);
  auto stray = *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes("stray"));
  ASSERT_TRUE(store_.Put(stray, AsBytes("stray")));

  auto gc = service_->CollectGarbage();
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_EQ(gc->removed_blocks, 1u);
  EXPECT_FALSE(*store_.Has(stray));

  ASSERT_TRUE(pins_->Delete(account_, ida));
  gc = service_->CollectGarbage();
  ASSERT_TRUE(gc);
  for (const auto& [cid, data] : b.blocks) EXPECT_TRUE(*store_.Has(cid)) << cid.ToString();
  size_t gone = 0;
  for (const auto& [cid, data] : a.blocks) gone += b.blocks.count(cid) ? 0 : !*store_.Has(cid);
  size_t exclusive = 0;
  for (const auto& [cid, data] : a.blocks) exclusive += b.blocks.count(cid) ? 0 : 1;
  EXPECT_EQ(gone, exclusive);
  EXPECT_EQ(gc->removed_blocks, exclusive);
}

TEST_F(PinServiceTest, DeletingAPinCancelsItsRetries) {
  StartService({.find_deadline_us = 3600'000'000, .retry_initial_us = 1'000'000});
  auto dag = MakeDag("gone", 1, 1);
  auto id = AddPin(dag.root);
  WaitFor(id, PinStatus::kPinning);
  for (int i = 0; i < 200 && service_->retry_backlog() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service_->retry_backlog(), 1u);
  ASSERT_TRUE(pins_->Delete(account_, id));
  service_->Cancel(id);
  EXPECT_EQ(service_->retry_backlog(), 0u);
}

}  // namespace
}  // namespace cairn::pinning
