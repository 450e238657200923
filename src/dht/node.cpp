#include "dht/node.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <random>

#include "common/log.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::dht {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kHostWait = std::chrono::seconds(10);

bool OnThreadOf(const asio::any_io_executor& ex) {
  const auto* io_ex = ex.target<asio::io_context::executor_type>();
  return io_ex != nullptr && io_ex->running_in_this_thread();
}

std::string Short(const net::PeerId& peer) {
  std::string s = peer.ToString();
  return s.size() > 12 ? s.substr(s.size() - 8) : s;
}

PeerInfo ToWire(const PeerRef& peer) {
  PeerInfo p;
  p.id = peer.id.hash().Encode();
  for (const auto& a : peer.addrs) p.addrs.push_back(a.ToBytes());
  return p;
}

// A peer from a message; nullopt when its id does not parse (addresses that do not parse, or
// that carry a /p2p/ suffix naming someone else, are dropped one by one).
std::optional<PeerRef> FromWire(const PeerInfo& info) {
  auto id = net::PeerId::FromBytes(info.id);
  if (!id) return std::nullopt;
  std::vector<net::Multiaddr> addrs;
  for (const auto& b : info.addrs) {
    if (addrs.size() == RoutingTable::kMaxAddrs) break;
    auto a = net::Multiaddr::FromBytes(b);
    if (a) addrs.push_back(std::move(*a));
  }
  return PeerRef::Make(std::move(*id), std::move(addrs));
}

std::vector<PeerRef> FromWire(const std::vector<PeerInfo>& infos) {
  std::vector<PeerRef> out;
  for (const auto& i : infos) {
    if (auto p = FromWire(i)) out.push_back(std::move(*p));
  }
  return out;
}

bool ListsKad(const std::vector<std::string>& protocols) {
  return std::find(protocols.begin(), protocols.end(), kProtocolId) != protocols.end();
}

// Resets the stream in `slot` when `timer` expires (not when it is cancelled).
awaitable<void> Watchdog(std::shared_ptr<asio::steady_timer> timer,
                         std::shared_ptr<std::shared_ptr<net::Stream>> slot,
                         std::shared_ptr<bool> fired) {
  auto [ec] = co_await timer->async_wait(kTuple);
  if (ec) co_return;
  *fired = true;
  if (*slot) (*slot)->Reset();
}

// Wakes one waiting coroutine: the waiter sleeps on the timer, wakers cancel it. Everything runs
// on the host's one thread, and a waiter checks its condition before each wait, so no wake is lost.
struct Waker {
  explicit Waker(const asio::any_io_executor& ex) : timer(ex) {}
  awaitable<void> Wait(Clock::time_point until) {
    timer.expires_at(until);
    co_await timer.async_wait(kTuple);
  }
  void Wake() { timer.cancel(); }
  asio::steady_timer timer;
};

}  // namespace

struct Node::Impl : std::enable_shared_from_this<Impl> {
  Impl(net::Host& h, NodeOptions o)
      : host(h),
        executor(h.executor()),
        options(std::move(o)),
        self_id(h.peer_id()),
        table(KadId::Of(self_id.hash().Encode()), {.k = options.k}),
        providers(options.providers) {}

  // A self-describing peer entry for ADD_PROVIDER: this node and its dialable addresses.
  PeerInfo SelfInfo() const { return ToWire(PeerRef::Make(self_id, host.Addrs())); }
  void Learn(const PeerRef& peer) {
    table.Add(peer, Clock::now());
    stats.routing_table_size = table.size();
  }
  void Forget(const net::PeerId& peer, bool failed) {
    if (failed) {
      table.RecordFailure(peer);
    } else {
      table.Remove(peer);
    }
    stats.routing_table_size = table.size();
  }
  std::vector<PeerRef> Seeds(const KadId& target) const {
    std::vector<PeerRef> seeds = table.Closest(target, options.k);
    if (seeds.size() < options.k) seeds.insert(seeds.end(), bootstrap.begin(), bootstrap.end());
    return seeds;
  }
  // Closer peers for an answer: the table's closest with addresses, never the asker itself.
  std::vector<PeerInfo> CloserFor(const Bytes& key, const net::PeerId& asker) const {
    std::vector<PeerInfo> out;
    for (const auto& p : table.Closest(KadId::Of(key), options.k + 1)) {
      if (p.id == asker || p.addrs.empty() || out.size() == options.k) continue;
      out.push_back(ToWire(p));
    }
    return out;
  }
  Result<std::optional<Message>> HandleRequest(const net::PeerId& from, const Message& m);
  void OnIdentify(const net::PeerId& peer, const std::vector<std::string>& protocols);

  net::Host& host;
  asio::any_io_executor executor;
  NodeOptions options;
  net::PeerId self_id;
  RoutingTable table;
  ProviderStore providers;
  std::vector<PeerRef> bootstrap;
  NodeStats stats;
  std::shared_ptr<asio::steady_timer> refresh;
  bool stopped = false;
  // Coroutines waiting for queries to finish (lookups, batches): woken by Shutdown.
  std::vector<std::weak_ptr<Waker>> waiting;

  std::shared_ptr<Waker> NewWaker() {
    std::erase_if(waiting, [](const std::weak_ptr<Waker>& w) { return w.expired(); });
    auto w = std::make_shared<Waker>(executor);
    waiting.push_back(w);
    return w;
  }
};

namespace {

using ImplPtr = std::shared_ptr<Node::Impl>;

Result<void> ValidMultihashKey(const Bytes& key) {
  if (key.empty()) return Err(ErrorCode::kInvalidArgument, "dht: request without a key");
  auto mh = multiformats::Multihash::Decode(key);
  if (!mh) return Err(mh.error().WithContext("dht: key is not a multihash: "));
  return Ok();
}

// The request's steps on one stream: dial, negotiate, write, read the answer (when one is due).
awaitable<Result<std::optional<Message>>> RpcSteps(
    ImplPtr self, PeerRef peer, Bytes frame, MessageType type, bool want_answer,
    std::shared_ptr<std::shared_ptr<net::Stream>> slot) {
  auto connected = co_await self->host.Connect(peer.id, peer.addrs);
  if (!connected) co_return Err(connected.error());
  std::vector<std::string> protocols{std::string(kProtocolId)};
  auto opened = co_await self->host.NewStream(peer.id, std::move(protocols));
  if (!opened) co_return Err(opened.error());
  std::shared_ptr<net::Stream> stream = *opened;
  *slot = stream;
  auto written = co_await stream->Write(frame);
  if (!written) co_return Err(written.error());
  stream->CloseWrite();
  if (!want_answer) {
    // Wait for the peer to finish reading (it closes its side at our EOF), so the records are
    // not lost to a reset.
    std::array<uint8_t, 256> sink{};
    for (;;) {
      auto n = co_await stream->ReadSome(sink);
      if (!n || *n == 0) break;
    }
    co_return std::optional<Message>();
  }
  auto raw = co_await stream->ReadLengthPrefixed(kMaxMessageBytes);
  if (!raw) co_return Err(raw.error());
  if (!*raw) co_return Err(ErrorCode::kUnavailable, "dht: stream closed without an answer");
  auto answer = DecodeMessage(**raw);
  if (!answer) co_return Err(answer.error());
  if (answer->type != type) {
    co_return Err(ErrorCode::kInvalidArgument, "dht: answer of type " +
                                                   std::string(MessageTypeName(answer->type)) +
                                                   " to " + std::string(MessageTypeName(type)));
  }
  co_return std::optional<Message>(std::move(*answer));
}

// One RPC under rpc_timeout (scaled by `frames` for a batch); success makes the peer a table
// entry (it serves the protocol), failure counts against it.
awaitable<Result<std::optional<Message>>> Rpc(ImplPtr self, PeerRef peer, Bytes frame,
                                              MessageType type, bool want_answer,
                                              size_t frames = 1) {
  self->stats.rpcs_sent++;
  if (!peer.addrs.empty()) {
    self->host.peerstore().AddAddrs(peer.id, peer.addrs, net::Peerstore::kRecentTtl,
                                    net::Peerstore::Clock::now());
  }
  auto timeout = self->options.rpc_timeout + std::chrono::milliseconds(frames);
  auto timer = std::make_shared<asio::steady_timer>(self->executor, timeout);
  auto slot = std::make_shared<std::shared_ptr<net::Stream>>();
  auto fired = std::make_shared<bool>(false);
  asio::co_spawn(self->executor, Watchdog(timer, slot, fired), asio::detached);
  auto result = co_await RpcSteps(self, peer, std::move(frame), type, want_answer, slot);
  timer->cancel();
  if (*fired) {
    result = Err(ErrorCode::kTimeout, "dht: " + std::string(MessageTypeName(type)) + " to " +
                                          peer.id.ToString() + " timed out");
  }
  if (self->stopped) co_return result;
  if (result) {
    self->Learn(peer);
  } else {
    self->stats.rpc_failures++;
    self->Forget(peer.id, /*failed=*/true);
    log::Debug("dht_rpc_failed", {{"peer", Short(peer.id)},
                                  {"type", MessageTypeName(type)},
                                  {"error", result.error().message()}});
  }
  co_return result;
}

// One lookup's shared state: the in-flight queries hold it, so it outlives an abandoned lookup.
struct LookupRun {
  LookupRun(std::shared_ptr<Waker> w, Lookup l) : lookup(std::move(l)), waker(std::move(w)) {}
  Lookup lookup;
  std::shared_ptr<Waker> waker;
  std::vector<PeerRef> providers;
  size_t provider_limit = 0;
  bool finished = false;

  void AddProviders(std::vector<PeerRef> found) {
    for (auto& p : found) {
      if (providers.size() >= provider_limit) return;
      bool known = std::any_of(providers.begin(), providers.end(),
                               [&](const PeerRef& q) { return q.id == p.id; });
      if (!known) providers.push_back(std::move(p));
    }
  }
};

awaitable<void> QueryOne(ImplPtr self, std::shared_ptr<LookupRun> run, PeerRef peer, Bytes frame,
                         MessageType type) {
  net::PeerId id = peer.id;
  auto answer = co_await Rpc(self, std::move(peer), std::move(frame), type, true);
  if (run->finished) co_return;
  if (!answer || !*answer) {
    run->lookup.OnFailure(id);
  } else {
    run->AddProviders(FromWire((*answer)->provider_peers));
    run->lookup.OnSuccess(id, FromWire((*answer)->closer_peers));
  }
  run->waker->Wake();
}

// An iterative lookup of `key` (FIND_NODE or GET_PROVIDERS) until the k closest answered, the
// deadline passed, or (GET_PROVIDERS) `provider_limit` providers are known.
awaitable<std::shared_ptr<LookupRun>> RunLookup(ImplPtr self, MessageType type, Bytes key,
                                                size_t provider_limit) {
  self->stats.lookups++;
  KadId target = KadId::Of(key);
  auto run = std::make_shared<LookupRun>(
      self->NewWaker(), Lookup(target, self->self_id, self->Seeds(target),
                               {.k = self->options.k, .alpha = self->options.alpha}));
  run->provider_limit = provider_limit;
  Message request;
  request.type = type;
  request.key = key;
  Bytes frame = EncodeFrame(request);
  auto deadline = Clock::now() + self->options.lookup_timeout;
  while (!self->stopped && Clock::now() < deadline && !run->lookup.Done()) {
    if (provider_limit > 0 && run->providers.size() >= provider_limit) break;
    for (auto& peer : run->lookup.Next()) {
      asio::co_spawn(self->executor, QueryOne(self, run, std::move(peer), frame, type),
                     asio::detached);
    }
    if (run->lookup.in_flight() == 0) break;
    co_await run->waker->Wait(deadline);
  }
  run->finished = true;
  co_return run;
}

// ADD_PROVIDER for every key of a batch, on one stream.
awaitable<void> SendBatch(ImplPtr self, ProviderBatch batch, std::shared_ptr<size_t> accepted,
                          std::shared_ptr<size_t> running, std::shared_ptr<Waker> waker) {
  Bytes frames;
  Message m;
  m.type = MessageType::kAddProvider;
  m.provider_peers.push_back(self->SelfInfo());
  for (const auto& key : batch.keys) {
    m.key = key;
    Bytes f = EncodeFrame(m);
    frames.insert(frames.end(), f.begin(), f.end());
  }
  size_t n = batch.keys.size();
  auto sent = co_await Rpc(self, std::move(batch.peer), std::move(frames),
                           MessageType::kAddProvider, false, n);
  if (sent) {
    *accepted += n;
    self->stats.provider_records_sent += n;
  }
  --*running;
  waker->Wake();
}

awaitable<Result<size_t>> SendBatches(ImplPtr self, std::vector<ProviderBatch> batches) {
  auto accepted = std::make_shared<size_t>(0);
  auto running = std::make_shared<size_t>(0);
  auto waker = self->NewWaker();
  for (auto& b : batches) {
    while (*running >= self->options.alpha && !self->stopped) {
      co_await waker->Wait(Clock::time_point::max());
    }
    if (self->stopped) break;
    ++*running;
    asio::co_spawn(self->executor, SendBatch(self, std::move(b), accepted, running, waker),
                   asio::detached);
  }
  while (*running > 0 && !self->stopped) co_await waker->Wait(Clock::time_point::max());
  co_return *accepted;
}

awaitable<void> ServeStream(std::weak_ptr<Node::Impl> weak, std::shared_ptr<net::Stream> stream) {
  for (size_t i = 0; i < Node::kMaxRequestsPerStream; ++i) {
    auto self = weak.lock();
    if (!self || self->stopped) break;
    auto timer = std::make_shared<asio::steady_timer>(self->executor, self->options.rpc_timeout);
    auto slot = std::make_shared<std::shared_ptr<net::Stream>>(stream);
    auto fired = std::make_shared<bool>(false);
    asio::co_spawn(self->executor, Watchdog(timer, slot, fired), asio::detached);
    auto raw = co_await stream->ReadLengthPrefixed(kMaxMessageBytes);
    timer->cancel();
    if (raw && !*raw) {  // the peer is done
      stream->CloseWrite();
      co_return;
    }
    if (!raw && !*fired && raw.error().code() != ErrorCode::kInvalidArgument) {
      co_return;  // the peer reset the stream or went away: nothing to refuse
    }
    Result<std::optional<Message>> answer = Err(ErrorCode::kInvalidArgument, "unread");
    if (!raw) {
      answer = Err(raw.error());
    } else if (auto m = DecodeMessage(**raw); !m) {
      answer = Err(m.error());
    } else {
      answer = self->HandleRequest(stream->remote_peer(), *m);
    }
    if (!answer) {
      self->stats.requests_refused++;
      log::Info("dht_request_refused",
                {{"peer", Short(stream->remote_peer())},
                 {"error", *fired ? std::string("idle timeout") : answer.error().message()}});
      break;
    }
    self->stats.requests_served++;
    if (!*answer) continue;
    auto w = co_await stream->Write(EncodeFrame(**answer));
    if (!w) co_return;
  }
  stream->Reset();
}

Result<void> TakeProviders(Node::Impl& self, const net::PeerId& from, const Message& m) {
  CAIRN_TRY(ValidMultihashKey(m.key));
  auto now = Clock::now();
  for (const auto& info : m.provider_peers) {
    auto peer = FromWire(info);
    if (!peer || peer->id != from) continue;  // only the sender may announce itself
    if (!peer->addrs.empty()) {
      self.host.peerstore().AddAddrs(from, peer->addrs, net::Peerstore::kRecentTtl,
                                     net::Peerstore::Clock::now());
    }
    self.providers.Add(m.key, *peer, now);
  }
  return Ok();
}

}  // namespace

Result<std::optional<Message>> Node::Impl::HandleRequest(const net::PeerId& from,
                                                         const Message& m) {
  Message answer;
  answer.type = m.type;
  answer.key = m.key;
  switch (m.type) {
    case MessageType::kPing:
      answer.key.clear();
      return answer;
    case MessageType::kFindNode:
    case MessageType::kGetValue:  // no value store: closer peers only
      answer.closer_peers = CloserFor(m.key, from);
      return answer;
    case MessageType::kGetProviders:
      CAIRN_TRY(ValidMultihashKey(m.key));
      for (const auto& p : providers.Get(m.key, options.k, Clock::now())) {
        answer.provider_peers.push_back(ToWire(p));
      }
      answer.closer_peers = CloserFor(m.key, from);
      return answer;
    case MessageType::kAddProvider:
      CAIRN_TRY(TakeProviders(*this, from, m));
      return std::optional<Message>();
    case MessageType::kPutValue:
      break;
  }
  return Err(ErrorCode::kNotSupported, "dht: PUT_VALUE is not served (no value store)");
}

void Node::Impl::OnIdentify(const net::PeerId& peer, const std::vector<std::string>& protocols) {
  if (stopped) return;
  if (ListsKad(protocols)) {
    Learn(PeerRef::Make(peer, host.peerstore().Addrs(peer, net::Peerstore::Clock::now())));
  } else if (table.Contains(peer)) {
    Forget(peer, /*failed=*/false);  // it went to client mode
  }
}

namespace {

// A random key for a refresh lookup (a random spot of the key space).
Bytes RandomKey() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Bytes key(32);
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  return key;
}

// Every refresh_interval: a lookup of this node's own id (its neighbourhood) and of a random key,
// then expiry of provider records.
awaitable<void> RefreshLoop(std::weak_ptr<Node::Impl> weak) {
  for (bool first = true;; first = false) {
    {
      auto self = weak.lock();
      if (!self || self->stopped) co_return;
      if (!first) {
        auto [ec] = co_await self->refresh->async_wait(kTuple);
        if (ec || self->stopped) co_return;
      }
      self->refresh->expires_after(self->options.refresh_interval);
      co_await RunLookup(self, MessageType::kFindNode, self->self_id.hash().Encode(), 0);
      if (!first) co_await RunLookup(self, MessageType::kFindNode, RandomKey(), 0);
      self->providers.Expire(Clock::now());
    }
  }
}

// Runs `work` on the host's thread and waits up to `wait` for its result.
template <typename T>
Result<T> Blocking(const ImplPtr& impl, std::chrono::milliseconds wait, awaitable<Result<T>> work) {
  if (OnThreadOf(impl->executor)) {
    return Err(ErrorCode::kInternal, "dht: blocking call on the host's thread");
  }
  auto out = std::make_shared<std::promise<Result<T>>>();
  auto result = out->get_future();
  asio::co_spawn(impl->executor, std::move(work), [out](const std::exception_ptr& e, Result<T> r) {
    if (e) {
      out->set_value(Err(ErrorCode::kInternal, "dht: unexpected exception"));
    } else {
      out->set_value(std::move(r));
    }
  });
  if (result.wait_for(wait) != std::future_status::ready) {
    return Err(ErrorCode::kTimeout,
               "dht: no result within " + std::to_string(wait.count()) + " ms");
  }
  return result.get();
}

awaitable<Result<size_t>> BootstrapWork(ImplPtr self) {
  co_await RunLookup(self, MessageType::kFindNode, self->self_id.hash().Encode(), 0);
  co_return self->table.size();
}

awaitable<Result<std::vector<PeerRef>>> ClosestWork(ImplPtr self, Bytes key) {
  auto run = co_await RunLookup(self, MessageType::kFindNode, std::move(key), 0);
  co_return run->lookup.Closest(self->options.k * 4);
}

// This node's own records first, then a GET_PROVIDERS lookup for the rest.
awaitable<Result<std::vector<PeerRef>>> ProvidersWork(ImplPtr self, Bytes key, size_t limit) {
  LookupRun merged(nullptr, Lookup(KadId{}, self->self_id, {}));
  merged.provider_limit = limit;
  merged.AddProviders(self->providers.Get(key, limit, Clock::now()));
  if (merged.providers.size() < limit) {
    auto run = co_await RunLookup(self, MessageType::kGetProviders, std::move(key), limit);
    merged.AddProviders(std::move(run->providers));
  }
  co_return std::move(merged.providers);
}

bool RunOnHost(const asio::any_io_executor& ex, std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  auto ready = done->get_future();
  asio::post(ex, [fn = std::move(fn), done] {
    fn();
    done->set_value();
  });
  return ready.wait_for(kHostWait) == std::future_status::ready;
}

}  // namespace

Node::Node(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Node>> Node::Create(net::Host& host, NodeOptions options) {
  if (options.k == 0 || options.alpha == 0) {
    return Err(ErrorCode::kInvalidArgument, "dht: k and alpha must be at least 1");
  }
  auto impl = std::make_shared<Impl>(host, std::move(options));
  for (const auto& a : impl->options.bootstrap) {
    auto id = a.Value("p2p");
    auto peer = id ? net::PeerId::Parse(*id) : Result<net::PeerId>(Err(ErrorCode::kNotFound, ""));
    if (!peer) {
      return Err(ErrorCode::kInvalidArgument,
                 "dht.bootstrap: " + a.ToString() + " does not end in /p2p/<peer id>");
    }
    net::Multiaddr bare;
    for (const auto& c : a.components()) {
      if (c.name == "p2p") break;
      CAIRN_TRY(bare.Append(c.name, c.text));
    }
    impl->bootstrap.push_back(PeerRef::Make(*peer, {bare}));
  }
  std::weak_ptr<Impl> weak = impl;
  bool ok = RunOnHost(impl->executor, [impl, weak] {
    impl->refresh = std::make_shared<asio::steady_timer>(impl->executor);
    impl->host.AddIdentifyListener(
        [weak](const net::PeerId& p, const std::vector<std::string>& ps) {
          if (auto self = weak.lock()) self->OnIdentify(p, ps);
        });
    if (impl->options.mode == Mode::kServer) {
      impl->host.SetStreamHandler(std::string(kProtocolId), [weak](std::shared_ptr<net::Stream> s) {
        return ServeStream(weak, std::move(s));
      });
      impl->host.PushIdentify();  // tell connected peers we serve the protocol now
    }
    if (impl->options.refresh_interval.count() > 0) {
      asio::co_spawn(impl->executor, RefreshLoop(weak), asio::detached);
    }
  });
  if (!ok) return Err(ErrorCode::kUnavailable, "dht: the host's thread did not run the setup");
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::Shutdown() {
  RunOnHost(impl_->executor, [impl = impl_] {
    if (impl->stopped) return;
    impl->stopped = true;
    if (impl->options.mode == Mode::kServer) {
      impl->host.RemoveStreamHandler(std::string(kProtocolId));
    }
    if (impl->refresh) impl->refresh->cancel();
    for (const auto& w : impl->waiting) {
      if (auto waker = w.lock()) waker->Wake();
    }
  });
}

Node::~Node() { Shutdown(); }

Result<size_t> Node::Bootstrap() {
  auto wait = impl_->options.lookup_timeout + kHostWait;
  return Blocking<size_t>(impl_, wait, BootstrapWork(impl_));
}

Result<std::vector<PeerRef>> Node::FindClosestPeers(const Bytes& key) {
  auto wait = impl_->options.lookup_timeout + kHostWait;
  return Blocking<std::vector<PeerRef>>(impl_, wait, ClosestWork(impl_, key));
}

Result<std::vector<PeerRef>> Node::FindProviders(const multiformats::Cid& cid, size_t limit) {
  auto wait = impl_->options.lookup_timeout + kHostWait;
  return Blocking<std::vector<PeerRef>>(impl_, wait, ProvidersWork(impl_, ProviderKey(cid), limit));
}

Result<size_t> Node::SendProviderRecords(std::vector<ProviderBatch> batches) {
  size_t keys = 0;
  for (const auto& b : batches) keys += b.keys.size();
  auto per_round = impl_->options.rpc_timeout + std::chrono::milliseconds(keys);
  auto rounds = (batches.size() + impl_->options.alpha - 1) / impl_->options.alpha;
  auto wait = per_round * static_cast<int64_t>(std::max<size_t>(rounds, 1)) + kHostWait;
  return Blocking<size_t>(impl_, wait, SendBatches(impl_, std::move(batches)));
}

Result<size_t> Node::Provide(const Bytes& key) {
  auto closest = CAIRN_TRY(FindClosestPeers(key));
  if (closest.size() > impl_->options.k) closest.resize(impl_->options.k);
  std::vector<ProviderBatch> batches;
  batches.reserve(closest.size());
  for (auto& p : closest) batches.push_back({std::move(p), {key}});
  size_t took = CAIRN_TRY(SendProviderRecords(std::move(batches)));
  if (took == 0) return Err(ErrorCode::kUnavailable, "dht: no peer took the provider record");
  return took;
}

size_t Node::k() const { return impl_->options.k; }
net::PeerId Node::self() const { return impl_->self_id; }
const NodeStats& Node::stats() const { return impl_->stats; }

}  // namespace cairn::dht
