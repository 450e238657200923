#include "bitswap/client.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace cairn::bitswap {

Client::Client(Network& network, const Clock& clock, ClientOptions options)
    : network_(network), clock_(clock), options_(options) {}

std::unique_ptr<Session> Client::NewSession() {
  return std::unique_ptr<Session>(new Session(*this));
}

void Client::SendWant(const PeerId& peer, ProtocolVersion version, const Cid& cid, WantType type) {
  Message m;
  const bool v12 = version == ProtocolVersion::k120;
  m.wantlist.entries.push_back(WantEntry{cid, 1, false, type, v12});
  auto encoded = EncodeMessage(m, version);
  if (!encoded) return;  // e.g. want-have for an old peer: never asked for by Step
  auto sent = network_.Send(peer, std::move(*encoded));
  if (!sent) {
    log::Debug("bitswap.client.send_failed", {{"peer", peer}, {"error", sent.error().message()}});
  }
}

void Client::SendCancel(const PeerId& peer, const Cid& cid) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.version) return;
  Message m;
  m.wantlist.entries.push_back(WantEntry{cid, 0, true, WantType::kBlock, false});
  if (auto encoded = EncodeMessage(m, *it->second.version)) {
    (void)network_.Send(peer, std::move(*encoded));
  }
}

void Client::EndAsk(const PeerId& peer, PeerAsk& ask, Ask new_state) {
  if (ask.state == Ask::kAskedBlock) {
    auto it = peers_.find(peer);
    if (it != peers_.end() && it->second.load > 0) it->second.load--;
  }
  ask.state = new_state;
}

int64_t Client::Score(const PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  return it->second.received - 8 * it->second.timeouts;
}

uint64_t Client::UnwantedFrom(const PeerId& peer) const {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.unwanted;
}

std::optional<int64_t> Client::Step(const Cid& cid, Pending& pending,
                                    const std::set<PeerId>& candidates, int64_t now) {
  const int64_t timeout_us = options_.want_timeout.count() * 1000;
  // 1. Asks that waited too long are given up (and the peer scored down).
  for (auto& [peer, ask] : pending.peers) {
    if ((ask.state == Ask::kAskedBlock || ask.state == Ask::kAskedHave) &&
        now - ask.sent_us >= timeout_us) {
      EndAsk(peer, ask, Ask::kGivenUp);
      peers_[peer].timeouts++;
      stats_.timeouts++;
      SendCancel(peer, cid);
    }
  }
  // 2. New candidates: 1.2.0 peers are asked whether they have it; others wait for want-block.
  for (const auto& peer : candidates) {
    auto info = peers_.find(peer);
    if (info == peers_.end() || !info->second.version) continue;  // not connected
    auto [it, added] = pending.peers.try_emplace(peer);
    if (!added) continue;
    if (*info->second.version == ProtocolVersion::k120) {
      it->second = PeerAsk{Ask::kAskedHave, false, now};
      SendWant(peer, *info->second.version, cid, WantType::kHave);
    }
  }
  // 3. Want-block: one at a time, or a second to a confirmed holder when the first was a guess.
  size_t asked_block = 0;
  bool asked_confirmed = false;
  for (const auto& [peer, ask] : pending.peers) {
    if (ask.state == Ask::kAskedBlock) {
      ++asked_block;
      asked_confirmed |= ask.confirmed;
    }
  }
  auto best = [&](bool confirmed_only) -> std::optional<PeerId> {
    std::optional<PeerId> pick;
    for (const auto& [peer, ask] : pending.peers) {
      auto info = peers_.find(peer);
      if (info == peers_.end() || !info->second.version || !candidates.count(peer)) continue;
      bool eligible = confirmed_only ? ask.state == Ask::kHave
                                     : (ask.state == Ask::kHave || ask.state == Ask::kIdle ||
                                        ask.state == Ask::kAskedHave);
      if (!eligible) continue;
      if (!pick) {
        pick = peer;
        continue;
      }
      const PeerAsk& p = pending.peers.at(*pick);
      // A confirmed holder first, then the best score, then the least load.
      auto rank = [&](const PeerId& id, const PeerAsk& a) {
        return std::make_tuple(a.state == Ask::kHave ? 1 : 0, Score(id), -peers_.at(id).load);
      };
      if (rank(peer, ask) > rank(*pick, p)) pick = peer;
    }
    return pick;
  };
  std::optional<PeerId> target;
  if (asked_block == 0) {
    target = best(false);
  } else if (asked_block == 1 && !asked_confirmed) {
    target = best(true);
  }
  if (target) {
    PeerAsk& ask = pending.peers.at(*target);
    ask.confirmed = ask.state == Ask::kHave;
    ask.state = Ask::kAskedBlock;
    ask.sent_us = now;
    auto& info = peers_.at(*target);
    info.load++;
    SendWant(*target, *info.version, cid, WantType::kBlock);
  }
  // 4. The next timeout, or nullopt when nobody is left to answer.
  std::optional<int64_t> next;
  bool open = false;
  for (const auto& [peer, ask] : pending.peers) {
    if (!candidates.count(peer)) continue;
    if (ask.state == Ask::kAskedBlock || ask.state == Ask::kAskedHave) {
      open = true;
      next = std::min(next.value_or(INT64_MAX), ask.sent_us + timeout_us);
    } else if (ask.state == Ask::kHave || ask.state == Ask::kIdle) {
      auto info = peers_.find(peer);
      if (info != peers_.end() && info->second.version) open = true;
    }
  }
  if (!open) return std::nullopt;
  return next.value_or(now + timeout_us);
}

Result<Bytes> Session::Get(const Cid& cid, int64_t deadline_us, const std::atomic<bool>* cancel) {
  Client& c = client_;
  std::unique_lock lock(c.mu_);
  Client::Pending& pending = c.wants_[cid];  // references into unordered_map stay valid
  pending.waiters++;
  auto finish = [&](Result<Bytes> result) -> Result<Bytes> {
    if (--pending.waiters == 0) {
      if (!pending.block) {
        for (auto& [peer, ask] : pending.peers) {
          if (ask.state == Client::Ask::kAskedBlock || ask.state == Client::Ask::kAskedHave ||
              ask.state == Client::Ask::kHave) {
            c.EndAsk(peer, ask, Client::Ask::kGivenUp);
            c.SendCancel(peer, cid);
          }
        }
      }
      c.wants_.erase(cid);
    }
    return result;
  };
  for (;;) {
    if (pending.block) return finish(Bytes(*pending.block));
    if (cancel && cancel->load()) return finish(Err(ErrorCode::kCancelled, "bitswap: cancelled"));
    int64_t now = c.clock_.MonotonicMicros();
    if (deadline_us != 0 && now >= deadline_us) {
      return finish(Err(ErrorCode::kTimeout, "bitswap: " + cid.ToString() + ": deadline passed"));
    }
    bool any_connected = false;
    for (const auto& peer : peers_) {
      auto info = c.peers_.find(peer);
      any_connected |= info != c.peers_.end() && info->second.version.has_value();
    }
    if (!any_connected) {
      return finish(Err(ErrorCode::kUnavailable,
                        "bitswap: " + cid.ToString() + ": no connected peer in the session"));
    }
    auto next = c.Step(cid, pending, peers_, now);
    if (pending.block) continue;  // cannot happen inside Step, but cheap to re-check
    if (!next) {
      std::string why;
      for (const auto& [peer, ask] : pending.peers) {
        if (!peers_.count(peer)) continue;
        if (!why.empty()) why += ", ";
        why +=
            peer + (ask.state == Client::Ask::kDontHave ? " does not have it" : " did not answer");
      }
      return finish(Err(ErrorCode::kNotFound, "bitswap: " + cid.ToString() + ": " + why));
    }
    int64_t wake = *next;
    if (deadline_us != 0) wake = std::min(wake, deadline_us);
    // Wake at least every 50 ms to notice `cancel` (an atomic nobody signals).
    int64_t wait_us = std::clamp<int64_t>(wake - now, 1000, 50'000);
    c.cv_.wait_for(lock, std::chrono::microseconds(wait_us));
  }
}

void Session::AddPeers(const std::vector<PeerId>& peers) {
  std::vector<std::pair<PeerId, std::optional<ProtocolVersion>>> versions;
  versions.reserve(peers.size());
  for (const auto& p : peers) versions.emplace_back(p, client_.network_.Version(p));
  std::lock_guard lock(client_.mu_);
  for (auto& [peer, version] : versions) {
    auto& info = client_.peers_[peer];
    if (version) info.version = version;
    peers_.insert(peer);
  }
  client_.cv_.notify_all();
}

std::vector<PeerId> Session::peers() const {
  std::lock_guard lock(client_.mu_);
  return {peers_.begin(), peers_.end()};
}

Session::~Session() = default;

void Client::OnPeer(const PeerId& peer, bool connected) {
  auto version = connected ? network_.Version(peer) : std::nullopt;
  std::lock_guard lock(mu_);
  auto& info = peers_[peer];
  info.version = version;
  info.load = 0;  // want-blocks sent on an earlier connection died with it
  // Its old asks died with the connection: forget them, so a reconnect is asked again.
  for (auto& [cid, pending] : wants_) pending.peers.erase(peer);
  cv_.notify_all();
}

void Client::OnMessage(const PeerId& from, const Message& message) {
  // Hash outside the lock: the CID each block really has.
  std::vector<std::pair<Cid, const BlockPayload*>> blocks;
  for (const auto& b : message.blocks) {
    if (b.data.size() > options_.max_block_bytes) {
      stats_.unverifiable_blocks++;
      continue;
    }
    auto cid = b.prefix.Sum(b.data);
    if (!cid) {
      stats_.unverifiable_blocks++;
      continue;
    }
    blocks.emplace_back(std::move(*cid), &b);
  }
  std::lock_guard lock(mu_);
  auto& sender = peers_[from];
  for (const auto& [cid, block] : blocks) {
    auto it = wants_.find(cid);
    if (it == wants_.end()) {
      stats_.unwanted_blocks++;
      sender.unwanted++;
      continue;
    }
    Pending& pending = it->second;
    if (pending.block) {
      stats_.duplicate_blocks++;
      continue;
    }
    pending.block = std::make_shared<const Bytes>(block->data);
    stats_.blocks_received++;
    sender.received++;
    for (auto& [peer, ask] : pending.peers) {
      bool open =
          ask.state == Ask::kAskedBlock || ask.state == Ask::kAskedHave || ask.state == Ask::kHave;
      EndAsk(peer, ask, Ask::kGivenUp);
      if (open && peer != from) SendCancel(peer, cid);
    }
  }
  for (const auto& presence : message.presences) {
    auto it = wants_.find(presence.cid);
    if (it == wants_.end() || it->second.block) continue;
    auto ask = it->second.peers.find(from);
    if (ask == it->second.peers.end()) continue;
    if (presence.type == PresenceType::kHave) {
      stats_.haves++;
      ask->second.confirmed = true;
      if (ask->second.state == Ask::kAskedHave || ask->second.state == Ask::kIdle) {
        ask->second.state = Ask::kHave;
      }
    } else {
      stats_.dont_haves++;
      EndAsk(from, ask->second, Ask::kDontHave);
    }
  }
  cv_.notify_all();
}

}  // namespace cairn::bitswap
