#include "fetch/bitswap_source.hpp"

#include <map>
#include <mutex>

#include "common/log.hpp"

namespace cairn::fetch {

std::optional<std::string> PeerIdOfMultiaddr(std::string_view multiaddr) {
  size_t at = multiaddr.rfind("/p2p/");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view id = multiaddr.substr(at + 5);
  if (id.empty() || id.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(id);
}

class BitswapSession final : public FetchSession {
 public:
  BitswapSession(BitswapBlockSource& source, SessionParams params)
      : source_(source), params_(std::move(params)), session_(source.client_.NewSession()) {}

  Result<Bytes> Fetch(const Cid& cid) override {
    if (cid.hash().code() == 0x00) return source_.fallback_.Fetch(cid, params_.extra_gateways);
    std::string bitswap_why;
    if (UseBitswap()) {
      Start();
      auto got = Ask(cid);
      if (!got && got.error().code() != ErrorCode::kCancelled && LookUpProviders()) {
        got = Ask(cid);
      }
      if (got) {
        std::lock_guard lock(mu_);
        misses_ = 0;
        return got;
      }
      if (got.error().code() == ErrorCode::kCancelled) return got;
      bitswap_why = got.error().message();
      std::lock_guard lock(mu_);
      misses_++;
    }
    auto http = source_.fallback_.Fetch(cid, params_.extra_gateways);
    if (http || bitswap_why.empty()) return http;
    return Err(http.error().code(), http.error().message() + "; " + bitswap_why);
  }

 private:
  bool UseBitswap() {
    std::lock_guard lock(mu_);
    return misses_ < source_.options_.max_consecutive_misses;
  }
  int64_t Deadline() const {
    int64_t d = source_.clock_.MonotonicMicros() + source_.options_.block_timeout.count() * 1000;
    if (params_.deadline_micros != 0) d = std::min(d, params_.deadline_micros);
    return d;
  }
  std::chrono::milliseconds ConnectTimeout() const {
    auto t = source_.options_.connect_timeout;
    if (params_.deadline_micros != 0) {
      int64_t left_ms = (params_.deadline_micros - source_.clock_.MonotonicMicros()) / 1000;
      t = std::min(t, std::chrono::milliseconds(std::max<int64_t>(left_ms, 0)));
    }
    return t;
  }
  bool Cancelled() const { return params_.cancel && params_.cancel->load(); }

  Result<Bytes> Ask(const Cid& cid) {
    auto got = session_->Get(cid, Deadline(), params_.cancel);
    if (!got) return got;
    // Bitswap accepted it as the CID it hashes to; check it against the wanted one again.
    auto ok = cid.hash().Verify(*got);
    if (!ok) return Err(ok.error().WithContext("bitswap: " + cid.ToString() + ": "));
    return got;
  }

  // Origins with /p2p/, then connected peers. Once per session; later callers wait for it.
  void Start() {
    std::call_once(started_, [&] {
      std::map<std::string, std::vector<std::string>> by_peer;
      for (const auto& origin : params_.origins) {
        if (auto id = PeerIdOfMultiaddr(origin)) by_peer[*id].push_back(origin);
      }
      std::vector<bitswap::PeerId> peers;
      for (const auto& [peer, addrs] : by_peer) {
        if (peers.size() >= source_.options_.max_origin_peers || Cancelled()) break;
        auto connected = source_.network_.Connect(peer, addrs, ConnectTimeout());
        if (connected) {
          peers.push_back(peer);
        } else {
          log::Info("fetch.origin_not_dialed",
                    {{"peer", peer}, {"error", connected.error().message()}});
        }
      }
      size_t added = 0;
      for (const auto& p : source_.network_.ConnectedPeers()) {
        if (added++ >= source_.options_.max_connected_peers) break;
        peers.push_back(p.peer);
      }
      session_->AddPeers(peers);
    });
  }

  // Providers of the root (once per session): true when new peers joined.
  bool LookUpProviders() {
    if (!source_.routing_) return false;
    {
      std::lock_guard lock(mu_);
      if (looked_up_) return false;
      looked_up_ = true;
    }
    if (Cancelled()) return false;
    auto providers = source_.routing_->FindProviders(params_.root, source_.options_.max_providers);
    if (!providers) {
      log::Info("fetch.routing_failed",
                {{"cid", params_.root.ToString()}, {"error", providers.error().message()}});
      return false;
    }
    std::vector<bitswap::PeerId> peers;
    const bitswap::PeerId self = source_.network_.Self();
    for (const auto& p : *providers) {
      if (Cancelled()) break;
      if (p.id == self) continue;
      if (source_.network_.Connect(p.id, p.addrs, ConnectTimeout())) peers.push_back(p.id);
    }
    if (peers.empty()) return false;
    session_->AddPeers(peers);
    return true;
  }

  BitswapBlockSource& source_;
  const SessionParams params_;
  std::unique_ptr<bitswap::Session> session_;
  std::once_flag started_;
  std::mutex mu_;
  bool looked_up_ = false;  // GUARDED_BY(mu_)
  size_t misses_ = 0;       // GUARDED_BY(mu_) consecutive blocks bitswap did not deliver
};

BitswapBlockSource::BitswapBlockSource(bitswap::Network& network, bitswap::Client& client,
                                       ProviderFinder* routing, BlockSource& fallback,
                                       const Clock& clock, BitswapSourceOptions options)
    : network_(network),
      client_(client),
      routing_(routing),
      fallback_(fallback),
      clock_(clock),
      options_(options) {}

Result<Bytes> BitswapBlockSource::Fetch(const Cid& cid, std::span<const std::string> extra) {
  SessionParams params;
  params.root = cid;
  params.extra_gateways.assign(extra.begin(), extra.end());
  return OpenSession(params)->Fetch(cid);
}

std::unique_ptr<FetchSession> BitswapBlockSource::OpenSession(const SessionParams& params) {
  return std::make_unique<BitswapSession>(*this, params);
}

}  // namespace cairn::fetch
