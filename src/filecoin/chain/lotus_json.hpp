// The Lotus JSON shapes the chain client sends and reads (../shared/FILECOIN.md §3.6; lotus
// chain/types and api/api_full.go): big integers are decimal strings, bytes standard base64, CIDs
// {"/": "…"}, addresses strings in either network's spelling. Readers are strict about what they
// use (a missing or mistyped field is InvalidArgument naming it, "MarketDeal.State.SlashEpoch:
// expected an integer") and ignore members they do not use, as Lotus adds fields over time.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "filecoin/types/market.hpp"
#include "filecoin/types/message.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin::chain {

using multiformats::Cid;

struct TipSet {
  int64_t height = 0;
  std::vector<Cid> cids;  // the tipset key
  // The key as Lotus takes it in parameters: [{"/": cid}, …].
  boost::json::array Key() const;
};

struct MinerInfo {
  Address owner;
  Address worker;
  std::string peer_id;            // empty when the miner has none
  std::vector<Bytes> multiaddrs;  // binary multiaddrs (none when null)
  uint64_t sector_size = 0;
};

struct MarketBalance {
  BigInt escrow;
  BigInt locked;
  BigInt available() const { return escrow - locked; }
};

// StateMarketStorageDeal's State: -1 means "not yet" for the epochs.
struct MarketDealState {
  uint64_t sector_number = 0;
  int64_t sector_start_epoch = -1;
  int64_t last_updated_epoch = -1;
  int64_t slash_epoch = -1;
};

struct MarketDeal {
  // Label holds the JSON string as given: the text of a text label (a bytes label arrives as
  // base64 text, which JSON cannot tell apart; compare through the signed proposal's form).
  DealProposal proposal;
  MarketDealState state;
};

// StateSearchMsg / StateWaitMsg: where a message landed and its receipt.
struct MessageLookup {
  Cid message;  // the CID found (a replacement's when the original was replaced by fee)
  int64_t exit_code = 0;
  Bytes return_value;
  int64_t gas_used = 0;
  std::vector<Cid> tipset;  // the key of the tipset whose execution holds the receipt
  int64_t height = 0;
};

boost::json::value CidToJson(const Cid& cid);
Result<Cid> CidFromJson(const boost::json::value& v, const std::string& field);

// {"Version","To","From","Nonce","Value","GasLimit","GasFeeCap","GasPremium","Method","Params"}.
boost::json::object MessageToJson(const Message& m, Network network);
Result<Message> MessageFromJson(const boost::json::value& v, const std::string& field = "Message");
// {"Message": …, "Signature": {"Type": 1, "Data": base64}}.
boost::json::object SignedMessageToJson(const SignedMessage& m, Network network);

Result<TipSet> TipSetFromJson(const boost::json::value& v);
Result<MinerInfo> MinerInfoFromJson(const boost::json::value& v);
Result<MarketBalance> MarketBalanceFromJson(const boost::json::value& v);
Result<MarketDeal> MarketDealFromJson(const boost::json::value& v);
// null → nullopt (not found yet).
Result<std::optional<MessageLookup>> MessageLookupFromJson(const boost::json::value& v);
// A decimal string (or a JSON integer, which some nodes send for small values).
Result<BigInt> BigIntFromJson(const boost::json::value& v, const std::string& field);
Result<Address> AddressFromJson(const boost::json::value& v, const std::string& field);
Result<int64_t> IntFromJson(const boost::json::value& v, const std::string& field);

}  // namespace cairn::filecoin::chain
