// The deal engine against fakes: FakeLotus (the chain, with StateMinerInfo and the collateral
// bounds added here) and FakeProviders (mk12 over a scripted transport, keeping deals by UUID as
// Boost/Curio do; even ids are "curio" providers over HTTP, odd ids "boost" ones over libp2p). The
// devnet end-to-end test (tests/integration/deals_e2e_test.cpp) covers the real protocol; these
// cover what is hard to provoke there: lost answers, rejections, lying chains.
#include "filecoin/deals/deal_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "blockstore/memory_blockstore.hpp"
#include "car/car_writer.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/chain/test_fake_lotus.hpp"
#include "filecoin/deals/provider_score.hpp"
#include "filecoin/deals/receipt.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "ipld/links.hpp"
#include "metadata/accounts.hpp"
#include "metadata/events.hpp"
#include "metadata/migrations.hpp"
#include "metadata/sqlite_database.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"
#include "unixfs/importer.hpp"

namespace cairn::filecoin::deals {
namespace {

namespace json = boost::json;
using metadata::DealState;

TEST(MulDivCeil, RoundsUp) {
  EXPECT_EQ(MulDivCeil(BigInt::FromUint(500000000), 262144, 1u << 30)->ToString(), "122071");
  EXPECT_EQ(MulDivCeil(BigInt::FromUint(10), 6, 5)->ToString(), "12");
  EXPECT_EQ(MulDivCeil(BigInt::FromUint(11), 6, 5)->ToString(), "14");  // 13.2 → 14
  EXPECT_EQ(MulDivCeil(BigInt(), 6, 5)->ToString(), "0");
  auto big = *BigInt::Parse("123456789012345678901234567890");
  EXPECT_EQ(MulDivCeil(big, 1u << 30, 1u << 30)->ToString(), big.ToString());
  EXPECT_FALSE(MulDivCeil(BigInt::FromInt(-1), 1, 1).has_value());
}

// The PeerId of the fake libp2p provider f0<id>.
std::string PeerOf(uint64_t id) {
  Bytes seed(32, 0);
  seed[0] = static_cast<uint8_t>(id);
  seed[1] = static_cast<uint8_t>(id >> 8);
  return net::Ed25519Identity::FromSeed(seed).peer_id().ToString();
}

// The chain: FakeLotus plus the two calls the engine adds.
class Chain : public chain::RpcTransport {
 public:
  Result<chain::RpcHttpReply> Post(const std::string& url, const std::string& body,
                                   const std::string& token, std::chrono::milliseconds timeout,
                                   uint64_t max_bytes) override {
    json::value doc = json::parse(body);
    if (doc.is_object()) {
      const std::string method(doc.at("method").as_string());
      json::value result;
      if (method == "Filecoin.StateMinerInfo") {
        auto id = Address::Parse(doc.at("params").at(0).as_string())->id();
        std::string ma = "/ip4/127.0.0.1/tcp/" + std::to_string(id) + (id % 2 == 0 ? "/http" : "");
        result = json::object{
            {"Owner", "f0100"},
            {"Worker", "f0100"},
            {"PeerId", PeerOf(id)},
            {"Multiaddrs", json::array{Base64Encode(net::Multiaddr::Parse(ma)->ToBytes())}},
            {"SectorSize", 34359738368}};
      } else if (method == "Filecoin.StateDealProviderCollateralBounds") {
        result = json::object{{"Min", "1000"}, {"Max", "2000"}};
      }
      if (!result.is_null()) {
        return chain::RpcHttpReply{
            200, json::serialize(
                     json::object{{"jsonrpc", "2.0"}, {"id", doc.at("id")}, {"result", result}})};
      }
    }
    if (!final_deals.empty() && doc.is_object() &&
        doc.at("method").as_string() == "Filecoin.StateMarketStorageDeal") {
      doc = json::array{doc};  // answered below as a batch of one, then unwrapped
      auto reply = Post(url, json::serialize(doc), token, timeout, max_bytes);
      return chain::RpcHttpReply{200, json::serialize(json::parse(reply->body).as_array().at(0))};
    }
    if (doc.is_array() && !final_deals.empty()) {
      // Deals read at a tipset other than the head (the finalized one) come from final_deals.
      auto head =
          lotus.Post(url, R"({"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]})",
                     token, timeout, max_bytes);
      const std::string head_key = json::serialize(json::parse(head->body).at("result").at("Cids"));
      json::array answers;
      for (const auto& call : doc.as_array()) {
        const auto& params = call.at("params").as_array();
        auto it = final_deals.find(params.at(0).to_number<uint64_t>());
        if (json::serialize(params.at(1)) != head_key && it != final_deals.end()) {
          if (it->second.is_null()) {  // no such deal at the finalized tipset
            answers.push_back(json::object{
                {"jsonrpc", "2.0"},
                {"id", call.at("id")},
                {"error",
                 json::object{{"code", 1},
                              {"message", "deal " + std::to_string(it->first) + " not found"}}}});
            continue;
          }
          answers.push_back(
              json::object{{"jsonrpc", "2.0"}, {"id", call.at("id")}, {"result", it->second}});
        } else {
          auto one = lotus.Post(url, json::serialize(call), token, timeout, max_bytes);
          answers.push_back(json::parse(one->body));
        }
      }
      return chain::RpcHttpReply{200, json::serialize(answers)};
    }
    return lotus.Post(url, body, token, timeout, max_bytes);
  }
  chain::testing::FakeLotus lotus;
  // When set: the finalized tipset's view (null: the deal is not there yet).
  std::map<uint64_t, json::value> final_deals;
};

// mk12 providers at http://127.0.0.1:<id>: they keep deals by UUID and answer status from them.
class FakeProviders : public Mk12Transport {
 public:
  struct Deal {
    DealParams params;
    std::string status = "Accepted";
    uint64_t chain_deal_id = 0;
    std::string error;
  };
  enum class Mode { kAccept, kReject, kLoseAnswer, kLoseProposal };

  Result<Mk12HttpReply> Send(const std::string& /*method*/, const std::string& url,
                             const std::string& body, std::chrono::milliseconds,
                             uint64_t) override {
    std::lock_guard lock(mu);
    const uint64_t id = std::stoull(url.substr(17, url.find('/', 17) - 17));
    const std::string path = url.substr(url.find('/', 17));
    if (path == "/market/mk12/ask") return Mk12HttpReply{200, ""};
    ++http_requests[id];
    return Handle(id, path, body);
  }

  // libp2p: the same provider logic behind the mk12 protocols; a request it cannot decode gets
  // the stream closed without an answer, as Boost does.
  Result<Mk12StreamReply> Exchange(const std::string& peer_id, const std::vector<std::string>&,
                                   const std::vector<Mk12StreamOffer>& offers,
                                   std::chrono::milliseconds, uint64_t) override {
    std::lock_guard lock(mu);
    uint64_t id = 0;
    for (uint64_t candidate = 1000; candidate < 1010; ++candidate) {
      if (PeerOf(candidate) == peer_id) id = candidate;
    }
    if (id == 0) return Err(ErrorCode::kUnavailable, "fake: no such peer");
    const Mk12StreamOffer& offer = offers.front();
    if (offer.protocol == kMk12AskProtocol) {
      return Mk12StreamReply{offer.protocol, Str(AskResponse{}.Encode())};
    }
    ++libp2p_requests[id];
    const std::string path =
        offer.protocol == kMk12StatusProtocol ? "/market/mk12/status" : "/market/mk12/store";
    auto reply = CAIRN_TRY(Handle(id, path, offer.request));
    return Mk12StreamReply{offer.protocol, reply.status == 200 ? reply.body : ""};
  }

  Result<Mk12HttpReply> Handle(uint64_t id, const std::string& path, const std::string& body) {
    if (path == "/market/mk12/store") {
      auto params = DealParams::Decode(AsBytes(body));
      if (!params) return Mk12HttpReply{400, ""};
      ++proposals[id];
      Mode m = mode[id];
      if (m == Mode::kLoseProposal) return Err(ErrorCode::kTimeout, "fake: no answer");
      if (m == Mode::kReject) {
        return Mk12HttpReply{200, Str(DealResponse{false, "failed validation: price too low (f0" +
                                                              std::to_string(id) + ")"}
                                          .Encode())};
      }
      deals[id][HexEncode(ByteSpan(params->deal_uuid.data(), 16))] = Deal{*params};
      if (m == Mode::kLoseAnswer) return Err(ErrorCode::kTimeout, "fake: answer lost");
      return Mk12HttpReply{200, Str(DealResponse{true, ""}.Encode())};
    }
    if (path == "/market/mk12/status") {
      auto req = DealStatusRequest::Decode(AsBytes(body));
      if (!req) return Mk12HttpReply{400, ""};
      DealStatusResponse resp;
      resp.deal_uuid = req->deal_uuid;
      auto it = deals[id].find(HexEncode(ByteSpan(req->deal_uuid.data(), 16)));
      if (it == deals[id].end()) {
        resp.error = "no storage deal found with deal UUID x";
      } else {
        DealStatus st;
        st.status = it->second.status;
        st.error = it->second.error;
        st.proposal = it->second.params.client_deal_proposal.proposal;
        st.chain_deal_id = it->second.chain_deal_id;
        st.signed_proposal_cid = it->second.params.client_deal_proposal.SignedProposalCid();
        st.sealing_status = "Proving";
        resp.deal_status = st;
      }
      return Mk12HttpReply{200, Str(resp.Encode())};
    }
    return Mk12HttpReply{404, ""};
  }
  static std::string Str(const Bytes& b) { return std::string(AsString(b)); }

  std::mutex mu;
  std::map<uint64_t, Mode> mode;
  std::map<uint64_t, int> proposals;
  std::map<uint64_t, int> http_requests, libp2p_requests;
  std::map<uint64_t, std::map<std::string, Deal>> deals;
};

using chain::testing::MarketDealJson;

class DealEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(*metadata::SqliteDatabase::Open(dir_ / "cairn.db"));
    ASSERT_TRUE(metadata::Migrate(*db_, metadata::BuiltinMigrations()).has_value());
    accounts_ = std::make_unique<metadata::AccountStore>(*db_, clock_);
    pins_ = std::make_unique<metadata::PinStore>(*db_, clock_);
    store_ = std::make_unique<metadata::DealStore>(*db_, clock_);
    stats_ = std::make_unique<metadata::ProviderStatsStore>(*db_);
    wallet_ = std::move(*wallet::Wallet::Open(Env::Default(), dir_ / "wallet"));
    client_ = *wallet_->New();
    chain_.lotus.balance[client_] = *BigInt::Parse("100000000000000000000");
    chain_.lotus.finality_lag = 10;
    chain_client_ = std::make_unique<chain::ChainClient>(
        chain_, chain::ChainClientOptions{.url = chain::testing::FakeLotus::kUrl,
                                          .head_ttl = std::chrono::milliseconds(0)});
    chain::SenderOptions so;
    so.poll_interval = std::chrono::milliseconds(0);
    so.sleep = [this](std::chrono::milliseconds) { chain_.lotus.Advance(); };
    sender_ = std::make_unique<chain::MessageSender>(*chain_client_, *wallet_, Env::Default(),
                                                     dir_ / "pending", so);
    mk12_ = std::make_unique<Mk12Client>(providers_);
    int64_t alice = accounts_->CreateAccount("alice")->id;
    // A pinned DAG in the block store.
    Bytes data(5000, 'x');
    SpanSource source(data);
    ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
    auto node = unixfs::ImportFile(source, {}, sink);
    ASSERT_TRUE(node.has_value());
    auto pin = pins_->Create(alice, metadata::NewPin{node->cid.ToString(), std::nullopt, {}, {}});
    pin_id_ = pin->requestid;
    ASSERT_TRUE(pins_->UpdateStatus(pin_id_, metadata::PinStatus::kPinned, {}).has_value());
    alice_ = alice;
  }

  // Pins another DAG (so that another aggregate is made).
  void PinAnother(char fill) {
    Bytes data(5000, static_cast<uint8_t>(fill));
    SpanSource source(data);
    ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
    auto node = unixfs::ImportFile(source, {}, sink);
    ASSERT_TRUE(node.has_value());
    auto pin = pins_->Create(alice_, metadata::NewPin{node->cid.ToString(), std::nullopt, {}, {}});
    ASSERT_TRUE(pins_->UpdateStatus(pin->requestid, metadata::PinStatus::kPinned, {}).has_value());
  }

  std::unique_ptr<DealEngine> Engine(bool verified = false) {
    DealEngineConfig c;
    c.verified = verified;
    for (uint64_t id : {1000, 1001, 1002, 1004}) c.providers.push_back(*Address::Id(id));
    c.replicas = 2;
    c.batch_wait = std::chrono::seconds(0);
    c.piece_size = 1 << 20;
    c.public_url = "http://127.0.0.1:9";
    c.start_delay_epochs = 100;
    c.renew_margin_epochs = 1000;
    c.client = client_;
    c.max_price = BigInt::FromUint(500000000);  // the fake providers publish no ask
    return std::make_unique<DealEngine>(c, *store_, *stats_, *pins_, blocks_, *chain_client_,
                                        *sender_, *wallet_, *mk12_, clock_);
  }

  std::map<std::string, metadata::DealRecord> Deals() {
    std::map<std::string, metadata::DealRecord> out;
    auto aggregates = store_->Aggregates();
    EXPECT_TRUE(aggregates.has_value());
    for (const auto& agg : *aggregates) {
      auto deals = store_->DealsOfAggregate(agg.id);
      EXPECT_TRUE(deals.has_value());
      for (auto& d : *deals) out[d.provider] = d;
    }
    return out;
  }

  std::string Info(const std::string& key) {
    auto pin = pins_->Get(alice_, pin_id_);
    auto it = pin->info.find(key);
    return it == pin->info.end() ? "" : it->second;
  }

  // Another pinned DAG of `size` bytes of `fill`, with `meta`; returns its requestid.
  std::string AddPin(char fill, size_t size, metadata::StringMap meta) {
    Bytes data(size, static_cast<uint8_t>(fill));
    SpanSource source(data);
    ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
    auto node = unixfs::ImportFile(source, {}, sink);
    EXPECT_TRUE(node.has_value());
    auto pin = pins_->Create(
        alice_, metadata::NewPin{node->cid.ToString(), std::nullopt, {}, std::move(meta)});
    EXPECT_TRUE(pins_->UpdateStatus(pin->requestid, metadata::PinStatus::kPinned, {}).has_value());
    return pin->requestid;
  }

  testing::TempDir dir_;
  SystemClock& clock_ = SystemClock::Instance();
  std::unique_ptr<metadata::SqliteDatabase> db_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<metadata::DealStore> store_;
  std::unique_ptr<metadata::ProviderStatsStore> stats_;
  std::unique_ptr<wallet::Wallet> wallet_;
  Address client_;
  blockstore::MemoryBlockstore blocks_;
  Chain chain_;
  std::unique_ptr<chain::ChainClient> chain_client_;
  std::unique_ptr<chain::MessageSender> sender_;
  FakeProviders providers_;
  std::unique_ptr<Mk12Client> mk12_;
  std::string pin_id_;
  int64_t alice_ = 0;
};

TEST_F(DealEngineTest, APinThatCannotBeSegmentedSaysWhyAndWaitsBehindThePinsThatAreDue) {
  // A pin whose DAG lost a block (1 MiB of random bytes: several distinct leaves), created first.
  Bytes data(1 << 20);
  std::mt19937_64 rng(3);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  SpanSource source(data);
  ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
  auto node = unixfs::ImportFile(source, {}, sink);
  ASSERT_TRUE(node.has_value());
  ipld::BlockGetterFor<blockstore::Blockstore> getter(blocks_);
  auto root = getter.Get(node->cid);
  ASSERT_TRUE(root.has_value());
  auto links = ipld::Links(node->cid, *root);
  ASSERT_TRUE(links.has_value() && links->size() > 1);
  ASSERT_TRUE(blocks_.Delete(links->back()).has_value());
  auto broken = pins_->Create(alice_, metadata::NewPin{node->cid.ToString(), std::nullopt, {}, {}});
  ASSERT_TRUE(pins_->UpdateStatus(broken->requestid, metadata::PinStatus::kPinned, {}).has_value());

  auto engine = Engine();
  EXPECT_FALSE(engine->Tick().has_value()) << "the failure is reported";
  auto pin = pins_->Get(alice_, broken->requestid);
  const std::string shown = pin->info.count("filecoin") ? pin->info.at("filecoin") : "";
  EXPECT_EQ(shown.rfind("segment failed: ", 0), 0u) << shown;
  EXPECT_NE(shown.find(links->back().ToString()), std::string::npos) << shown;
  // The good pin went ahead; the broken one is queued again for later, not due now.
  EXPECT_EQ(store_->SegmentsOfPin(pin_id_)->size(), 1u);
  EXPECT_TRUE(store_->SegmentsOfPin(broken->requestid)->empty());
  EXPECT_TRUE(store_->UnsegmentedPins(10, clock_.WallMicros())->empty());
  ASSERT_EQ(store_->UnsegmentedPins(10)->size(), 1u);
  EXPECT_TRUE(engine->Tick().has_value()) << "not retried within its delay";
}

TEST_F(DealEngineTest, SegmentRecordsWhereEachBlockSitsInItsCar) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto segments = store_->SegmentsOfPin(pin_id_);
  ASSERT_TRUE(segments.has_value()) << segments.error().ToString();
  ASSERT_EQ(segments->size(), 1u);
  const auto* segment = &segments->front();
  auto index = store_->SegmentBlocks(segment->id);
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  // The CAR the segment's CommP was computed from: every indexed range is exactly its block.
  Bytes car;
  BytesSink sink(car);
  ipld::BlockGetterFor<blockstore::Blockstore> getter(blocks_);
  auto root = multiformats::Cid::FromBytes(segment->root_cid);
  ASSERT_TRUE(root.has_value());
  auto stats = car::ExportDag(*root, getter, sink);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(car.size(), segment->car_size);
  ASSERT_EQ(index->size(), stats->blocks);
  for (const auto& b : *index) {
    auto mh = multiformats::Multihash::Decode(b.multihash);
    ASSERT_TRUE(mh.has_value());
    ASSERT_LE(b.offset + b.length, car.size());
    EXPECT_TRUE(mh->Verify(ByteSpan(car).subspan(b.offset, b.length)).has_value());
  }
}

TEST_F(DealEngineTest, RejectionIsKeptVerbatimAndAnotherProviderReplacesIt) {
  providers_.mode[1000] = FakeProviders::Mode::kReject;
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  ASSERT_EQ(deals.size(), 3u);
  EXPECT_EQ(deals["f01000"].state, DealState::kRejected);
  EXPECT_EQ(deals["f01000"].provider_message, "failed validation: price too low (f01000)");
  // The libp2p-only (Boost) provider is dealt with over libp2p, the others over HTTP.
  EXPECT_EQ(deals["f01001"].state, DealState::kAccepted);
  EXPECT_EQ(deals["f01002"].state, DealState::kAccepted);
  EXPECT_EQ(deals.count("f01004"), 0u);
  EXPECT_EQ(providers_.libp2p_requests[1001], 1);
  EXPECT_EQ(providers_.http_requests[1001], 0);
  EXPECT_EQ(providers_.libp2p_requests[1002], 0);
  EXPECT_TRUE(engine->Status().skipped_providers.empty());
  // Price and collateral are recorded: no ask, so max_price per GiB for the aggregate's size;
  // Min × 1.2.
  const uint64_t padded = store_->Aggregates()->at(0).padded_size;
  EXPECT_EQ(deals["f01002"].price_per_epoch,
            MulDivCeil(BigInt::FromUint(500000000), padded, 1u << 30)->ToString());
  EXPECT_EQ(deals["f01002"].provider_collateral, "1200");
  // The escrow holds exactly what the two live deals cost: each top-up covered only the
  // shortfall (the rejected deal's money went to the next one), none was sent twice.
  const BigInt cost =
      *BigInt::Parse(deals["f01002"].price_per_epoch) * static_cast<uint64_t>(180 * kEpochsPerDay);
  EXPECT_EQ(chain_.lotus.escrow[client_].escrow, cost * 2);
  EXPECT_EQ(chain_.lotus.executed().size(), 2u);
  EXPECT_EQ(Info("filecoin"), "dealing 0/2");
  EXPECT_EQ(Info("deals"), "f01001::accepted,f01002::accepted");
  // Nothing is proposed again on the next passes; the status of the libp2p deal is asked over
  // libp2p.
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(providers_.proposals[1000], 1);
  EXPECT_EQ(providers_.proposals[1001], 1);
  EXPECT_EQ(providers_.proposals[1002], 1);
  EXPECT_EQ(providers_.libp2p_requests[1001], 2);
}

// For each aggregate (oldest first), whether each of its live deals' proposals is verified.
std::vector<std::vector<bool>> VerifiedFlags(metadata::DealStore& store) {
  std::vector<std::vector<bool>> out;
  const auto aggregates = store.Aggregates();
  EXPECT_TRUE(aggregates);
  for (const auto& agg : *aggregates) {
    out.emplace_back();
    const auto deals = store.DealsOfAggregate(agg.id);
    EXPECT_TRUE(deals);
    for (const auto& d : *deals) {
      if (!metadata::DealStateIsLive(d.state)) continue;
      out.back().push_back(ClientDealProposal::Decode(d.signed_proposal)->proposal.verified_deal);
    }
  }
  return out;
}

TEST_F(DealEngineTest, VerifiedDealsSpendDataCapAndFallBackToPaidDealsWithoutIt) {
  auto engine = Engine(/*verified=*/true);
  // No DataCap at all: both deals are proposed unverified.
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(VerifiedFlags(*store_), (std::vector<std::vector<bool>>{{false, false}}));
  // DataCap for exactly one piece: the next aggregate's first deal is verified, the second not.
  const uint64_t padded = store_->Aggregates()->at(0).padded_size;
  chain_.lotus.datacap[client_] = BigInt::FromUint(padded);
  PinAnother('y');
  ASSERT_TRUE(engine->Tick().has_value());
  auto flags = VerifiedFlags(*store_);
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_EQ(std::count(flags[1].begin(), flags[1].end(), true), 1);
  EXPECT_EQ(flags[1].size(), 2u);
  // The verified deal is accepted, not published: the chain still shows the DataCap, but it is
  // promised. A third aggregate gets no verified deal.
  PinAnother('z');
  ASSERT_TRUE(engine->Tick().has_value());
  flags = VerifiedFlags(*store_);
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_EQ(flags[2], (std::vector<bool>{false, false}));
  // The verified deal asked for the verified collateral bounds and the proposal says so: what
  // the provider received is what was signed.
  int verified_at_providers = 0;
  for (const auto& [id, by_uuid] : providers_.deals) {
    for (const auto& [uuid, deal] : by_uuid) {
      verified_at_providers += deal.params.client_deal_proposal.proposal.verified_deal ? 1 : 0;
    }
  }
  EXPECT_EQ(verified_at_providers, 1);
}

TEST_F(DealEngineTest, ProvidersThatFailSinkBelowTheOthersForTheNextPiece) {
  // First piece: f01000 rejects, f01001 answers nothing; f01002 and f01004 take it.
  providers_.mode[1000] = FakeProviders::Mode::kReject;
  providers_.mode[1001] = FakeProviders::Mode::kLoseProposal;
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());  // f01001's proposal is found lost, and replaced
  EXPECT_EQ(Info("deals"), "f01001::failed,f01002::accepted,f01004::accepted");
  auto status = engine->Status();
  ASSERT_EQ(status.providers.size(), 4u);
  EXPECT_EQ(status.providers[0].provider, "f01000");
  EXPECT_EQ(status.providers[0].stats.rejected, 1);
  EXPECT_EQ(status.providers[1].stats.timeouts, 1);
  EXPECT_EQ(status.providers[1].transport, "libp2p");
  EXPECT_EQ(status.providers[2].transport, "http");
  EXPECT_EQ(status.providers[2].stats.accepted, 1);
  EXPECT_LT(status.providers[0].score, status.providers[2].score);
  EXPECT_LT(status.providers[1].score, status.providers[2].score);

  // Every provider accepts now. In configuration order the second piece would go to f01000 and
  // f01001; by score it goes to the two that accepted.
  providers_.mode.clear();
  PinAnother('y');
  ASSERT_TRUE(engine->Tick().has_value());
  auto aggregates = store_->Aggregates();
  ASSERT_EQ(aggregates->size(), 2u);
  std::set<std::string> second;
  auto second_deals = store_->DealsOfAggregate(aggregates->at(1).id);
  ASSERT_TRUE(second_deals.has_value());
  for (const auto& d : *second_deals) second.insert(d.provider);
  EXPECT_EQ(second, (std::set<std::string>{"f01002", "f01004"}));
  EXPECT_EQ(providers_.proposals[1000], 1);
  EXPECT_EQ(providers_.proposals[1001], 1);

  // A provider that keeps failing sinks: both of f01002's deals fail at the provider (a transfer
  // error); it falls below f01004 and below a provider without history.
  for (auto& [uuid, d] : providers_.deals[1002]) d.error = "data transfer failed: EOF";
  ASSERT_TRUE(engine->Tick().has_value());
  status = engine->Status();
  EXPECT_EQ(status.providers[2].stats.transfer_failures, 2);
  EXPECT_LT(status.providers[2].score, status.providers[3].score);
  EXPECT_LT(status.providers[2].score, ProviderScoreOf(metadata::ProviderStats{}));
}

TEST_F(DealEngineTest, LostAnswersAreReconciledByStatusNeverByProposingAgain) {
  providers_.mode[1000] = FakeProviders::Mode::kLoseAnswer;    // has the deal, answer lost
  providers_.mode[1001] = FakeProviders::Mode::kLoseProposal;  // never got it
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kProposing);
  EXPECT_NE(deals["f01000"].last_error.find("answer lost"), std::string::npos);
  EXPECT_EQ(deals["f01001"].state, DealState::kProposing);
  // A restarted engine (a new object over the same database) asks the providers by DealUUID.
  engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kAccepted);
  EXPECT_EQ(deals["f01001"].state, DealState::kFailed);
  EXPECT_NE(deals["f01001"].last_error.find("never arrived"), std::string::npos);
  EXPECT_EQ(deals["f01002"].state, DealState::kAccepted) << "the lost one is replaced";
  EXPECT_EQ(providers_.proposals[1000], 1);
  EXPECT_EQ(providers_.proposals[1001], 1);
  EXPECT_EQ(providers_.proposals[1002], 1);
  // Each lost answer counted once as a timeout (not again when found lost); the answer found by
  // status counts as an acceptance.
  EXPECT_EQ(stats_->Get("f01000")->timeouts, 1);
  EXPECT_EQ(stats_->Get("f01000")->accepted, 1);
  EXPECT_EQ(stats_->Get("f01001")->timeouts, 1);
  EXPECT_EQ(stats_->Get("f01001")->transfer_failures, 0);
}

TEST_F(DealEngineTest, OnChainProposalIsComparedFieldByFieldAndActiveOnlyAtFinality) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  // Both providers publish: deal 7 as signed, deal 8 with another price.
  for (auto& [id, deals] : providers_.deals) {
    for (auto& [uuid, d] : deals) {
      d.status = "PublishConfirmed";
      d.chain_deal_id = id == 1000 ? 7 : 8;
      DealProposal onchain = d.params.client_deal_proposal.proposal;
      if (id != 1000) onchain.storage_price_per_epoch = BigInt::FromUint(1);
      chain_.lotus.deals[d.chain_deal_id] = MarketDealJson(onchain, -1);
    }
  }
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kPublished);
  EXPECT_EQ(*deals["f01000"].deal_id, 7);
  EXPECT_EQ(deals["f01001"].state, DealState::kFailed);
  EXPECT_NE(deals["f01001"].last_error.find("StoragePricePerEpoch"), std::string::npos);
  EXPECT_EQ(stats_->Get("f01001")->mismatches, 1);
  // The failed one is replaced by the next provider.
  EXPECT_EQ(deals["f01002"].state, DealState::kAccepted);

  // Activated at the head but not yet at the finalized tipset: still published.
  auto proposal = ClientDealProposal::Decode(deals["f01000"].signed_proposal)->proposal;
  chain_.lotus.deals[7] = MarketDealJson(proposal, 1005);
  chain_.final_deals[7] = MarketDealJson(proposal, -1);
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kPublished);
  // A slash seen only at the head is not final either.
  chain_.lotus.deals[7] = MarketDealJson(proposal, 1005, 1006);
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kPublished);
  // Once finalized: active; slashed later (and final) → slashed.
  chain_.lotus.deals[7] = MarketDealJson(proposal, 1005);
  chain_.final_deals.clear();
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kActive);
  EXPECT_EQ(Info("deals").find("f01000:7:active"), 0u) << Info("deals");
  EXPECT_EQ(stats_->Get("f01000")->active, 1);
  EXPECT_GT(stats_->Get("f01000")->active_us_total, 0);
  chain_.lotus.deals[7] = MarketDealJson(proposal, 1005, 1010);
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kSlashed);
  EXPECT_EQ(stats_->Get("f01000")->slashed, 1);
}

// A reorganisation before finality renumbers deals: the publish message is included again after
// another one, so the head shows someone else's deal under the ID the provider first reported.
// That is not a mismatch until the finalized tipset shows it: the deal stays published, its ID is
// asked of the provider again and followed; a provider that keeps the wrong ID fails only at
// finality.
TEST_F(DealEngineTest, ADealRenumberedBeforeFinalityIsFollowedAndFailsOnlyOnAFinalMismatch) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  std::map<uint64_t, DealProposal> ours;  // provider id → its deal's proposal
  for (auto& [id, deals] : providers_.deals) {
    for (auto& [uuid, d] : deals) {
      d.status = "PublishConfirmed";
      d.chain_deal_id = id == 1000 ? 7 : 8;
      ours[id] = d.params.client_deal_proposal.proposal;
      chain_.lotus.deals[d.chain_deal_id] = MarketDealJson(ours[id], -1);
    }
  }
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(Deals()["f01000"].state, DealState::kPublished);
  ASSERT_EQ(Deals()["f01001"].state, DealState::kPublished);

  // The reorganisation: IDs 7 and 8 now hold another client's deals at the head, and neither is
  // at the finalized tipset yet. Ours are 9 (f01000, which says so) and 10 (f01001, which still
  // says 8).
  auto someone_else = [](DealProposal p) {
    p.storage_price_per_epoch = BigInt::FromUint(1);
    return p;
  };
  chain_.lotus.deals[7] = MarketDealJson(someone_else(ours[1000]), -1);
  chain_.lotus.deals[8] = MarketDealJson(someone_else(ours[1001]), -1);
  chain_.lotus.deals[9] = MarketDealJson(ours[1000], -1);
  chain_.lotus.deals[10] = MarketDealJson(ours[1001], -1);
  chain_.final_deals[7] = json::value(nullptr);
  chain_.final_deals[8] = json::value(nullptr);
  for (auto& [uuid, d] : providers_.deals[1000]) d.chain_deal_id = 9;
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kPublished) << deals["f01000"].last_error;
  EXPECT_EQ(deals["f01000"].deal_id, 9) << "the provider's new ID is taken";
  EXPECT_EQ(deals["f01001"].state, DealState::kPublished) << deals["f01001"].last_error;
  EXPECT_EQ(deals["f01001"].deal_id, 8);
  EXPECT_EQ(stats_->Get("f01000")->mismatches, 0);
  EXPECT_EQ(stats_->Get("f01001")->mismatches, 0);
  EXPECT_FALSE(deals.count("f01002")) << "no replacement while nothing is final";

  // Deal 9 becomes active, and final: f01000's deal is active under its new ID.
  chain_.lotus.deals[9] = MarketDealJson(ours[1000], 1005);
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kActive);
  EXPECT_EQ(Info("deals").find("f01000:9:active"), 0u) << Info("deals");

  // The other client's deal 8 reaches the finalized tipset: f01001's deal under ID 8 is now a
  // final mismatch, and fails (replaced by the next provider).
  chain_.final_deals.erase(8);
  ASSERT_TRUE(engine->Tick().has_value());
  deals = Deals();
  EXPECT_EQ(deals["f01001"].state, DealState::kFailed);
  EXPECT_NE(deals["f01001"].last_error.find("on-chain deal 8 differs from the signed proposal"),
            std::string::npos)
      << deals["f01001"].last_error;
  EXPECT_EQ(stats_->Get("f01001")->mismatches, 1);
}

TEST_F(DealEngineTest, ADealStuckBeforePublishingFailsAtItsStartEpochAndIsReplaced) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  ASSERT_EQ(deals["f01000"].state, DealState::kAccepted);
  chain_.lotus.height = deals["f01000"].start_epoch - 1;
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Deals()["f01000"].state, DealState::kAccepted) << "still time to publish";
  chain_.lotus.height = deals["f01000"].start_epoch;
  ASSERT_TRUE(engine->Tick().has_value());
  deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kFailed);
  EXPECT_NE(deals["f01000"].last_error.find("not published by its start epoch"), std::string::npos)
      << deals["f01000"].last_error;
  EXPECT_EQ(stats_->Get("f01000")->never_published, 1);
  EXPECT_EQ(deals["f01002"].state, DealState::kAccepted) << "replaced: " << Info("deals");
}

// Every provider's accepted deals are published and activated (chain deal ids from 100).
void PublishAndActivateAll(FakeProviders& providers, chain::testing::FakeLotus& lotus) {
  uint64_t next = 100;
  for (auto& [id, deals] : providers.deals) {
    for (auto& [uuid, d] : deals) {
      if (d.chain_deal_id == 0) {
        while (lotus.deals.count(next)) ++next;
        d.chain_deal_id = next;
        d.status = "PublishConfirmed";
        lotus.deals[next] = MarketDealJson(d.params.client_deal_proposal.proposal, lotus.height);
      }
    }
  }
}

int LiveDeals(const std::vector<metadata::DealRecord>& deals) {
  return static_cast<int>(std::count_if(deals.begin(), deals.end(), [](const auto& d) {
    return metadata::DealStateIsLive(d.state);
  }));
}

TEST_F(DealEngineTest, DealsNearTheirEndAreRenewedWhileTheyRunButNotForDeletedPins) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  const std::string deleted = AddPin('d', 3000, {});
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(store_->Aggregates()->size(), 2u);
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
  ASSERT_TRUE(pins_->Delete(alice_, deleted).has_value());
  const int64_t kept = store_->SegmentsOfPin(pin_id_)->at(0).aggregate_id.value();
  const int64_t gone = store_->SegmentsOfPin(deleted)->at(0).aggregate_id.value();
  // The two deals were proposed a few epochs apart (the fake chain moves while escrow is added).
  int64_t first_end = INT64_MAX, end = 0;
  const auto initial = *store_->DealsOfAggregate(kept);
  for (const auto& d : initial) {
    first_end = std::min(first_end, d.end_epoch);
    end = std::max(end, d.end_epoch);
  }

  // One epoch before the margin: nothing to do.
  chain_.lotus.height = first_end - 1001;
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(store_->DealsOfAggregate(kept)->size(), 2u);
  // Within the margin of both: two new deals while the old two still run (four live: no gap).
  chain_.lotus.height = end - 1000;
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = *store_->DealsOfAggregate(kept);
  ASSERT_EQ(deals.size(), 4u) << Info("deals");
  EXPECT_EQ(LiveDeals(deals), 4) << Info("deals");
  EXPECT_GT(deals[2].start_epoch, end - 1000);
  EXPECT_LT(deals[3].start_epoch, first_end) << "the renewal starts before the old deals end";
  EXPECT_EQ(Info("filecoin"), "active 2/2");
  metadata::EventStore events(*db_, clock_);
  auto history = *events.PinEvents(pin_id_, 0, 100);
  EXPECT_EQ(std::count_if(history.begin(), history.end(),
                          [](const auto& e) { return e.kind == "renewed"; }),
            2);
  // The deleted pin's aggregate is not renewed, now or when its deals end.
  EXPECT_EQ(store_->DealsOfAggregate(gone)->size(), 2u);
  PublishAndActivateAll(providers_, chain_.lotus);
  chain_.lotus.height = end + 20;  // past the end at the finalized tipset too
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(store_->DealsOfAggregate(gone)->size(), 2u);
  EXPECT_EQ(LiveDeals(*store_->DealsOfAggregate(gone)), 0) << "its deals expired";
  deals = *store_->DealsOfAggregate(kept);
  EXPECT_EQ(deals.size(), 4u) << "the renewals count: no third round";
  EXPECT_EQ(deals[0].state, DealState::kExpired);
  EXPECT_EQ(deals[2].state, DealState::kActive);
  EXPECT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
}

TEST_F(DealEngineTest, AMostlyDeletedAggregateIsReaggregatedNotRenewedAndReceiptsKeepTheOld) {
  // Four pins in one aggregate: the fixture's (5000 bytes) and three of 6000 bytes.
  const std::string a = AddPin('a', 6000, {}), b = AddPin('b', 6000, {}), c = AddPin('c', 6000, {});
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(store_->Aggregates()->size(), 1u);
  const int64_t old_agg = store_->Aggregates()->at(0).id;
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
  const Receipt before = *BuildReceipt(*store_, pin_id_);
  // Three of the four pins are deleted: the live bytes are under half of the aggregate's.
  for (const auto& id : {a, b, c}) ASSERT_TRUE(pins_->Delete(alice_, id).has_value());
  int64_t end = 0;
  const auto old_deals = *store_->DealsOfAggregate(old_agg);
  for (const auto& d : old_deals) end = std::max(end, d.end_epoch);
  chain_.lotus.height = end - 1000;         // within the renewal margin
  ASSERT_TRUE(engine->Tick().has_value());  // re-aggregated
  EXPECT_EQ(Info("filecoin"), "aggregating");
  ASSERT_TRUE(engine->Tick().has_value());  // packed into a new piece, which gets deals
  // Not renewed: the live pin left the old aggregate (superseded) for a new one with its own
  // deals; the old deals run on.
  const auto aggregates = *store_->Aggregates();
  ASSERT_EQ(aggregates.size(), 2u);
  EXPECT_TRUE(aggregates[0].superseded_us.has_value());
  EXPECT_EQ(store_->DealsOfAggregate(old_agg)->size(), 2u) << "the old aggregate was renewed";
  const int64_t new_agg = aggregates[1].id;
  EXPECT_EQ(store_->SegmentsOfPin(pin_id_)->at(0).aggregate_id, new_agg);
  EXPECT_LT(aggregates[1].payload_size, aggregates[0].payload_size);
  EXPECT_EQ(LiveDeals(*store_->DealsOfAggregate(new_agg)), 2);
  // The old aggregate's segments are still all there for its proofs and bytes.
  EXPECT_EQ(store_->Segments(old_agg)->size(), 4u);
  // The receipt is the new placement, with the old one as history, each verifiable.
  const Receipt now = *BuildReceipt(*store_, pin_id_);
  EXPECT_NE(now.aggregate_piece_cid, before.aggregate_piece_cid);
  ASSERT_EQ(now.history.size(), 1u);
  EXPECT_EQ(now.history[0].aggregate_piece_cid, before.aggregate_piece_cid);
  EXPECT_EQ(now.history[0].segment_offset, before.segment_offset);
  EXPECT_EQ(now.history[0].inclusion_proof, before.inclusion_proof);
  EXPECT_TRUE(VerifyReceiptInclusion(now).has_value());
  EXPECT_TRUE(VerifyReceiptInclusion(now.history[0]).has_value());
  auto parsed = ParseReceipt(RenderReceipt(now));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, now);
  // The pin's history keeps the old aggregate's events and says what happened.
  metadata::EventStore events(*db_, clock_);
  auto history = *events.PinEvents(pin_id_, 0, 100);
  auto count = [&](const std::string& kind) {
    return std::count_if(history.begin(), history.end(),
                         [&](const auto& e) { return e.kind == kind; });
  };
  EXPECT_EQ(count("reaggregated"), 1);
  EXPECT_EQ(count("aggregated"), 2);
  EXPECT_EQ(count("renewed"), 0);
  // Once the new deals are active the pin shows them; nothing more is made for the old one.
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
  EXPECT_EQ(Info("piece_cid"), aggregates[1].piece_cid);
  EXPECT_EQ(store_->DealsOfAggregate(old_agg)->size(), 2u);
}

TEST_F(DealEngineTest, PinsAreWrittenOnlyWhenTheirAggregatesStateChangesEvenAfterARestart) {
  const std::string other = AddPin('o', 4000, {});
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(store_->Aggregates()->size(), 1u);
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
  auto updated_at = [this] {
    auto rows = db_->ReadQuery("SELECT updated_at FROM pins WHERE requestid = ?",
                               std::array<metadata::SqlValue, 1>{pin_id_});
    return rows->at(0).Int(0);
  };
  const int64_t shown_at = updated_at();
  EXPECT_NE(store_->Aggregates()->front().shown, "");
  // More ticks, a restarted engine, another pin of the aggregate deleted: nothing to write.
  ASSERT_TRUE(engine->Tick().has_value());
  engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(pins_->Delete(alice_, other).has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(updated_at(), shown_at);
  EXPECT_EQ(Info("filecoin"), "active 2/2");
  // A replica lost: written.
  const uint64_t first_id = chain_.lotus.deals.begin()->first;
  chain_.lotus.deals.at(first_id).at("State").as_object()["SlashEpoch"] = chain_.lotus.height;
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Info("filecoin"), "dealing 1/2") << Info("deals");
  EXPECT_GT(updated_at(), shown_at);
}

TEST_F(DealEngineTest, LosingEveryReplicaShowsAtRiskAndRepairsWithOtherProviders) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_EQ(Info("filecoin"), "active 2/2");
  for (auto& [id, d] : chain_.lotus.deals) {
    d.at("State").as_object()["SlashEpoch"] = chain_.lotus.height;
  }
  // Both slashed: no healthy replica is left, and the repair deals go to the other providers
  // (the hot copy is the source).
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Info("filecoin"), "at risk 0/2") << Info("deals");
  auto deals = Deals();
  EXPECT_EQ(deals["f01000"].state, DealState::kSlashed);
  EXPECT_EQ(deals["f01001"].state, DealState::kSlashed);
  EXPECT_EQ(deals["f01002"].state, DealState::kAccepted) << Info("deals");
  EXPECT_EQ(deals["f01004"].state, DealState::kAccepted) << Info("deals");
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(Info("filecoin"), "active 2/2") << Info("deals");
  metadata::EventStore events(*db_, clock_);
  auto history = *events.PinEvents(pin_id_, 0, 100);
  EXPECT_EQ(std::count_if(history.begin(), history.end(),
                          [](const auto& e) { return e.kind == "repaired"; }),
            2);
}

TEST_F(DealEngineTest, ServesTheAggregateOnlyWithTheDealsTokenWhileItIsNeeded) {
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deal = Deals()["f01000"];
  // The token is only in what the provider was sent.
  auto& sent = providers_.deals[1000].begin()->second.params;
  auto transfer = json::parse(std::string(AsString(sent.transfer.params)));
  const std::string auth(transfer.at("Headers").at("Authorization").as_string());
  ASSERT_EQ(auth.rfind("Bearer ", 0), 0u);
  EXPECT_EQ(std::string(transfer.at("URL").as_string()),
            "http://127.0.0.1:9/filecoin/piece/" + deal.uuid);
  EXPECT_EQ(engine->OpenPiece(deal.uuid, "wrong").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(engine->OpenPiece("no-such-deal", auth.substr(7)).error().code(),
            ErrorCode::kUnauthenticated);
  auto opened = engine->OpenPiece(deal.uuid, auth.substr(7));
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->view->payload_size(), sent.transfer.size);
  EXPECT_EQ(opened->piece_cid, sent.client_deal_proposal.proposal.piece_cid.ToString());
  deal.state = DealState::kPublished;
  ASSERT_TRUE(store_->UpdateDeal(deal).has_value());
  EXPECT_EQ(engine->OpenPiece(deal.uuid, auth.substr(7)).error().code(),
            ErrorCode::kPermissionDenied);
}

TEST_F(DealEngineTest, ADagLargerThanAPieceIsCutIntoCarShardsEachDealtForServedAndReceipted) {
  // 1.5 MiB of random bytes (distinct leaves) against pieces of 1 MiB.
  Bytes data(3 * 512 * 1024);
  std::mt19937_64 rng(7);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  SpanSource source(data);
  ipld::StoreSink<blockstore::Blockstore> sink(blocks_);
  auto node = unixfs::ImportFile(source, {}, sink);
  ASSERT_TRUE(node.has_value());
  auto pin = pins_->Create(alice_, metadata::NewPin{node->cid.ToString(), std::nullopt, {}, {}});
  ASSERT_TRUE(pins_->UpdateStatus(pin->requestid, metadata::PinStatus::kPinned, {}).has_value());
  const std::string big = pin->requestid;

  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto segments = store_->SegmentsOfPin(big).value();
  ASSERT_GE(segments.size(), 3u);
  uint64_t next_section = 0;
  size_t indexed = 0;
  for (size_t k = 0; k < segments.size(); ++k) {
    const auto& seg = segments[k];
    EXPECT_EQ(seg.shard, k);
    EXPECT_EQ(seg.shards, segments.size());
    EXPECT_EQ(seg.first_section, next_section);
    ASSERT_TRUE(seg.sections.has_value());
    next_section += *seg.sections;
    EXPECT_LE(seg.car_size, engine->MaxSegmentCarBytes());
    EXPECT_TRUE(seg.aggregate_id.has_value()) << "shard " << k;
    indexed += store_->SegmentBlocks(seg.id)->size();
  }
  ipld::BlockGetterFor<blockstore::Blockstore> getter(blocks_);
  Bytes whole;
  BytesSink whole_sink(whole);
  const auto stats = car::ExportDag(node->cid, getter, whole_sink);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(next_section, stats->blocks);
  EXPECT_EQ(indexed, stats->blocks);  // every block in exactly one shard's index

  // Each shard's aggregate is served to its providers as exactly the recorded piece.
  std::set<int64_t> aggregates;
  for (const auto& seg : segments) aggregates.insert(*seg.aggregate_id);
  std::set<int64_t> served;
  for (auto& [id, deals] : providers_.deals) {
    for (auto& [hex, d] : deals) {
      const std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
                               "-" + hex.substr(16, 4) + "-" + hex.substr(20);
      auto transfer = json::parse(std::string(AsString(d.params.transfer.params)));
      const std::string auth(transfer.at("Headers").at("Authorization").as_string());
      auto opened = engine->OpenPiece(uuid, auth.substr(7));
      ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
      Bytes payload;
      ASSERT_TRUE(opened->view
                      ->WriteRange(0, opened->view->payload_size(), getter,
                                   [&](ByteSpan b) {
                                     payload.insert(payload.end(), b.begin(), b.end());
                                     return Result<void>(Ok());
                                   })
                      .has_value());
      auto commp = piece::ComputeCommP(payload, {.threads = 1});
      ASSERT_TRUE(commp.has_value());
      EXPECT_EQ(piece::PieceCidV1(commp->root).ToString(), opened->piece_cid);
      served.insert(store_->GetDeal(uuid)->aggregate_id);
    }
  }
  for (int64_t agg : aggregates) EXPECT_TRUE(served.count(agg)) << "aggregate " << agg;

  auto info = [&](const std::string& key) {
    auto p = pins_->Get(alice_, big);
    auto it = p->info.find(key);
    return it == p->info.end() ? std::string() : it->second;
  };
  EXPECT_EQ(info("shards"), std::to_string(segments.size()));
  EXPECT_EQ(info("filecoin"), "dealing 0/2");
  const std::string pieces = info("piece_cid");
  EXPECT_EQ(static_cast<size_t>(std::count(pieces.begin(), pieces.end(), ',')), segments.size() - 1)
      << pieces;
  PublishAndActivateAll(providers_, chain_.lotus);
  ASSERT_TRUE(engine->Tick().has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  EXPECT_EQ(info("filecoin"), "active 2/2") << info("deals");

  // The receipt lists every shard; each proves its own segment, and together they are the DAG.
  auto receipt = BuildReceipt(*store_, big);
  ASSERT_TRUE(receipt.has_value()) << receipt.error().ToString();
  ASSERT_EQ(receipt->shards.size() + 1, segments.size());
  EXPECT_EQ(receipt->shard_count, segments.size());
  EXPECT_TRUE(ShardsConsistent(*receipt).has_value());
  auto parsed = ParseReceipt(RenderReceipt(*receipt));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, *receipt);
  std::vector<const Receipt*> parts = {&*parsed};
  for (const auto& shard : parsed->shards) parts.push_back(&shard);
  for (size_t k = 0; k < parts.size(); ++k) {
    auto inclusion = VerifyReceiptInclusion(*parts[k]);
    ASSERT_TRUE(inclusion.has_value()) << "shard " << k << ": " << inclusion.error().ToString();
    EXPECT_EQ(inclusion->segment_payload_size, segments[k].car_size);
    EXPECT_EQ(parts[k]->deals.size(), 2u);
    for (const auto& d : parts[k]->deals) EXPECT_EQ(d.state, "active");
  }
  Receipt gap = *parsed;
  gap.shards.back().first_section += 1;
  EXPECT_FALSE(ShardsConsistent(gap).has_value());
  Receipt missing = *parsed;
  missing.shards.pop_back();
  EXPECT_FALSE(ShardsConsistent(missing).has_value());
}

TEST_F(DealEngineTest, ReceiptProvesThePinsSegmentAndListsItsDealsAsRecorded) {
  EXPECT_EQ(BuildReceipt(*store_, pin_id_).error().code(), ErrorCode::kNotFound);
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto receipt = BuildReceipt(*store_, pin_id_);
  ASSERT_TRUE(receipt.has_value()) << receipt.error().ToString();
  const auto agg = store_->Aggregates()->at(0);
  EXPECT_EQ(receipt->aggregate_piece_cid.ToString(), agg.piece_cid);
  EXPECT_EQ(receipt->aggregate_padded_size, agg.padded_size);
  // Two deals, as recorded: accepted, no deal ID yet; the paying wallet as client.
  ASSERT_EQ(receipt->deals.size(), 2u);
  for (const auto& d : receipt->deals) {
    EXPECT_EQ(d.state, "accepted");
    EXPECT_FALSE(d.deal_id.has_value());
    EXPECT_EQ(d.client, client_.ToString());
  }
  // The JSON round-trips and the proof checks out offline.
  auto parsed = ParseReceipt(RenderReceipt(*receipt));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, *receipt);
  auto inclusion = VerifyReceiptInclusion(*parsed);
  ASSERT_TRUE(inclusion.has_value()) << inclusion.error().ToString();
  EXPECT_EQ(inclusion->segment_payload_size, store_->SegmentsOfPin(pin_id_)->at(0).car_size);
  // Tampering is caught and named.
  auto fails = [](Receipt r) {
    auto v = VerifyReceiptInclusion(r);
    return v ? std::string() : v.error().message();
  };
  Receipt moved = *receipt;
  moved.segment_offset += moved.segment_size;
  EXPECT_NE(fails(moved).find("segment.offset"), std::string::npos);
  Receipt flipped = *receipt;
  flipped.inclusion_proof.back() ^= 1;
  EXPECT_NE(fails(flipped).find("inclusionProof"), std::string::npos);
  Receipt other = *receipt;
  other.aggregate_piece_cid = piece::PieceCidV1(piece::Node{});
  EXPECT_NE(fails(other).find("aggregate.pieceCidV2"), std::string::npos);
  Receipt resized = *receipt;
  resized.segment_size *= 2;
  EXPECT_NE(fails(resized).find("segment.size"), std::string::npos);

  // A deal seen on chain (published, deal 7): compared field by field with the receipt.
  for (auto& [id, deals] : providers_.deals) {
    for (auto& [uuid, d] : deals) {
      d.status = "PublishConfirmed";
      d.chain_deal_id = id == 1000 ? 7 : 8;
      chain_.lotus.deals[d.chain_deal_id] =
          MarketDealJson(d.params.client_deal_proposal.proposal, -1);
    }
  }
  ASSERT_TRUE(engine->Tick().has_value());
  receipt = BuildReceipt(*store_, pin_id_);
  ASSERT_TRUE(receipt.has_value());
  const ReceiptDeal& deal = receipt->deals.at(0);
  EXPECT_EQ(deal.state, "published");
  ASSERT_TRUE(deal.deal_id.has_value());
  const auto& sent = providers_.deals[1000].begin()->second.params.client_deal_proposal.proposal;
  chain::MarketDeal onchain{sent, {}};
  EXPECT_TRUE(CheckDealOnChain(*receipt, deal, onchain).empty());
  ReceiptDeal claims_active = deal;
  claims_active.state = "active";
  auto diffs = CheckDealOnChain(*receipt, claims_active, onchain);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_NE(diffs[0].find("no sector start epoch"), std::string::npos);
  onchain.proposal.end_epoch += 1;
  onchain.proposal.provider = *Address::Id(1004);
  diffs = CheckDealOnChain(*receipt, deal, onchain);
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0], "provider: on chain f01004, receipt f01000");
  EXPECT_NE(diffs[1].find("end epoch: on chain"), std::string::npos);
}

TEST(Receipt, ParseNamesTheFieldThatIsWrong) {
  auto error = [](std::string_view text) {
    auto r = ParseReceipt(text);
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(error("{}"), "receipt: cid: missing or not a string");
  EXPECT_NE(error("[1]").find("receipt: json: not an object"), std::string::npos);
  EXPECT_NE(error("{").find("receipt: json:"), std::string::npos);
  EXPECT_EQ(error(R"({"cid":"bafkqaaa","segment":{"pieceCid":"nope"}})"),
            "receipt: segment.pieceCid: not a CID: " +
                multiformats::Cid::Parse("nope").error().message());
  EXPECT_NE(error(std::string(kMaxReceiptBytes + 1, ' ')).find("receipt: size:"),
            std::string::npos);
}

TEST_F(DealEngineTest, PinsWithAnotherPolicyGetTheirOwnAggregateProvidersAndDuration) {
  const std::string custom = AddPin('y', 7000,
                                    {{"filecoin.replicas", "1"},
                                     {"filecoin.providers", "f01004"},
                                     {"filecoin.duration_days", "200"}});
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto aggregates = store_->Aggregates();
  ASSERT_EQ(aggregates->size(), 2u);
  const auto custom_segments = store_->SegmentsOfPin(custom).value();
  const auto plain_segments = store_->SegmentsOfPin(pin_id_).value();
  const auto* custom_segment = &custom_segments.at(0);
  const auto* plain_segment = &plain_segments.at(0);
  ASSERT_TRUE(custom_segment->aggregate_id && plain_segment->aggregate_id);
  EXPECT_NE(*custom_segment->aggregate_id, *plain_segment->aggregate_id);
  auto custom_deals = store_->DealsOfAggregate(*custom_segment->aggregate_id);
  ASSERT_EQ(custom_deals->size(), 1u);
  EXPECT_EQ(custom_deals->at(0).provider, "f01004");
  EXPECT_EQ(custom_deals->at(0).end_epoch - custom_deals->at(0).start_epoch, 200 * kEpochsPerDay);
  auto plain_deals = store_->DealsOfAggregate(*plain_segment->aggregate_id);
  ASSERT_EQ(plain_deals->size(), 2u);
  // The plain pin waited longest: its group was packed and dealt first, with the service's
  // providers in their order (no scores yet).
  for (const auto& d : *plain_deals) {
    EXPECT_NE(d.provider, "f01004");  // f01000 and f01002
    EXPECT_EQ(d.end_epoch - d.start_epoch, 180 * kEpochsPerDay);
  }
  auto pin = pins_->Get(alice_, custom);
  EXPECT_EQ(pin->info.at("filecoin"), "dealing 0/1");
  EXPECT_EQ(Info("filecoin"), "dealing 0/2");
}

TEST_F(DealEngineTest, AccountPolicyAppliesToItsPinsAndItsChangesReachTheirAggregates) {
  ASSERT_TRUE(accounts_
                  ->SetPolicy("alice", {{"filecoin.deny", "f01000,f01001"},
                                        {"filecoin.duration_days", "300"}})
                  .has_value());
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  ASSERT_EQ(deals.size(), 2u);
  EXPECT_TRUE(deals.count("f01002") && deals.count("f01004"));
  for (const auto& [provider, d] : deals) {
    EXPECT_EQ(d.end_epoch - d.start_epoch, 300 * kEpochsPerDay) << provider;
  }
  EXPECT_EQ(Info("filecoin"), "dealing 0/2");

  // Three replicas, f01001 allowed again: the aggregate (already dealing) gets a third deal, and
  // never one with the provider still denied.
  ASSERT_TRUE(
      accounts_->SetPolicy("alice", {{"filecoin.deny", "f01000"}, {"filecoin.replicas", "3"}})
          .has_value());
  ASSERT_TRUE(engine->Tick().has_value());
  deals = Deals();
  ASSERT_EQ(deals.size(), 3u);
  EXPECT_TRUE(deals.count("f01001"));
  EXPECT_FALSE(deals.count("f01000"));
  EXPECT_EQ(deals.at("f01001").end_epoch - deals.at("f01001").start_epoch, 180 * kEpochsPerDay);
  EXPECT_EQ(Info("filecoin"), "dealing 0/3");
}

TEST_F(DealEngineTest, AnAccountsMaxPriceBelowTheAskKeepsItsPinsFromThatProvider) {
  // The fake providers publish no ask: the price is max_price itself, so a deal is proposed at
  // the account's max_price rather than the service's.
  ASSERT_TRUE(accounts_->SetPolicy("alice", {{"filecoin.max_price", "1000"}}).has_value());
  auto engine = Engine();
  ASSERT_TRUE(engine->Tick().has_value());
  auto deals = Deals();
  ASSERT_EQ(deals.size(), 2u);
  for (const auto& [provider, d] : deals) {
    auto proposal = ClientDealProposal::Decode(d.signed_proposal);
    ASSERT_TRUE(proposal.has_value());
    // 1000 attoFIL/GiB/epoch for a piece well under a GiB, rounded up.
    EXPECT_EQ(proposal->proposal.storage_price_per_epoch, BigInt::FromUint(1)) << provider;
  }
}

}  // namespace
}  // namespace cairn::filecoin::deals
