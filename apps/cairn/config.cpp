#include "apps/cairn/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "net/dial_policy.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace cairn::app {

Result<void> CheckLibp2pListen(const std::string& text) {
  auto ma = net::Multiaddr::Parse(text);
  if (!ma) return Err(ma.error().WithContext("config: libp2p.listen: "));
  const auto& c = ma->components();
  if (c.size() != 2 || (c[0].name != "ip4" && c[0].name != "ip6") || c[1].name != "tcp") {
    return Err(ErrorCode::kInvalidArgument,
               "config: libp2p.listen: '" + text + "' must be /ip4|ip6/<address>/tcp/<port>");
  }
  return Ok();
}

Result<void> ParseListen(const std::string& text, ServeConfig& config) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Err(ErrorCode::kInvalidArgument,
               "config: listen address '" + text + "' must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Err(ErrorCode::kInvalidArgument,
               "config: listen port '" + port_text + "' is not a number from 0 to 65535");
  }
  config.listen_host = host;
  config.listen_port = static_cast<uint16_t>(port);
  return Ok();
}

namespace {

// One configuration key: its full name ("section.key") and how a TOML value sets it. Each
// applier returns InvalidArgument naming the key and its accepted range.
struct ConfigKey {
  const char* name;
  std::function<Result<void>(const toml::node&, ServeConfig&)> apply;
};

Error BadValue(const std::string& key, const std::string& expected) {
  return Error(ErrorCode::kInvalidArgument, "config: " + key + " must be " + expected);
}

// An integer key in [min, max] stored in `field`.
template <typename T>
ConfigKey IntKey(const char* name, int64_t min, int64_t max, T ServeConfig::*field,
                 std::string expected = "") {
  if (expected.empty()) expected = std::to_string(min) + ".." + std::to_string(max);
  return {name, [=](const toml::node& value, ServeConfig& config) -> Result<void> {
            auto v = value.value<int64_t>();
            if (!v || *v < min || *v > max) return Err(BadValue(name, expected));
            config.*field = static_cast<T>(*v);
            return Ok();
          }};
}

ConfigKey RateKey(const char* name, double api::RateLimit::*field) {
  return {name, [=](const toml::node& value, ServeConfig& config) -> Result<void> {
            auto v = value.value<double>();
            if (!v || !(*v >= 1) || *v > 1e9) return Err(BadValue(name, "a number >= 1"));
            config.rate_limit.*field = *v;
            return Ok();
          }};
}

// A boolean key (true or false, not 1 or "true") stored in `field`.
ConfigKey BoolKey(const char* name, bool ServeConfig::*field) {
  return {name, [=](const toml::node& value, ServeConfig& config) -> Result<void> {
            auto v = value.value_exact<bool>();
            if (!v) return Err(BadValue(name, "true or false"));
            config.*field = *v;
            return Ok();
          }};
}

// An http(s) URL stored in `field` without trailing slashes; `empty_ok` also takes "" (off).
ConfigKey UrlKey(const char* name, std::string ServeConfig::*field, const std::string& expected,
                 bool empty_ok = false) {
  return {name, [=](const toml::node& value, ServeConfig& config) -> Result<void> {
            auto s = value.value_exact<std::string>();
            bool ok = s && ((empty_ok && s->empty()) || s->rfind("http://", 0) == 0 ||
                            s->rfind("https://", 0) == 0);
            if (!ok) return Err(BadValue(name, expected));
            std::string url = *s;
            while (!url.empty() && url.back() == '/') url.pop_back();
            config.*field = std::move(url);
            return Ok();
          }};
}

Result<void> ApplyGateways(const toml::node& value, ServeConfig& config) {
  const auto* arr = value.as_array();
  if (!arr || arr->size() > 20)
    return Err(BadValue("pinning.gateways", "a list of at most 20 URLs"));
  config.gateways.clear();
  for (const auto& item : *arr) {
    auto url = item.value<std::string>();
    if (!url || (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)) {
      return Err(ErrorCode::kInvalidArgument,
                 "config: pinning.gateways entries must be http(s) URLs");
    }
    config.gateways.push_back(*url);
  }
  return Ok();
}

Result<void> ApplyAnnounce(const toml::node& value, ServeConfig& config) {
  const auto* arr = value.as_array();
  if (!arr || arr->empty() || arr->size() > 20) {
    return Err(BadValue("libp2p.announce", "a list of 1 to 20 multiaddrs"));
  }
  config.announce.clear();
  for (const auto& item : *arr) {
    auto text = item.value<std::string>();
    if (!text)
      return Err(ErrorCode::kInvalidArgument, "config: libp2p.announce entries must be strings");
    auto ma = net::Multiaddr::Parse(*text);
    if (!ma) return Err(ma.error().WithContext("config: libp2p.announce: "));
    if (ma->Has("p2p")) {
      return Err(ErrorCode::kInvalidArgument,
                 "config: libp2p.announce: '" + *text + "' must not include /p2p/ (it is added)");
    }
    config.announce.push_back(ma->ToString());
  }
  return Ok();
}

// libp2p.dial_allow / libp2p.dial_deny: at most 256 IP prefixes each.
Result<std::vector<std::string>> PrefixList(const toml::node& value, const std::string& key) {
  const auto* arr = value.as_array();
  if (!arr || arr->size() > 256) {
    return Err(BadValue(key,
                        "a list of at most 256 IP prefixes (\"10.0.0.0/8\", "
                        "\"/ip4/10.0.0.0/ipcidr/8\")"));
  }
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto text = item.value_exact<std::string>();
    if (!text) return Err(BadValue(key, "a list of strings"));
    auto prefix = net::ParseIpPrefix(*text);
    if (!prefix) return Err(prefix.error().WithContext("config: " + key + ": "));
    out.push_back(*text);
  }
  return out;
}

Result<void> ApplyDialAllow(const toml::node& value, ServeConfig& config) {
  config.libp2p_dial_allow = CAIRN_TRY(PrefixList(value, "libp2p.dial_allow"));
  return Ok();
}

Result<void> ApplyDialDeny(const toml::node& value, ServeConfig& config) {
  config.libp2p_dial_deny = CAIRN_TRY(PrefixList(value, "libp2p.dial_deny"));
  return Ok();
}

Result<void> ApplyFilecoinRpc(const toml::node& value, ServeConfig& config) {
  auto url = value.value_exact<std::string>();
  if (!url || (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)) {
    return Err(BadValue("filecoin.rpc", "an http(s) URL, e.g. http://127.0.0.1:1234/rpc/v1"));
  }
  config.filecoin_rpc = *url;
  return Ok();
}

Result<void> ApplyLibp2pListen(const toml::node& value, ServeConfig& config) {
  const auto* arr = value.as_array();
  if (!arr || arr->empty() || arr->size() > 20) {
    return Err(BadValue("libp2p.listen", "a list of 1 to 20 multiaddrs"));
  }
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto text = item.value<std::string>();
    if (!text) return Err(BadValue("libp2p.listen", "a list of 1 to 20 multiaddrs"));
    CAIRN_TRY(CheckLibp2pListen(*text));
    out.push_back(*text);
  }
  config.libp2p_listen = std::move(out);
  return Ok();
}

// dht.mode: "client", "server" or "off".
Result<void> ApplyDhtMode(const toml::node& value, ServeConfig& config) {
  auto s = value.value_exact<std::string>();
  if (!s || (*s != "client" && *s != "server" && *s != "off")) {
    return Err(BadValue("dht.mode", "\"client\", \"server\" or \"off\""));
  }
  config.dht_mode = *s;
  return Ok();
}

// hot.max_bytes: bytes as an integer, or a string with a binary unit ("500GiB"); 0 = unlimited.
Result<void> ApplyHotMaxBytes(const toml::node& value, ServeConfig& config) {
  const auto bad = [] {
    return BadValue("hot.max_bytes",
                    "bytes: an integer >= 0 or a string such as \"512MiB\", \"20GiB\", \"2TiB\" "
                    "(0 = unlimited)");
  };
  if (auto n = value.value_exact<int64_t>()) {
    if (*n < 0) return Err(bad());
    config.hot_max_bytes = static_cast<uint64_t>(*n);
    return Ok();
  }
  auto s = value.value_exact<std::string>();
  if (!s) return Err(bad());
  static constexpr std::pair<std::string_view, int> kUnits[] = {
      {"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}, {"", 0}};
  for (const auto& [unit, shift] : kUnits) {
    if (s->size() <= unit.size() || s->compare(s->size() - unit.size(), unit.size(), unit) != 0) {
      continue;
    }
    const std::string digits = s->substr(0, s->size() - unit.size());
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n > (UINT64_MAX >> shift)) {
      return Err(bad());
    }
    config.hot_max_bytes = n << shift;
    return Ok();
  }
  return Err(bad());
}

Result<void> ApplyHotPolicy(const toml::node& value, ServeConfig& config) {
  auto s = value.value_exact<std::string>();
  if (!s || (*s != "lru-2" && *s != "lru")) {
    return Err(BadValue("hot.policy", "\"lru-2\" (recency and frequency) or \"lru\""));
  }
  config.hot_policy = *s;
  return Ok();
}

// dht.bootstrap: up to 100 multiaddrs, each ending in /p2p/<peer id>; [] starts from nobody.
Result<void> ApplyDhtBootstrap(const toml::node& value, ServeConfig& config) {
  const auto* arr = value.as_array();
  if (!arr || arr->size() > 100) {
    return Err(BadValue("dht.bootstrap", "a list of at most 100 multiaddrs with /p2p/"));
  }
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto text = item.value_exact<std::string>();
    if (!text) return Err(BadValue("dht.bootstrap", "a list of at most 100 multiaddrs with /p2p/"));
    auto ma = net::Multiaddr::Parse(*text);
    if (!ma) return Err(ma.error().WithContext("config: dht.bootstrap: "));
    auto id = ma->Value("p2p");
    if (!id || !net::PeerId::Parse(*id)) {
      return Err(ErrorCode::kInvalidArgument,
                 "config: dht.bootstrap: '" + *text + "' must end in /p2p/<peer id>");
    }
    out.push_back(*text);
  }
  config.dht_bootstrap = std::move(out);
  return Ok();
}

// dht.reprovide_interval: a duration "<n>h", "<n>m" or "<n>s" (or a number of seconds), from
// 1 minute to 7 days.
Result<void> ApplyDhtReprovideInterval(const toml::node& value, ServeConfig& config) {
  auto bad = [] {
    return Err(BadValue("dht.reprovide_interval",
                        "a duration such as \"22h\", \"90m\" or \"3600s\", 1m..168h"));
  };
  int64_t seconds = 0;
  if (auto n = value.value_exact<int64_t>()) {
    seconds = *n;
  } else if (auto s = value.value_exact<std::string>(); s && s->size() >= 2) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size() - 1, n);
    if (ec != std::errc() || ptr != s->data() + s->size() - 1) return bad();
    char unit = s->back();
    if (unit == 'h')
      seconds = n * 3600;
    else if (unit == 'm')
      seconds = n * 60;
    else if (unit == 's')
      seconds = n;
    else
      return bad();
  } else {
    return bad();
  }
  if (seconds < 60 || seconds > 168 * 3600) return bad();
  config.dht_reprovide_interval_seconds = seconds;
  return Ok();
}

// Every key the TOML file may set (docs/configuration.md lists them with their meaning).
// filecoin.providers: 1 to 100 distinct provider ids (f0…).
Result<void> ApplyFilecoinProviders(const toml::node& value, ServeConfig& config) {
  const auto* arr = value.as_array();
  if (!arr || arr->empty() || arr->size() > 100) {
    return Err(BadValue("filecoin.providers", "a list of 1 to 100 provider ids (f0…)"));
  }
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    auto text = item.value_exact<std::string>();
    auto a = text ? filecoin::Address::Parse(*text)
                  : Result<filecoin::Address>(Err(ErrorCode::kInvalidArgument, ""));
    if (!a || a->protocol() != filecoin::AddressProtocol::kId) {
      return Err(BadValue("filecoin.providers", "a list of provider ids such as \"f01000\""));
    }
    if (std::find(out.begin(), out.end(), *text) != out.end()) {
      return Err(BadValue("filecoin.providers", "a list of distinct provider ids"));
    }
    out.push_back(*text);
  }
  config.filecoin_providers = std::move(out);
  return Ok();
}

// The keys of the hot tier: [server], [pinning], [api], [blockstore], [gateway].
std::vector<ConfigKey> HotTierKeys() {
  return {
      {"server.listen",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto s = value.value<std::string>();
         if (!s) return Err(BadValue("server.listen", "a string"));
         return ParseListen(*s, config);
       }},
      IntKey("server.threads", 0, 256, &ServeConfig::threads),
      IntKey("server.max_body_bytes", 1024, INT64_MAX, &ServeConfig::max_body_bytes, ">= 1024"),
      IntKey("server.max_upload_bytes", 1024, INT64_MAX, &ServeConfig::max_upload_bytes, ">= 1024"),
      IntKey("server.max_connections", 1, 1'000'000, &ServeConfig::max_connections),
      {"pinning.gateways", ApplyGateways},
      IntKey("pinning.workers", 1, 256, &ServeConfig::pin_workers),
      IntKey("pinning.find_deadline_seconds", 1, INT64_MAX, &ServeConfig::find_deadline_seconds,
             ">= 1"),
      IntKey("pinning.gc_interval_seconds", 0, INT64_MAX, &ServeConfig::gc_interval_seconds,
             ">= 0 (0 = never)"),
      IntKey("events.retention_days", 0, 36500, &ServeConfig::events_retention_days,
             "0..36500 (0 = forever)"),
      RateKey("api.rate_per_second", &api::RateLimit::per_second),
      RateKey("api.rate_burst", &api::RateLimit::burst),
      IntKey("api.max_import_roots", 1, 10'000'000, &ServeConfig::max_import_roots),
      IntKey("blockstore.cache_mib", 0, int64_t{1} << 20, &ServeConfig::block_cache_mib,
             "0..1048576 (0 = no cache)"),
      IntKey("blockstore.segment_mib", 1, 1 << 16, &ServeConfig::segment_mib),
      BoolKey("gateway.public", &ServeConfig::gateway_public),
      {"hot.max_bytes", ApplyHotMaxBytes},
      {"hot.policy", ApplyHotPolicy},
      IntKey("hot.check_interval_seconds", 1, 86400, &ServeConfig::hot_check_interval_seconds),
  };
}

// The keys of the node on the IPFS network: [libp2p], [routing].
std::vector<ConfigKey> NetworkKeys() {
  return {
      {"libp2p.announce", ApplyAnnounce},
      {"libp2p.listen", ApplyLibp2pListen},
      BoolKey("libp2p.allow_private", &ServeConfig::libp2p_allow_private),
      {"libp2p.dial_allow", ApplyDialAllow},
      {"libp2p.dial_deny", ApplyDialDeny},
      UrlKey("routing.delegated", &ServeConfig::routing_delegated,
             "an http(s) URL, or \"\" to disable", /*empty_ok=*/true),
      {"dht.mode", ApplyDhtMode},
      {"dht.bootstrap", ApplyDhtBootstrap},
      {"dht.reprovide_interval", ApplyDhtReprovideInterval},
  };
}

// The keys of the cold tier: [filecoin].
std::vector<ConfigKey> FilecoinKeys() {
  return {
      {"filecoin.rpc", ApplyFilecoinRpc},
      {"filecoin.rpc_token",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto s = value.value_exact<std::string>();
         if (!s) return Err(BadValue("filecoin.rpc_token", "a string"));
         config.filecoin_rpc_token = *s;
         return Ok();
       }},
      {"filecoin.wallet",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto s = value.value_exact<std::string>();
         if (!s || !filecoin::Address::Parse(*s)) {
           return Err(BadValue("filecoin.wallet", "a Filecoin address (f1… or t1…)"));
         }
         config.filecoin_wallet = *s;
         return Ok();
       }},
      {"filecoin.network",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto s = value.value_exact<std::string>();
         if (!s || (*s != "mainnet" && *s != "testnet")) {
           return Err(BadValue("filecoin.network", "\"mainnet\" or \"testnet\""));
         }
         config.filecoin_testnet = *s == "testnet";
         return Ok();
       }},
      {"filecoin.providers", ApplyFilecoinProviders},
      IntKey("filecoin.replicas", 1, 16, &ServeConfig::filecoin_replicas),
      IntKey("filecoin.duration_days", 180, 1278, &ServeConfig::filecoin_duration_days,
             "180..1278 (the market's deal duration bounds)"),
      BoolKey("filecoin.verified", &ServeConfig::filecoin_verified),
      {"filecoin.max_price",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto s = value.value_exact<std::string>();
         auto v = s ? filecoin::BigInt::Parse(*s)
                    : Result<filecoin::BigInt>(Err(ErrorCode::kInvalidArgument, ""));
         if (!v || v->is_negative()) {
           return Err(
               BadValue("filecoin.max_price",
                        "a decimal string of attoFIL per GiB per epoch, e.g. \"500000000\""));
         }
         config.filecoin_max_price = *s;
         return Ok();
       }},
      {"filecoin.piece_size",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto v = value.value<int64_t>();
         if (!v || *v < 256 || *v > (int64_t{1} << 36) || (*v & (*v - 1)) != 0) {
           return Err(BadValue("filecoin.piece_size",
                               "a power of two from 256 to 68719476736 (padded bytes)"));
         }
         config.filecoin_piece_size = *v;
         return Ok();
       }},
      IntKey("filecoin.batch_wait_seconds", 0, int64_t{1} << 31,
             &ServeConfig::filecoin_batch_wait_seconds),
      UrlKey("filecoin.public_url", &ServeConfig::filecoin_public_url,
             "the http(s) base URL providers reach this server at"),
      IntKey("filecoin.start_delay_epochs", 1, 40320, &ServeConfig::filecoin_start_delay_epochs),
      IntKey("filecoin.poll_seconds", 1, 86400, &ServeConfig::filecoin_poll_seconds),
      IntKey("filecoin.renew_margin_epochs", 2, 518400, &ServeConfig::filecoin_renew_margin_epochs),
      {"filecoin.reaggregate_below",
       [](const toml::node& value, ServeConfig& config) -> Result<void> {
         auto v = value.value<double>();
         if (!v || !(*v >= 0.0 && *v <= 1.0)) {
           return Err(BadValue("filecoin.reaggregate_below",
                               "a share of the aggregate's bytes from 0 (never) to 1"));
         }
         config.filecoin_reaggregate_below = *v;
         return Ok();
       }},
      IntKey("filecoin.probe_interval_seconds", 0, 86400,
             &ServeConfig::filecoin_probe_interval_seconds),
      IntKey("filecoin.retrieval_deadline_ms", 100, 600000,
             &ServeConfig::filecoin_retrieval_deadline_ms),
  };
}

// Every key, one row each: adding a key is a row in its section's table.
const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> all;
    for (auto section : {HotTierKeys, NetworkKeys, FilecoinKeys}) {
      for (auto& key : section()) all.push_back(std::move(key));
    }
    return all;
  }();
  return keys;
}

}  // namespace

Result<void> ApplyConfigFile(const std::string& path, ServeConfig& config) {
  if (!std::filesystem::exists(path)) {
    return Err(ErrorCode::kNotFound, "config: no file " + path);
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Err(ErrorCode::kInvalidArgument, "config: " + path + ":" +
                                                std::to_string(e.source().begin.line) + ": " +
                                                std::string(e.description()));
  }
  const auto& keys = ConfigKeys();
  for (const auto& [section, node] : table) {
    std::string prefix = std::string(section.str()) + ".";
    bool known_section = std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) {
      return std::string_view(k.name).substr(0, prefix.size()) == prefix;
    });
    if (!known_section) {
      return Err(ErrorCode::kInvalidArgument,
                 "config: " + path + ": unknown section [" + std::string(section.str()) + "]");
    }
    const auto* entries = node.as_table();
    if (!entries) {
      return Err(ErrorCode::kInvalidArgument,
                 "config: " + path + ": [" + std::string(section.str()) + "] must be a table");
    }
    for (const auto& [key, value] : *entries) {
      std::string name = prefix + std::string(key.str());
      auto it = std::find_if(keys.begin(), keys.end(),
                             [&](const ConfigKey& k) { return name == k.name; });
      if (it == keys.end()) {
        return Err(ErrorCode::kInvalidArgument, "config: " + path + ": unknown key " + name);
      }
      CAIRN_TRY(it->apply(value, config));
    }
  }
  return Ok();
}

Result<void> ApplyEnvironment(ServeConfig& config) {
  if (const char* listen = std::getenv("CAIRN_LISTEN"); listen && *listen) {
    auto r = ParseListen(listen, config);
    if (!r) return Err(r.error().WithContext("CAIRN_LISTEN: "));
  }
  if (const char* threads = std::getenv("CAIRN_THREADS"); threads && *threads) {
    int v = 0;
    std::string_view t(threads);
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size() || v < 0 || v > 256) {
      return Err(ErrorCode::kInvalidArgument, "CAIRN_THREADS: must be a number 0..256");
    }
    config.threads = v;
  }
  if (const char* rpc = std::getenv("CAIRN_FILECOIN_RPC"); rpc && *rpc) {
    std::string_view url(rpc);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return Err(ErrorCode::kInvalidArgument, "CAIRN_FILECOIN_RPC: must be an http(s) URL");
    }
    config.filecoin_rpc = rpc;
  }
  if (const char* token = std::getenv("CAIRN_FILECOIN_RPC_TOKEN"); token && *token) {
    config.filecoin_rpc_token = token;
  }
  return Ok();
}

Result<ServeConfig> LoadCommandConfig(const std::string& repo, const std::string& config_path) {
  ServeConfig config;
  std::string path = config_path;
  if (path.empty()) {
    auto in_repo = std::filesystem::path(repo) / "config.toml";
    if (std::filesystem::exists(in_repo)) path = in_repo.string();
  }
  if (!path.empty()) CAIRN_TRY(ApplyConfigFile(path, config));
  CAIRN_TRY(ApplyEnvironment(config));
  return config;
}

}  // namespace cairn::app
