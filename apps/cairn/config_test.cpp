#include "apps/cairn/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/testing/temp_dir.hpp"

namespace cairn::app {
namespace {

Result<ServeConfig> Apply(const std::string& toml) {
  testing::TempDir dir;
  std::string path = dir / "config.toml";
  std::ofstream(path) << toml;
  ServeConfig config;
  CAIRN_TRY(ApplyConfigFile(path, config));
  return config;
}

TEST(Config, EveryKeyOfTheTableApplies) {
  auto c = Apply(R"(
[server]
listen = "0.0.0.0:9000"
threads = 3
max_body_bytes = 4096
max_upload_bytes = 8192
max_connections = 77
[pinning]
gateways = ["http://gw.example"]
workers = 5
find_deadline_seconds = 60
gc_interval_seconds = 0
[events]
retention_days = 7
[api]
rate_per_second = 10
rate_burst = 20
max_import_roots = 5
[blockstore]
cache_mib = 0
segment_mib = 16
[gateway]
public = false
[hot]
max_bytes = "20GiB"
policy = "lru"
check_interval_seconds = 3
[libp2p]
announce = ["/ip4/10.0.0.1/tcp/4001"]
listen = ["/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/4002"]
allow_private = true
dial_allow = ["8.8.0.0/16", "/ip4/10.20.0.0/ipcidr/16"]
dial_deny = ["8.8.4.4"]
[filecoin]
rpc = "https://api.calibration.node.glif.io/rpc/v1"
rpc_token = "jwt.token.here"
wallet = "t1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny"
network = "testnet"
providers = ["f01000", "t01002"]
replicas = 3
duration_days = 540
verified = true
max_price = "500000000"
piece_size = 1048576
batch_wait_seconds = 5
public_url = "https://cairn.example/"
start_delay_epochs = 100
poll_seconds = 2
renew_margin_epochs = 300
reaggregate_below = 0.25
probe_interval_seconds = 0
retrieval_deadline_ms = 2500
[routing]
delegated = "http://router.example"
)");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->libp2p_listen,
            (std::vector<std::string>{"/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/4002"}));
  EXPECT_TRUE(c->libp2p_allow_private);
  EXPECT_EQ(c->libp2p_dial_allow,
            (std::vector<std::string>{"8.8.0.0/16", "/ip4/10.20.0.0/ipcidr/16"}));
  EXPECT_EQ(c->libp2p_dial_deny, (std::vector<std::string>{"8.8.4.4"}));
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9000);
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->max_body_bytes, 4096u);
  EXPECT_EQ(c->max_upload_bytes, 8192u);
  EXPECT_EQ(c->max_connections, 77);
  EXPECT_EQ(c->gateways, std::vector<std::string>{"http://gw.example"});
  EXPECT_EQ(c->pin_workers, 5);
  EXPECT_EQ(c->find_deadline_seconds, 60);
  EXPECT_EQ(c->gc_interval_seconds, 0);
  EXPECT_EQ(c->rate_limit.per_second, 10);
  EXPECT_EQ(c->rate_limit.burst, 20);
  EXPECT_EQ(c->max_import_roots, 5u);
  EXPECT_EQ(c->block_cache_mib, 0);
  EXPECT_EQ(c->segment_mib, 16);
  EXPECT_FALSE(c->gateway_public);
  EXPECT_EQ(c->hot_max_bytes, 20ull << 30);
  EXPECT_EQ(c->hot_policy, "lru");
  EXPECT_EQ(c->hot_check_interval_seconds, 3);
  EXPECT_EQ(c->announce, std::vector<std::string>{"/ip4/10.0.0.1/tcp/4001"});
  EXPECT_EQ(c->filecoin_rpc, "https://api.calibration.node.glif.io/rpc/v1");
  EXPECT_EQ(c->filecoin_rpc_token, "jwt.token.here");
  EXPECT_EQ(c->filecoin_wallet, "t1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny");
  EXPECT_TRUE(c->filecoin_testnet);
  EXPECT_EQ(c->filecoin_providers, (std::vector<std::string>{"f01000", "t01002"}));
  EXPECT_EQ(c->filecoin_replicas, 3);
  EXPECT_EQ(c->filecoin_duration_days, 540);
  EXPECT_TRUE(c->filecoin_verified);
  EXPECT_EQ(c->filecoin_max_price, "500000000");
  EXPECT_EQ(c->filecoin_piece_size, 1048576);
  EXPECT_EQ(c->filecoin_batch_wait_seconds, 5);
  EXPECT_EQ(c->filecoin_public_url, "https://cairn.example");  // trailing '/' dropped
  EXPECT_EQ(c->filecoin_start_delay_epochs, 100);
  EXPECT_EQ(c->filecoin_poll_seconds, 2);
  EXPECT_EQ(c->filecoin_renew_margin_epochs, 300);
  EXPECT_EQ(c->filecoin_reaggregate_below, 0.25);
  EXPECT_EQ(c->filecoin_probe_interval_seconds, 0);
  EXPECT_EQ(c->filecoin_retrieval_deadline_ms, 2500);
  EXPECT_EQ(c->events_retention_days, 7);
  EXPECT_EQ(c->routing_delegated, "http://router.example");
}

TEST(Config, AbsentKeysKeepTheirDefaults) {
  auto c = Apply("[server]\nthreads = 1\n");
  ASSERT_TRUE(c);
  ServeConfig defaults;
  EXPECT_EQ(c->max_connections, defaults.max_connections);
  EXPECT_EQ(c->segment_mib, defaults.segment_mib);
  EXPECT_EQ(c->max_import_roots, defaults.max_import_roots);
  EXPECT_EQ(c->filecoin_rpc, "");
  EXPECT_FALSE(c->filecoin_testnet);
  EXPECT_TRUE(c->filecoin_providers.empty()) << "no providers: the cold tier is off";
  EXPECT_EQ(c->filecoin_replicas, 2);
  EXPECT_EQ(c->filecoin_duration_days, 180);
  EXPECT_EQ(c->routing_delegated, "https://delegated-ipfs.dev");
}

TEST(Config, BadValuesAndUnknownNamesAreRefusedNamingTheKey) {
  struct Case {
    const char* toml;
    const char* says;
  } cases[] = {
      {"[server]\nthreds = 2\n", "unknown key server.threds"},
      {"[nope]\nx = 1\n", "unknown section [nope]"},
      {"server = 1\n", "[server] must be a table"},
      {"[server]\nmax_connections = 0\n", "server.max_connections must be 1..1000000"},
      {"[api]\nmax_import_roots = -1\n", "api.max_import_roots must be"},
      {"[blockstore]\nsegment_mib = 0\n", "blockstore.segment_mib must be"},
      {"[api]\nrate_burst = 0.5\n", "api.rate_burst must be a number >= 1"},
      {"[pinning]\nworkers = \"four\"\n", "pinning.workers must be 1..256"},
      {"[pinning]\ngateways = [\"ftp://x\"]\n", "http(s) URLs"},
      {"[gateway]\npublic = 1\n", "gateway.public must be true or false"},
      {"[hot]\nmax_bytes = -1\n", "hot.max_bytes must be bytes"},
      {"[hot]\nmax_bytes = \"20GB\"\n", "hot.max_bytes must be bytes"},
      {"[hot]\nmax_bytes = \"MiB\"\n", "hot.max_bytes must be bytes"},
      {"[hot]\nmax_bytes = \"99999999999TiB\"\n", "hot.max_bytes must be bytes"},
      {"[hot]\npolicy = \"fifo\"\n", "hot.policy must be"},
      {"[hot]\ncheck_interval_seconds = 0\n", "hot.check_interval_seconds must be 1..86400"},
      {"[libp2p]\nannounce = "
       "[\"/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq\"]\n",
       "must not include /p2p/"},
      {"[server]\nlisten = \"nope\"\n", "must be HOST:PORT"},
      {"[routing]\ndelegated = \"ftp://x\"\n", "routing.delegated must be an http(s) URL"},
      {"[routing]\ndelegated = 1\n", "routing.delegated must be"},
      {"[libp2p]\nlisten = [\"/ip4/1.2.3.4/udp/1/quic-v1\"]\n", "libp2p.listen"},
      {"[libp2p]\nlisten = []\n", "libp2p.listen must be"},
      {"[libp2p]\nallow_private = \"yes\"\n", "libp2p.allow_private must be true or false"},
      {"[libp2p]\ndial_deny = \"10.0.0.0/8\"\n", "libp2p.dial_deny must be a list"},
      {"[libp2p]\ndial_allow = [\"10.0.0.1/8\"]\n",
       "config: libp2p.dial_allow: '10.0.0.1/8' is not an IP prefix"},
      {"[libp2p]\ndial_deny = [8]\n", "libp2p.dial_deny must be a list of strings"},
      {"[server\n", "config: "},
      {"[filecoin]\nrpc = \"127.0.0.1:1234\"\n", "filecoin.rpc must be an http(s) URL"},
      {"[filecoin]\nrpc_token = 5\n", "filecoin.rpc_token must be a string"},
      {"[filecoin]\nwallet = \"f1nope\"\n", "filecoin.wallet must be a Filecoin address"},
      {"[filecoin]\nnetwork = \"calibnet\"\n", "filecoin.network must be"},
      {"[filecoin]\nproviders = []\n", "filecoin.providers must be a list of 1 to 100"},
      {"[filecoin]\nproviders = [\"f1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny\"]\n",
       "filecoin.providers must be a list of provider ids"},
      {"[filecoin]\nproviders = [\"f01000\", \"f01000\"]\n", "distinct provider ids"},
      {"[filecoin]\nreplicas = 0\n", "filecoin.replicas must be 1..16"},
      {"[filecoin]\nduration_days = 100\n", "filecoin.duration_days must be 180..1278"},
      {"[filecoin]\nverified = \"yes\"\n", "filecoin.verified must be true or false"},
      {"[filecoin]\nmax_price = 5\n", "filecoin.max_price must be a decimal string"},
      {"[filecoin]\nmax_price = \"-5\"\n", "filecoin.max_price must be"},
      {"[filecoin]\npiece_size = 1000000\n", "filecoin.piece_size must be a power of two"},
      {"[filecoin]\nbatch_wait_seconds = -1\n", "filecoin.batch_wait_seconds must be"},
      {"[filecoin]\nreaggregate_below = 1.5\n", "filecoin.reaggregate_below must be a share"},
      {"[filecoin]\npublic_url = \"cairn.example\"\n", "filecoin.public_url must be"},
  };
  for (const auto& c : cases) {
    auto r = Apply(c.toml);
    ASSERT_FALSE(r) << c.toml;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.toml;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos)
        << c.toml << " gave: " << r.error().message();
  }
}

TEST(Config, DhtKeys) {
  auto c = Apply(R"(
[dht]
mode = "server"
bootstrap = ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"]
reprovide_interval = "90m"
)");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->dht_mode, "server");
  EXPECT_EQ(c->dht_bootstrap.size(), 1u);
  EXPECT_EQ(c->dht_reprovide_interval_seconds, 90 * 60);
  auto empty = Apply("[dht]\nbootstrap = []\nreprovide_interval = 3600\n");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_TRUE(empty->dht_bootstrap.empty());
  EXPECT_EQ(empty->dht_reprovide_interval_seconds, 3600);
  ServeConfig defaults;
  EXPECT_EQ(defaults.dht_mode, "client");
  EXPECT_EQ(defaults.dht_reprovide_interval_seconds, 22 * 3600);
  EXPECT_EQ(defaults.dht_bootstrap.size(), 7u);  // Kubo's list
  struct Case {
    const char* toml;
    const char* says;
  } cases[] = {
      {"[dht]\nmode = \"full\"\n", "dht.mode must be"},
      {"[dht]\nbootstrap = [\"/ip4/1.2.3.4/tcp/1\"]\n", "must end in /p2p/<peer id>"},
      {"[dht]\nbootstrap = \"x\"\n", "dht.bootstrap must be"},
      {"[dht]\nreprovide_interval = \"22d\"\n", "dht.reprovide_interval must be"},
      {"[dht]\nreprovide_interval = 10\n", "dht.reprovide_interval must be"},
  };
  for (const auto& k : cases) {
    auto r = Apply(k.toml);
    ASSERT_FALSE(r) << k.toml;
    EXPECT_NE(r.error().message().find(k.says), std::string::npos)
        << k.toml << " gave: " << r.error().message();
  }
}

TEST(Config, MissingFileIsNotFound) {
  ServeConfig config;
  auto r = ApplyConfigFile("/nonexistent/cairn.toml", config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cairn::app
