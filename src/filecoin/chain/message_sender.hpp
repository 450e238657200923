// Sending chain messages from the wallet without ever reusing or skipping a nonce, and the market
// escrow top-up built on it (../shared/FILECOIN.md §3.3 AddBalance, §3.7 step 1).
//
// Send: nonce from MpoolGetNonce, gas from GasEstimateMessageGas, signed by the wallet, written to
// `<pending_dir>/<from>.json` (docs/formats/wallet.md) *before* MpoolPush, then awaited with
// StateSearchMsg (once per new head) and the pending file removed once the message is on chain.
// A crash anywhere leaves either no pending file (nothing was pushed) or one holding the exact
// signed bytes; the next Send or EnsureMarketBalance from that address resolves it first: when it
// is not on chain it pushes the same bytes again (a node that has them refuses the duplicate, one
// that forgot them takes them back) and waits for it; it drops it only when the node refuses it
// as "nonce too low" while it is not on chain (its nonce went to another message, so it can
// never land). So a top-up is never sent twice and a nonce never reused.
//
// One message in flight per sending address: calls for one address are serialized in the process
// (a mutex) and across processes (an exclusive lock on `<pending_dir>/<from>.lock`; a second
// process gets Unavailable at once rather than waiting).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/env.hpp"
#include "common/result.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "filecoin/wallet/wallet.hpp"

namespace cairn::filecoin::chain {

struct SenderOptions {
  // How often the chain is asked while waiting (StateSearchMsg only when the head moved).
  std::chrono::milliseconds poll_interval{2000};
  // How long Send waits for inclusion before Timeout (the pending file stays; a later call
  // resumes waiting).
  std::chrono::milliseconds wait_timeout{std::chrono::minutes(30)};
  // How the sender waits between polls (tests pass one that advances a fake clock).
  std::function<void(std::chrono::milliseconds)> sleep;
};

// A message the sender wrote down before pushing it.
struct PendingMessage {
  Cid cid;
  uint64_t nonce = 0;
  std::string purpose;
  SignedMessage message;
};
std::string FormatPendingMessage(const PendingMessage& pending);
// Strict (docs/formats/wallet.md); InvalidArgument naming the member, and the CID must be the
// signed message's own.
Result<PendingMessage> ParsePendingMessage(std::string_view text);

class MessageSender {
 public:
  MessageSender(ChainClient& chain, const wallet::Wallet& wallet, Env& env,
                std::filesystem::path pending_dir, SenderOptions options = {},
                const Clock& clock = SystemClock::Instance());

  // Sends `message` (from a wallet address; nonce and gas are filled in here) and waits until it
  // is on chain. Returns its lookup; a non-zero exit code is an error naming the message and the
  // code (the funds it carried did not move). Errors: NotFound when the wallet lacks the sender's
  // key, the node's errors (InsufficientFunds when the balance cannot pay), Timeout after
  // wait_timeout, Unavailable when another process is sending from the same address.
  Result<MessageLookup> Send(Message message, const std::string& purpose);

  // Makes `client`'s market escrow (Escrow − Locked) at least `needed`: when short, sends ONE
  // AddBalance (method 2 to f05) for the shortfall, paid and signed by `client`, and waits for
  // it. Returns the top-up's lookup, or nullopt when the escrow already sufficed. A top-up a
  // previous run left pending is resolved before the balance is read.
  Result<std::optional<MessageLookup>> EnsureMarketBalance(const Address& client,
                                                           const BigInt& needed);

  // Resolves what a previous run left pending for `from` (see above): the lookup of the pending
  // message once on chain, or nullopt when there was none (or it was dropped).
  Result<std::optional<MessageLookup>> ResolvePending(const Address& from);

 private:
  class AddressLock;
  Result<std::unique_ptr<AddressLock>> Lock(const Address& from);
  Result<std::optional<MessageLookup>> ResolvePendingLocked(const Address& from);
  Result<MessageLookup> SendLocked(Message message, const std::string& purpose);
  Result<MessageLookup> Wait(const PendingMessage& pending);
  std::filesystem::path PendingPath(const Address& from) const;
  Result<void> RemovePending(const Address& from);

  ChainClient& chain_;
  const wallet::Wallet& wallet_;
  Env& env_;
  const std::filesystem::path dir_;
  SenderOptions options_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<Address, std::unique_ptr<std::mutex>> address_mu_;  // GUARDED_BY(mu_)
};

// The CBOR parameters of AddBalance: the address to credit, as a CBOR byte string.
Bytes AddBalanceParams(const Address& address);
// The market actor, f05.
Address MarketActor();

}  // namespace cairn::filecoin::chain
