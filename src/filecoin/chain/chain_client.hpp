// A Lotus JSON-RPC v1 client for what Cairn needs from the chain (../shared/FILECOIN.md §3.6,
// §3.7): the head and the finalized tipset, miner info, market balances and deals, DataCap, ID
// lookups, nonces, gas estimation, pushing messages and finding them on chain.
//
// Cost at scale (tracking 10k deals must not mean 10k calls per epoch):
// - Head() is shared: one ChainHead per `head_ttl` serves every caller in the process (callers
//   arriving while it is being fetched wait for that one answer).
// - State calls for many subjects go out as JSON-RPC batches (MarketDeals, and CallBatch), at most
//   `max_batch` calls per POST.
// Finality: Finalized() is the tipset Lotus' v2 API names {"tag": "finalized"} (F3-aware; the
// endpoint's `/rpc/v1` replaced by `/rpc/v2`); a node without it gets head − `finality_epochs`
// (900, Filecoin's EC finality). Callers treat results as final only at that tipset.
//
// Errors: every error names the method; RPC errors carry the endpoint's message (see
// ParseRpcResponse for the codes); HTTP 401/403 are Unauthenticated/PermissionDenied (a missing
// or weak `filecoin.rpc_token`); other non-200 statuses are Unavailable. Answers are bounded by
// `max_response_bytes` (ResourceExhausted beyond).
//
// Thread-safe: any method from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "filecoin/chain/lotus_json.hpp"
#include "filecoin/chain/rpc.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "filecoin/types/message.hpp"

namespace cairn::filecoin::chain {

inline constexpr int64_t kEcFinalityEpochs = 900;

struct ChainClientOptions {
  std::string url;    // the Lotus JSON-RPC v1 endpoint, e.g. http://127.0.0.1:1234/rpc/v1
  std::string token;  // bearer token (Lotus JWT); empty for none
  Network network = Network::kMainnet;  // how addresses are spelled in requests
  std::chrono::milliseconds timeout{30000};
  uint64_t max_response_bytes = 16u << 20;
  size_t max_batch = 200;
  std::chrono::milliseconds head_ttl{5000};
  int64_t finality_epochs = kEcFinalityEpochs;
};

// A wallet's funds as `cairn wallet balance` shows them.
struct WalletFunds {
  BigInt balance;                 // attoFIL
  MarketBalance market;           // escrow (zero when the market has no entry)
  std::optional<BigInt> datacap;  // bytes; nullopt when not a verified client
};

class ChainClient {
 public:
  ChainClient(RpcTransport& transport, ChainClientOptions options,
              const Clock& clock = SystemClock::Instance());

  // The current head; cached for head_ttl and shared by every caller.
  Result<TipSet> Head();
  // The finalized tipset (see above); cached like the head.
  Result<TipSet> Finalized();

  Result<MinerInfo> StateMinerInfo(const Address& miner);
  // The market escrow of `address`.
  Result<MarketBalance> StateMarketBalance(const Address& address);
  // A deal at `at` (the head when nullopt). NotFound when the market has no such deal (never
  // published, timed out, expired or cleaned up).
  Result<MarketDeal> StateMarketStorageDeal(uint64_t deal_id, const std::optional<TipSet>& at = {});
  // Many deals at one tipset, batched; one Result per id, in order. The outer Result fails only
  // when a whole request fails (the endpoint unreachable, a malformed answer).
  Result<std::vector<Result<MarketDeal>>> MarketDeals(std::span<const uint64_t> deal_ids,
                                                      const std::optional<TipSet>& at = {});
  // Where `message` landed (following replacements by fee), or nullopt when not on chain yet.
  Result<std::optional<MessageLookup>> StateSearchMsg(const Cid& message);
  Result<uint64_t> MpoolGetNonce(const Address& address);
  // `message` with GasLimit, GasFeeCap and GasPremium set by the node (other fields kept).
  Result<Message> GasEstimateMessageGas(const Message& message);
  // Pushes a signed message; returns the CID the node gives it.
  Result<Cid> MpoolPush(const SignedMessage& message);
  Result<BigInt> WalletBalance(const Address& address);
  // DataCap in bytes, nullopt when `address` is not a verified client.
  Result<std::optional<BigInt>> StateVerifiedClientStatus(const Address& address);
  Result<Address> StateLookupID(const Address& address);
  Result<std::string> StateNetworkName();
  // Balance, escrow and DataCap of `address` in one batched request.
  Result<WalletFunds> Funds(const Address& address);

  // One call; its result or its error.
  Result<boost::json::value> Call(const std::string& method, boost::json::array params);
  // Calls in batches of at most max_batch per POST; one Result per call, in order.
  Result<std::vector<Result<boost::json::value>>> CallBatch(std::span<const RpcCall> calls);

  // POSTs made so far (for tests and metrics).
  uint64_t requests() const { return requests_.load(); }
  const ChainClientOptions& options() const { return options_; }

 private:
  Result<std::vector<Result<boost::json::value>>> Post(const std::string& url,
                                                       std::span<const RpcCall> calls);
  Result<TipSet> HeadLocked();  // with head_mu_ held
  boost::json::value Tsk(const std::optional<TipSet>& at) const;
  std::string Addr(const Address& a) const { return a.ToString(options_.network); }

  RpcTransport& transport_;
  const ChainClientOptions options_;
  const Clock& clock_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> requests_{0};

  std::mutex head_mu_;               // held while fetching, so concurrent callers share one answer
  std::optional<TipSet> head_;       // GUARDED_BY(head_mu_)
  int64_t head_at_us_ = 0;           // GUARDED_BY(head_mu_)
  std::optional<TipSet> finalized_;  // GUARDED_BY(head_mu_)
  int64_t finalized_at_us_ = 0;      // GUARDED_BY(head_mu_)
  bool v2_missing_ = false;          // GUARDED_BY(head_mu_): the node has no /rpc/v2 finality
};

}  // namespace cairn::filecoin::chain
