// Configuration of `cairn serve`: embedded defaults, overridden in turn by a TOML file
// (`--config FILE`, else `<repo>/config.toml` when it exists), environment variables
// (CAIRN_LISTEN, CAIRN_THREADS) and command-line flags. docs/configuration.md lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/rate_limiter.hpp"
#include "common/result.hpp"

namespace cairn::app {

struct ServeConfig {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  int threads = 0;                          // 0 = number of cores
  uint64_t max_body_bytes = 1 << 20;        // requests with larger bodies get 413
  uint64_t max_upload_bytes = 32ull << 30;  // /api/v0/add and dag/import bodies
  // Open client connections at most; beyond it new connections get 503 and are closed, before
  // the process runs out of file descriptors.
  int64_t max_connections = 4096;
  // libp2p: where the host listens (/ip4|ip6/<address>/tcp/<port>; port 0 = any free port).
  std::vector<std::string> libp2p_listen = {"/ip4/0.0.0.0/tcp/4001"};
  // Multiaddrs (without /p2p/) where this node's libp2p listener is reachable; with the peer ID
  // appended they are the `delegates` of every PinStatus. Empty: the addresses the host really
  // bound (an unspecified address expanded to the machine's interfaces, port 0 resolved).
  std::vector<std::string> announce;
  // Dial loopback, private and link-local addresses (a public server must not probe LANs).
  bool libp2p_allow_private = false;
  // IP prefixes the host never dials (dial_deny) and, when not empty, the only ones it dials
  // (dial_allow), as net::ParseIpPrefix reads them ("10.0.0.0/8", "/ip4/10.0.0.0/ipcidr/8").
  std::vector<std::string> libp2p_dial_allow;
  std::vector<std::string> libp2p_dial_deny;

  // Pinning: where missing blocks are fetched from (trustless gateways, `?format=raw`), how many
  // pins are fetched at once, and how long a CID may take to be found before its pin fails.
  std::vector<std::string> gateways = {"https://trustless-gateway.link"};
  int pin_workers = 4;
  int64_t find_deadline_seconds = 600;
  // Garbage collection of blocks no pin needs, then compaction of the block store, every this
  // many seconds (0 = never; `cairn gc` runs it by hand on a stopped repo).
  int64_t gc_interval_seconds = 3600;
  // Pin events (GET /pins/{requestid}/events) older than this many days are deleted at each
  // upkeep round (0 = kept forever).
  int64_t events_retention_days = 90;
  // Pinning API rate limit per account, reads and writes apart: sustained requests per second
  // and burst (429 with Retry-After beyond them).
  api::RateLimit rate_limit;
  // Distinct roots one /api/v0/dag/import may carry (400 beyond).
  size_t max_import_roots = 10000;
  // Verified blocks kept in memory (blockstore::CachedBlockstore), in MiB; 0 = none.
  int64_t block_cache_mib = 256;
  // Size of the block store's segment files, in MiB: the unit compaction reclaims.
  int64_t segment_mib = 1024;
  // Delegated content routing (GET {url}/routing/v1/providers/{cid}): where bitswap fetching
  // looks for providers of a pin's root. "" disables it. The default is the endpoint Kubo and
  // Helia use.
  std::string routing_delegated = "https://delegated-ipfs.dev";
  // Kademlia DHT (/ipfs/kad/1.0.0): "client" (query and provide, serve nothing), "server" (also
  // answer other peers' queries and hold their provider records) or "off". The peers to start
  // from (multiaddrs with /p2p/; the default is Kubo's list, whose /dnsaddr/ entries the host
  // skips as it resolves no DNS), and how often every pinned root is provided again.
  std::string dht_mode = "client";
  std::vector<std::string> dht_bootstrap = {
      "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
      "/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
      "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
      "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
      "/dnsaddr/va1.bootstrap.libp2p.io/p2p/12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8",
      "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
      "/ip4/104.131.131.82/udp/4001/quic-v1/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
  };
  int64_t dht_reprovide_interval_seconds = 22 * 3600;
  // Gateway: serve content to requests without a token (true) or only with a valid token.
  bool gateway_public = true;
  // The hot tier as a cache (docs/architecture.md "The hot tier as a cache"): when the hot store
  // holds more than `hot_max_bytes` (0 = unlimited), pins whose deals are all active give up
  // their hot blocks in `hot_policy` order ("lru-2" or "lru"), checked every
  // `hot_check_interval_seconds`. Needs the cold tier.
  uint64_t hot_max_bytes = 0;
  std::string hot_policy = "lru-2";
  int64_t hot_check_interval_seconds = 10;

  // Filecoin (docs/filecoin.md): the chain's Lotus JSON-RPC v1 endpoint and its bearer token
  // (empty: none), the wallet address that pays (empty: the repo wallet's default), and how
  // addresses are spelled (f… mainnet, t… testnets such as calibnet and the devnet).
  std::string filecoin_rpc;
  std::string filecoin_rpc_token;
  std::string filecoin_wallet;
  bool filecoin_testnet = false;
  // The cold tier (docs/filecoin.md "Deal engine"): on when `filecoin.providers` is set. Deals
  // with `replicas` distinct providers from `providers` (f0 ids), `duration_days` long, verified
  // or not, at most `max_price` attoFIL/GiB/epoch ("" = any ask); pins are aggregated up to
  // `piece_size` padded bytes or for at most `batch_wait_seconds`; providers pull the data from
  // `public_url` (this server's URL as they reach it). StartEpoch is head +
  // `start_delay_epochs`; deals are polled every `poll_seconds`. A deal within
  // `renew_margin_epochs` of its end is renewed (a new deal made while it runs; must exceed
  // start_delay_epochs).
  std::vector<std::string> filecoin_providers;
  int64_t filecoin_replicas = 2;
  int64_t filecoin_duration_days = 180;
  bool filecoin_verified = false;
  std::string filecoin_max_price;
  int64_t filecoin_piece_size = int64_t{1} << 30;
  int64_t filecoin_batch_wait_seconds = 3600;
  std::string filecoin_public_url;
  int64_t filecoin_start_delay_epochs = 5760;
  int64_t filecoin_poll_seconds = 30;
  int64_t filecoin_renew_margin_epochs = 17280;  // 6 days: 3 × the default start delay
  // An aggregate due for renewal or repair whose live pins hold less than this share of its
  // bytes is re-aggregated instead (its live pins packed into a new piece); 0 = never.
  double filecoin_reaggregate_below = 0.5;
  // Every this many seconds a few active deals get a retrieval probe (0: none).
  int64_t filecoin_probe_interval_seconds = 300;
  // A provider that has not answered a cold read of one block within this many milliseconds is
  // left for the next replica.
  int64_t filecoin_retrieval_deadline_ms = 10000;
};

// Parses "HOST:PORT" ("127.0.0.1:8080", "[::1]:0"). InvalidArgument with a reason otherwise.
Result<void> ParseListen(const std::string& text, ServeConfig& config);
// A libp2p listen address must be /ip4|ip6/<address>/tcp/<port>; InvalidArgument naming
// libp2p.listen otherwise.
Result<void> CheckLibp2pListen(const std::string& text);

// Applies the TOML file at `path` to `config`. NotFound when the file does not exist;
// InvalidArgument naming the key (or the line of a syntax error) when it is malformed. Unknown
// keys are errors too, so typos do not pass silently.
Result<void> ApplyConfigFile(const std::string& path, ServeConfig& config);

// Applies CAIRN_LISTEN, CAIRN_THREADS, CAIRN_FILECOIN_RPC and CAIRN_FILECOIN_RPC_TOKEN when set.
Result<void> ApplyEnvironment(ServeConfig& config);

// The configuration as `cairn serve` reads it, for the commands beside it (wallet, deals,
// account policy): defaults, then the TOML file (`config_path`, else <repo>/config.toml when it
// exists), then the environment.
Result<ServeConfig> LoadCommandConfig(const std::string& repo, const std::string& config_path);

}  // namespace cairn::app
