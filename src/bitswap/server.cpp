#include "bitswap/server.hpp"

#include "common/log.hpp"
#include "ipld/links.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::bitswap {

Server::Server(Network& network, ipld::BlockGetter& blocks, ContentPolicy& policy,
               ServerOptions options)
    : network_(network), blocks_(blocks), policy_(policy), options_(options) {}

Server::~Server() { Stop(); }

void Server::Start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  for (size_t i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void Server::Stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Server::Remove(Ledger& ledger, const Cid& cid) {
  auto it = ledger.wants.find(cid);
  if (it == ledger.wants.end()) return;
  ledger.order.erase(it->second.key);
  ledger.wants.erase(it);
}

void Server::OnWantlist(const PeerId& peer, ProtocolVersion version, const Wantlist& wantlist) {
  std::lock_guard lock(mu_);
  auto it = ledgers_.find(peer);
  if (it == ledgers_.end()) {
    if (ledgers_.size() >= options_.max_peers) {
      stats_.wants_dropped += wantlist.entries.size();
      return;
    }
    it = ledgers_.emplace(peer, Ledger{}).first;
  }
  Ledger& ledger = it->second;
  ledger.version = version;
  if (wantlist.full) {
    ledger.wants.clear();
    ledger.order.clear();
  }
  const bool v12 = version == ProtocolVersion::k120;
  for (const auto& e : wantlist.entries) {
    Remove(ledger, e.cid);
    if (e.cancel) continue;
    if (ledger.wants.size() >= options_.max_wants_per_peer) {
      stats_.wants_dropped++;
      continue;
    }
    Key key{-static_cast<int64_t>(e.priority), next_seq_++, e.cid};
    ledger.order.insert(key);
    ledger.wants.emplace(
        e.cid, Want{v12 ? e.type : WantType::kBlock, v12 && e.send_dont_have, std::move(key)});
  }
  if (!ledger.wants.empty() && !ledger.queued) {
    ledger.queued = true;
    ready_.push_back(peer);
    wake_ = true;
    cv_.notify_one();
  }
}

void Server::OnPeerGone(const PeerId& peer) {
  std::lock_guard lock(mu_);
  auto it = ledgers_.find(peer);
  if (it != ledgers_.end()) EraseLedger(it);  // a stale entry in ready_ is skipped by RunOnce
}

void Server::EraseLedger(std::map<PeerId, Ledger>::iterator it) {
  links_total_ -= it->second.links.size();
  ledgers_.erase(it);
}

void Server::AddLinks(Ledger& ledger, std::vector<Cid>& links) {
  for (auto& cid : links) {
    if (ledger.links.count(cid)) continue;
    if (ledger.links.size() >= options_.max_links_per_peer ||
        links_total_ >= options_.max_links_total) {
      if (ledger.links_order.empty()) return;  // the global budget is held by other peers
      ledger.links.erase(ledger.links_order.front());
      ledger.links_order.pop_front();
      links_total_--;
    }
    ledger.links.insert(cid);
    ledger.links_order.push_back(std::move(cid));
    links_total_++;
  }
}

size_t Server::PendingWants(const PeerId& peer) const {
  std::lock_guard lock(mu_);
  auto it = ledgers_.find(peer);
  return it == ledgers_.end() ? 0 : it->second.wants.size();
}

bool Server::TakeTurn(PeerId& peer, ProtocolVersion& version) {
  std::lock_guard lock(mu_);
  for (size_t n = ready_.size(); n > 0; --n) {
    PeerId p = std::move(ready_.front());
    ready_.pop_front();
    auto it = ledgers_.find(p);
    if (it == ledgers_.end()) continue;  // gone
    if (it->second.wants.empty()) {
      it->second.queued = false;
      continue;
    }
    if (network_.QueuedBytes(p) > options_.max_queued_bytes_per_peer) {
      ready_.push_back(std::move(p));  // a slow reader: its turn comes again later
      continue;
    }
    peer = std::move(p);
    version = it->second.version;
    return true;
  }
  return false;
}

bool Server::RunOnce() {
  PeerId peer;
  ProtocolVersion version = ProtocolVersion::k120;
  if (!TakeTurn(peer, version)) return false;
  Turn turn{peer, version};
  for (;;) {
    Cid cid;
    Want want;
    bool as_link = false;
    {
      std::lock_guard lock(mu_);
      auto it = ledgers_.find(peer);
      if (it == ledgers_.end() || it->second.order.empty()) break;
      if (turn.block_bytes >= options_.target_message_bytes ||
          turn.message.presences.size() >= options_.max_presences_per_message) {
        break;
      }
      cid = it->second.order.begin()->cid;
      want = it->second.wants.at(cid);
      Remove(it->second, cid);
      as_link = options_.follow_links && it->second.links.count(cid) != 0;
    }
    Answer(turn, cid, want, as_link);
  }
  if (!turn.message.empty()) Send(turn);

  std::lock_guard lock(mu_);
  auto it = ledgers_.find(peer);
  if (it != ledgers_.end()) {
    if (it->second.wants.empty()) {
      it->second.queued = false;
    } else {
      ready_.push_back(peer);
    }
  }
  return true;
}

void Server::Answer(Turn& turn, const Cid& cid, const Want& want, bool as_link) {
  bool allowed = as_link || policy_.MayServe(cid);
  if (!allowed) {
    stats_.refused_by_policy++;
  } else if (as_link) {
    stats_.served_as_link++;
  }
  std::shared_ptr<const Bytes> block;
  bool have = false;
  if (allowed && want.type == WantType::kHave) {
    // Presence from the index: no block read.
    auto size = blocks_.Size(cid);
    have = size && *size <= options_.max_block_bytes;
    if (!size && size.error().code() != ErrorCode::kNotFound) {
      log::Warn("bitswap.server.size_failed",
                {{"cid", cid.ToString()}, {"error", size.error().message()}});
    }
  } else if (allowed) {
    if (auto got = blocks_.GetShared(cid)) {
      if ((*got)->size() <= options_.max_block_bytes) block = std::move(*got);
    } else if (got.error().code() != ErrorCode::kNotFound) {
      log::Warn("bitswap.server.get_failed",
                {{"cid", cid.ToString()}, {"error", got.error().message()}});
    }
  }
  Message& message = turn.message;
  const bool v12 = turn.version == ProtocolVersion::k120;
  if (want.type == WantType::kHave) {
    if (have) {
      message.presences.push_back({cid, PresenceType::kHave});
    } else if (want.send_dont_have) {
      message.presences.push_back({cid, PresenceType::kDontHave});
    }
  } else if (block && (turn.version != ProtocolVersion::k100 || cid.version() == 0)) {
    turn.block_bytes += block->size();
    if (options_.follow_links && cid.codec() != multiformats::codec::kRaw) {
      // Its links become servable to this peer before the block can reach it.
      auto links = ipld::Links(cid, *block);
      if (links && !links->empty()) {
        std::lock_guard lock(mu_);
        auto it = ledgers_.find(turn.peer);
        if (it != ledgers_.end()) AddLinks(it->second, *links);
      }
    }
    message.blocks.push_back(BlockPayload{CidPrefix::Of(cid), *block});
  } else if (v12 && want.send_dont_have) {
    message.presences.push_back({cid, PresenceType::kDontHave});
  }
}

void Server::Send(const Turn& turn) {
  auto encoded = EncodeMessage(turn.message, turn.version);
  Result<void> sent =
      encoded ? network_.Send(turn.peer, std::move(*encoded)) : Err(encoded.error());
  if (!sent) {
    stats_.send_failures++;
    log::Debug("bitswap.server.send_failed",
               {{"peer", turn.peer}, {"error", sent.error().message()}});
    return;
  }
  stats_.messages_sent++;
  stats_.blocks_sent += turn.message.blocks.size();
  stats_.block_bytes_sent += turn.block_bytes;
  for (const auto& p : turn.message.presences) {
    (p.type == PresenceType::kHave ? stats_.haves_sent : stats_.dont_haves_sent)++;
  }
}

void Server::WorkerLoop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (!running_) return;
    }
    if (RunOnce()) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return !running_ || wake_; });
    wake_ = false;
  }
}

}  // namespace cairn::bitswap
