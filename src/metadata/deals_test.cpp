#include "metadata/deals.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "metadata/accounts.hpp"
#include "metadata/internal/test_db.hpp"
#include "metadata/pins.hpp"

namespace cairn::metadata {
namespace {

using multiformats::Cid;
using testing::TempDb;

Cid RawCid(int i) {
  return *Cid::Compute(1, 0x55, 0x12, AsBytes("deal block " + std::to_string(i)));
}

class DealsTest : public ::testing::Test {
 protected:
  void SetUp() override { alice_ = accounts_.CreateAccount("alice")->id; }

  PinRecord Pinned(int i) {
    auto pin = pins_.Create(alice_, NewPin{RawCid(i).ToString(), std::nullopt, {}, {}});
    EXPECT_TRUE(pin.has_value());
    EXPECT_TRUE(pins_.UpdateStatus(pin->requestid, PinStatus::kPinned, {{"k", "v"}}).has_value());
    return *pin;
  }

  SegmentRecord SegmentFor(const PinRecord& pin, uint64_t padded) {
    SegmentRecord s;
    s.pin_requestid = pin.requestid;
    s.root_cid = pin.cid.ToBytes();
    s.car_size = padded / 2;
    s.comm_p = Bytes(32, 7);
    s.padded_size = padded;
    return s;
  }

  DealRecord Deal(const std::string& uuid, int64_t aggregate) {
    DealRecord d;
    d.uuid = uuid;
    d.aggregate_id = aggregate;
    d.provider = "f01000";
    d.signed_proposal = Bytes{0x82, 0x01};
    d.proposal_cid = "bafy2bzace";
    d.price_per_epoch = "976562";
    d.provider_collateral = "12";
    d.client_collateral = "0";
    d.start_epoch = 100;
    d.end_epoch = 518500;
    d.token_hash = Bytes(32, 1);
    return d;
  }

  TempDb db_;
  SystemClock& clock_ = SystemClock::Instance();
  AccountStore accounts_{db_.db(), clock_};
  PinStore pins_{db_.db(), clock_};
  DealStore deals_{db_.db(), clock_};
  int64_t alice_ = 0;
};

TEST_F(DealsTest, PinnedPinsWithoutSegmentAreListedOnceSegmented) {
  auto queued = pins_.Create(alice_, NewPin{RawCid(99).ToString(), std::nullopt, {}, {}});
  ASSERT_TRUE(queued.has_value());
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  auto pending = deals_.UnsegmentedPins(10);
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 2u);  // the queued pin is not listed
  EXPECT_EQ((*pending)[0].requestid, a.requestid);
  EXPECT_EQ((*pending)[0].cid, a.cid.ToBytes());

  ASSERT_TRUE(deals_.AddSegment(SegmentFor(a, 1024)).has_value());
  auto again = deals_.AddSegment(SegmentFor(a, 1024));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  pending = deals_.UnsegmentedPins(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].requestid, b.requestid);
}

// The engine writes one batch's segments while it reads and computes the next: a cursor reads
// on past the pins it has (ties in queue time broken by requestid).
TEST_F(DealsTest, ACursorReadsTheUnsegmentedQueueOnPastThePinsAlreadyRead) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(Pinned(i).requestid);
  auto first = deals_.UnsegmentedPins(2);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  std::vector<std::string> seen;
  std::optional<UnsegmentedCursor> cursor;
  for (int round = 0; round < 4; ++round) {
    auto page = deals_.UnsegmentedPins(2, std::nullopt, cursor);
    ASSERT_TRUE(page.has_value());
    for (const auto& p : *page) seen.push_back(p.requestid);
    if (page->empty()) break;
    cursor = UnsegmentedCursor{page->back().queued_at, page->back().requestid};
  }
  EXPECT_EQ(seen, ids);  // once each, in queue order, though none was segmented
  // Two pins queued at the same time: both are read, one page each.
  ASSERT_TRUE(db_.db()
                  .Write([&](SqlSession& s) -> Result<void> {
                    return s.ExecScript("UPDATE fil_unsegmented SET created = 7");
                  })
                  .has_value());
  auto one = deals_.UnsegmentedPins(1);
  ASSERT_EQ(one->size(), 1u);
  auto next = deals_.UnsegmentedPins(1, std::nullopt, UnsegmentedCursor{7, one->front().requestid});
  ASSERT_EQ(next->size(), 1u);
  EXPECT_NE(next->front().requestid, one->front().requestid);
  EXPECT_EQ(next->front().queued_at, 7);
}

TEST_F(DealsTest, TheUnsegmentedQueueFollowsEveryWayAPinComesAndGoes) {
  auto requestids = [this] {
    std::vector<std::string> out;
    const auto pending = deals_.UnsegmentedPins(100);
    for (const auto& p : *pending) out.push_back(p.requestid);
    return out;
  };
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  // A pin stored as `pinned` by a plain insert (a restore, another writer) joins too.
  ASSERT_TRUE(db_.db()
                  .Write([&](SqlSession& s) -> Result<void> {
                    std::array<SqlValue, 3> row = {std::string("direct"), int64_t{alice_},
                                                   RawCid(3).ToBytes()};
                    CAIRN_TRY(s.Exec(
                        "INSERT INTO pins (requestid, account_id, cid_text, cid, origins, meta, "
                        "status, created, updated_at, info) VALUES (?1, ?2, 'x', ?3, '[]', '{}', "
                        "'pinned', 1, 1, '{}')",
                        row));
                    return Ok();
                  })
                  .has_value());
  EXPECT_EQ(requestids(), (std::vector<std::string>{"direct", a.requestid, b.requestid}));
  // Segmented, deleted: gone. A pinned pin that goes back to queued is passed over while so.
  ASSERT_TRUE(deals_.AddSegment(SegmentFor(a, 1024)).has_value());
  ASSERT_TRUE(pins_.Delete(alice_, "direct").has_value());
  ASSERT_TRUE(pins_.UpdateStatus(b.requestid, PinStatus::kQueued, {}).has_value());
  EXPECT_TRUE(requestids().empty());
  ASSERT_TRUE(pins_.UpdateStatus(b.requestid, PinStatus::kPinned, {}).has_value());
  EXPECT_EQ(requestids(), std::vector<std::string>{b.requestid});
  // A segmented pin pinned again (re-pinned after a failure) does not come back.
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kFailed, {}).has_value());
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kPinned, {}).has_value());
  EXPECT_EQ(requestids(), std::vector<std::string>{b.requestid});
  EXPECT_EQ(deals_.UnsegmentedPins(0)->size(), 0u);
}

TEST_F(DealsTest, AnAggregatesPinsChangedMovesWhenOneOfItsPinsIsDeletedOrItsMetaChanges) {
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  PinRecord c = Pinned(3);
  const int64_t sa = *deals_.AddSegment(SegmentFor(a, 1024));
  const int64_t sb = *deals_.AddSegment(SegmentFor(b, 1024));
  const int64_t sc = *deals_.AddSegment(SegmentFor(c, 1024));
  std::vector<std::pair<int64_t, uint64_t>> placed = {{sa, 0}, {sb, 1024}, {sc, 2048}};
  const int64_t first =
      *deals_.CreateAggregate(AggregateRecord{0, "baga6ea4seaqfirst", 4096, 4064, 0}, placed);
  auto changed = [this](int64_t id) { return deals_.GetAggregate(id)->pins_changed; };
  EXPECT_EQ(changed(first), 0);
  ASSERT_TRUE(pins_.Delete(alice_, c.requestid).has_value());
  EXPECT_EQ(changed(first), 1);
  ASSERT_TRUE(db_.db()
                  .Write([&](SqlSession& s) -> Result<void> {
                    std::array<SqlValue, 1> id = {b.requestid};
                    CAIRN_TRY(
                        s.Exec("UPDATE pins SET meta = '{\"filecoin.replicas\":\"3\"}' "
                               "WHERE requestid = ?",
                               id));
                    return Ok();
                  })
                  .has_value());
  EXPECT_EQ(changed(first), 2);
  // Re-aggregated: a and b move out to a second aggregate; deleting b moves both.
  ASSERT_EQ(*deals_.Reaggregate(first), 2u);
  std::vector<std::pair<int64_t, uint64_t>> again = {{sa, 0}, {sb, 1024}};
  const int64_t second =
      *deals_.CreateAggregate(AggregateRecord{0, "baga6ea4seaqsecond", 2048, 2032, 0}, again);
  ASSERT_TRUE(pins_.Delete(alice_, b.requestid).has_value());
  EXPECT_EQ(changed(first), 3);
  EXPECT_EQ(changed(second), 1);
  // Shown text round-trips; an aggregate starts with none.
  EXPECT_EQ(deals_.GetAggregate(second)->shown, "");
  ASSERT_TRUE(deals_.SetAggregateShown(second, "active 2/2\nbaga\nf01000:1:active").has_value());
  EXPECT_EQ(deals_.Aggregates()->back().shown, "active 2/2\nbaga\nf01000:1:active");
}

TEST_F(DealsTest, AnAccountsPolicyIsReadWithItsSegmentsAndAChangeMovesItsAggregates) {
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  const int64_t bob = accounts_.CreateAccount("bob")->id;
  auto bobs = pins_.Create(bob, NewPin{RawCid(3).ToString(), std::nullopt, {}, {}});
  ASSERT_TRUE(pins_.UpdateStatus(bobs->requestid, PinStatus::kPinned, {}).has_value());
  const int64_t sa = *deals_.AddSegment(SegmentFor(a, 1024));
  const int64_t sb = *deals_.AddSegment(SegmentFor(b, 1024));
  const int64_t sbob = *deals_.AddSegment(SegmentFor(*bobs, 1024));
  const std::vector<std::pair<int64_t, uint64_t>> alices = {{sa, 0}};
  const int64_t first =
      *deals_.CreateAggregate(AggregateRecord{0, "baga6ea4seaqalice", 2048, 2032, 0}, alices);
  const std::vector<std::pair<int64_t, uint64_t>> bobs_placed = {{sbob, 0}};
  const int64_t second =
      *deals_.CreateAggregate(AggregateRecord{0, "baga6ea4seaqbob", 2048, 2032, 0}, bobs_placed);
  auto changed = [this](int64_t id) { return deals_.GetAggregate(id)->pins_changed; };

  const std::map<std::string, std::string> policy = {{"filecoin.deny", "f01000"},
                                                     {"filecoin.replicas", "3"}};
  ASSERT_TRUE(accounts_.SetPolicy("alice", policy).has_value());
  EXPECT_EQ(*accounts_.Policy(alice_), policy);
  EXPECT_EQ(changed(first), 1);
  EXPECT_EQ(changed(second), 0);  // bob's
  ASSERT_TRUE(accounts_.SetPolicy("alice", policy).has_value());
  EXPECT_EQ(changed(first), 1) << "the same policy again changes nothing";
  // Read with the segments, aggregated or waiting; a deleted pin's segment has none.
  EXPECT_EQ(deals_.Segments(first)->at(0).account_policy, policy);
  auto waiting = deals_.UnaggregatedSegments(10);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(waiting->at(0).id, sb);
  EXPECT_EQ(waiting->at(0).account_policy, policy);
  EXPECT_TRUE(deals_.Segments(second)->at(0).account_policy.empty());
  // The eviction facts' replicas: the pin's meta first, else the account's.
  const std::array<int64_t, 2> ids = {sa, sbob};
  auto facts = deals_.EvictionFactsOf(ids);
  ASSERT_EQ(facts->size(), 2u);
  for (const auto& f : *facts) EXPECT_EQ(f.replicas_meta, f.segment_id == sa ? "3" : "");
  ASSERT_TRUE(pins_.Delete(alice_, a.requestid).has_value());
  EXPECT_TRUE(deals_.Segments(first)->at(0).account_policy.empty());

  // Limits and unknown accounts.
  EXPECT_EQ(accounts_.SetPolicy("nobody", {}).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(accounts_.Policy(9999).error().code(), ErrorCode::kNotFound);
  std::map<std::string, std::string> huge;
  for (int i = 0; i < 17; ++i) huge["k" + std::to_string(i)] = "v";
  EXPECT_EQ(accounts_.SetPolicy("alice", huge).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*accounts_.Policy(alice_), policy);
}

TEST_F(DealsTest, AddSegmentsWritesABatchAndSkipsPinsThatHaveOne) {
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  PinRecord c = Pinned(3);
  ASSERT_TRUE(deals_.AddSegment(SegmentFor(a, 1024)).has_value());
  std::vector<DealStore::NewSegment> batch;
  for (const PinRecord* p : {&a, &b, &c}) {
    DealStore::NewSegment n;
    n.segment = SegmentFor(*p, 2048);
    n.blocks = {{Bytes{0x12, 0x20, static_cast<uint8_t>(p == &a ? 1 : p == &b ? 2 : 3)}, 10, 5}};
    batch.push_back(std::move(n));
  }
  EXPECT_EQ(*deals_.AddSegments(batch), 2u);  // a had one
  EXPECT_EQ(deals_.SegmentsOfPin(a.requestid)->at(0).padded_size, 1024u) << "a's segment is kept";
  EXPECT_EQ(deals_.SegmentsOfPin(c.requestid)->at(0).padded_size, 2048u);
  auto blocks = deals_.SegmentBlocks(deals_.SegmentsOfPin(b.requestid)->at(0).id);
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ(blocks->at(0).offset, 10u);
  EXPECT_EQ(pins_.Get(alice_, c.requestid)->info.at("hot"), "cached");
  EXPECT_TRUE(deals_.UnsegmentedPins(10)->empty());
  // The info of many pins in one write; a deleted pin is skipped.
  ASSERT_TRUE(pins_.Delete(alice_, b.requestid).has_value());
  const std::vector<std::string> ids = {a.requestid, b.requestid, c.requestid};
  ASSERT_TRUE(pins_.MergeInfoMany(ids, {{"filecoin", "aggregating"}}).has_value());
  EXPECT_EQ(pins_.Get(alice_, a.requestid)->info.at("filecoin"), "aggregating");
  EXPECT_EQ(pins_.Get(alice_, c.requestid)->info.at("filecoin"), "aggregating");
  EXPECT_EQ(pins_.Get(alice_, c.requestid)->info.at("k"), "v") << "other keys are kept";
}

TEST_F(DealsTest, AShardedPinIsWrittenWholeAndIsAsSafeAndAsHotAsItsShards) {
  PinRecord p = Pinned(1);
  PinRecord other = Pinned(2);
  std::vector<DealStore::NewSegment> batch;
  for (uint32_t k = 0; k < 3; ++k) {
    DealStore::NewSegment n;
    n.segment = SegmentFor(p, 1024);
    n.segment.shard = k;
    n.segment.shards = 3;
    n.segment.first_section = 10 * k;
    n.segment.sections = 10;
    n.blocks = {{Bytes{0x12, 0x20, static_cast<uint8_t>(k)}, 10, 5}};
    batch.push_back(std::move(n));
  }
  EXPECT_EQ(*deals_.AddSegments(batch), 3u);
  EXPECT_EQ(*deals_.AddSegments(batch), 0u) << "the pin has its shards";
  auto shards = deals_.SegmentsOfPin(p.requestid).value();
  ASSERT_EQ(shards.size(), 3u);
  for (uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(shards[k].shard, k);
    EXPECT_EQ(shards[k].shards, 3u);
    EXPECT_EQ(shards[k].first_section, 10u * k);
    EXPECT_EQ(shards[k].sections, 10u);
  }
  EXPECT_TRUE(deals_.SegmentsOfPin(other.requestid)->empty());
  // Shards 0 and 1 in an aggregate with an active deal, shard 2 not aggregated: no shard of the
  // pin counts as safe.
  AggregateRecord agg;
  agg.piece_cid = "baga-shards";
  agg.padded_size = 4096;
  agg.payload_size = 4064;
  const std::vector<std::pair<int64_t, uint64_t>> placed = {{shards[0].id, 0},
                                                            {shards[1].id, 1024}};
  const int64_t agg_id = *deals_.CreateAggregate(agg, placed);
  DealRecord d = Deal("11111111-2222-3333-4444-555555555555", agg_id);
  ASSERT_TRUE(deals_.CreateDeal(d).has_value());
  d.state = DealState::kActive;
  ASSERT_TRUE(deals_.UpdateDeal(d).has_value());
  const std::vector<int64_t> ids = {shards[0].id, shards[2].id};
  const auto facts = deals_.EvictionFactsOf(ids).value();
  ASSERT_EQ(facts.size(), 2u);
  for (const auto& f : facts) EXPECT_EQ(f.active_deals, 0) << f.segment_id;
  // Evicting one shard: the pin is cold-only, and every shard's blocks are kept by collection.
  ASSERT_TRUE(deals_.MarkEvicted(shards[0].id, 1, 5).has_value());
  EXPECT_EQ(pins_.Get(alice_, p.requestid)->info.at("hot"), "cold-only");
  std::set<Bytes> kept;
  ASSERT_TRUE(
      deals_.ForEachEvictedBlock([&](ByteSpan mh) { kept.insert(Bytes(mh.begin(), mh.end())); })
          .has_value());
  EXPECT_EQ(kept.size(), 3u);
  ASSERT_TRUE(deals_.MarkEvicted(shards[1].id, 1, 5).has_value());
  auto usage = deals_.ColdOnlyByAccount().value();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].pins, 1u);
  EXPECT_EQ(usage[0].bytes, 1024u);
  // Cached again only once no shard is evicted.
  EXPECT_TRUE(*deals_.MarkCached(shards[0].id));
  EXPECT_EQ(pins_.Get(alice_, p.requestid)->info.at("hot"), "cold-only");
  EXPECT_TRUE(*deals_.MarkCached(shards[1].id));
  EXPECT_EQ(pins_.Get(alice_, p.requestid)->info.at("hot"), "cached");
}

TEST_F(DealsTest, SegmentAtOffsetFindsTheSegmentPlacedThereNowOrBefore) {
  PinRecord a = Pinned(1);
  PinRecord b = Pinned(2);
  PinRecord c = Pinned(3);
  const int64_t sa = *deals_.AddSegment(SegmentFor(a, 1024));
  const int64_t sb = *deals_.AddSegment(SegmentFor(b, 512));
  const int64_t sc = *deals_.AddSegment(SegmentFor(c, 1024));
  std::vector<std::pair<int64_t, uint64_t>> placed = {{sa, 0}, {sb, 1024}, {sc, 2048}};
  const int64_t agg =
      *deals_.CreateAggregate(AggregateRecord{0, "baga6ea4seaqoffsets", 4096, 4064, 0}, placed);
  auto at = [&](uint64_t offset) {
    auto s = deals_.SegmentAtOffset(agg, offset);
    EXPECT_TRUE(s.has_value());
    return s->has_value() ? (*s)->id : int64_t{-1};
  };
  EXPECT_EQ(at(0), sa);
  EXPECT_EQ(at(1023), sa);
  EXPECT_EQ(at(1024), sb);
  EXPECT_EQ(at(2047), sb);  // padding after b: the segment before it
  EXPECT_EQ(at(4095), sc);
  EXPECT_FALSE(deals_.SegmentAtOffset(agg + 1, 0)->has_value());
  // c is deleted, a and b move out: they are still found in the old aggregate, at their old
  // offsets and with its id; c (never moved) too.
  ASSERT_TRUE(pins_.Delete(alice_, c.requestid).has_value());
  ASSERT_EQ(*deals_.Reaggregate(agg), 2u);
  EXPECT_EQ(at(100), sa);
  EXPECT_EQ(at(1500), sb);
  EXPECT_EQ(at(3000), sc);
  auto moved = deals_.SegmentAtOffset(agg, 1500);
  EXPECT_EQ(*(*moved)->aggregate_id, agg);
  EXPECT_EQ((*moved)->piece_offset, 1024u);
  EXPECT_TRUE((*moved)->pin_exists);
  EXPECT_FALSE((*deals_.SegmentAtOffset(agg, 3000))->pin_exists);
  // Its liveness counts the moved-out segments too (CAR sizes 512 + 256 + 512, c deleted).
  auto live = deals_.LivenessOf(agg);
  ASSERT_TRUE(live.has_value()) << live.error().ToString();
  EXPECT_EQ(live->all_bytes, 1280u);
  EXPECT_EQ(live->live_bytes, 768u);
  ASSERT_TRUE(live->live_sample.has_value());
  EXPECT_TRUE(live->live_sample->pin_exists);
  EXPECT_NE(live->live_sample->id, sc);
  ASSERT_TRUE(pins_.Delete(alice_, a.requestid).has_value());
  ASSERT_TRUE(pins_.Delete(alice_, b.requestid).has_value());
  live = deals_.LivenessOf(agg);
  EXPECT_EQ(live->live_bytes, 0u);
  EXPECT_EQ(live->all_bytes, 1280u);
  EXPECT_FALSE(live->live_sample.has_value());
  EXPECT_EQ(deals_.LivenessOf(agg + 1)->all_bytes, 0u);
}

TEST_F(DealsTest, AggregateCreationPlacesSegmentsAtomically) {
  int64_t s1 = *deals_.AddSegment(SegmentFor(Pinned(1), 1024));
  int64_t s2 = *deals_.AddSegment(SegmentFor(Pinned(2), 512));
  ASSERT_EQ(deals_.UnaggregatedSegments(10)->size(), 2u);

  AggregateRecord agg{0, "baga6ea4seaq", 4096, 4064, 0};
  std::vector<std::pair<int64_t, uint64_t>> bad = {{s1, 0}, {s2 + 100, 1024}};
  auto failed = deals_.CreateAggregate(agg, bad);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(deals_.Aggregates()->size(), 0u);  // rolled back
  EXPECT_EQ(deals_.UnaggregatedSegments(10)->size(), 2u);

  std::vector<std::pair<int64_t, uint64_t>> good = {{s1, 0}, {s2, 1024}};
  auto id = deals_.CreateAggregate(agg, good);
  ASSERT_TRUE(id.has_value()) << id.error().ToString();
  EXPECT_EQ(deals_.UnaggregatedSegments(10)->size(), 0u);
  auto segs = deals_.Segments(*id);
  ASSERT_EQ(segs->size(), 2u);
  EXPECT_EQ((*segs)[1].id, s2);
  EXPECT_EQ((*segs)[1].piece_offset, 1024u);
  EXPECT_EQ(*(*segs)[1].aggregate_id, *id);
  auto stored = deals_.GetAggregate(*id);
  EXPECT_EQ(stored->payload_size, 4064u);
  // A segment cannot join a second aggregate.
  AggregateRecord other{0, "baga6ea4seaqother", 4096, 4064, 0};
  std::vector<std::pair<int64_t, uint64_t>> again = {{s1, 0}};
  EXPECT_FALSE(deals_.CreateAggregate(other, again).has_value());
}

TEST_F(DealsTest, DealRowsRoundTripAndUpdate) {
  int64_t s1 = *deals_.AddSegment(SegmentFor(Pinned(1), 1024));
  std::vector<std::pair<int64_t, uint64_t>> placement = {{s1, 0}};
  int64_t agg = *deals_.CreateAggregate({0, "baga1", 2048, 2032, 0}, placement);
  DealRecord d = Deal("0b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  ASSERT_TRUE(deals_.CreateDeal(d).has_value());
  auto dup = deals_.CreateDeal(d);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);

  auto got = deals_.GetDeal(d.uuid);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, DealState::kProposing);
  EXPECT_EQ(got->signed_proposal, d.signed_proposal);
  EXPECT_EQ(got->price_per_epoch, "976562");
  EXPECT_FALSE(got->deal_id.has_value());

  got->state = DealState::kPublished;
  got->deal_id = 42;
  got->publish_cid = "bafy2bzacepublish";
  got->provider_message = "";
  ASSERT_TRUE(deals_.UpdateDeal(*got).has_value());
  auto again = deals_.GetDeal(d.uuid);
  EXPECT_EQ(again->state, DealState::kPublished);
  EXPECT_EQ(*again->deal_id, 42);

  DealRecord r = Deal("1b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  r.state = DealState::kRejected;
  r.provider_message = "failed validation: storage price per epoch less than asking price: 1 < 2";
  ASSERT_TRUE(deals_.CreateDeal(r).has_value());
  std::array<DealState, 1> live = {DealState::kPublished};
  auto in_state = deals_.DealsInStates(live);
  ASSERT_EQ(in_state->size(), 1u);
  EXPECT_EQ((*in_state)[0].uuid, d.uuid);
  auto of_agg = deals_.DealsOfAggregate(agg);
  ASSERT_EQ(of_agg->size(), 2u);
  // The same deals grouped by aggregate in one read; a second aggregate has its own group.
  int64_t s2 = *deals_.AddSegment(SegmentFor(Pinned(2), 1024));
  std::vector<std::pair<int64_t, uint64_t>> placement2 = {{s2, 0}};
  int64_t agg2 = *deals_.CreateAggregate({0, "baga2", 2048, 2032, 0}, placement2);
  ASSERT_TRUE(deals_.CreateDeal(Deal("3b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg2)).has_value());
  auto grouped = deals_.DealsByAggregate();
  ASSERT_TRUE(grouped.has_value());
  ASSERT_EQ(grouped->size(), 2u);
  ASSERT_EQ(grouped->at(agg).size(), 2u);
  EXPECT_EQ(grouped->at(agg)[0].uuid, of_agg->at(0).uuid);
  EXPECT_EQ(grouped->at(agg)[1].uuid, of_agg->at(1).uuid);
  ASSERT_EQ(grouped->at(agg2).size(), 1u);
  EXPECT_EQ(grouped->at(agg2)[0].aggregate_id, agg2);
  EXPECT_EQ(deals_.GetDeal(r.uuid)->provider_message, r.provider_message);

  DealRecord unknown = Deal("2b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  EXPECT_EQ(deals_.UpdateDeal(unknown).error().code(), ErrorCode::kNotFound);
  // The CHECK constraint keeps states closed.
  EXPECT_FALSE(DealStateFromName("maybe").has_value());
}

TEST_F(DealsTest, BlockIndexFindsActiveReplicasOfABlock) {
  const Cid a = RawCid(1), b = RawCid(2), shared = RawCid(3);
  std::vector<SegmentBlock> first = {{a.hash().Encode(), 59, 100},
                                     {shared.hash().Encode(), 200, 7}};
  std::vector<SegmentBlock> second = {{shared.hash().Encode(), 80, 7}};
  int64_t s1 = *deals_.AddSegment(SegmentFor(Pinned(1), 1024), first);
  int64_t s2 = *deals_.AddSegment(SegmentFor(Pinned(2), 512), second);
  auto index = deals_.SegmentBlocks(s1);
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[1].multihash, shared.hash().Encode());
  EXPECT_EQ((*index)[1].offset, 200u);
  EXPECT_EQ((*index)[1].length, 7u);

  // Not aggregated yet: nowhere to read from.
  EXPECT_TRUE(deals_.ColdLocations(a.hash().Encode())->empty());
  std::vector<std::pair<int64_t, uint64_t>> placement = {{s1, 0}, {s2, 1024}};
  int64_t agg = *deals_.CreateAggregate({0, "baga-agg", 4096, 4064, 0}, placement);
  auto none = deals_.ColdLocations(a.hash().Encode());
  ASSERT_EQ(none->size(), 1u);
  EXPECT_TRUE((*none)[0].providers.empty());  // no active deal yet

  DealRecord d1 = Deal("0b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  DealRecord d2 = Deal("1b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  d2.provider = "f01002";
  ASSERT_TRUE(deals_.CreateDeal(d1).has_value());
  ASSERT_TRUE(deals_.CreateDeal(d2).has_value());
  d1.state = DealState::kActive;
  ASSERT_TRUE(deals_.UpdateDeal(d1).has_value());
  auto located = deals_.ColdLocations(shared.hash().Encode());
  ASSERT_TRUE(located.has_value()) << located.error().ToString();
  ASSERT_EQ(located->size(), 2u);  // both segments hold it
  EXPECT_EQ((*located)[0].segment_id, s1);
  EXPECT_EQ((*located)[0].piece_cid, "baga-agg");
  EXPECT_EQ((*located)[0].piece_offset, 0u);
  EXPECT_EQ((*located)[0].block_offset, 200u);
  EXPECT_EQ((*located)[1].piece_offset, 1024u);
  EXPECT_EQ((*located)[1].block_offset, 80u);
  EXPECT_EQ((*located)[0].providers, std::vector<std::string>{"f01000"});  // d2 is not active
  EXPECT_TRUE(deals_.ColdLocations(b.hash().Encode())->empty());
}

TEST_F(DealsTest, MergeInfoKeepsOtherKeysAndRemovesEmptyOnes) {
  PinRecord p = Pinned(1);
  ASSERT_TRUE(pins_.MergeInfo(p.requestid, {{"filecoin", "dealing 0/2"}}).has_value());
  auto got = pins_.Get(alice_, p.requestid);
  EXPECT_EQ(got->info.at("k"), "v");
  EXPECT_EQ(got->info.at("filecoin"), "dealing 0/2");
  EXPECT_EQ(got->status, PinStatus::kPinned);
  ASSERT_TRUE(pins_.MergeInfo(p.requestid, {{"filecoin", ""}}).has_value());
  EXPECT_EQ(pins_.Get(alice_, p.requestid)->info.count("filecoin"), 0u);
  EXPECT_EQ(pins_.MergeInfo("no-such-pin", {{"a", "b"}}).error().code(), ErrorCode::kNotFound);
  // Values it has already: nothing is written (updated_at stays).
  ASSERT_TRUE(pins_.MergeInfo(p.requestid, {{"filecoin", "active 2/2"}}).has_value());
  auto updated_at = [&] {
    auto rows = db_.db().ReadQuery("SELECT updated_at FROM pins WHERE requestid = ?",
                                   std::array<SqlValue, 1>{p.requestid});
    return rows->at(0).Int(0);
  };
  const int64_t before = updated_at();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(pins_.MergeInfo(p.requestid, {{"filecoin", "active 2/2"}, {"gone", ""}}).has_value());
  EXPECT_EQ(updated_at(), before);
  ASSERT_TRUE(pins_.MergeInfo(p.requestid, {{"filecoin", "active 1/2"}}).has_value());
  EXPECT_GT(updated_at(), before);
}

}  // namespace
}  // namespace cairn::metadata
