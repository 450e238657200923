#include "filecoin/chain/chain_client.hpp"

#include <algorithm>

namespace cairn::filecoin::chain {

namespace json = boost::json;

namespace {

constexpr std::string_view kV1Suffix = "/rpc/v1";

std::string V2Url(const std::string& v1) {
  if (v1.size() >= kV1Suffix.size() &&
      v1.compare(v1.size() - kV1Suffix.size(), kV1Suffix.size(), kV1Suffix) == 0) {
    return v1.substr(0, v1.size() - kV1Suffix.size()) + "/rpc/v2";
  }
  return "";
}

template <typename T, typename F>
Result<T> Decode(Result<json::value> value, const std::string& method, F decode) {
  if (!value) return Err(value.error());
  auto out = decode(*value);
  if (!out) return Err(out.error().WithContext("chain: " + method + ": "));
  return out;
}

}  // namespace

ChainClient::ChainClient(RpcTransport& transport, ChainClientOptions options, const Clock& clock)
    : transport_(transport), options_(std::move(options)), clock_(clock) {}

Result<std::vector<Result<json::value>>> ChainClient::Post(const std::string& url,
                                                           std::span<const RpcCall> calls) {
  std::vector<std::string> methods;
  for (const auto& c : calls) methods.push_back(c.method);
  const uint64_t first_id = next_id_.fetch_add(calls.size());
  const std::string name =
      calls.size() == 1 ? calls[0].method : "batch of " + std::to_string(calls.size()) + " calls";
  requests_.fetch_add(1);
  auto reply = transport_.Post(url, EncodeRpcRequest(calls, first_id), options_.token,
                               options_.timeout, options_.max_response_bytes);
  if (!reply) return Err(reply.error().WithContext("chain: " + name + " at " + url + ": "));
  if (reply->status == 401 || reply->status == 403) {
    return Err(reply->status == 401 ? ErrorCode::kUnauthenticated : ErrorCode::kPermissionDenied,
               "chain: " + name + ": HTTP " + std::to_string(reply->status) + " from " + url +
                   " (check filecoin.rpc_token)");
  }
  if (reply->status == 404) {
    return Err(ErrorCode::kNotFound, "chain: " + name + ": HTTP 404 from " + url +
                                         " (is it the node's JSON-RPC endpoint, …/rpc/v1?)");
  }
  if (reply->status != 200) {
    return Err(ErrorCode::kUnavailable,
               "chain: " + name + ": HTTP " + std::to_string(reply->status) + " from " + url);
  }
  return ParseRpcResponse(reply->body, methods, first_id);
}

Result<json::value> ChainClient::Call(const std::string& method, json::array params) {
  RpcCall call{method, std::move(params)};
  auto results = CAIRN_TRY(Post(options_.url, std::span<const RpcCall>(&call, 1)));
  return std::move(results[0]);
}

Result<std::vector<Result<json::value>>> ChainClient::CallBatch(std::span<const RpcCall> calls) {
  std::vector<Result<json::value>> out;
  out.reserve(calls.size());
  const size_t step = std::max<size_t>(1, options_.max_batch);
  for (size_t at = 0; at < calls.size(); at += step) {
    auto part = CAIRN_TRY(Post(options_.url, calls.subspan(at, std::min(step, calls.size() - at))));
    for (auto& r : part) out.push_back(std::move(r));
  }
  return out;
}

json::value ChainClient::Tsk(const std::optional<TipSet>& at) const {
  if (!at) return nullptr;
  return at->Key();
}

Result<TipSet> ChainClient::HeadLocked() {
  const int64_t now = clock_.MonotonicMicros();
  const int64_t ttl =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.head_ttl).count();
  if (head_ && now - head_at_us_ < ttl) return *head_;
  auto head = Decode<TipSet>(Call("Filecoin.ChainHead", {}), "Filecoin.ChainHead", TipSetFromJson);
  if (!head) return head;
  head_ = *head;
  head_at_us_ = now;
  return head;
}

Result<TipSet> ChainClient::Head() {
  std::lock_guard lock(head_mu_);
  return HeadLocked();
}

Result<TipSet> ChainClient::Finalized() {
  std::lock_guard lock(head_mu_);
  const int64_t now = clock_.MonotonicMicros();
  const int64_t ttl =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.head_ttl).count();
  if (finalized_ && now - finalized_at_us_ < ttl) return *finalized_;
  std::optional<TipSet> found;
  const std::string v2 = V2Url(options_.url);
  if (!v2.empty() && !v2_missing_) {
    RpcCall call{"Filecoin.ChainGetTipSet", json::array{json::object{{"tag", "finalized"}}}};
    auto answer = Post(v2, std::span<const RpcCall>(&call, 1));
    if (answer && (*answer)[0]) {
      found = CAIRN_TRY(Decode<TipSet>(std::move((*answer)[0]), call.method, TipSetFromJson));
    } else if (!answer && answer.error().code() != ErrorCode::kNotFound) {
      return Err(answer.error());  // unreachable, timeouts, bad tokens: not a missing API
    } else {
      v2_missing_ = true;  // no /rpc/v2 (HTTP 404) or no finalized tag: use the EC bound
    }
  }
  if (!found) {
    TipSet head = CAIRN_TRY(HeadLocked());
    const int64_t height = std::max<int64_t>(0, head.height - options_.finality_epochs);
    found = CAIRN_TRY(
        Decode<TipSet>(Call("Filecoin.ChainGetTipSetByHeight", json::array{height, head.Key()}),
                       "Filecoin.ChainGetTipSetByHeight", TipSetFromJson));
  }
  finalized_ = found;
  finalized_at_us_ = now;
  return *found;
}

Result<MinerInfo> ChainClient::StateMinerInfo(const Address& miner) {
  return Decode<MinerInfo>(Call("Filecoin.StateMinerInfo", json::array{Addr(miner), nullptr}),
                           "Filecoin.StateMinerInfo", MinerInfoFromJson);
}

Result<MarketBalance> ChainClient::StateMarketBalance(const Address& address) {
  return Decode<MarketBalance>(
      Call("Filecoin.StateMarketBalance", json::array{Addr(address), nullptr}),
      "Filecoin.StateMarketBalance", MarketBalanceFromJson);
}

Result<MarketDeal> ChainClient::StateMarketStorageDeal(uint64_t deal_id,
                                                       const std::optional<TipSet>& at) {
  return Decode<MarketDeal>(Call("Filecoin.StateMarketStorageDeal", json::array{deal_id, Tsk(at)}),
                            "Filecoin.StateMarketStorageDeal", MarketDealFromJson);
}

Result<std::vector<Result<MarketDeal>>> ChainClient::MarketDeals(std::span<const uint64_t> deal_ids,
                                                                 const std::optional<TipSet>& at) {
  std::vector<RpcCall> calls;
  calls.reserve(deal_ids.size());
  const json::value tsk = Tsk(at);
  for (uint64_t id : deal_ids) {
    calls.push_back({"Filecoin.StateMarketStorageDeal", json::array{id, tsk}});
  }
  auto results = CAIRN_TRY(CallBatch(calls));
  std::vector<Result<MarketDeal>> out;
  out.reserve(results.size());
  for (auto& r : results) {
    out.push_back(
        Decode<MarketDeal>(std::move(r), "Filecoin.StateMarketStorageDeal", MarketDealFromJson));
  }
  return out;
}

Result<std::optional<MessageLookup>> ChainClient::StateSearchMsg(const Cid& message) {
  // Current Lotus order: [tipset key, message, lookback limit (-1: none), allowReplaced].
  return Decode<std::optional<MessageLookup>>(
      Call("Filecoin.StateSearchMsg", json::array{json::array{}, CidToJson(message), -1, true}),
      "Filecoin.StateSearchMsg", MessageLookupFromJson);
}

Result<uint64_t> ChainClient::MpoolGetNonce(const Address& address) {
  return Decode<uint64_t>(Call("Filecoin.MpoolGetNonce", json::array{Addr(address)}),
                          "Filecoin.MpoolGetNonce", [](const json::value& v) -> Result<uint64_t> {
                            if (v.is_uint64()) return v.get_uint64();
                            if (v.is_int64() && v.get_int64() >= 0)
                              return static_cast<uint64_t>(v.get_int64());
                            return Err(ErrorCode::kInvalidArgument, "expected a nonce");
                          });
}

Result<Message> ChainClient::GasEstimateMessageGas(const Message& message) {
  auto estimated = CAIRN_TRY(Decode<Message>(
      Call("Filecoin.GasEstimateMessageGas", json::array{MessageToJson(message, options_.network),
                                                         json::object{{"MaxFee", "0"}}, nullptr}),
      "Filecoin.GasEstimateMessageGas",
      [](const json::value& v) { return MessageFromJson(v, "Message"); }));
  Message out = message;
  out.gas_limit = estimated.gas_limit;
  out.gas_fee_cap = estimated.gas_fee_cap;
  out.gas_premium = estimated.gas_premium;
  if (out.gas_limit <= 0) {
    return Err(ErrorCode::kInvalidArgument, "chain: Filecoin.GasEstimateMessageGas: GasLimit " +
                                                std::to_string(out.gas_limit) + " is not positive");
  }
  return out;
}

Result<Cid> ChainClient::MpoolPush(const SignedMessage& message) {
  return Decode<Cid>(
      Call("Filecoin.MpoolPush", json::array{SignedMessageToJson(message, options_.network)}),
      "Filecoin.MpoolPush", [](const json::value& v) { return CidFromJson(v, "result"); });
}

Result<BigInt> ChainClient::WalletBalance(const Address& address) {
  return Decode<BigInt>(Call("Filecoin.WalletBalance", json::array{Addr(address)}),
                        "Filecoin.WalletBalance",
                        [](const json::value& v) { return BigIntFromJson(v, "result"); });
}

namespace {
Result<std::optional<BigInt>> DataCapFromJson(const json::value& v) {
  if (v.is_null()) return std::optional<BigInt>();
  return std::optional<BigInt>(CAIRN_TRY(BigIntFromJson(v, "result")));
}
}  // namespace

Result<std::optional<BigInt>> ChainClient::StateVerifiedClientStatus(const Address& address) {
  return Decode<std::optional<BigInt>>(
      Call("Filecoin.StateVerifiedClientStatus", json::array{Addr(address), nullptr}),
      "Filecoin.StateVerifiedClientStatus", DataCapFromJson);
}

Result<Address> ChainClient::StateLookupID(const Address& address) {
  return Decode<Address>(Call("Filecoin.StateLookupID", json::array{Addr(address), nullptr}),
                         "Filecoin.StateLookupID",
                         [](const json::value& v) { return AddressFromJson(v, "result"); });
}

Result<std::string> ChainClient::StateNetworkName() {
  return Decode<std::string>(Call("Filecoin.StateNetworkName", {}), "Filecoin.StateNetworkName",
                             [](const json::value& v) -> Result<std::string> {
                               if (!v.is_string()) {
                                 return Err(ErrorCode::kInvalidArgument, "expected a string");
                               }
                               return std::string(v.get_string());
                             });
}

Result<WalletFunds> ChainClient::Funds(const Address& address) {
  const std::string a = Addr(address);
  const std::vector<RpcCall> calls = {
      {"Filecoin.WalletBalance", json::array{a}},
      {"Filecoin.StateMarketBalance", json::array{a, nullptr}},
      {"Filecoin.StateVerifiedClientStatus", json::array{a, nullptr}},
  };
  auto results = CAIRN_TRY(CallBatch(calls));
  WalletFunds funds;
  funds.balance =
      CAIRN_TRY(Decode<BigInt>(std::move(results[0]), calls[0].method,
                               [](const json::value& v) { return BigIntFromJson(v, "result"); }));
  // An address the market has never seen (no actor yet, or no escrow entry) holds no escrow.
  auto market =
      Decode<MarketBalance>(std::move(results[1]), calls[1].method, MarketBalanceFromJson);
  if (market) {
    funds.market = *market;
  } else if (market.error().code() != ErrorCode::kNotFound) {
    return Err(market.error());
  }
  auto datacap =
      Decode<std::optional<BigInt>>(std::move(results[2]), calls[2].method, DataCapFromJson);
  if (datacap) {
    funds.datacap = *datacap;
  } else if (datacap.error().code() != ErrorCode::kNotFound) {
    return Err(datacap.error());
  }
  return funds;
}

}  // namespace cairn::filecoin::chain
