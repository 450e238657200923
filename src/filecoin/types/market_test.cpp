#include "filecoin/types/market.hpp"

#include <gtest/gtest.h>

#include "filecoin/types/internal/test_vectors.hpp"
#include "filecoin/types/message.hpp"

namespace cairn::filecoin {
namespace {

using multiformats::Cid;
using testing::V;
using testing::VHex;

PrivateKey TestKey() { return *PrivateKeyFromBytes(VHex("key/privHex")); }

// The proposal of deal_vectors.json, from the fields listed in ../shared/FILECOIN.md §3.1.
DealProposal VectorProposal() {
  DealProposal p;
  p.piece_cid = *Cid::Parse("baga6ea4seaqnqkeoqevjjjfe46wo2lpfclcbmkyms4wkz5srou3vzmr3w3c72bq");
  p.piece_size = 1048576;
  p.verified_deal = false;
  p.client = *Address::Parse(V("key/t1"));
  p.provider = *Address::Parse("t01000");
  p.label = std::string("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
  p.start_epoch = 100000;
  p.end_epoch = 618400;
  p.storage_price_per_epoch = BigInt::FromUint(976562);
  return p;
}

TEST(DealProposal, ReproducesVectorBytesCidAndSignature) {
  DealProposal p = VectorProposal();
  EXPECT_EQ(HexEncode(p.Encode()), V("dealProposal/cborHex"));
  EXPECT_EQ(p.GetCid().ToString(), V("dealProposal/proposalCid_blake2b"));
  ClientDealProposal cp = SignDealProposal(p, TestKey());
  EXPECT_EQ(HexEncode(cp.client_signature.data), V("dealProposal/sig65Hex_r_s_v"));
  EXPECT_EQ(HexEncode(cp.Encode()), V("dealProposal/clientDealProposalCborHex"));
  EXPECT_EQ(cp.SignedProposalCid().ToString(), V("dealProposal/signedProposalCid_sha256"));
  EXPECT_TRUE(VerifyDealProposal(cp, p.client));
}

TEST(DealProposal, DecodesVectors) {
  auto p = DealProposal::Decode(VHex("dealProposal/cborHex"));
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(*p, VectorProposal());
  auto cp = ClientDealProposal::Decode(VHex("dealProposal/clientDealProposalCborHex"));
  ASSERT_TRUE(cp) << cp.error().ToString();
  EXPECT_EQ(cp->proposal, VectorProposal());
  EXPECT_TRUE(VerifyDealProposal(*cp, VectorProposal().client));
}

TEST(DealProposal, LabelKindsAndLimits) {
  DealProposal p = VectorProposal();
  p.label = Bytes{0xca, 0xfe, 0xb0, 0x0a};
  auto back = DealProposal::Decode(p.Encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<Bytes>(back->label), (Bytes{0xca, 0xfe, 0xb0, 0x0a}));
  p.label = std::string();
  EXPECT_NE(HexEncode(p.Encode()).find("1a000186a0"), std::string::npos);
  p.label = std::string(257, 'a');
  auto too_long = DealProposal::Decode(p.Encode());
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message().find("DealProposal.Label"), std::string::npos);
}

TEST(DealProposal, StrictDecodeNamesTheField) {
  Bytes bytes = VHex("dealProposal/cborHex");
  // VerifiedDeal false (0xf4, right after PieceSize 1a00100000) becomes the integer 0.
  std::string hex = HexEncode(bytes);
  size_t at = hex.find("1a00100000f4");
  ASSERT_NE(at, std::string::npos);
  bytes[at / 2 + 5] = 0x00;
  auto p = DealProposal::Decode(bytes);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(p.error().message().find("DealProposal.VerifiedDeal: expected a bool"),
            std::string::npos)
      << p.error().message();
  Bytes extra = VHex("dealProposal/cborHex");
  extra[0] = 0x8c;
  extra.push_back(0x40);
  EXPECT_FALSE(DealProposal::Decode(extra));
}

TEST(DealParams, ReproducesVectorV121) {
  Bytes bytes = VHex("dealParams/cborHex");
  auto params = DealParams::Decode(bytes);
  ASSERT_TRUE(params) << params.error().ToString();
  EXPECT_EQ(HexEncode(params->deal_uuid), "6f1b2c3d4e5f40718293a4b5c6d7e8f9");
  EXPECT_EQ(params->transfer.type, "http");
  EXPECT_EQ(params->transfer.size, 1040000u);
  EXPECT_EQ(params->transfer.client_id, "");
  EXPECT_EQ(AsString(params->transfer.params),
            R"({"URL":"https://fps.example/car/abc.car","Headers":{"Authorization":"Bearer x"}})");
  EXPECT_FALSE(params->is_offline);
  EXPECT_FALSE(params->skip_ipni_announce);
  EXPECT_FALSE(params->remove_unsealed_copy);
  EXPECT_EQ(params->client_deal_proposal.proposal, VectorProposal());
  EXPECT_EQ(HexEncode(params->client_deal_proposal.Encode()),
            V("dealProposal/clientDealProposalCborHex"));

  // Built from scratch, it encodes to the vector byte for byte.
  DealParams built;
  built.deal_uuid = params->deal_uuid;
  built.transfer = Transfer{"http", "", params->transfer.params, 1040000};
  built.deal_data_root = params->deal_data_root;
  built.client_deal_proposal = SignDealProposal(VectorProposal(), TestKey());
  EXPECT_EQ(HexEncode(built.Encode()), V("dealParams/cborHex"));
}

TEST(DealParams, V120HasFiveKeysAndVersionsDoNotMix) {
  auto params = *DealParams::Decode(VHex("dealParams/cborHex"));
  Bytes v120 = params.Encode(DealProtocolVersion::kV120);
  EXPECT_EQ(v120[0], 0xa5);
  auto back = DealParams::Decode(v120, DealProtocolVersion::kV120);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, params);
  auto as121 = DealParams::Decode(v120, DealProtocolVersion::kV121);
  ASSERT_FALSE(as121);
  EXPECT_NE(as121.error().message().find("DealParams.SkipIPNIAnnounce: missing"), std::string::npos)
      << as121.error().message();
  auto as120 = DealParams::Decode(VHex("dealParams/cborHex"), DealProtocolVersion::kV120);
  ASSERT_FALSE(as120);
  EXPECT_NE(as120.error().message().find("unknown field"), std::string::npos);
}

TEST(DealResponse, ReproducesAcceptedVector) {
  DealResponse r{true, ""};
  EXPECT_EQ(HexEncode(r.Encode()), V("dealResponseAccepted/cborHex"));
  auto back = DealResponse::Decode(VHex("dealResponseAccepted/cborHex"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  auto bad = DealResponse::Decode(*HexDecode("a2674d65737361676560684163636570746564f6"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("DealResponse.Accepted"), std::string::npos);
}

TEST(DealStatusRequest, ReproducesVector) {
  DealUuid uuid;
  auto uuid_bytes = *HexDecode("6f1b2c3d4e5f40718293a4b5c6d7e8f9");
  std::copy(uuid_bytes.begin(), uuid_bytes.end(), uuid.begin());
  auto req = DealStatusRequest::Sign(uuid, TestKey());
  EXPECT_EQ(HexEncode(req.Encode()), V("dealStatusRequest/cborHex"));
  auto back = DealStatusRequest::Decode(VHex("dealStatusRequest/cborHex"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, req);
  EXPECT_TRUE(VerifyBytes(back->signature.data, uuid, *Address::Parse(V("key/f1"))));
}

TEST(DealStatusResponse, RoundTripsWithAndWithoutStatus) {
  DealStatusResponse r;
  r.deal_uuid[0] = 1;
  r.error = "deal not found";
  auto none = DealStatusResponse::Decode(r.Encode());
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(*none, r);

  DealStatus s;
  s.status = "PublishConfirmed";
  s.proposal = VectorProposal();
  s.publish_cid = *Cid::Parse("bafy2bzacebrp52nqcalxv4lqi6kli5u5g32flezui65jykhnp4f54jjmzthsu");
  s.chain_deal_id = 42;
  s.sealing_status = "Proving";
  s.signed_proposal_cid = *Cid::Parse(V("dealProposal/signedProposalCid_sha256"));
  r.error = "";
  r.deal_status = s;
  r.transfer_size = 1040000;
  r.n_bytes_received = 1040000;
  auto full = DealStatusResponse::Decode(r.Encode());
  ASSERT_TRUE(full) << full.error().ToString();
  EXPECT_EQ(*full, r);
  // Keys in canonical order: Error, DealUUID, IsOffline, DealStatus, TransferSize, NBytesReceived.
  std::string hex = HexEncode(r.Encode());
  EXPECT_EQ(hex.substr(0, 14), "a6654572726f72");
  s.publish_cid.reset();
  r.deal_status = s;
  auto unpublished = DealStatusResponse::Decode(r.Encode());
  ASSERT_TRUE(unpublished);
  EXPECT_FALSE(unpublished->deal_status->publish_cid.has_value());
}

TEST(StorageAsk, RoundTripsAndRejectsMissingFields) {
  StorageAsk a;
  a.price = BigInt::FromUint(1);
  a.min_piece_size = 256;
  a.max_piece_size = 1 << 30;
  a.miner = *Address::Parse("t01000");
  a.expiry = 1000000;
  AskResponse resp{a, Signature::Secp256k1(SignBytes(TestKey(), a.Encode()))};
  auto back = AskResponse::Decode(resp.Encode());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, resp);
  auto empty = AskResponse::Decode(AskResponse{}.Encode());
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->ask.has_value());
  EXPECT_EQ(*DecodeAskRequest(EncodeAskRequest(a.miner)), a.miner);
  auto missing = StorageAsk::Decode(*HexDecode("a0"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("StorageAsk.Price: missing"), std::string::npos)
      << missing.error().message();
}

TEST(TransportsResponse, MatchesBoostsMapEncodingAndAcceptsNilSlices) {
  // {"Protocols": [{"Name": "http", "Addresses": [/ip4/127.0.0.1/tcp/80/http]}]}, canonical keys.
  TransportsResponse r{{{"http", {*HexDecode("047f000001060050e003")}}}};
  EXPECT_EQ(HexEncode(r.Encode()),
            "a1"
            "69"
            "50726f746f636f6c73"
            "81"
            "a2"
            "64"
            "4e616d65"
            "64"
            "68747470"
            "69"
            "416464726573736573"
            "81"
            "4a"
            "047f000001060050e003");
  EXPECT_EQ(*TransportsResponse::Decode(r.Encode()), r);
  // cbor-gen writes nil slices as null: {"Protocols": null} and "Addresses": null.
  EXPECT_TRUE(
      TransportsResponse::Decode(*HexDecode("a16950726f746f636f6c73f6"))->protocols.empty());
  auto nil_addresses = TransportsResponse::Decode(
      *HexDecode("a16950726f746f636f6c7381a2644e616d65676269747377617069416464726573736573"
                 "f6"));
  ASSERT_TRUE(nil_addresses) << nil_addresses.error().ToString();
  EXPECT_EQ(nil_addresses->protocols[0].name, "bitswap");
  EXPECT_TRUE(nil_addresses->protocols[0].addresses.empty());
  auto not_bytes = TransportsResponse::Decode(
      *HexDecode("a16950726f746f636f6c7381a2644e616d6564687474706941646472657373657381"
                 "01"));
  ASSERT_FALSE(not_bytes);
  EXPECT_NE(not_bytes.error().message().find("Protocols[0].Addresses[0]"), std::string::npos)
      << not_bytes.error().message();
}

}  // namespace
}  // namespace cairn::filecoin
