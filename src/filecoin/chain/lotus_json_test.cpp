#include "filecoin/chain/lotus_json.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin::chain {
namespace {

namespace json = boost::json;

// deal_vectors.json "addBalanceMessage" and its Lotus JSON form "glifLotusType"
// (../shared/vectors/filecoin, produced with @glif/filecoin-message).
constexpr const char* kAddBalanceCbor =
    "8a004200055501a2b66699f86e13a33a15b997503e51fe04c1b5c6074900016345785d8a00001a004c4b40440003"
    "0d4044000186a002565501a2b66699f86e13a33a15b997503e51fe04c1b5c6";
constexpr const char* kGlifLotus =
    R"({"To":"t05","From":"t1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny","Nonce":7,
        "Value":"100000000000000000","GasPremium":"100000","GasFeeCap":"200000",
        "GasLimit":5000000,"Method":2,"Params":"VQGitmaZ+G4TozoVuZdQPlH+BMG1xg=="})";

TEST(LotusJson, MessageMatchesTheGlifVector) {
  auto m = Message::Decode(*HexDecode(kAddBalanceCbor));
  ASSERT_TRUE(m) << m.error().ToString();
  json::object ours = MessageToJson(*m, Network::kTestnet);
  json::object want = json::parse(kGlifLotus).as_object();
  want["Version"] = 0;
  EXPECT_EQ(json::value(ours), json::value(want));
  auto back = MessageFromJson(want);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, *m);
}

TEST(LotusJson, MessageFieldErrorsNameTheField) {
  json::object o = json::parse(kGlifLotus).as_object();
  o["Version"] = 0;
  o["Value"] = 1.5;
  auto r = MessageFromJson(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("Message.Value"), std::string::npos) << r.error().message();
  o["Value"] = "1";
  o.erase("GasLimit");
  r = MessageFromJson(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("Message.GasLimit: missing"), std::string::npos);
  o["GasLimit"] = 1;
  o["Params"] = "VQ";
  EXPECT_FALSE(MessageFromJson(o));
}

// The devnet's StateMarketStorageDeal answer for a published, not yet active deal.
constexpr const char* kDeal = R"({
  "Proposal": {"PieceCID": {"/": "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"},
               "PieceSize": 2048, "VerifiedDeal": false, "Client": "f01002", "Provider": "f01000",
               "Label": "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
               "StartEpoch": 100000, "EndEpoch": 620000, "StoragePricePerEpoch": "0",
               "ProviderCollateral": "970000000", "ClientCollateral": "0"},
  "State": {"SectorNumber": 0, "SectorStartEpoch": -1, "LastUpdatedEpoch": -1, "SlashEpoch": -1}
})";

TEST(LotusJson, ReadsAMarketDealWithItsSentinels) {
  auto d = MarketDealFromJson(json::parse(kDeal));
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->proposal.piece_size, 2048u);
  EXPECT_EQ(d->proposal.client, *Address::Id(1002));
  EXPECT_EQ(d->proposal.provider, *Address::Id(1000));
  EXPECT_EQ(d->proposal.end_epoch, 620000);
  EXPECT_EQ(d->proposal.provider_collateral, BigInt::FromUint(970000000));
  EXPECT_EQ(std::get<std::string>(d->proposal.label),
            "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
  EXPECT_EQ(d->state.sector_start_epoch, -1);
  EXPECT_EQ(d->state.slash_epoch, -1);

  json::value bad = json::parse(kDeal);
  bad.at("State").as_object()["SlashEpoch"] = "-1";
  auto r = MarketDealFromJson(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("MarketDeal.State.SlashEpoch"), std::string::npos);
}

TEST(LotusJson, ReadsTipSetsMinerInfoBalancesAndLookups) {
  auto ts = TipSetFromJson(json::parse(
      R"({"Cids":[{"/":"bafy2bzacebrp52nqcalxv4lqi6kli5u5g32flezui65jykhnp4f54jjmzthsu"}],
          "Blocks":[],"Height":42})"));
  ASSERT_TRUE(ts) << ts.error().ToString();
  EXPECT_EQ(ts->height, 42);
  EXPECT_EQ(ts->Key().size(), 1u);
  EXPECT_FALSE(TipSetFromJson(json::parse(R"({"Cids":[],"Height":1})")));

  auto mi = MinerInfoFromJson(json::parse(
      R"({"Owner":"f0100","Worker":"f0101","PeerId":"12D3KooWxyz","Multiaddrs":null,
          "SectorSize":34359738368,"NewWorker":"<empty>"})"));
  ASSERT_TRUE(mi) << mi.error().ToString();
  EXPECT_TRUE(mi->multiaddrs.empty());
  EXPECT_EQ(mi->sector_size, 34359738368u);
  auto mi2 = MinerInfoFromJson(json::parse(
      R"({"Owner":"f0100","Worker":"f0101","PeerId":null,"Multiaddrs":["BH8AAAEGBNI="],
          "SectorSize":2048})"));
  ASSERT_TRUE(mi2) << mi2.error().ToString();
  ASSERT_EQ(mi2->multiaddrs.size(), 1u);
  EXPECT_EQ(HexEncode(mi2->multiaddrs[0]), "047f0000010604d2");

  auto b = MarketBalanceFromJson(json::parse(R"({"Escrow":"100","Locked":"40"})"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->available(), BigInt::FromUint(60));
  EXPECT_FALSE(MarketBalanceFromJson(json::parse(R"({"Escrow":"1e3","Locked":"0"})")));

  auto none = MessageLookupFromJson(nullptr);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto found = MessageLookupFromJson(json::parse(
      R"({"Message":{"/":"bafy2bzacebrp52nqcalxv4lqi6kli5u5g32flezui65jykhnp4f54jjmzthsu"},
          "Receipt":{"ExitCode":0,"Return":"gUA=","GasUsed":123,"EventsRoot":null},
          "ReturnDec":null,"TipSet":[{"/":"bafy2bzacebrp52nqcalxv4lqi6kli5u5g32flezui65jykhnp4f54jjmzthsu"}],
          "Height":77})"));
  ASSERT_TRUE(found) << found.error().ToString();
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->height, 77);
  EXPECT_EQ(HexEncode((*found)->return_value), "8140");
}

}  // namespace
}  // namespace cairn::filecoin::chain
