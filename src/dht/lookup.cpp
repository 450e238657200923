#include "dht/lookup.hpp"

#include <algorithm>

namespace cairn::dht {

Lookup::Lookup(KadId target, const net::PeerId& self, std::vector<PeerRef> seeds,
               LookupOptions options)
    : target_(target), self_(self), options_(options) {
  for (auto& s : seeds) Insert(std::move(s));
}

std::optional<size_t> Lookup::IndexOf(const net::PeerId& peer) const {
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].peer.id == peer) return i;
  }
  return std::nullopt;
}

void Lookup::Insert(PeerRef peer) {
  if (peer.id == self_) return;
  if (auto at = IndexOf(peer.id)) {
    // Known: a later mention may bring addresses the first one lacked.
    auto& known = candidates_[*at].peer.addrs;
    if (known.empty()) known = std::move(peer.addrs);
    return;
  }
  auto pos = std::lower_bound(
      candidates_.begin(), candidates_.end(), peer.kad,
      [&](const Candidate& c, const KadId& kad) { return Closer(c.peer.kad, kad, target_); });
  candidates_.insert(pos, Candidate{std::move(peer), State::kNew});
  if (candidates_.size() <= options_.max_candidates) return;
  // Over the bound: drop the farthest candidate not yet asked.
  for (size_t i = candidates_.size(); i-- > 0;) {
    if (candidates_[i].state == State::kNew) {
      candidates_.erase(candidates_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

std::vector<PeerRef> Lookup::Next() {
  std::vector<PeerRef> out;
  size_t seen = 0;  // candidates among the k closest that have not failed
  for (auto& c : candidates_) {
    if (seen == options_.k || in_flight_ >= options_.alpha) break;
    if (c.state == State::kFailed) continue;
    ++seen;
    if (c.state != State::kNew) continue;
    c.state = State::kWaiting;
    ++in_flight_;
    out.push_back(c.peer);
  }
  return out;
}

void Lookup::OnSuccess(const net::PeerId& peer, std::vector<PeerRef> closer) {
  auto at = IndexOf(peer);
  if (!at || candidates_[*at].state != State::kWaiting) return;
  candidates_[*at].state = State::kAnswered;
  --in_flight_;
  for (auto& p : closer) Insert(std::move(p));
}

void Lookup::OnFailure(const net::PeerId& peer) {
  auto at = IndexOf(peer);
  if (!at || candidates_[*at].state != State::kWaiting) return;
  candidates_[*at].state = State::kFailed;
  --in_flight_;
}

bool Lookup::Done() const {
  size_t seen = 0;
  for (const auto& c : candidates_) {
    if (seen == options_.k) break;
    if (c.state == State::kFailed) continue;
    ++seen;
    if (c.state != State::kAnswered) return false;
  }
  return true;  // the k closest (or all, when fewer) that have not failed answered
}

std::vector<PeerRef> Lookup::Closest(size_t count) const {
  std::vector<PeerRef> out;
  for (const auto& c : candidates_) {
    if (out.size() == count) break;
    if (c.state == State::kAnswered) out.push_back(c.peer);
  }
  return out;
}

std::vector<PeerRef> Lookup::Answered() const { return Closest(candidates_.size()); }

}  // namespace cairn::dht
