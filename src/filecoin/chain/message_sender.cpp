#include "filecoin/chain/message_sender.hpp"

#include <boost/json.hpp>
#include <thread>

#include "common/log.hpp"
#include "filecoin/types/base64.hpp"
#include "ipld/dag_cbor.hpp"

namespace cairn::filecoin::chain {

namespace json = boost::json;

namespace {

constexpr uint64_t kMaxPendingFile = 64 * 1024;

ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

tl::unexpected<Error> BadPending(const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, "pending message: " + what);
}

}  // namespace

Bytes AddBalanceParams(const Address& address) {
  // A byte string is always encodable.
  return *ipld::EncodeDagCbor(ipld::CborValue::ByteString(address.ToBytes()));
}

Address MarketActor() { return *Address::Id(5); }

std::string FormatPendingMessage(const PendingMessage& pending) {
  json::object o{
      {"Cid", pending.cid.ToString()},
      {"Nonce", pending.nonce},
      {"Purpose", pending.purpose},
      {"SignedMessage", Base64Encode(pending.message.Encode())},
  };
  return json::serialize(o) + "\n";
}

Result<PendingMessage> ParsePendingMessage(std::string_view text) {
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 4;
  json::value doc = json::parse(text, ec, {}, opts);
  if (ec) return BadPending("not JSON");
  const auto* o = doc.if_object();
  if (!o || o->size() != 4)
    return BadPending("expected an object of Cid, Nonce, Purpose, SignedMessage");
  const auto* cid = o->if_contains("Cid");
  const auto* nonce = o->if_contains("Nonce");
  const auto* purpose = o->if_contains("Purpose");
  const auto* message = o->if_contains("SignedMessage");
  if (!cid || !cid->is_string()) return BadPending("Cid must be a string");
  if (!nonce || !(nonce->is_uint64() || (nonce->is_int64() && nonce->get_int64() >= 0))) {
    return BadPending("Nonce must be a non-negative integer");
  }
  if (!purpose || !purpose->is_string()) return BadPending("Purpose must be a string");
  if (!message || !message->is_string()) return BadPending("SignedMessage must be a string");
  PendingMessage p;
  auto parsed_cid = Cid::Parse(cid->get_string());
  if (!parsed_cid) return BadPending("Cid: " + parsed_cid.error().message());
  p.cid = *parsed_cid;
  p.nonce = nonce->is_uint64() ? nonce->get_uint64() : static_cast<uint64_t>(nonce->get_int64());
  p.purpose = std::string(purpose->get_string());
  auto bytes = Base64Decode(message->get_string());
  if (!bytes) return BadPending("SignedMessage: " + bytes.error().message());
  auto signed_message = SignedMessage::Decode(*bytes);
  if (!signed_message) return BadPending("SignedMessage: " + signed_message.error().message());
  p.message = std::move(*signed_message);
  if (p.message.GetCid() != p.cid) return BadPending("Cid is not the signed message's CID");
  if (p.message.message.nonce != p.nonce) return BadPending("Nonce is not the message's nonce");
  return p;
}

// Holds the in-process mutex of one sending address and the cross-process file lock.
class MessageSender::AddressLock {
 public:
  AddressLock(std::unique_lock<std::mutex> lock, std::unique_ptr<File> file)
      : lock_(std::move(lock)), file_(std::move(file)) {}

 private:
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<File> file_;  // the flock is released when it closes
};

MessageSender::MessageSender(ChainClient& chain, const wallet::Wallet& wallet, Env& env,
                             std::filesystem::path pending_dir, SenderOptions options,
                             const Clock& clock)
    : chain_(chain),
      wallet_(wallet),
      env_(env),
      dir_(std::move(pending_dir)),
      options_(std::move(options)),
      clock_(clock) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
}

std::filesystem::path MessageSender::PendingPath(const Address& from) const {
  return dir_ / (from.ToString(Network::kMainnet) + ".json");
}

Result<std::unique_ptr<MessageSender::AddressLock>> MessageSender::Lock(const Address& from) {
  std::mutex* m = nullptr;
  {
    std::lock_guard guard(mu_);
    auto& slot = address_mu_[from];
    if (!slot) slot = std::make_unique<std::mutex>();
    m = slot.get();  // entries are never erased: the pointer stays valid
  }
  std::unique_lock lock(*m);
  auto created = env_.CreateDirs(dir_);
  if (!created) return Err(created.error().WithContext("chain: pending messages: "));
  auto file =
      env_.Open(dir_ / (from.ToString(Network::kMainnet) + ".lock"), OpenMode::kCreateOrOpen);
  if (!file) return Err(file.error().WithContext("chain: pending messages: "));
  auto locked = (*file)->LockExclusive();
  if (!locked) {
    return Err(ErrorCode::kUnavailable, "chain: another process is sending messages from " +
                                            from.ToString() + " (" + locked.error().message() +
                                            ")");
  }
  return std::make_unique<AddressLock>(std::move(lock), std::move(*file));
}

Result<void> MessageSender::RemovePending(const Address& from) {
  auto removed = env_.Remove(PendingPath(from));
  if (!removed && removed.error().code() != ErrorCode::kNotFound) {
    return Err(removed.error().WithContext("chain: pending messages: "));
  }
  auto synced = env_.SyncDir(dir_);
  if (!synced) return Err(synced.error().WithContext("chain: pending messages: "));
  return Ok();
}

Result<MessageLookup> MessageSender::Wait(const PendingMessage& pending) {
  const int64_t deadline =
      clock_.MonotonicMicros() +
      std::chrono::duration_cast<std::chrono::microseconds>(options_.wait_timeout).count();
  std::optional<int64_t> searched_at;
  for (;;) {
    auto head = chain_.Head();
    if (head && (!searched_at || head->height != *searched_at)) {
      auto found = chain_.StateSearchMsg(pending.cid);
      if (found && *found) {
        const Address from = pending.message.message.from;
        CAIRN_TRY(RemovePending(from));
        MessageLookup lookup = **found;
        if (lookup.exit_code != 0) {
          log::Warn("chain.message_failed", {{"cid", pending.cid.ToString()},
                                             {"purpose", pending.purpose},
                                             {"exit_code", lookup.exit_code}});
          return Err(ErrorCode::kUnavailable,
                     "chain: " + pending.purpose + " message " + pending.cid.ToString() +
                         " failed on chain with exit code " + std::to_string(lookup.exit_code));
        }
        return lookup;
      }
      if (found) searched_at = head->height;
      if (!found) {
        log::Warn("chain.wait_retry",
                  {{"cid", pending.cid.ToString()}, {"error", found.error().message()}});
      }
    } else if (!head) {
      log::Warn("chain.wait_retry",
                {{"cid", pending.cid.ToString()}, {"error", head.error().message()}});
    }
    if (clock_.MonotonicMicros() >= deadline) {
      return Err(ErrorCode::kTimeout, "chain: " + pending.purpose + " message " +
                                          pending.cid.ToString() + " not on chain after " +
                                          std::to_string(options_.wait_timeout.count()) +
                                          " ms (still pending; a later call resumes waiting)");
    }
    options_.sleep(options_.poll_interval);
  }
}

Result<std::optional<MessageLookup>> MessageSender::ResolvePendingLocked(const Address& from) {
  const auto path = PendingPath(from);
  auto exists = env_.Exists(path);
  if (!exists) return Err(exists.error().WithContext("chain: pending messages: "));
  if (!*exists) return std::optional<MessageLookup>();
  auto bytes = ReadWholeFile(env_, path, kMaxPendingFile);
  if (!bytes) return Err(bytes.error().WithContext("chain: pending messages: "));
  auto pending = ParsePendingMessage(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!pending) {
    // Never guessed around: an operator must look (the file says which nonce was signed).
    return Err(ErrorCode::kCorruption,
               "chain: " + path.string() + ": " + pending.error().message());
  }
  log::Info(
      "chain.pending_resume",
      {{"cid", pending->cid.ToString()}, {"nonce", pending->nonce}, {"purpose", pending->purpose}});
  auto found = CAIRN_TRY(chain_.StateSearchMsg(pending->cid));
  if (!found) {
    // Not on chain: push the same bytes again. A node that still has it refuses the duplicate
    // (harmless); one that forgot it (a restart, a push that never arrived) takes it back; one
    // whose chain used the nonce for another message says "nonce too low": it can never land.
    auto pushed = chain_.MpoolPush(pending->message);
    if (!pushed) {
      if (pushed.error().message().find("nonce too low") != std::string::npos) {
        log::Warn("chain.pending_dropped", {{"cid", pending->cid.ToString()},
                                            {"nonce", pending->nonce},
                                            {"error", pushed.error().message()}});
        CAIRN_TRY(RemovePending(from));
        return std::optional<MessageLookup>();
      }
      log::Info("chain.pending_repush",
                {{"cid", pending->cid.ToString()}, {"error", pushed.error().message()}});
    }
  }
  return std::optional<MessageLookup>(CAIRN_TRY(Wait(*pending)));
}

Result<std::optional<MessageLookup>> MessageSender::ResolvePending(const Address& from) {
  auto lock = CAIRN_TRY(Lock(from));
  return ResolvePendingLocked(from);
}

Result<MessageLookup> MessageSender::SendLocked(Message message, const std::string& purpose) {
  if (!wallet_.Has(message.from)) {
    return Err(ErrorCode::kNotFound, "chain: the wallet has no key for " + message.from.ToString());
  }
  message.nonce = CAIRN_TRY(chain_.MpoolGetNonce(message.from));
  message.gas_limit = 0;
  message.gas_fee_cap = BigInt();
  message.gas_premium = BigInt();
  message = CAIRN_TRY(chain_.GasEstimateMessageGas(message));
  PendingMessage pending;
  pending.message = CAIRN_TRY(wallet_.SignMessage(message));
  pending.cid = pending.message.GetCid();
  pending.nonce = message.nonce;
  pending.purpose = purpose;
  const std::string text = FormatPendingMessage(pending);
  auto written = WriteFileAtomically(env_, PendingPath(message.from), AsBytes(text));
  if (!written) return Err(written.error().WithContext("chain: pending messages: "));
  log::Info("chain.message_push", {{"cid", pending.cid.ToString()},
                                   {"from", message.from.ToString()},
                                   {"nonce", message.nonce},
                                   {"purpose", purpose},
                                   {"value", message.value.ToString()}});
  auto pushed = chain_.MpoolPush(pending.message);
  if (!pushed) {
    const ErrorCode code = pushed.error().code();
    if (code != ErrorCode::kTimeout && code != ErrorCode::kResourceExhausted &&
        pushed.error().message().find("RPC error") != std::string::npos) {
      // The node refused it (funds, nonce, gas): nothing is in flight.
      CAIRN_TRY(RemovePending(message.from));
    }
    return Err(pushed.error());
  }
  if (*pushed != pending.cid) {
    log::Warn("chain.push_cid_differs",
              {{"ours", pending.cid.ToString()}, {"node", pushed->ToString()}});
  }
  return Wait(pending);
}

Result<MessageLookup> MessageSender::Send(Message message, const std::string& purpose) {
  auto lock = CAIRN_TRY(Lock(message.from));
  CAIRN_TRY(ResolvePendingLocked(message.from));
  return SendLocked(std::move(message), purpose);
}

Result<std::optional<MessageLookup>> MessageSender::EnsureMarketBalance(const Address& client,
                                                                        const BigInt& needed) {
  auto lock = CAIRN_TRY(Lock(client));
  // A top-up that a previous run pushed lands (or is dropped) before the balance is read, so it
  // is counted and never sent twice.
  CAIRN_TRY(ResolvePendingLocked(client));
  MarketBalance balance;
  auto market = chain_.StateMarketBalance(client);
  if (market) {
    balance = *market;
  } else if (market.error().code() != ErrorCode::kNotFound) {
    return Err(market.error());
  }
  const BigInt available = balance.available();
  if (available >= needed) return std::optional<MessageLookup>();
  Message m;
  m.to = MarketActor();
  m.from = client;
  m.value = needed - available;
  m.method = kMarketAddBalance;
  m.params = AddBalanceParams(client);
  log::Info("chain.escrow_top_up", {{"client", client.ToString()},
                                    {"available", available.ToString()},
                                    {"needed", needed.ToString()},
                                    {"amount", m.value.ToString()}});
  return std::optional<MessageLookup>(CAIRN_TRY(SendLocked(std::move(m), "market-add-balance")));
}

}  // namespace cairn::filecoin::chain
