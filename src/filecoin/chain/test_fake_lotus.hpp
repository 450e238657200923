// A Lotus stand-in for the chain client's unit tests: an RpcTransport that answers the JSON-RPC
// methods the client uses from a small in-memory chain (balances, escrow, DataCap, nonces, an
// mpool that checks signatures and nonces as Lotus' does, messages executed by Advance), and
// counts every POST. Tests script failures: a lost push, a forgotten mpool, HTTP statuses.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "filecoin/chain/lotus_json.hpp"
#include "filecoin/chain/message_sender.hpp"
#include "filecoin/chain/rpc.hpp"
#include "filecoin/types/base64.hpp"
#include "filecoin/types/message.hpp"
#include "ipld/dag_cbor.hpp"

namespace cairn::filecoin::chain::testing {

namespace json = boost::json;

// The StateMarketStorageDeal answer for a deal of proposal `p`: in a sector since `sector_start`
// (-1: not yet), slashed at `slash` (-1: not).
inline json::value MarketDealJson(const DealProposal& p, int64_t sector_start, int64_t slash = -1) {
  return json::object{
      {"Proposal", json::object{{"PieceCID", json::object{{"/", p.piece_cid.ToString()}}},
                                {"PieceSize", p.piece_size},
                                {"VerifiedDeal", p.verified_deal},
                                {"Client", p.client.ToString()},
                                {"Provider", p.provider.ToString()},
                                {"Label", std::get<std::string>(p.label)},
                                {"StartEpoch", p.start_epoch},
                                {"EndEpoch", p.end_epoch},
                                {"StoragePricePerEpoch", p.storage_price_per_epoch.ToString()},
                                {"ProviderCollateral", p.provider_collateral.ToString()},
                                {"ClientCollateral", p.client_collateral.ToString()}}},
      {"State", json::object{{"SectorNumber", 1},
                             {"SectorStartEpoch", sector_start},
                             {"LastUpdatedEpoch", -1},
                             {"SlashEpoch", slash}}}};
}

class FakeLotus : public RpcTransport {
 public:
  static constexpr const char* kUrl = "http://127.0.0.1:1234/rpc/v1";
  static constexpr const char* kV2Url = "http://127.0.0.1:1234/rpc/v2";

  Result<RpcHttpReply> Post(const std::string& url, const std::string& body,
                            const std::string& token, std::chrono::milliseconds,
                            uint64_t max_bytes) override {
    std::lock_guard lock(mu_);
    ++posts;
    last_token = token;
    push_happened_ = false;
    if (unreachable) return Err(ErrorCode::kUnavailable, "fake: connection refused");
    if (http_status != 200) return RpcHttpReply{http_status, "no"};
    if (url == kV2Url && !has_v2) return RpcHttpReply{404, "404 page not found"};
    json::value doc = json::parse(body);
    std::string out;
    if (doc.is_array()) {
      ++batches;
      json::array answers;
      for (auto& r : doc.as_array()) answers.push_back(Answer(r.as_object(), url == kV2Url));
      out = json::serialize(answers);
    } else {
      out = json::serialize(Answer(doc.as_object(), url == kV2Url));
    }
    if (lose_next_push_answer && push_happened_) {
      lose_next_push_answer = false;
      push_happened_ = false;
      return Err(ErrorCode::kTimeout, "fake: answer lost");
    }
    if (out.size() > max_bytes) return Err(ErrorCode::kResourceExhausted, "fake: too big");
    return RpcHttpReply{200, out};
  }

  // Runs `epochs` epochs: pending messages execute in the first, in nonce order.
  void Advance(int64_t epochs = 1) {
    std::lock_guard lock(mu_);
    for (int64_t i = 0; i < epochs; ++i) {
      ++height;
      for (auto& sm : mpool_) Execute(sm);
      mpool_.clear();
    }
  }
  // The node restarts and forgets its mpool.
  void ForgetMpool() {
    std::lock_guard lock(mu_);
    mpool_.clear();
  }
  size_t mpool_size() {
    std::lock_guard lock(mu_);
    return mpool_.size();
  }
  int calls(const std::string& method) {
    std::lock_guard lock(mu_);
    return calls_[method];
  }
  std::vector<SignedMessage> executed() {
    std::lock_guard lock(mu_);
    return executed_;
  }

  // Scripted state and failures (set before use, or under the test's own sequencing).
  int64_t height = 1000;
  bool has_v2 = true;
  int64_t finality_lag = 900;
  bool unreachable = false;
  int http_status = 200;
  bool lose_next_push_answer = false;
  std::string push_error;  // when set, MpoolPush refuses with this message  // the push is applied,
                           // its answer times out
  std::map<Address, BigInt> balance;
  std::map<Address, MarketBalance> escrow;
  std::map<Address, BigInt> datacap;
  std::map<uint64_t, json::value> deals;  // deal id → StateMarketStorageDeal JSON
  int posts = 0;
  int batches = 0;
  std::string last_token;

 private:
  static Cid TipsetCid(int64_t h) {
    std::string seed = "tipset " + std::to_string(h);
    return Blake2bCborCid(ByteSpan(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()));
  }
  json::value Tipset(int64_t h) {
    return json::object{
        {"Cids", json::array{CidToJson(TipsetCid(h))}}, {"Blocks", json::array{}}, {"Height", h}};
  }
  uint64_t Nonce(const Address& a) {
    uint64_t n = nonce_[a];
    for (auto& sm : mpool_) n += sm.message.from == a ? 1 : 0;
    return n;
  }
  void Execute(const SignedMessage& sm) {
    const Message& m = sm.message;
    ++nonce_[m.from];
    BigInt gas = m.gas_fee_cap * static_cast<uint64_t>(m.gas_limit / 2);
    int64_t exit_code = 0;
    if (balance[m.from] < m.value + gas) {
      exit_code = 6;
    } else {
      balance[m.from] = balance[m.from] - m.value - gas;
      if (m.to == *Address::Id(5) && m.method == kMarketAddBalance) {
        auto credited = Address::FromBytes(
            ipld::DecodeDagCbor(m.params)->AsBytes());  // the test sends valid params
        escrow[*credited].escrow = escrow[*credited].escrow + m.value;
      } else {
        balance[m.to] = balance[m.to] + m.value;
      }
    }
    executed_.push_back(sm);
    landed_[sm.GetCid().ToString()] = json::object{
        {"Message", CidToJson(sm.GetCid())},
        {"Receipt", json::object{{"ExitCode", exit_code}, {"Return", nullptr}, {"GasUsed", 1000}}},
        {"ReturnDec", nullptr},
        {"TipSet", json::array{CidToJson(TipsetCid(height))}},
        {"Height", height}};
  }
  static json::object Error(const json::value& id, int code, const std::string& message) {
    return json::object{{"jsonrpc", "2.0"},
                        {"id", id},
                        {"error", json::object{{"code", code}, {"message", message}}}};
  }
  json::object Answer(const json::object& req, bool v2) {
    const json::value& id = req.at("id");
    const std::string method(req.at("method").as_string());
    const json::array& p = req.at("params").as_array();
    ++calls_[method];
    auto ok = [&](json::value r) {
      return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(r)}};
    };
    auto addr = [&](size_t i) { return *Address::Parse(p.at(i).as_string()); };
    if (v2) {
      if (method != "Filecoin.ChainGetTipSet") return Error(id, -32601, "method not found");
      return ok(Tipset(std::max<int64_t>(0, height - finality_lag)));
    }
    if (method == "Filecoin.ChainHead") return ok(Tipset(height));
    if (method == "Filecoin.ChainGetTipSetByHeight") return ok(Tipset(p.at(0).as_int64()));
    if (method == "Filecoin.WalletBalance") return ok(json::string(balance[addr(0)].ToString()));
    if (method == "Filecoin.StateMarketBalance") {
      auto it = escrow.find(addr(0));
      if (it == escrow.end()) return Error(id, 1, "actor not found");
      return ok(json::object{{"Escrow", it->second.escrow.ToString()},
                             {"Locked", it->second.locked.ToString()}});
    }
    if (method == "Filecoin.StateVerifiedClientStatus") {
      auto it = datacap.find(addr(0));
      return it == datacap.end() ? ok(nullptr) : ok(json::string(it->second.ToString()));
    }
    if (method == "Filecoin.StateLookupID") return ok("f01002");
    if (method == "Filecoin.StateMarketStorageDeal") {
      auto it = deals.find(p.at(0).to_number<uint64_t>());
      if (it == deals.end())
        return Error(id, 1, "deal " + std::to_string(p.at(0).to_number<uint64_t>()) + " not found");
      return ok(it->second);
    }
    if (method == "Filecoin.MpoolGetNonce") return ok(Nonce(addr(0)));
    if (method == "Filecoin.GasEstimateMessageGas") {
      auto m = *MessageFromJson(p.at(0));
      m.gas_limit = 4'250'000;
      m.gas_premium = BigInt::FromUint(100'000);
      m.gas_fee_cap = BigInt::FromUint(100'200);
      return ok(MessageToJson(m, Network::kMainnet));
    }
    if (method == "Filecoin.MpoolPush") {
      const auto& o = p.at(0).as_object();
      SignedMessage sm;
      sm.message = *MessageFromJson(o.at("Message"));
      sm.signature = *Signature::FromBytes([&] {
        Bytes b{static_cast<uint8_t>(o.at("Signature").at("Type").as_int64())};
        auto data = *Base64Decode(o.at("Signature").at("Data").as_string());
        b.insert(b.end(), data.begin(), data.end());
        return b;
      }());
      if (!VerifySignedMessage(sm)) return Error(id, 1, "signature verification failed");
      if (!push_error.empty()) return Error(id, 1, push_error);
      const uint64_t actor_nonce = nonce_[sm.message.from];
      if (sm.message.nonce < actor_nonce) {
        return Error(
            id, 1,
            "minimum expected nonce is " + std::to_string(actor_nonce) + ": message nonce too low");
      }
      if (sm.message.nonce != Nonce(sm.message.from)) {
        return Error(id, 1, "already in mpool or nonce gap");
      }
      mpool_.push_back(sm);
      push_happened_ = true;
      return ok(CidToJson(sm.GetCid()));
    }
    if (method == "Filecoin.StateSearchMsg") {
      auto c = *CidFromJson(p.at(1), "cid");
      auto it = landed_.find(c.ToString());
      return it == landed_.end() ? ok(nullptr) : ok(it->second);
    }
    return Error(id, -32601, "method '" + method + "' not found");
  }

  std::mutex mu_;
  std::map<std::string, int> calls_;
  std::map<Address, uint64_t> nonce_;
  std::vector<SignedMessage> mpool_;
  std::vector<SignedMessage> executed_;
  std::map<std::string, json::value> landed_;
  bool push_happened_ = false;
};

}  // namespace cairn::filecoin::chain::testing
