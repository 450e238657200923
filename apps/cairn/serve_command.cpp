// `cairn serve`: the composition root of the service. Reads the configuration, opens the repo,
// builds the HTTP surfaces and runs until SIGINT/SIGTERM, then drains and exits cleanly.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "apps/cairn/bitswap_node.hpp"
#include "apps/cairn/cold_tier.hpp"
#include "apps/cairn/commands.hpp"
#include "apps/cairn/config.hpp"
#include "apps/cairn/dht_node.hpp"
#include "apps/cairn/http_getter.hpp"
#include "apps/cairn/maintenance.hpp"
#include "apps/cairn/service.hpp"
#include "blockstore/cached_blockstore.hpp"
#include "blockstore/fallback_blockstore.hpp"
#include "blockstore/write_behind_blockstore.hpp"
#include "common/log.hpp"
#include "http/server.hpp"
#include "metadata/events.hpp"
#include "net/host.hpp"

namespace cairn::app {
namespace {

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::vector<std::string> libp2p_listen;
  bool libp2p_allow_private = false;
  int threads = -1;
};

// The configuration `cairn serve` runs with: embedded defaults, then the config file (--config,
// else <repo>/config.toml when present), then the environment, then the flags.
Result<ServeConfig> LoadServeConfig(const GlobalOptions& global, const ServeFlags& flags) {
  ServeConfig config;
  std::string config_path = flags.config_path;
  if (config_path.empty()) {
    auto in_repo = std::filesystem::path(global.repo) / "config.toml";
    if (std::filesystem::exists(in_repo)) config_path = in_repo.string();
  }
  if (!config_path.empty()) CAIRN_TRY(ApplyConfigFile(config_path, config));
  CAIRN_TRY(ApplyEnvironment(config));
  if (!flags.listen.empty()) CAIRN_TRY(ParseListen(flags.listen, config));
  if (flags.threads >= 0) config.threads = flags.threads;
  if (!flags.libp2p_listen.empty()) {
    for (const auto& l : flags.libp2p_listen) CAIRN_TRY(CheckLibp2pListen(l));
    config.libp2p_listen = flags.libp2p_listen;
  }
  if (flags.libp2p_allow_private) config.libp2p_allow_private = true;
  if (config.threads == 0)
    config.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return config;
}

// The libp2p host on its own io_context thread (signals are blocked there too, since it starts
// after Serve blocks them). Destroying it stops the host, then the thread.
class P2pRuntime {
 public:
  static Result<std::unique_ptr<P2pRuntime>> Start(const net::Ed25519Identity& identity,
                                                   const ServeConfig& config) {
    auto runtime = std::unique_ptr<P2pRuntime>(new P2pRuntime());
    net::HostOptions options;
    for (const auto& l : config.libp2p_listen) options.listen.push_back(*net::Multiaddr::Parse(l));
    for (const auto& a : config.announce) options.announce.push_back(*net::Multiaddr::Parse(a));
    options.dial.allow_private = config.libp2p_allow_private;
    options.dns = net::SystemDnsResolver();  // /dns4, /dns6, /dnsaddr origins and bootstrap peers
    for (const auto& p : config.libp2p_dial_allow) {
      options.dial.allow.push_back(CAIRN_TRY(net::ParseIpPrefix(p)));
    }
    for (const auto& p : config.libp2p_dial_deny) {
      options.dial.deny.push_back(CAIRN_TRY(net::ParseIpPrefix(p)));
    }
    options.agent_version = "cairn/" CAIRN_VERSION;
    runtime->host_ = CAIRN_TRY(net::Host::Create(runtime->io_, identity, options));
    for (const auto& a : runtime->host_->Addrs()) {
      runtime->addrs_.push_back(a.ToString());
      runtime->delegates_.push_back(a.ToString() + "/p2p/" + identity.peer_id().ToString());
    }
    if (runtime->delegates_.empty()) {
      return Err(ErrorCode::kInvalidArgument,
                 "libp2p: no dialable address to announce; set libp2p.announce");
    }
    runtime->thread_ = std::thread([io = &runtime->io_] { io->run(); });
    return runtime;
  }
  ~P2pRuntime() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [h = host_.get()] { h->Stop(); });
    work_.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    io_.stop();
    thread_.join();
  }
  P2pRuntime(const P2pRuntime&) = delete;
  P2pRuntime& operator=(const P2pRuntime&) = delete;

  net::Host& host() { return *host_; }
  // The host's dialable addresses with /p2p/<peer id>: the PSA `delegates` and the banner's.
  const std::vector<std::string>& delegates() const { return delegates_; }
  // The same addresses without /p2p/<peer id>.
  const std::vector<std::string>& addrs() const { return addrs_; }

 private:
  P2pRuntime() = default;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<net::Host> host_;
  std::vector<std::string> delegates_;
  std::vector<std::string> addrs_;
  std::thread thread_;
};

void PrintBanner(const GlobalOptions& global, const ServeConfig& config, uint16_t port,
                 const net::Ed25519Identity& identity, const std::vector<std::string>& delegates) {
  std::string host = config.listen_host.find(':') != std::string::npos
                         ? "[" + config.listen_host + "]"
                         : config.listen_host;
  std::printf("cairn: serving repo %s at http://%s:%u/\n", global.repo.c_str(), host.c_str(),
              static_cast<unsigned>(port));
  std::printf("cairn: gateway http://%s:%u/ipfs/<cid>, health /healthz, metrics /metrics\n",
              host.c_str(), static_cast<unsigned>(port));
  std::printf("cairn: peer ID %s\n", identity.peer_id().ToString().c_str());
  for (const auto& d : delegates) std::printf("cairn: libp2p %s\n", d.c_str());
  std::printf(
      "cairn: pinning API http://%s:%u/pins; create a token with\n"
      "         %s --repo %s account create NAME && %s --repo %s token create --account NAME\n",
      host.c_str(), static_cast<unsigned>(port), global.program.c_str(), global.repo.c_str(),
      global.program.c_str(), global.repo.c_str());
  std::printf("cairn: stop with Ctrl-C\n");
  std::fflush(stdout);
  log::Info("serve.start", {{"repo", global.repo},
                            {"listen", host + ":" + std::to_string(port)},
                            {"peer_id", identity.peer_id().ToString()},
                            {"threads", config.threads},
                            {"pin_workers", config.pin_workers}});
}

// Blocks until SIGINT or SIGTERM (blocked in every thread, so only this wait receives them).
void WaitForStopSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  std::printf("cairn: %s received, draining\n", name);
  std::fflush(stdout);
  log::Info("serve.draining", {{"signal", name}});
}

http::ServerOptions HttpOptions(const ServeConfig& config, Service& service) {
  http::ServerOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.threads = static_cast<size_t>(config.threads);
  options.max_body_bytes = config.max_body_bytes;
  options.max_stream_bytes = config.max_upload_bytes;
  options.max_connections = static_cast<size_t>(config.max_connections);
  options.admit = [&service](const http::Request& r) { return service.Admit(r); };
  return options;
}

// The HTTP surfaces below the router, and the events by which they tell the pin workers about
// new and removed pins.
struct ApiSurfaces {
  struct Events : api::PinEvents {
    explicit Events(pinning::PinService& s) : service(s) {}
    void OnQueued() override { service.Notify(); }
    void OnRemoved(const std::string& id) override { service.Cancel(id); }
    pinning::PinService& service;
  };

  // `blocks` is the read path (hot, then cold); writes through it reach the hot store.
  ApiSurfaces(const GlobalOptions& global, const ServeConfig& config,
              blockstore::Blockstore& blocks, metadata::PinStore& pins,
              metadata::AccountStore& accounts, metadata::EventStore& history,
              metadata::DealStore& deals, pinning::PinService& pin_service, const Clock& clock,
              const net::Ed25519Identity& identity, const std::vector<std::string>& delegates)
      : events(pin_service),
        pinning(pins, accounts, events, clock, PinningOptions(config, history, deals, delegates)),
        kubo_rpc(RpcContext(global, config, blocks, pins, accounts, pin_service, clock, identity,
                            delegates)),
        admin(accounts, clock, AdminDefaults(config)),
        gateway(blocks) {}

  Events events;
  api::PinningApi pinning;
  api::KuboRpc kubo_rpc;
  api::AdminApi admin;
  gateway::Gateway gateway;

 private:
  // Pin events from `history`; receipts from the repo's deal records; pins' filecoin.* meta
  // checked against the cold tier's providers (a provider that does not parse is refused by the
  // cold tier itself).
  // The cold tier's defaults, against which account policies are checked (a configuration whose
  // providers do not parse does not start the cold tier, which says why).
  static filecoin::deals::ServicePolicy AdminDefaults(const ServeConfig& config) {
    auto defaults = ServicePolicyOf(config);
    return defaults ? *defaults : filecoin::deals::ServicePolicy{};
  }

  static api::PinningApiOptions PinningOptions(const ServeConfig& config,
                                               metadata::EventStore& history,
                                               metadata::DealStore& deals,
                                               const std::vector<std::string>& delegates) {
    api::PinningApiOptions options{.delegates = delegates, .rate_limit = config.rate_limit};
    options.events = &history;
    options.deals = &deals;
    for (const auto& p : config.filecoin_providers) {
      if (auto a = filecoin::Address::Parse(p)) options.filecoin_providers.push_back(*a);
    }
    options.filecoin_replicas = static_cast<int>(config.filecoin_replicas);
    return options;
  }

  api::KuboRpcContext RpcContext(const GlobalOptions& global, const ServeConfig& config,
                                 blockstore::Blockstore& blocks, metadata::PinStore& pins,
                                 metadata::AccountStore& accounts, pinning::PinService& pin_service,
                                 const Clock& clock, const net::Ed25519Identity& identity,
                                 const std::vector<std::string>& delegates) {
    api::KuboRpcContext context{blocks,
                                pin_service.leases(),
                                pins,
                                accounts,
                                events,
                                clock,
                                identity,
                                delegates,
                                std::filesystem::path(global.repo) / "spool"};
    context.max_import_roots = config.max_import_roots;
    context.pin_rate = &pinning.rate_limiter();
    return context;
  }
};

// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that only
// WaitForStopSignal receives them; returns the set to wait on.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// `dht` (may be null) provides each root once its pin is pinned.
pinning::PinServiceOptions PinOptions(const ServeConfig& config, P2pDht* dht) {
  pinning::PinServiceOptions options;
  if (dht != nullptr) {
    options.on_pinned = [dht](const multiformats::Cid& cid) { dht->OnPinned(cid); };
  }
  options.workers = static_cast<size_t>(config.pin_workers);
  options.find_deadline_us = config.find_deadline_seconds * 1'000'000;
  return options;
}

// The hot tier as a cache (pinning/hot_cache.hpp): with the cold tier on, it records what the
// read path serves and evicts pins whose deals are all active once the hot store holds more than
// hot.max_bytes (0: it only records). Null without a cold tier.
std::unique_ptr<pinning::HotCache> MakeHotCache(
    const ServeConfig& config, ColdTier* cold_tier, metadata::DealStore& deals,
    metadata::PinStore& pins, blockstore::Blockstore& hot, blockstore::LogBlockstore& store,
    pinning::PinService& service, pinning::AccessLog& accesses, const Clock& clock) {
  if (!cold_tier) return nullptr;
  pinning::HotCacheOptions o;
  o.max_bytes = config.hot_max_bytes;
  o.policy_k = pinning::EvictionPolicyK(config.hot_policy).value_or(2);
  o.default_replicas = static_cast<int>(config.filecoin_replicas);
  o.interval_us = config.hot_check_interval_seconds * 1'000'000;
  return std::make_unique<pinning::HotCache>(
      deals, pins, hot, service, accesses, clock, [&store] { return store.Stats().live_bytes; }, o);
}

// The banner's line for the hot tier.
void PrintHotTier(const ServeConfig& config, const pinning::HotCache* cache) {
  if (config.hot_max_bytes == 0) {
    std::printf("cairn: hot tier: unlimited (hot.max_bytes = 0: nothing is evicted)\n");
  } else if (!cache) {
    std::printf(
        "cairn: hot tier: unlimited: hot.max_bytes needs the cold tier (a pin leaves the hot "
        "store only once all its deals are active)\n");
  } else {
    std::printf(
        "cairn: hot tier: cache of %llu bytes, policy %s: pins whose deals are all active leave "
        "it, coldest first, and are read back from Filecoin\n",
        static_cast<unsigned long long>(config.hot_max_bytes), config.hot_policy.c_str());
  }
}

// Starts the cold tier's engine and prints its banner lines, or says that it is off.
void StartColdTier(ColdTier* cold_tier) {
  if (cold_tier) {
    for (const auto& line : cold_tier->BannerLines()) std::printf("cairn: %s\n", line.c_str());
    cold_tier->Start();
  } else {
    std::printf("cairn: cold tier off (no [filecoin] providers in the configuration)\n");
  }
  std::fflush(stdout);
}

// The read path of every surface (gateway, Kubo RPC, bitswap server): the hot store, then,
// with a cold tier, the providers of active deals (issue 11 §1).
struct ReadPath {
  // The cold tier's view of the hot store: blocks it writes back (deal data read from a surviving
  // replica for a repair) are recorded, so that the hot cache can evict them again.
  std::unique_ptr<pinning::TouchingBlockstore> cold_writes;
  std::unique_ptr<ColdTier> cold_tier;  // null when [filecoin] has no providers
  std::unique_ptr<blockstore::FallbackBlockstore> tiered;
  blockstore::Blockstore* reads = nullptr;

  static Result<ReadPath> Open(const GlobalOptions& global, const ServeConfig& config,
                               metadata::Database& db, metadata::PinStore& pins,
                               metadata::EventStore& events, blockstore::Blockstore& hot,
                               net::Host& host, pinning::AccessLog& accesses) {
    ReadPath path;
    path.cold_writes = std::make_unique<pinning::TouchingBlockstore>(
        hot, accesses, pinning::TouchingBlockstore::Record::kWrites);
    path.cold_tier =
        CAIRN_TRY(ColdTier::Create(global, config, db, pins, events, *path.cold_writes, &host));
    path.reads = &hot;
    if (path.cold_tier) {
      path.tiered = std::make_unique<blockstore::FallbackBlockstore>(hot, path.cold_tier->reader());
      path.reads = path.tiered.get();
    }
    return path;
  }
};

// The pin workers' source with the cold tier first: a DAG whose blocks left the hot tier (evicted)
// but are still held by active deals is fetched back from the providers, verified, before the
// network is asked. So a pin replaced, or the same CID pinned by another account, after an
// eviction finds its blocks even when no peer or gateway has them. Anything the cold tier cannot
// give (not in an active deal, every replica failing) goes to `network`.
class ColdFirstSource final : public fetch::BlockSource {
 public:
  ColdFirstSource(ipld::BlockGetter& cold, fetch::BlockSource& network)
      : cold_(cold), network_(network) {}

  Result<Bytes> Fetch(const multiformats::Cid& cid,
                      std::span<const std::string> extra_gateways) override {
    if (auto bytes = FromCold(cid)) return std::move(*bytes);
    return network_.Fetch(cid, extra_gateways);
  }
  std::unique_ptr<fetch::FetchSession> OpenSession(const fetch::SessionParams& params) override {
    return std::make_unique<Session>(*this, network_.OpenSession(params));
  }

 private:
  class Session final : public fetch::FetchSession {
   public:
    Session(ColdFirstSource& owner, std::unique_ptr<fetch::FetchSession> network)
        : owner_(owner), network_(std::move(network)) {}
    Result<Bytes> Fetch(const multiformats::Cid& cid) override {
      if (auto bytes = owner_.FromCold(cid)) return std::move(*bytes);
      return network_->Fetch(cid);
    }

   private:
    ColdFirstSource& owner_;
    std::unique_ptr<fetch::FetchSession> network_;
  };

  // The block from the cold tier, verified here whatever the reader checked; nullopt otherwise.
  std::optional<Bytes> FromCold(const multiformats::Cid& cid) {
    auto got = cold_.Get(cid);
    if (!got || !cid.hash().Verify(*got)) return std::nullopt;
    return std::move(*got);
  }

  ipld::BlockGetter& cold_;
  fetch::BlockSource& network_;
};

// Deletes pin events older than events.retention_days (an upkeep step).
std::function<void()> EventRetention(metadata::EventStore& events, const ServeConfig& config,
                                     const Clock& clock) {
  if (config.events_retention_days == 0) return {};
  const int64_t keep_us = config.events_retention_days * 86400 * 1'000'000;
  return [&events, &clock, keep_us] {
    auto purged = events.Purge(clock.WallMicros() - keep_us);
    if (!purged) log::Error("events.purge_failed", {{"error", purged.error().message()}});
  };
}

// The composition root: opens the repo, builds every part in dependency order, serves until a
// stop signal, then drains (HTTP first, then owed answers, metadata, workers, block store).
Result<void> Serve(const GlobalOptions& global, const ServeFlags& flags) {
  const sigset_t signals = BlockStopSignals();  // before any thread starts
  ServeConfig config = CAIRN_TRY(LoadServeConfig(global, flags));

  blockstore::LogBlockstoreOptions store_options;
  store_options.segment_size = static_cast<uint64_t>(config.segment_mib) << 20;
  auto log_blocks = CAIRN_TRY(OpenRepoBlockstore(global, store_options));
  // Everything but compaction and the store's own metrics reads and deletes through the cache
  // (a delete must reach it); it holds verified blocks only. In front of it, the write-behind
  // queue (blockstore/write_behind_blockstore.hpp): a cold read's write-backs are written by a
  // background thread, and every Delete (eviction, garbage collection) is ordered after them, so
  // everything reads, writes and deletes through `hot_blocks`.
  blockstore::CachedBlockstore cached_blocks(*log_blocks,
                                             static_cast<uint64_t>(config.block_cache_mib) << 20);
  blockstore::WriteBehindBlockstore hot_blocks(cached_blocks);
  auto identity =
      CAIRN_TRY(net::LoadOrCreateIdentity(std::filesystem::path(global.repo) / "identity.key"));
  auto p2p = CAIRN_TRY(P2pRuntime::Start(identity, config));
  const std::vector<std::string>& delegates = p2p->delegates();
  const Clock& clock = SystemClock::Instance();
  auto db = CAIRN_TRY(OpenRepoMetadata(global));
  metadata::AccountStore accounts(*db, clock);
  metadata::PinStore pins(*db, clock);
  metadata::EventStore events(*db, clock);
  // --- cold tier (apps/cairn/cold_tier.hpp) and the read path (hot, then cold) --------------
  // Every block the read path serves is recorded for the hot cache's order (with a cold tier).
  pinning::AccessLog accesses;
  ReadPath read_path = CAIRN_TRY(
      ReadPath::Open(global, config, *db, pins, events, hot_blocks, p2p->host(), accesses));
  ColdTier* cold_tier = read_path.cold_tier.get();
  std::unique_ptr<pinning::TouchingBlockstore> touching;
  if (cold_tier)
    touching = std::make_unique<pinning::TouchingBlockstore>(*read_path.reads, accesses);
  blockstore::Blockstore& reads = touching ? *touching : *read_path.reads;
  BeastHttpGetter http_getter;
  fetch::GatewayBlockSource source(http_getter, {.gateways = config.gateways});
  // --- bitswap and delegated routing ----------------------------------------------------
  // Bitswap over the libp2p host (P2pBitswap, apps/cairn/bitswap_node.hpp): serves pinned
  // content, and the workers fetch over bitswap first (origins with /p2p/, connected peers,
  // routing.delegated providers), then the gateways. Declared after `p2p`, so it is
  // destroyed (engines stopped, handlers unregistered) while the host still runs.
  // The Kademlia DHT (apps/cairn/dht_node.hpp; null with dht.mode = "off"): provides pinned
  // roots and finds providers for the bitswap client, after the delegated router.
  auto p2p_dht = CAIRN_TRY(P2pDht::Start(p2p->host(), pins, config));
  auto p2p_bitswap = CAIRN_TRY(P2pBitswap::Start(
      p2p->host(), reads, pins, http_getter, source, clock,
      BitswapNodeConfig{config.routing_delegated, p2p_dht ? &p2p_dht->finder() : nullptr}));
  std::unique_ptr<ColdFirstSource> cold_first;
  if (cold_tier)
    cold_first = std::make_unique<ColdFirstSource>(cold_tier->held_reader(), p2p_bitswap->source());
  fetch::BlockSource& pin_source =
      cold_first ? static_cast<fetch::BlockSource&>(*cold_first) : p2p_bitswap->source();
  // GET /routing/v1/providers/{cid}: this node for content pinned here, at the host's addresses.
  api::RoutingApi routing_api(pins, {.peer_id = identity.peer_id().ToString(),
                                     .addrs = [addrs = p2p->addrs()] { return addrs; }});
  // --- end of bitswap and delegated routing ------------------------------------------------
  metadata::DealStore deal_records(*db, clock);  // receipts, the hot cache's records
  pinning::PinServiceOptions pin_options = PinOptions(config, p2p_dht.get());
  if (cold_tier) {
    // Garbage collection keeps what reads brought back of evicted pins.
    pin_options.also_live = [&deal_records](const std::function<void(ByteSpan)>& fn) {
      return deal_records.ForEachEvictedBlock(fn);
    };
  }
  pinning::PinService pin_service(pins, hot_blocks, pin_source, clock, pin_options);
  auto hot_cache = MakeHotCache(config, cold_tier, deal_records, pins, hot_blocks, *log_blocks,
                                pin_service, accesses, clock);

  ApiSurfaces apis(global, config, reads, pins, accounts, events, deal_records, pin_service, clock,
                   identity, delegates);
  Service service(ServiceContext{*log_blocks, identity, delegates, apis.pinning, apis.kubo_rpc,
                                 apis.admin, apis.gateway, pin_service, accounts, pins, clock,
                                 config.gateway_public, &cached_blocks, &routing_api, cold_tier,
                                 hot_cache.get(), p2p_bitswap.get(), p2p_dht.get()});
  PeriodicUpkeep upkeep(pin_service, *log_blocks, std::chrono::seconds(config.gc_interval_seconds),
                        EventRetention(events, config, clock));

  http::HttpServer server(
      HttpOptions(config, service),
      [&service](const http::Request& r) { return service.Handle(r); },
      [&service](const http::Request& r) { return service.StreamUpload(r); });
  service.AttachServerStats(&server.stats());
  CAIRN_TRY(pin_service.Start());
  uint16_t port = CAIRN_TRY(server.Start());
  upkeep.Start();
  PrintBanner(global, config, port, identity, delegates);
  StartColdTier(cold_tier);  // after the banner: its first URL is the listening one
  PrintHotTier(config, hot_cache.get());
  std::fflush(stdout);
  if (hot_cache) hot_cache->Start();

  WaitForStopSignal(signals);
  server.Stop();
  if (cold_tier) cold_tier->Stop();  // cold tier
  // Answers still owed to sessions go out through the server's executor: settle them while it
  // exists (the server is destroyed before the stores below it).
  apis.kubo_rpc.StopCompletions();
  if (auto flushed = pins.Flush(); !flushed) {
    log::Error("serve.flush_failed", {{"error", flushed.error().message()}});
  }
  if (hot_cache) hot_cache->Stop();
  upkeep.Stop();
  pin_service.Stop();
  hot_blocks.Flush();  // the cold reads' queued write-backs, before the last sync
  CAIRN_TRY(log_blocks->Sync());
  log::Info("serve.stop");
  std::printf("cairn: stopped\n");
  return Ok();
}

}  // namespace

void RegisterServeCommands(CLI::App& app, GlobalOptions& options) {
  auto flags = std::make_shared<ServeFlags>();
  auto* serve = app.add_subcommand("serve", "Run the service (gateway, health, metrics)");
  serve->add_option("--config", flags->config_path,
                    "TOML configuration (default: <repo>/config.toml when present)");
  serve->add_option("--listen", flags->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_option("--threads", flags->threads, "I/O threads (default: number of cores)");
  serve->add_option("--libp2p-listen", flags->libp2p_listen,
                    "libp2p listen multiaddr, repeatable (default /ip4/0.0.0.0/tcp/4001)");
  serve->add_flag("--libp2p-allow-private", flags->libp2p_allow_private,
                  "dial loopback and private addresses (libp2p.allow_private = true)");
  serve->callback([&options, flags] { Finish(Serve(options, *flags)); });
}

}  // namespace cairn::app
