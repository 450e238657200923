#include "filecoin/chain/chain_client.hpp"

#include <gtest/gtest.h>

#include "filecoin/chain/test_fake_lotus.hpp"

namespace cairn::filecoin::chain {
namespace {

using testing::FakeLotus;

class ChainClientTest : public ::testing::Test {
 protected:
  ChainClient Client(ChainClientOptions o = {}) {
    o.url = FakeLotus::kUrl;
    return ChainClient(lotus_, std::move(o), clock_);
  }
  FakeLotus lotus_;
  FakeClock clock_;
};

TEST_F(ChainClientTest, OneChainHeadPerTtlIsSharedByEveryCaller) {
  auto client = Client({.head_ttl = std::chrono::seconds(10)});
  for (int i = 0; i < 50; ++i) {
    auto head = client.Head();
    ASSERT_TRUE(head) << head.error().ToString();
    EXPECT_EQ(head->height, 1000);
  }
  EXPECT_EQ(lotus_.calls("Filecoin.ChainHead"), 1);
  lotus_.Advance(3);
  clock_.Advance(9'000'000);
  EXPECT_EQ(client.Head()->height, 1000) << "within the TTL the cached head answers";
  clock_.Advance(1'000'000);
  EXPECT_EQ(client.Head()->height, 1003);
  EXPECT_EQ(lotus_.calls("Filecoin.ChainHead"), 2);
}

TEST_F(ChainClientTest, FinalizedComesFromTheV2TagOrHeadMinusNineHundred) {
  lotus_.finality_lag = 10;  // what the node says through /rpc/v2
  auto client = Client();
  auto f = client.Finalized();
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->height, 990);
  EXPECT_EQ(lotus_.calls("Filecoin.ChainGetTipSet"), 1);

  FakeLotus old_node;
  old_node.has_v2 = false;
  ChainClient old_client(old_node, {.url = FakeLotus::kUrl}, clock_);
  auto g = old_client.Finalized();
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->height, 1000 - kEcFinalityEpochs);
  EXPECT_EQ(old_node.calls("Filecoin.ChainGetTipSetByHeight"), 1);
  clock_.Advance(60'000'000);
  ASSERT_TRUE(old_client.Finalized());
  EXPECT_EQ(old_node.posts, 5) << "the missing v2 API is asked once, not every time";
}

TEST_F(ChainClientTest, DealsAreFetchedInBatches) {
  auto deal = boost::json::parse(R"({
    "Proposal": {"PieceCID": {"/": "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"},
                 "PieceSize": 2048, "VerifiedDeal": true, "Client": "f01002", "Provider": "f01000",
                 "Label": "", "StartEpoch": 1, "EndEpoch": 2, "StoragePricePerEpoch": "0",
                 "ProviderCollateral": "0", "ClientCollateral": "0"},
    "State": {"SectorNumber": 9, "SectorStartEpoch": 5, "LastUpdatedEpoch": 6, "SlashEpoch": -1}})");
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 450; ++i) {
    ids.push_back(i);
    if (i % 3 != 0) lotus_.deals[i] = deal;
  }
  auto client = Client({.max_batch = 200});
  auto head = client.Head();
  ASSERT_TRUE(head);
  auto deals = client.MarketDeals(ids, *head);
  ASSERT_TRUE(deals) << deals.error().ToString();
  ASSERT_EQ(deals->size(), 450u);
  EXPECT_EQ(lotus_.posts, 1 + 3) << "450 deals in 3 POSTs";
  EXPECT_EQ(lotus_.batches, 3);
  EXPECT_FALSE((*deals)[0]);
  EXPECT_EQ((*deals)[0].error().code(), ErrorCode::kNotFound);
  EXPECT_NE((*deals)[0].error().message().find("deal 0 not found"), std::string::npos);
  ASSERT_TRUE((*deals)[1]);
  EXPECT_EQ((*deals)[1]->state.sector_number, 9u);
}

TEST_F(ChainClientTest, FundsOfANewAddressAreOneBatchedRequest) {
  auto a = *Address::Parse("f1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny");
  auto client = Client();
  auto funds = client.Funds(a);
  ASSERT_TRUE(funds) << funds.error().ToString();
  EXPECT_TRUE(funds->balance.is_zero());
  EXPECT_TRUE(funds->market.escrow.is_zero());
  EXPECT_FALSE(funds->datacap);
  EXPECT_EQ(lotus_.posts, 1);
  lotus_.balance[a] = BigInt::FromUint(5);
  lotus_.escrow[a] = {BigInt::FromUint(7), BigInt::FromUint(2)};
  lotus_.datacap[a] = BigInt::FromUint(1 << 20);
  funds = client.Funds(a);
  ASSERT_TRUE(funds);
  EXPECT_EQ(funds->balance, BigInt::FromUint(5));
  EXPECT_EQ(funds->market.available(), BigInt::FromUint(5));
  EXPECT_EQ(funds->datacap, BigInt::FromUint(1 << 20));
}

TEST_F(ChainClientTest, ErrorsNameTheMethodAndTheEndpointsMessage) {
  auto client = Client({.token = "secret-jwt"});
  auto r = client.StateMarketStorageDeal(7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(),
            "chain: Filecoin.StateMarketStorageDeal: deal 7 not found (RPC error 1)");
  EXPECT_EQ(lotus_.last_token, "secret-jwt");

  lotus_.http_status = 401;
  auto u = client.MpoolGetNonce(*Address::Id(1));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(u.error().message().find("filecoin.rpc_token"), std::string::npos);
  EXPECT_EQ(u.error().message().find("secret-jwt"), std::string::npos);
  lotus_.http_status = 200;

  lotus_.unreachable = true;
  auto down = client.WalletBalance(*Address::Id(1));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(down.error().message().find("Filecoin.WalletBalance"), std::string::npos);
}

TEST_F(ChainClientTest, AnswersAreBounded) {
  for (uint64_t i = 0; i < 100; ++i) {
    lotus_.deals[i] = boost::json::parse(R"({"Proposal":{},"State":{}})");
  }
  std::vector<uint64_t> ids(100);
  for (uint64_t i = 0; i < 100; ++i) ids[i] = i;
  auto client = Client({.max_response_bytes = 1000});
  auto r = client.MarketDeals(ids);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
}

TEST_F(ChainClientTest, MalformedResultsAreErrorsNamingTheMethodAndField) {
  lotus_.deals[3] = boost::json::parse(R"({"Proposal":{"PieceCID":{"/":"bad"}},"State":{}})");
  auto client = Client();
  auto r = client.StateMarketStorageDeal(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("Filecoin.StateMarketStorageDeal"), std::string::npos);
  EXPECT_NE(r.error().message().find("MarketDeal.Proposal.PieceCID"), std::string::npos);
}

}  // namespace
}  // namespace cairn::filecoin::chain
