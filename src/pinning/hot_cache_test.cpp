#include "pinning/hot_cache.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "blockstore/memory_blockstore.hpp"
#include "metadata/accounts.hpp"
#include "metadata/events.hpp"
#include "metadata/open.hpp"
#include "pinning/test_dag.hpp"

namespace cairn::pinning {
namespace {

namespace mf = multiformats;

using metadata::DealRecord;
using metadata::DealState;
using metadata::PinStatus;
using testing::MakeDag;
using testing::TestDag;

class HotCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-hot-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(*metadata::OpenSqliteMetadata((dir_ / "db").string()));
    accounts_ = std::make_unique<metadata::AccountStore>(*db_, clock_);
    account_ = accounts_->CreateAccount("alice")->id;
    pins_ = std::make_unique<metadata::PinStore>(*db_, clock_);
    deals_ = std::make_unique<metadata::DealStore>(*db_, clock_);
    events_ = std::make_unique<metadata::EventStore>(*db_, clock_);
    PinServiceOptions o;
    o.also_live = [this](const std::function<void(ByteSpan)>& fn) {
      return deals_->ForEachEvictedBlock(fn);
    };
    service_ = std::make_unique<PinService>(*pins_, store_, source_, clock_, o);
  }
  void TearDown() override {
    cache_.reset();
    service_.reset();
    events_.reset();
    deals_.reset();
    pins_.reset();
    accounts_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeCache(uint64_t max_bytes) {
    cache_ = std::make_unique<HotCache>(
        *deals_, *pins_, store_, *service_, accesses_, clock_, [this] { return HotBytes(); },
        HotCacheOptions{.max_bytes = max_bytes, .low_watermark = 1});
  }
  uint64_t HotBytes() {
    uint64_t total = 0;
    EXPECT_TRUE(store_.ForEach([&](const mf::Cid&, uint64_t size) {
      total += size;
      return true;
    }));
    return total;
  }
  // A pinned pin of `dag` (blocks stored), with a segment whose index lists the DAG's blocks, in
  // an aggregate of its own with `active` active deals. Returns the pin's requestid.
  std::string Pinned(const TestDag& dag, int active, metadata::StringMap meta = {}) {
    metadata::NewPin p;
    p.cid = dag.root.ToString();
    p.meta = std::move(meta);
    auto pin = pins_->Create(account_, p);
    EXPECT_TRUE(pin) << pin.error().ToString();
    for (const auto& [cid, data] : dag.blocks) EXPECT_TRUE(store_.Put(cid, data));
    EXPECT_TRUE(pins_->UpdateStatus(pin->requestid, PinStatus::kPinned, {},
                                    static_cast<int64_t>(dag.bytes)));
    metadata::SegmentRecord seg;
    seg.pin_requestid = pin->requestid;
    seg.root_cid = dag.root.ToBytes();
    seg.car_size = dag.bytes;
    seg.comm_p = Bytes(32, static_cast<uint8_t>(++segments_));
    seg.padded_size = 4096;
    std::vector<metadata::SegmentBlock> index;
    uint64_t offset = 100;
    for (const auto& [cid, data] : dag.blocks) {
      index.push_back({cid.hash().Encode(), offset, data.size()});
      offset += data.size() + 40;
    }
    auto seg_id = deals_->AddSegment(seg, index);
    EXPECT_TRUE(seg_id) << seg_id.error().ToString();
    metadata::AggregateRecord agg;
    agg.piece_cid = "baga-" + std::to_string(segments_);
    agg.padded_size = 8192;
    agg.payload_size = offset;
    const std::pair<int64_t, uint64_t> placement{*seg_id, 0};
    auto agg_id = deals_->CreateAggregate(agg, std::span(&placement, 1));
    EXPECT_TRUE(agg_id) << agg_id.error().ToString();
    for (int i = 0; i < 2; ++i) {
      DealRecord d;
      d.uuid = "00000000-0000-4000-8000-" + std::string(6, '0') +
               std::to_string(100000 + segments_ * 10 + i);
      d.aggregate_id = *agg_id;
      d.provider = "f0100" + std::to_string(i);
      d.signed_proposal = Bytes{0x82};
      d.proposal_cid = "bafy";
      d.price_per_epoch = d.provider_collateral = d.client_collateral = "0";
      d.end_epoch = 518500;
      d.token_hash = Bytes(32, 1);
      EXPECT_TRUE(deals_->CreateDeal(d));
      d.state = i < active ? DealState::kActive : DealState::kPublished;
      EXPECT_TRUE(deals_->UpdateDeal(d));
    }
    return pin->requestid;
  }
  std::string Info(const std::string& id, const std::string& key) {
    auto p = pins_->Get(account_, id);
    EXPECT_TRUE(p);
    auto it = p->info.find(key);
    return it == p->info.end() ? "" : it->second;
  }
  size_t HotBlocksOf(const TestDag& dag) {
    size_t n = 0;
    for (const auto& [cid, data] : dag.blocks) n += *store_.Has(cid) ? 1 : 0;
    return n;
  }
  std::vector<std::string> EventKinds(const std::string& id) {
    std::vector<std::string> out;
    const auto events = events_->PinEvents(id, 0, 100);
    EXPECT_TRUE(events);
    for (const auto& e : *events) out.push_back(e.kind);
    return out;
  }
  void Read(const TestDag& dag) {
    for (const auto& [cid, data] : dag.blocks) accesses_.Touched(cid);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<metadata::SqliteDatabase> db_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<metadata::DealStore> deals_;
  std::unique_ptr<metadata::EventStore> events_;
  int64_t account_ = 0;
  int segments_ = 0;
  fetch::FakeHttpGetter http_;
  fetch::GatewayBlockSource source_{http_, {.gateways = {"http://gw"}}};
  blockstore::MemoryBlockstore store_;
  std::unique_ptr<PinService> service_;
  AccessLog accesses_;
  std::unique_ptr<HotCache> cache_;
};

TEST_F(HotCacheTest, OnlyPinsWhoseDealsAreAllActiveLoseTheirBlocksColdestFirst) {
  const TestDag a = MakeDag("a", 2, 3), b = MakeDag("b", 2, 3), c = MakeDag("c", 2, 3),
                d = MakeDag("d", 2, 3), e = MakeDag("e", 2, 3);
  const std::string pa = Pinned(a, 2), pb = Pinned(b, 2), pc = Pinned(c, 1),
                    pd = Pinned(d, 2, {{"hot", "always"}}),
                    pe = Pinned(e, 1, {{"filecoin.replicas", "1"}});
  EXPECT_EQ(Info(pa, "hot"), "cached");
  // Under the limit: nothing leaves, but reads are recorded. `a` is read twice (two
  // references, far apart), `b` once: `b` is colder under LRU-2.
  MakeCache(HotBytes());
  clock_.Advance(1'000'000'000);
  Read(a);
  ASSERT_TRUE(cache_->RunOnce());
  clock_.Advance(1'000'000'000);
  Read(a);
  Read(b);
  auto none = cache_->RunOnce();
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(none->pins, 0u);
  EXPECT_EQ(HotBlocksOf(b), b.blocks.size());

  // Over the limit by less than one pin, with a fresh order (as after a restart: a and b are
  // read once each, c, d and e not at all): the first evictable pin of c, d, e goes. c has 1
  // of its 2 deals active, d is hot=always, e needs 1 replica and has it.
  MakeCache(HotBytes() - 1);
  Read(a);
  Read(b);
  auto one = cache_->RunOnce();
  ASSERT_TRUE(one) << one.error().ToString();
  EXPECT_EQ(one->pins, 1u);
  EXPECT_EQ(HotBlocksOf(e), 0u);  // never read since start: the coldest; 1/1 active
  EXPECT_EQ(Info(pe, "hot"), "cold-only");
  EXPECT_EQ(EventKinds(pe).back(), "evicted");

  // Everything that may go: a and b; c (1 of 2 active) and d (hot=always) stay.
  MakeCache(1);
  auto all = cache_->RunOnce();
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all->pins, 2u);
  EXPECT_EQ(HotBlocksOf(a), 0u);
  EXPECT_EQ(HotBlocksOf(b), 0u);
  EXPECT_EQ(HotBlocksOf(c), c.blocks.size());
  EXPECT_EQ(HotBlocksOf(d), d.blocks.size());
  EXPECT_EQ(Info(pc, "hot"), "cached");
  EXPECT_EQ(Info(pd, "hot"), "cached");
  EXPECT_EQ(Info(pa, "hot"), "cold-only");
  EXPECT_EQ(cache_->stats().evicted_pins.load(), 2u);
  EXPECT_EQ(cache_->EvictedBytesByAccount().at(account_), a.bytes + b.bytes);
  auto usage = deals_->ColdOnlyByAccount();
  ASSERT_TRUE(usage);
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].pins, 3u);
}

TEST_F(HotCacheTest, TheOrderFollowsReadsAndAScanDoesNotPushOutWhatIsReadOften) {
  const TestDag hot1 = MakeDag("hot1", 1, 2), hot2 = MakeDag("hot2", 1, 2),
                scan = MakeDag("scan", 1, 2);
  Pinned(hot1, 2);
  Pinned(hot2, 2);
  Pinned(scan, 2);
  MakeCache(HotBytes());
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(120'000'000);  // two references (further apart than 60 s)
    Read(hot1);
    Read(hot2);
    ASSERT_TRUE(cache_->RunOnce());
  }
  clock_.Advance(120'000'000);
  Read(scan);  // read last, once: LRU would keep it and evict hot1
  ASSERT_EQ(cache_->RunOnce()->pins, 0u);
  const Bytes extra = ToBytes("ten bytes!");
  ASSERT_TRUE(
      store_.Put(*mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, extra), extra));
  auto r = cache_->RunOnce();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->pins, 1u);
  EXPECT_EQ(HotBlocksOf(scan), 0u);
  EXPECT_EQ(HotBlocksOf(hot1), hot1.blocks.size());
  EXPECT_EQ(HotBlocksOf(hot2), hot2.blocks.size());
}

TEST_F(HotCacheTest, SharedBlocksStayWhileAnotherHolderOrAPinInFlightNeedsThem) {
  // 1 root, 2 inner nodes, 3 leaves under each; the first leaf under each inner node is the same
  // in both DAGs.
  const TestDag safe = MakeDag("safe", 2, 3, /*shared=*/1);
  const TestDag unsafe = MakeDag("unsafe", 2, 3, /*shared=*/1);
  Pinned(safe, 2);
  Pinned(unsafe, 1);  // not evictable: it needs the shared leaves hot
  // A pin still queued whose root is one of safe's inner nodes (its walk reaches it and its 3
  // leaves).
  mf::Cid inner;
  for (const auto& [cid, data] : safe.blocks) {
    if (cid.codec() == mf::codec::kDagCbor && cid != safe.root) inner = cid;
  }
  metadata::NewPin q;
  q.cid = inner.ToString();
  ASSERT_TRUE(pins_->Create(account_, q));
  MakeCache(1);
  auto r = cache_->RunOnce();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->pins, 1u);
  // Kept: the inner node and its 3 leaves (one shared), and the other shared leaf. Gone: the
  // root, the other inner node and its 2 own leaves.
  EXPECT_EQ(HotBlocksOf(safe), 5u);
  EXPECT_EQ(r->blocks, 4u);
  EXPECT_TRUE(*store_.Has(inner));
  EXPECT_FALSE(*store_.Has(safe.root));
  EXPECT_EQ(HotBlocksOf(unsafe), unsafe.blocks.size());
  EXPECT_EQ(cache_->stats().kept_shared_blocks.load(), 5u);
}

TEST_F(HotCacheTest, ReadsBringAnEvictedPinBackAndGarbageCollectionKeepsWhatTheyBrought) {
  const TestDag dag = MakeDag("rewarm", 2, 3);
  const std::string id = Pinned(dag, 2);
  MakeCache(1);
  ASSERT_EQ(cache_->RunOnce()->pins, 1u);
  ASSERT_EQ(HotBlocksOf(dag), 0u);
  // A read of one leaf brings it back (the fallback store writes it back): it is not reachable
  // from the (evicted) root, yet garbage collection keeps it.
  const auto& [leaf, leaf_data] = *dag.blocks.begin();
  ASSERT_TRUE(store_.Put(leaf, leaf_data));
  accesses_.Touched(leaf);
  MakeCache(0);  // no limit: the pass only records
  ASSERT_TRUE(cache_->RunOnce());
  EXPECT_EQ(Info(id, "hot"), "cold-only");  // partly hot
  auto gc = service_->CollectGarbage();
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_TRUE(*store_.Has(leaf));
  // Every block back: recorded cached, with its event.
  for (const auto& [cid, data] : dag.blocks) ASSERT_TRUE(store_.Put(cid, data));
  accesses_.Touched(dag.root);
  ASSERT_TRUE(cache_->RunOnce());
  EXPECT_EQ(Info(id, "hot"), "cached");
  EXPECT_EQ(EventKinds(id).back(), "rewarmed");
  EXPECT_EQ(cache_->stats().rewarmed_pins.load(), 1u);
}

TEST_F(HotCacheTest, EvictionDoesNotRunBesideACollection) {
  const TestDag dag = MakeDag("excl", 1, 2);
  Pinned(dag, 2);
  MakeCache(1);
  Result<EvictionReport> inside = Err(ErrorCode::kInternal, "not run");
  ASSERT_TRUE(service_->RunExclusive([&]() -> Result<void> {
    inside = cache_->RunOnce();
    return Ok();
  }));
  ASSERT_FALSE(inside);
  EXPECT_EQ(inside.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(HotBlocksOf(dag), dag.blocks.size());
  EXPECT_EQ(cache_->stats().skipped_passes.load(), 1u);
  EXPECT_EQ(cache_->RunOnce()->pins, 1u);
}

TEST_F(HotCacheTest, ADeletedPinLeavesTheOrderAndItsBlocksAreLeftToGarbageCollection) {
  const TestDag gone = MakeDag("deleted", 1, 2), kept = MakeDag("kept", 1, 2);
  const std::string id = Pinned(gone, 2);
  Pinned(kept, 2);
  MakeCache(HotBytes());
  ASSERT_EQ(cache_->RunOnce()->pins, 0u);  // both in the order; `gone` is the coldest
  ASSERT_TRUE(pins_->Delete(account_, id));
  const Bytes extra = ToBytes("ten bytes!");
  ASSERT_TRUE(
      store_.Put(*mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, extra), extra));
  auto r = cache_->RunOnce();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->pins, 1u);
  EXPECT_EQ(HotBlocksOf(kept), 0u);
  EXPECT_EQ(HotBlocksOf(gone), gone.blocks.size()) << "a deleted pin's blocks are GC's to remove";
}

TEST_F(HotCacheTest, LeasedBlocksAndPinsWithoutASegmentKeepWhatTheyShare) {
  // `victim` may go; an upload holds a lease on one of its leaves; a pinned pin whose segment
  // is not made yet shares another of its blocks.
  const TestDag victim = MakeDag("victim", 1, 3, /*shared=*/1);
  const TestDag unsegmented = MakeDag("unsegmented", 1, 3, /*shared=*/1);
  Pinned(victim, 2);
  metadata::NewPin p;
  p.cid = unsegmented.root.ToString();
  auto pin = pins_->Create(account_, p);
  ASSERT_TRUE(pin);
  for (const auto& [cid, data] : unsegmented.blocks) ASSERT_TRUE(store_.Put(cid, data));
  ASSERT_TRUE(pins_->UpdateStatus(pin->requestid, PinStatus::kPinned, {}));
  mf::Cid leased;
  mf::Cid shared;
  for (const auto& [cid, data] : victim.blocks) {
    if (cid.codec() != mf::codec::kRaw) continue;
    if (unsegmented.blocks.count(cid)) {
      shared = cid;
    } else {
      leased = cid;
    }
  }
  auto lease = service_->leases().Open();
  lease.Hold(leased);
  MakeCache(1);
  auto r = cache_->RunOnce();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->pins, 1u);
  EXPECT_TRUE(*store_.Has(leased)) << "a leased block was deleted";
  EXPECT_TRUE(*store_.Has(shared)) << "a block of a pin not yet on Filecoin was deleted";
  EXPECT_FALSE(*store_.Has(victim.root));
  EXPECT_EQ(HotBlocksOf(unsegmented), unsegmented.blocks.size());
}

}  // namespace
}  // namespace cairn::pinning
