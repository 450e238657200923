#include "blockstore/leases.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "blockstore/internal/test_support.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {
namespace {

using testing::MakeBlock;

// Runs one DeleteUnlessHeld and says whether it removed the block.
bool Deletes(BlockLeases& leases, const multiformats::Cid& cid) {
  bool removed = false;
  auto r = leases.DeleteUnlessHeld(cid, [&]() -> Result<void> {
    removed = true;
    return Ok();
  });
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(r.value_or(!removed), removed);
  return removed;
}

TEST(BlockLeases, HeldBlockIsNotDeletedAndFreeOneIs) {
  BlockLeases leases;
  auto a = MakeBlock(1, 100), b = MakeBlock(2, 100);
  leases.BeginCollection();
  auto lease = leases.Open();
  lease.Hold(a.cid);
  EXPECT_FALSE(Deletes(leases, a.cid));
  EXPECT_TRUE(Deletes(leases, b.cid));
  leases.EndCollection();
}

TEST(BlockLeases, HoldingIsByMultihashNotCid) {
  BlockLeases leases;
  auto a = MakeBlock(3, 100);
  auto as_dag_pb = multiformats::Cid::Compute(1, multiformats::codec::kDagPb,
                                              multiformats::codec::kSha2_256, a.data);
  ASSERT_TRUE(as_dag_pb.has_value());
  auto lease = leases.Open();
  lease.Hold(a.cid);
  EXPECT_FALSE(Deletes(leases, *as_dag_pb));
}

TEST(BlockLeases, LeaseEndedDuringCollectionStaysProtectedUntilItEnds) {
  BlockLeases leases;
  auto a = MakeBlock(4, 100);
  leases.BeginCollection();
  {
    auto lease = leases.Open();
    lease.Hold(a.cid);
  }  // the upload committed its pin after the collection read the pins
  EXPECT_EQ(leases.held_blocks(), 0u);
  EXPECT_FALSE(Deletes(leases, a.cid));
  leases.EndCollection();
  leases.BeginCollection();  // the next collection sees the pin instead
  EXPECT_TRUE(Deletes(leases, a.cid));
  leases.EndCollection();
}

TEST(BlockLeases, LeaseEndedOutsideCollectionProtectsNothing) {
  BlockLeases leases;
  auto a = MakeBlock(5, 100);
  { leases.Open().Hold(a.cid); }
  leases.BeginCollection();
  EXPECT_TRUE(Deletes(leases, a.cid));
  leases.EndCollection();
}

TEST(BlockLeases, BlockHeldByTwoLeasesStaysHeldUntilBothEnd) {
  BlockLeases leases;
  auto a = MakeBlock(6, 100);
  auto first = leases.Open();
  auto second = leases.Open();
  first.Hold(a.cid);
  first.Hold(a.cid);  // twice in one lease counts once
  second.Hold(a.cid);
  first.Release();
  EXPECT_EQ(leases.held_blocks(), 1u);
  EXPECT_FALSE(Deletes(leases, a.cid));
  second.Release();
  EXPECT_EQ(leases.held_blocks(), 0u);
  EXPECT_TRUE(Deletes(leases, a.cid));
}

TEST(BlockLeases, MovedLeaseKeepsItsBlocksAndMovedFromHoldsNothing) {
  BlockLeases leases;
  auto a = MakeBlock(7, 100);
  auto lease = leases.Open();
  lease.Hold(a.cid);
  BlockLeases::Lease moved = std::move(lease);
  lease.Release();  // no effect on the moved blocks
  EXPECT_FALSE(Deletes(leases, a.cid));
  moved.Release();
  EXPECT_TRUE(Deletes(leases, a.cid));
}

TEST(BlockLeases, RemoveErrorIsReturned) {
  BlockLeases leases;
  auto a = MakeBlock(8, 100);
  auto r = leases.DeleteUnlessHeld(
      a.cid, []() -> Result<void> { return Err(ErrorCode::kIoError, "disk gone"); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError);
}

TEST(BlockLeases, ConcurrentHoldsFromManyThreadsAreAllCounted) {
  BlockLeases leases;
  auto lease = leases.Open();
  std::vector<testing::Block> blocks;
  for (int i = 0; i < 400; ++i) blocks.push_back(MakeBlock(100 + i, 32));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < blocks.size(); i += 2) lease.Hold(blocks[i].cid);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(leases.held_blocks(), blocks.size());
  lease.Release();
  EXPECT_EQ(leases.held_blocks(), 0u);
}

}  // namespace
}  // namespace cairn::blockstore
