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
#include "apps/cairn/http_getter.hpp"
#include "apps/cairn/maintenance.hpp"
#include "apps/cairn/service.hpp"
#include "blockstore/cached_blockstore.hpp"
#include "common/log.hpp"
#include "http/server.hpp"
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

Result<void> Serve(const GlobalOptions& global, const ServeFlags& flags) {
  // Block the signals before any thread starts (the metadata committer, pin workers,
  // HTTP threads) so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
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

  blockstore::LogBlockstoreOptions store_options;
  store_options.segment_size = static_cast<uint64_t>(config.segment_mib) << 20;
  auto log_blocks = CAIRN_TRY(OpenRepoBlockstore(global, store_options));
  // Everything but compaction and the store's own metrics reads and deletes through the cache
  // (a delete must reach it); it holds verified blocks only.
  blockstore::CachedBlockstore cached_blocks(*log_blocks,
                                             static_cast<uint64_t>(config.block_cache_mib) << 20);
  auto identity =
      CAIRN_TRY(net::LoadOrCreateIdentity(std::filesystem::path(global.repo) / "identity.key"));
  // The libp2p host: its own io_context and thread (signals are blocked there too).
  boost::asio::io_context p2p_io;
  net::HostOptions p2p_options;
  for (const auto& l : config.libp2p_listen)
    p2p_options.listen.push_back(*net::Multiaddr::Parse(l));
  for (const auto& a : config.announce) p2p_options.announce.push_back(*net::Multiaddr::Parse(a));
  p2p_options.dial.allow_private = config.libp2p_allow_private;
  p2p_options.agent_version = "cairn/" CAIRN_VERSION;
  auto p2p_host = net::Host::Create(p2p_io, identity, p2p_options);
  if (!p2p_host) return Err(p2p_host.error());
  std::vector<std::string> delegates;
  for (const auto& a : (*p2p_host)->Addrs()) {
    delegates.push_back(a.ToString() + "/p2p/" + identity.peer_id().ToString());
  }
  if (delegates.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "libp2p: no dialable address to announce; set libp2p.announce");
  }
  auto p2p_work = boost::asio::make_work_guard(p2p_io);
  std::thread p2p_thread([&p2p_io] { p2p_io.run(); });
  struct StopP2p {
    boost::asio::io_context& io;
    net::Host& host;
    decltype(p2p_work)& work;
    std::thread& thread;
    ~StopP2p() {
      boost::asio::post(io, [h = &host] { h->Stop(); });
      work.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      io.stop();
      thread.join();
    }
  } stop_p2p{p2p_io, **p2p_host, p2p_work, p2p_thread};
  const Clock& clock = SystemClock::Instance();
  auto db = CAIRN_TRY(OpenRepoMetadata(global));
  metadata::AccountStore accounts(*db, clock);
  metadata::PinStore pins(*db, clock);
  BeastHttpGetter http_getter;
  fetch::GatewayBlockSource source(http_getter, {.gateways = config.gateways});
  pinning::PinServiceOptions pin_options;
  pin_options.workers = static_cast<size_t>(config.pin_workers);
  pin_options.find_deadline_us = config.find_deadline_seconds * 1'000'000;
  // --- bitswap and delegated routing (issue 8) ---------------------------------------------
  // The libp2p host (src/net) provides a bitswap::Network; until it does, this stays null and
  // the pin workers use the gateways exactly as before. With one, BitswapNode serves pinned
  // content over bitswap and the workers fetch over bitswap first (origins with /p2p/,
  // connected peers, routing.delegated providers), then the gateways.
  bitswap::Network* bitswap_network = nullptr;
  std::optional<BitswapNode> bitswap_node;
  if (bitswap_network) {
    bitswap_node.emplace(*bitswap_network, cached_blocks, pins, http_getter, source, clock,
                         BitswapNodeConfig{config.routing_delegated});
  }
  fetch::BlockSource& pin_source = bitswap_node ? bitswap_node->source() : source;
  // GET /routing/v1/providers/{cid}: this node for content pinned here; its addresses are the
  // libp2p host's listeners (none until it exists).
  api::RoutingApi routing_api(pins, {.peer_id = identity.peer_id().ToString(),
                                     .addrs = [] { return std::vector<std::string>{}; }});
  // --- end of bitswap and delegated routing ------------------------------------------------
  pinning::PinService pin_service(pins, cached_blocks, pin_source, clock, pin_options);

  // The API tells the workers about new and removed pins.
  struct Events : api::PinEvents {
    explicit Events(pinning::PinService& s) : service(s) {}
    void OnQueued() override { service.Notify(); }
    void OnRemoved(const std::string& id) override { service.Cancel(id); }
    pinning::PinService& service;
  } events(pin_service);
  api::PinningApi pinning_api(pins, accounts, events, clock,
                              {.delegates = delegates, .rate_limit = config.rate_limit});
  api::KuboRpcContext rpc_context{cached_blocks,
                                  pin_service.leases(),
                                  pins,
                                  accounts,
                                  events,
                                  clock,
                                  identity,
                                  delegates,
                                  std::filesystem::path(global.repo) / "spool"};
  rpc_context.max_import_roots = config.max_import_roots;
  rpc_context.pin_rate = &pinning_api.rate_limiter();
  api::KuboRpc kubo_rpc(std::move(rpc_context));
  api::AdminApi admin_api(accounts, clock);
  gateway::Gateway gateway(cached_blocks);
  // --- cold tier (issue 10; apps/cairn/cold_tier.hpp): null when [filecoin] has no providers ---
  auto cold_tier = CAIRN_TRY(ColdTier::Create(global, config, *db, pins, cached_blocks));
  // --- end of cold tier ----------------------------------------------------------------------
  Service service(ServiceContext{*log_blocks, identity, delegates, pinning_api, kubo_rpc, admin_api,
                                 gateway, pin_service, accounts, pins, clock, config.gateway_public,
                                 &cached_blocks, &routing_api, cold_tier.get()});
  PeriodicUpkeep upkeep(pin_service, *log_blocks, std::chrono::seconds(config.gc_interval_seconds));

  http::ServerOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.threads = static_cast<size_t>(config.threads);
  options.max_body_bytes = config.max_body_bytes;
  options.max_stream_bytes = config.max_upload_bytes;
  options.max_connections = static_cast<size_t>(config.max_connections);
  options.admit = [&service](const http::Request& r) { return service.Admit(r); };
  http::HttpServer server(
      options, [&service](const http::Request& r) { return service.Handle(r); },
      [&service](const http::Request& r) { return service.StreamUpload(r); });
  service.AttachServerStats(&server.stats());
  CAIRN_TRY(pin_service.Start());
  uint16_t port = CAIRN_TRY(server.Start());
  upkeep.Start();
  if (cold_tier) cold_tier->Start();  // cold tier
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
  if (cold_tier) {  // cold tier
    for (const auto& line : cold_tier->BannerLines()) std::printf("cairn: %s\n", line.c_str());
  } else {
    std::printf("cairn: cold tier off (no [filecoin] providers in the configuration)\n");
  }
  std::printf("cairn: stop with Ctrl-C\n");
  std::fflush(stdout);
  log::Info("serve.start", {{"repo", global.repo},
                            {"listen", host + ":" + std::to_string(port)},
                            {"peer_id", identity.peer_id().ToString()},
                            {"threads", config.threads},
                            {"pin_workers", config.pin_workers}});

  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("cairn: %s received, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  log::Info("serve.draining", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.Stop();
  if (cold_tier) cold_tier->Stop();  // cold tier
  // Answers still owed to sessions go out through the server's executor: settle them while it
  // exists (the server is destroyed before the stores below it).
  kubo_rpc.StopCompletions();
  if (auto flushed = pins.Flush(); !flushed) {
    log::Error("serve.flush_failed", {{"error", flushed.error().message()}});
  }
  upkeep.Stop();
  pin_service.Stop();
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
