#include "filecoin/retrieval/cold_reader.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "blockstore/memory_blockstore.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "filecoin/deals/aggregate_view.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "filecoin/retrieval/prober.hpp"
#include "metadata/accounts.hpp"
#include "metadata/migrations.hpp"
#include "metadata/pins.hpp"
#include "metadata/provider_stats.hpp"
#include "metadata/sqlite_database.hpp"
#include "unixfs/importer.hpp"

namespace cairn::filecoin::retrieval {
namespace {

using multiformats::Cid;

// Providers at fake URLs, each serving the same unpadded aggregate payload in its own way.
class FakeProviders final : public PieceRangeFetcher {
 public:
  // kLyingLate flips a byte in the second half of what it serves (a liar caught part-way
  // through a run of blocks).
  enum class Mode { kExact, kLying, kLyingLate, kSlow, kMissing };
  struct Request {
    std::string base;
    uint64_t offset, length;
  };

  Result<Bytes> Fetch(const std::string& base, const std::string& piece_cid, uint64_t offset,
                      uint64_t length, std::chrono::milliseconds deadline) override {
    requests.push_back({base, offset, length});
    Mode m = mode.count(base) ? mode[base] : Mode::kExact;
    if (piece_cid != piece || m == Mode::kMissing) {
      return Err(ErrorCode::kNotFound, "404 piece not found");
    }
    if (m == Mode::kSlow) {
      std::this_thread::sleep_for(deadline);
      return Err(ErrorCode::kTimeout, "no answer within the deadline");
    }
    if (offset + length > payload.size()) return Err(ErrorCode::kCorruption, "416");
    Bytes out(payload.begin() + static_cast<std::ptrdiff_t>(offset),
              payload.begin() + static_cast<std::ptrdiff_t>(offset + length));
    if (m == Mode::kLying) out[0] ^= 1;
    if (m == Mode::kLyingLate) out[out.size() * 3 / 4] ^= 1;
    return out;
  }

  std::string piece;
  Bytes payload;
  std::map<std::string, Mode> mode;
  std::vector<Request> requests;
};

class FakeEndpoints final : public RetrievalEndpoints {
 public:
  Result<std::string> BaseUrl(const std::string& provider) override {
    if (provider == "f01001") return Err(ErrorCode::kNotFound, "no HTTP endpoint");
    return "http://" + provider;
  }
};

class ColdReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(*metadata::SqliteDatabase::Open(dir_ / "cairn.db"));
    ASSERT_TRUE(metadata::Migrate(*db_, metadata::BuiltinMigrations()).has_value());
    accounts_ = std::make_unique<metadata::AccountStore>(*db_, clock_);
    pins_ = std::make_unique<metadata::PinStore>(*db_, clock_);
    deals_ = std::make_unique<metadata::DealStore>(*db_, clock_);
    events_ = std::make_unique<metadata::EventStore>(*db_, clock_);
    account_ = accounts_->CreateAccount("alice")->id;
    // Two pinned files (so the second segment sits at a non-zero offset), segmented with their
    // block index, aggregated, and the aggregate's payload as the providers hold it.
    std::vector<std::pair<int64_t, uint64_t>> placements;
    std::vector<deals::SegmentSource> sources;
    std::vector<aggregation::PieceInfo> pieces;
    for (int i = 0; i < 2; ++i) {
      Bytes data(i == 0 ? 3000 : 700000, static_cast<uint8_t>('a' + i));
      for (size_t k = 0; k < data.size(); k += 997) data[k] = static_cast<uint8_t>(k);
      roots_.push_back(Import(data));
      AddSegment(roots_.back(), sources, pieces);
    }
    auto aggregate = aggregation::Aggregate::Build(pieces, 1 << 21);
    ASSERT_TRUE(aggregate.has_value()) << aggregate.error().ToString();
    for (const auto& placed : aggregate->placement().pieces) {
      placements.emplace_back(segment_ids_[placed.input_index], placed.offset);
      sources[placed.input_index].offset = placed.offset;
      segment_offsets_[placed.input_index] = placed.offset;
    }
    ASSERT_GT(placements[0].second + placements[1].second, 0u);
    metadata::AggregateRecord rec;
    rec.piece_cid = piece::PieceCidV1(aggregate->root()).ToString();
    rec.padded_size = aggregate->deal_size();
    rec.payload_size = aggregation::UnpaddedSize(rec.padded_size);
    aggregate_id_ = *deals_->CreateAggregate(rec, placements);
    auto view = deals::AggregateView::Make(sources, rec.padded_size, aggregate->root());
    ASSERT_TRUE(view.has_value()) << view.error().ToString();
    ipld::BlockGetterFor<blockstore::Blockstore> getter(blocks_);
    providers_.piece = rec.piece_cid;
    ASSERT_TRUE(view->WriteRange(0, view->payload_size(), getter, [&](ByteSpan b) {
      providers_.payload.insert(providers_.payload.end(), b.begin(), b.end());
      return Result<void>(Ok());
    }));
  }

  Cid Import(const Bytes& data) {
    SpanSource source(data);
    ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
    auto node = unixfs::ImportFile(source, {.chunk_size = 65536}, sink);
    EXPECT_TRUE(node.has_value());
    return node->cid;
  }

  void AddSegment(const Cid& root, std::vector<deals::SegmentSource>& sources,
                  std::vector<aggregation::PieceInfo>& pieces) {
    auto pin = pins_->Create(account_, metadata::NewPin{root.ToString(), std::nullopt, {}, {}});
    ASSERT_TRUE(pin.has_value());
    pin_ids_.push_back(pin->requestid);
    std::vector<metadata::SegmentBlock> index;
    auto car = dealdata::ComputeCarPiece(
        root, blocks_, {.threads = 1, .on_block = [&](const Cid& c, uint64_t off, uint64_t len) {
                          index.push_back({c.hash().Encode(), off, len});
                          return Result<void>(Ok());
                        }});
    ASSERT_TRUE(car.has_value());
    metadata::SegmentRecord s;
    s.pin_requestid = pin->requestid;
    s.root_cid = root.ToBytes();
    s.car_size = car->car_size;
    s.comm_p = Bytes(car->piece.root.begin(), car->piece.root.end());
    s.padded_size = car->piece.padded_size();
    segment_ids_.push_back(*deals_->AddSegment(s, index));
    index_.push_back(index);
    aggregation::PieceInfo info;
    std::copy(s.comm_p.begin(), s.comm_p.end(), info.commitment.begin());
    info.size = s.padded_size;
    pieces.push_back(info);
    sources.push_back({root, {}, car->car_size, info, 0});
  }

  void Activate(const std::string& provider) {
    metadata::DealRecord d;
    d.uuid = "0b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a" + std::to_string(10 + deal_count_++);
    d.aggregate_id = aggregate_id_;
    d.provider = provider;
    d.signed_proposal = Bytes{0x82};
    d.proposal_cid = "bafy";
    d.price_per_epoch = d.provider_collateral = d.client_collateral = "0";
    d.token_hash = Bytes(32, 1);
    ASSERT_TRUE(deals_->CreateDeal(d).has_value());
    d.state = metadata::DealState::kActive;
    ASSERT_TRUE(deals_->UpdateDeal(d).has_value());
  }

  // GetMany's answers by CID (each must come exactly once); `order` gets them as they came.
  static std::map<Cid, Result<Bytes>> GetAll(ColdReader& reader, std::span<const Cid> cids,
                                             std::vector<Cid>* order = nullptr) {
    std::map<Cid, Result<Bytes>> got;
    reader.GetMany(cids, [&](const Cid& cid, Result<Bytes> bytes) {
      EXPECT_FALSE(got.contains(cid)) << "answered twice: " << cid.ToString();
      if (order) order->push_back(cid);
      got.emplace(cid, std::move(bytes));
    });
    EXPECT_EQ(got.size(), cids.size());
    return got;
  }
  // Every one of `cids` was answered with its exact bytes.
  void ExpectBlocks(const std::map<Cid, Result<Bytes>>& got, std::span<const Cid> cids) {
    for (const Cid& cid : cids) {
      auto it = got.find(cid);
      ASSERT_NE(it, got.end()) << cid.ToString();
      ASSERT_TRUE(it->second.has_value()) << it->second.error().ToString();
      EXPECT_EQ(*it->second, *blocks_.Get(cid));
    }
  }
  ColdReader Reader() {
    return ColdReader(*deals_, events_.get(), endpoints_, providers_, clock_,
                      {.provider_deadline = std::chrono::milliseconds(50)});
  }

  testing::TempDir dir_;
  SystemClock& clock_ = SystemClock::Instance();
  std::unique_ptr<metadata::SqliteDatabase> db_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<metadata::DealStore> deals_;
  std::unique_ptr<metadata::EventStore> events_;
  blockstore::MemoryBlockstore blocks_;
  FakeProviders providers_;
  FakeEndpoints endpoints_;
  int64_t account_ = 0;
  int64_t aggregate_id_ = 0;
  int deal_count_ = 0;
  std::vector<Cid> roots_;
  std::vector<std::string> pin_ids_;
  std::vector<int64_t> segment_ids_;
  std::map<size_t, uint64_t> segment_offsets_;  // padded offset in the aggregate, per pin
  std::vector<std::vector<metadata::SegmentBlock>> index_;
};

TEST_F(ColdReaderTest, ReadsExactlyEachBlocksBytesFromTheAggregate) {
  Activate("f01000");
  ColdReader reader = Reader();
  // Every block of both segments reads back exactly, one range request of its own length each.
  size_t blocks = 0;
  uint64_t bytes = 0;
  for (size_t seg = 0; seg < 2; ++seg) {
    for (const auto& entry : index_[seg]) {
      auto mh = multiformats::Multihash::Decode(entry.multihash);
      ASSERT_TRUE(mh.has_value());
      Cid cid = *Cid::Make(1, 0x55, *mh);
      providers_.requests.clear();
      auto got = reader.Get(cid);
      ASSERT_TRUE(got.has_value()) << got.error().ToString();
      EXPECT_EQ(*got, *blocks_.Get(cid));
      ASSERT_EQ(providers_.requests.size(), 1u);
      EXPECT_EQ(providers_.requests[0].length, entry.length);
      EXPECT_EQ(*reader.Size(cid), entry.length);
      ++blocks;
      bytes += entry.length;
    }
  }
  EXPECT_GT(index_[1].size(), 5u);  // the large file has many blocks
  auto stats = reader.Stats();
  EXPECT_EQ(stats.reads, blocks);
  EXPECT_EQ(stats.bytes, bytes);
  EXPECT_EQ(stats.reads_by_provider["f01000"], blocks);
  EXPECT_TRUE(stats.failures_by_provider.empty());
  // One read_from_cold event per pin within the interval, however many blocks were read.
  for (const auto& id : pin_ids_) {
    int cold_events = 0;
    auto events = events_->PinEvents(id, 0, 100);
    ASSERT_TRUE(events.has_value());
    for (const auto& e : *events) {
      if (e.kind == metadata::kEventReadFromCold) ++cold_events;
    }
    EXPECT_EQ(cold_events, 1) << id;
  }
}

// The blocks of the pins as Cids, in CAR order, per segment.
std::vector<std::vector<Cid>> CidsOf(
    const std::vector<std::vector<metadata::SegmentBlock>>& index) {
  std::vector<std::vector<Cid>> out;
  for (const auto& segment : index) {
    out.emplace_back();
    for (const auto& entry : segment) {
      out.back().push_back(*Cid::Make(1, 0x55, *multiformats::Multihash::Decode(entry.multihash)));
    }
  }
  return out;
}

TEST_F(ColdReaderTest, GetManyReadsNeighbouringBlocksOfASegmentWithOneRangeRequest) {
  Activate("f01000");
  ColdReader reader = Reader();
  const auto cids = CidsOf(index_);
  ASSERT_GT(cids[1].size(), 5u);
  // Blocks 1..4 of the large pin (neighbours in its CAR), and one block of the small pin.
  std::vector<Cid> wanted(cids[1].begin() + 1, cids[1].begin() + 5);
  wanted.push_back(cids[0].back());
  ExpectBlocks(GetAll(reader, wanted), wanted);
  // Two requests (segments in id order): the small pin's block alone, and the run of four
  // neighbours from the first one's bytes to the last one's end (the section headers between
  // them come along).
  ASSERT_EQ(providers_.requests.size(), 2u);
  const auto& small = index_[0].back();
  EXPECT_EQ(providers_.requests[0].offset,
            aggregation::UnpaddedSize(segment_offsets_[0]) + small.offset);
  EXPECT_EQ(providers_.requests[0].length, small.length);
  const auto& run = index_[1];
  EXPECT_EQ(providers_.requests[1].offset,
            aggregation::UnpaddedSize(segment_offsets_[1]) + run[1].offset);
  EXPECT_EQ(providers_.requests[1].length, run[4].offset + run[4].length - run[1].offset);
  EXPECT_EQ(reader.Stats().reads, wanted.size());

  // A run is cut where the blocks are too far apart: blocks 6 and 8 are two requests.
  providers_.requests.clear();
  const std::vector<Cid> apart = {cids[1][6], cids[1][8]};
  ExpectBlocks(GetAll(reader, apart), apart);
  EXPECT_EQ(providers_.requests.size(), 2u);
}

TEST_F(ColdReaderTest, GetManyMovesTheRestOfARunToTheNextReplicaWhenOneLiesPartWay) {
  Activate("f01002");
  Activate("f01006");
  providers_.mode["http://f01002"] = FakeProviders::Mode::kLyingLate;
  ColdReader reader = Reader();
  const auto cids = CidsOf(index_);
  std::vector<Cid> wanted(cids[1].begin(), cids[1].begin() + 8);
  std::vector<Cid> order;
  ExpectBlocks(GetAll(reader, wanted, &order), wanted);
  // f01002 was asked first (no failures yet, first in order), gave the first blocks right and
  // lied after; f01006 was asked for the rest only, from the first block not yet answered.
  ASSERT_EQ(providers_.requests.size(), 2u);
  EXPECT_EQ(providers_.requests[0].base, "http://f01002");
  EXPECT_EQ(providers_.requests[1].base, "http://f01006");
  EXPECT_GT(providers_.requests[1].offset, providers_.requests[0].offset);
  EXPECT_EQ(providers_.requests[1].offset + providers_.requests[1].length,
            providers_.requests[0].offset + providers_.requests[0].length);
  auto stats = reader.Stats();
  EXPECT_EQ(stats.failures_by_provider["f01002"], 1u);
  EXPECT_GT(stats.reads_by_provider["f01002"], 0u);
  EXPECT_EQ(stats.reads_by_provider["f01002"] + stats.reads_by_provider["f01006"], wanted.size());
  EXPECT_EQ(order, wanted);  // one run, handed out in CAR order

  // Every replica lying: each block gets the run's error, naming both providers.
  providers_.mode["http://f01006"] = FakeProviders::Mode::kLying;
  providers_.mode["http://f01002"] = FakeProviders::Mode::kLying;
  std::vector<Cid> later(cids[1].begin() + 9, cids[1].begin() + 11);
  auto got = GetAll(reader, later);
  ASSERT_EQ(got.size(), 2u);
  for (const Cid& cid : later) {
    ASSERT_FALSE(got.at(cid).has_value());
    EXPECT_EQ(got.at(cid).error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(got.at(cid).error().message().find("f01002"), std::string::npos);
    EXPECT_NE(got.at(cid).error().message().find("f01006"), std::string::npos);
  }
}

TEST_F(ColdReaderTest, LyingSlowAndMissingProvidersMoveTheReadToTheNextReplica) {
  Activate("f01001");  // no HTTP endpoint
  Activate("f01002");
  Activate("f01004");
  Activate("f01006");
  providers_.mode["http://f01002"] = FakeProviders::Mode::kLying;
  providers_.mode["http://f01004"] = FakeProviders::Mode::kSlow;
  ColdReader reader = Reader();
  const Cid root = roots_[1];
  auto started = std::chrono::steady_clock::now();
  auto got = reader.Get(root);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, *blocks_.Get(root));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  auto stats = reader.Stats();
  EXPECT_EQ(stats.failures_by_provider["f01001"], 1u);
  EXPECT_EQ(stats.failures_by_provider["f01002"], 1u);
  EXPECT_EQ(stats.failures_by_provider["f01004"], 1u);
  EXPECT_EQ(stats.reads_by_provider["f01006"], 1u);

  // Providers that failed are tried last next time: the next read asks f01006 first.
  providers_.requests.clear();
  ASSERT_TRUE(reader.Get(roots_[0]).has_value());
  ASSERT_EQ(providers_.requests.size(), 1u);
  EXPECT_EQ(providers_.requests[0].base, "http://f01006");
}

TEST_F(ColdReaderTest, EveryReplicaFailingIsUnavailableNamingEachProvider) {
  Activate("f01002");
  Activate("f01004");
  providers_.mode["http://f01002"] = FakeProviders::Mode::kLying;
  providers_.mode["http://f01004"] = FakeProviders::Mode::kMissing;
  ColdReader reader = Reader();
  auto got = reader.Get(roots_[0]);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(got.error().message().find("f01002: piece"), std::string::npos)
      << got.error().message();
  EXPECT_NE(got.error().message().find("do not hash to"), std::string::npos);
  EXPECT_NE(got.error().message().find("f01004: 404"), std::string::npos);
}

TEST_F(ColdReaderTest, BlocksWithoutAnActiveDealAreUnavailableForALivePinNotFoundOtherwise) {
  ColdReader reader = Reader();  // aggregated, but no deal is active
  // The pin exists and its block has no hot copy (else the read would not come here) and no
  // active deal: at risk, said plainly.
  auto got = reader.Get(roots_[0]);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(got.error().message().find("of pin " + pin_ids_[0]), std::string::npos)
      << got.error().message();
  EXPECT_NE(got.error().message().find("the pin is at risk"), std::string::npos);
  EXPECT_EQ(reader.Size(roots_[0]).error().code(), ErrorCode::kUnavailable);
  // Once the pin is deleted, its data is nobody's: not found.
  ASSERT_TRUE(pins_->Delete(account_, pin_ids_[0]));
  EXPECT_EQ(reader.Get(roots_[0]).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(reader.Size(roots_[0]).error().code(), ErrorCode::kNotFound);
  Cid unknown = *Cid::Compute(1, 0x55, 0x12, AsBytes("never stored"));
  EXPECT_EQ(reader.Get(unknown).error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(providers_.requests.empty());
  EXPECT_EQ(reader.Stats().misses, 3u);
}

TEST_F(ColdReaderTest, ProbesWalkEveryActiveDealAndFailLiarsAtOnceAndMissingDataAfterThree) {
  Activate("f01000");  // exact
  Activate("f01001");  // no retrieval endpoint: cannot be probed, never failed for it
  Activate("f01002");  // flips a bit
  Activate("f01004");  // 404
  providers_.mode["http://f01002"] = FakeProviders::Mode::kLying;
  providers_.mode["http://f01004"] = FakeProviders::Mode::kMissing;
  RetrievalProber prober(*deals_, endpoints_, providers_,
                         {.deals_per_pass = 3, .deadline = std::chrono::milliseconds(50)}, 7);
  auto state_of = [&](const std::string& provider) {
    const auto all = *deals_->DealsOfAggregate(aggregate_id_);
    for (const auto& d : all) {
      if (d.provider == provider) return d;
    }
    return metadata::DealRecord{};
  };
  // Pass 1 probes the first three deals by UUID, pass 2 the fourth and wraps to the first two.
  ASSERT_TRUE(prober.Pass().has_value());
  EXPECT_EQ(providers_.requests.size(), 2u) << "f01001 is skipped";
  EXPECT_EQ(state_of("f01002").state, metadata::DealState::kFailed);
  EXPECT_NE(state_of("f01002").last_error.find("corrupted"), std::string::npos)
      << state_of("f01002").last_error;
  ASSERT_TRUE(prober.Pass().has_value());
  EXPECT_EQ(state_of("f01004").state, metadata::DealState::kActive) << "one 404 is not enough";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(prober.Pass().has_value());
  EXPECT_EQ(state_of("f01004").state, metadata::DealState::kFailed);
  EXPECT_NE(state_of("f01004").last_error.find("3 times in a row"), std::string::npos)
      << state_of("f01004").last_error;
  EXPECT_EQ(state_of("f01000").state, metadata::DealState::kActive);
  EXPECT_EQ(state_of("f01001").state, metadata::DealState::kActive);
  // Every probe asked for exactly one indexed block of one segment.
  const auto segments = *deals_->Segments(aggregate_id_);
  for (const auto& r : providers_.requests) {
    bool indexed = false;
    for (size_t i = 0; i < index_.size(); ++i) {
      for (const auto& seg : segments) {
        if (seg.id != segment_ids_[i]) continue;
        const uint64_t start = aggregation::UnpaddedSize(seg.piece_offset);
        for (const auto& b : index_[i]) {
          indexed |= r.offset == start + b.offset && r.length == b.length;
        }
      }
    }
    EXPECT_TRUE(indexed) << r.base << " " << r.offset << "+" << r.length;
  }
  // Each failed deal counts against its provider's score, in the same transaction.
  metadata::ProviderStatsStore provider_stats(*db_);
  EXPECT_EQ(provider_stats.Get("f01002")->retrieval_failures, 1);
  EXPECT_EQ(provider_stats.Get("f01004")->retrieval_failures, 1);
  EXPECT_EQ(provider_stats.Get("f01000")->retrieval_failures, 0);
  const ProbeStats stats = prober.Stats();
  EXPECT_EQ(stats.replaced, 2u);
  EXPECT_EQ(stats.corrupt, 1u);
  EXPECT_EQ(stats.failed, 3u);
  EXPECT_EQ(stats.probes, stats.ok + stats.failed + stats.corrupt);
  // The failure is in the pin's history.
  auto history = *events_->PinEvents(pin_ids_[0], 0, 100);
  EXPECT_TRUE(std::any_of(history.begin(), history.end(), [](const auto& e) {
    return e.kind == "deal_failed" && e.detail.at("error").find("retrieval probe") == 0;
  }));
}

TEST_F(ColdReaderTest, APassInWhichEveryProbeFailsCountsAgainstNobody) {
  Activate("f01000");
  Activate("f01002");
  providers_.mode["http://f01000"] = FakeProviders::Mode::kMissing;
  providers_.mode["http://f01002"] = FakeProviders::Mode::kMissing;
  RetrievalProber prober(*deals_, endpoints_, providers_,
                         {.deals_per_pass = 4, .deadline = std::chrono::milliseconds(50)}, 3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(prober.Pass().has_value());
  const auto deals = *deals_->DealsOfAggregate(aggregate_id_);
  for (const auto& d : deals) {
    EXPECT_EQ(d.state, metadata::DealState::kActive) << d.provider << ": " << d.last_error;
  }
  EXPECT_EQ(prober.Stats().replaced, 0u);
  EXPECT_EQ(prober.Stats().failed, 10u);
  // Once one answers, the other's failures count again.
  providers_.mode.erase("http://f01000");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(prober.Pass().has_value());
  EXPECT_EQ(prober.Stats().replaced, 1u);
  // A stop request ends a pass before its next probe.
  const auto before = providers_.requests.size();
  ASSERT_TRUE(prober.Pass([] { return true; }).has_value());
  EXPECT_EQ(providers_.requests.size(), before);
}

}  // namespace
}  // namespace cairn::filecoin::retrieval
