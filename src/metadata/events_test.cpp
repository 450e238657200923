#include "metadata/events.hpp"

#include <gtest/gtest.h>

#include "metadata/accounts.hpp"
#include "metadata/deals.hpp"
#include "metadata/internal/test_db.hpp"
#include "metadata/pins.hpp"

namespace cairn::metadata {
namespace {

using multiformats::Cid;
using testing::TempDb;

// A clock the test moves.
class StepClock final : public Clock {
 public:
  int64_t WallMicros() const override { return now; }
  int64_t MonotonicMicros() const override { return now; }
  int64_t now = 1'000'000;
};

std::vector<std::string> Kinds(const std::vector<EventRecord>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override { alice_ = accounts_.CreateAccount("alice")->id; }

  PinRecord NewPinned(int i) {
    Cid cid = *Cid::Compute(1, 0x55, 0x12, AsBytes("event block " + std::to_string(i)));
    auto pin = pins_.Create(alice_, NewPin{cid.ToString(), std::nullopt, {}, {}});
    EXPECT_TRUE(pin.has_value());
    EXPECT_TRUE(pins_
                    .UpdateStatus(pin->requestid, PinStatus::kPinned,
                                  {{"status_details", "pinned: 1 block"}}, 12)
                    .has_value());
    return *pin;
  }

  int64_t Segment(const PinRecord& pin) {
    SegmentRecord s;
    s.pin_requestid = pin.requestid;
    s.root_cid = pin.cid.ToBytes();
    s.car_size = 100;
    s.comm_p = Bytes(32, 7);
    s.padded_size = 256;
    return *deals_.AddSegment(s);
  }

  DealRecord Deal(const std::string& uuid, int64_t aggregate) {
    DealRecord d;
    d.uuid = uuid;
    d.aggregate_id = aggregate;
    d.provider = "f01000";
    d.signed_proposal = Bytes{0x82};
    d.proposal_cid = "bafy";
    d.price_per_epoch = "1";
    d.provider_collateral = "1";
    d.client_collateral = "0";
    d.token_hash = Bytes(32, 1);
    return d;
  }

  TempDb db_;
  StepClock clock_;
  AccountStore accounts_{db_.db(), clock_};
  PinStore pins_{db_.db(), clock_};
  DealStore deals_{db_.db(), clock_};
  EventStore events_{db_.db(), clock_};
  int64_t alice_ = 0;
};

TEST_F(EventsTest, PinHistoryMergesItsOwnAndItsAggregatesEventsInOrder) {
  PinRecord a = NewPinned(1);
  PinRecord b = NewPinned(2);
  // A repeated update to the same status writes no second event.
  ASSERT_TRUE(pins_.UpdateStatus(a.requestid, PinStatus::kPinned, {}, 12).has_value());
  std::vector<std::pair<int64_t, uint64_t>> placement = {{Segment(a), 0}, {Segment(b), 256}};
  int64_t agg = *deals_.CreateAggregate({0, "baga-events", 1024, 1016, 0}, placement);
  DealRecord d = Deal("0b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", agg);
  ASSERT_TRUE(deals_.CreateDeal(d).has_value());
  d.state = DealState::kAccepted;
  ASSERT_TRUE(deals_.UpdateDeal(d).has_value());
  d.last_error = "still accepted";
  ASSERT_TRUE(deals_.UpdateDeal(d).has_value());  // no state change: no event
  d.state = DealState::kPublished;
  d.deal_id = 7;
  ASSERT_TRUE(deals_.UpdateDeal(d).has_value());
  d.state = DealState::kActive;
  ASSERT_TRUE(deals_.UpdateDeal(d).has_value());
  ASSERT_TRUE(events_.AddPinEvent(a.requestid, kEventReadFromCold, {{"provider", "f01000"}}));

  auto all = events_.PinEvents(a.requestid, 0, 100);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  // `created` is the pin row, not stored (the API adds it).
  EXPECT_EQ(Kinds(*all),
            (std::vector<std::string>{"pinned", "aggregated", "deal_proposed", "deal_accepted",
                                      "deal_published", "deal_active", "read_from_cold"}));
  EXPECT_EQ((*all)[0].detail.at("dag_size"), "12");
  EXPECT_EQ((*all)[1].detail.at("piece_cid"), "baga-events");
  EXPECT_EQ((*all)[4].detail.at("deal_id"), "7");
  for (size_t i = 1; i < all->size(); ++i) EXPECT_GT((*all)[i].id, (*all)[i - 1].id);
  // The other pin of the aggregate shares the deal events, not a's own ones.
  auto other = events_.PinEvents(b.requestid, 0, 100);
  EXPECT_EQ(other->size(), 6u);
  EXPECT_EQ(other->back().kind, "deal_active");

  // Paged by the id cursor.
  auto page1 = events_.PinEvents(a.requestid, 0, 3);
  ASSERT_EQ(page1->size(), 3u);
  auto page2 = events_.PinEvents(a.requestid, page1->back().id, 3);
  ASSERT_EQ(page2->size(), 3u);
  EXPECT_EQ((*page2)[0].kind, "deal_accepted");
  auto page3 = events_.PinEvents(a.requestid, page2->back().id, 3);
  EXPECT_EQ(Kinds(*page3), (std::vector<std::string>{"read_from_cold"}));
  EXPECT_TRUE(events_.PinEvents("no-such-pin", 0, 10)->empty());
}

TEST_F(EventsTest, FailedPinAndPurgeByAge) {
  Cid cid = *Cid::Compute(1, 0x55, 0x12, AsBytes("failing"));
  auto pin = pins_.Create(alice_, NewPin{cid.ToString(), std::nullopt, {}, {}});
  ASSERT_TRUE(pin.has_value());
  clock_.now += 10'000'000;
  ASSERT_TRUE(pins_
                  .UpdateStatus(pin->requestid, PinStatus::kFailed,
                                {{"status_details", "failed: not found"}})
                  .has_value());
  ASSERT_TRUE(events_.AddPinEvent(pin->requestid, kEventReadFromCold, {}));
  auto events = events_.PinEvents(pin->requestid, 0, 10);
  ASSERT_EQ(Kinds(*events), (std::vector<std::string>{"failed", "read_from_cold"}));
  EXPECT_EQ((*events)[0].detail.at("details"), "failed: not found");

  clock_.now += 10'000'000;
  ASSERT_TRUE(events_.AddPinEvent(pin->requestid, kEventReadFromCold, {{"n", "2"}}));
  auto purged = events_.Purge(clock_.now);  // strictly older than now: the first two
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, 2);
  auto left = events_.PinEvents(pin->requestid, 0, 10);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().detail.at("n"), "2");
}

}  // namespace
}  // namespace cairn::metadata
