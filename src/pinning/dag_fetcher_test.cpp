#include "pinning/dag_fetcher.hpp"

#include <gtest/gtest.h>

#include "blockstore/memory_blockstore.hpp"
#include "pinning/test_dag.hpp"

namespace cairn::pinning {
namespace {

namespace mf = multiformats;

using testing::MakeDag;
using testing::Serve;

struct Fixture {
  fetch::FakeHttpGetter http;
  fetch::GatewayBlockSource source{http, {.gateways = {"http://gw"}}};
  blockstore::MemoryBlockstore store;
  FakeClock clock;
  std::atomic<bool> cancel{false};
};

TEST(FetchDag, FetchesEveryMissingBlockOnceAndVerifiesThem) {
  Fixture f;
  auto dag = MakeDag("a", 4, 5);
  Serve(f.http, "http://gw", dag);
  for (size_t parallelism : {1, 8}) {
    blockstore::MemoryBlockstore store;
    DagFetchOptions o;
    o.parallelism = parallelism;
    auto r = FetchDag(dag.root, store, f.source, f.clock, o, f.cancel);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->blocks, dag.blocks.size());
    EXPECT_EQ(r->dag_bytes, dag.bytes);
    EXPECT_EQ(r->fetched_blocks, dag.blocks.size());
    for (const auto& [cid, data] : dag.blocks) EXPECT_EQ(*store.Get(cid), data);
  }
}

TEST(FetchDag, ReusesStoredBlocks) {
  Fixture f;
  auto dag = MakeDag("b", 3, 3);
  Serve(f.http, "http://gw", dag);
  for (const auto& [cid, data] : dag.blocks) {
    if (cid != dag.root) {
      ASSERT_TRUE(f.store.Put(cid, data));
    }
  }
  int before = f.http.gets();
  auto r = FetchDag(dag.root, f.store, f.source, f.clock, {}, f.cancel);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->fetched_blocks, 1u);
  EXPECT_EQ(f.http.gets() - before, 1);
}

TEST(FetchDag, FailsWithTheMissingBlockAndKeepsWhatItFetched) {
  Fixture f;
  auto dag = MakeDag("c", 2, 2);
  Serve(f.http, "http://gw", dag);
  mf::Cid missing;
  for (const auto& [cid, data] : dag.blocks) {
    if (cid.codec() == mf::codec::kRaw) {
      missing = cid;
    }
  }
  f.http.Set("http://gw/ipfs/" + missing.ToString() + "?format=raw", 404, "");
  auto r = FetchDag(dag.root, f.store, f.source, f.clock, {}, f.cancel);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find(missing.ToString()), std::string::npos);
  EXPECT_TRUE(*f.store.Has(dag.root));
}

TEST(FetchDag, EnforcesTheSizeCapDeadlineAndCancellation) {
  Fixture f;
  auto dag = MakeDag("d", 3, 3);
  Serve(f.http, "http://gw", dag);
  DagFetchOptions capped;
  capped.max_dag_bytes = 200;
  EXPECT_EQ(FetchDag(dag.root, f.store, f.source, f.clock, capped, f.cancel).error().code(),
            ErrorCode::kResourceExhausted);
  DagFetchOptions late;
  late.deadline_micros = f.clock.MonotonicMicros() - 1;
  blockstore::MemoryBlockstore fresh;
  EXPECT_EQ(FetchDag(dag.root, fresh, f.source, f.clock, late, f.cancel).error().code(),
            ErrorCode::kTimeout);
  std::atomic<bool> cancelled{true};
  EXPECT_EQ(FetchDag(dag.root, fresh, f.source, f.clock, {}, cancelled).error().code(),
            ErrorCode::kCancelled);
}

TEST(FetchDag, IdentityRootsNeedNothing) {
  Fixture f;
  auto id = *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kIdentity, AsBytes("inline"));
  auto r = FetchDag(id, f.store, f.source, f.clock, {}, f.cancel);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(f.http.gets(), 0);
}

}  // namespace
}  // namespace cairn::pinning
