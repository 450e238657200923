#include "apps/cairn/config.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>

#include "net/multiaddr.hpp"

namespace cairn::app {

Result<void> ParseListen(const std::string& text, ServeConfig& config) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Err(ErrorCode::kInvalidArgument, "config: listen address '" + text +
                                                "' must be HOST:PORT, e.g. 127.0.0.1:8080");
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

Result<void> ApplyConfigFile(const std::string& path, ServeConfig& config) {
  if (!std::filesystem::exists(path)) {
    return Err(ErrorCode::kNotFound, "config: no file " + path);
  }
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Err(ErrorCode::kInvalidArgument,
               "config: " + path + ":" + std::to_string(e.source().begin.line) + ": " +
                   std::string(e.description()));
  }
  for (const auto& [section, node] : table) {
    if (section == "libp2p") {
      const auto* libp2p = node.as_table();
      if (!libp2p) {
        return Err(ErrorCode::kInvalidArgument, "config: " + path + ": [libp2p] must be a table");
      }
      for (const auto& [key, value] : *libp2p) {
        std::string k(key.str());
        if (k != "announce") {
          return Err(ErrorCode::kInvalidArgument, "config: " + path + ": unknown key libp2p." + k);
        }
        const auto* arr = value.as_array();
        if (!arr || arr->empty() || arr->size() > 20) {
          return Err(ErrorCode::kInvalidArgument,
                     "config: libp2p.announce must be a list of 1 to 20 multiaddrs");
        }
        config.announce.clear();
        for (const auto& item : *arr) {
          auto text = item.value<std::string>();
          if (!text) return Err(ErrorCode::kInvalidArgument, "config: libp2p.announce entries must be strings");
          auto ma = net::Multiaddr::Parse(*text);
          if (!ma) return Err(ma.error().WithContext("config: libp2p.announce: "));
          if (ma->Has("p2p")) {
            return Err(ErrorCode::kInvalidArgument,
                       "config: libp2p.announce: '" + *text + "' must not include /p2p/ (it is added)");
          }
          config.announce.push_back(ma->ToString());
        }
      }
      continue;
    }
    if (section == "pinning" || section == "gateway" || section == "api" || section == "blockstore") {
      const auto* t = node.as_table();
      if (!t) {
        return Err(ErrorCode::kInvalidArgument,
                   "config: " + path + ": [" + std::string(section.str()) + "] must be a table");
      }
      for (const auto& [key, value] : *t) {
        std::string k = std::string(section.str()) + "." + std::string(key.str());
        if (k == "pinning.gateways") {
          const auto* arr = value.as_array();
          if (!arr || arr->size() > 20) {
            return Err(ErrorCode::kInvalidArgument, "config: pinning.gateways must be a list of at most 20 URLs");
          }
          config.gateways.clear();
          for (const auto& item : *arr) {
            auto url = item.value<std::string>();
            if (!url || (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)) {
              return Err(ErrorCode::kInvalidArgument,
                         "config: pinning.gateways entries must be http(s) URLs");
            }
            config.gateways.push_back(*url);
          }
        } else if (k == "pinning.workers") {
          auto v = value.value<int64_t>();
          if (!v || *v < 1 || *v > 256) {
            return Err(ErrorCode::kInvalidArgument, "config: pinning.workers must be 1..256");
          }
          config.pin_workers = static_cast<int>(*v);
        } else if (k == "pinning.find_deadline_seconds") {
          auto v = value.value<int64_t>();
          if (!v || *v < 1) {
            return Err(ErrorCode::kInvalidArgument, "config: pinning.find_deadline_seconds must be >= 1");
          }
          config.find_deadline_seconds = *v;
        } else if (k == "pinning.gc_interval_seconds") {
          auto v = value.value<int64_t>();
          if (!v || *v < 0) {
            return Err(ErrorCode::kInvalidArgument,
                       "config: pinning.gc_interval_seconds must be >= 0 (0 = never)");
          }
          config.gc_interval_seconds = *v;
        } else if (k == "api.rate_per_second" || k == "api.rate_burst") {
          auto v = value.value<double>();
          if (!v || !(*v >= 1) || *v > 1e9) {
            return Err(ErrorCode::kInvalidArgument, "config: " + k + " must be a number >= 1");
          }
          (k == "api.rate_per_second" ? config.rate_limit.per_second : config.rate_limit.burst) = *v;
        } else if (k == "blockstore.cache_mib") {
          auto v = value.value<int64_t>();
          if (!v || *v < 0 || *v > (int64_t{1} << 20)) {
            return Err(ErrorCode::kInvalidArgument,
                       "config: blockstore.cache_mib must be 0..1048576 (0 = no cache)");
          }
          config.block_cache_mib = *v;
        } else if (k == "gateway.public") {
          auto v = value.value<bool>();
          if (!v) return Err(ErrorCode::kInvalidArgument, "config: gateway.public must be true or false");
          config.gateway_public = *v;
        } else {
          return Err(ErrorCode::kInvalidArgument, "config: " + path + ": unknown key " + k);
        }
      }
      continue;
    }
    if (section != "server") {
      return Err(ErrorCode::kInvalidArgument,
                 "config: " + path + ": unknown section [" + std::string(section.str()) + "]");
    }
    const auto* server = node.as_table();
    if (!server) {
      return Err(ErrorCode::kInvalidArgument, "config: " + path + ": [server] must be a table");
    }
    for (const auto& [key, value] : *server) {
      std::string k(key.str());
      if (k == "listen") {
        auto s = value.value<std::string>();
        if (!s) return Err(ErrorCode::kInvalidArgument, "config: server.listen must be a string");
        CAIRN_TRY(ParseListen(*s, config));
      } else if (k == "threads") {
        auto v = value.value<int64_t>();
        if (!v || *v < 0 || *v > 256) {
          return Err(ErrorCode::kInvalidArgument, "config: server.threads must be 0..256");
        }
        config.threads = static_cast<int>(*v);
      } else if (k == "max_body_bytes") {
        auto v = value.value<int64_t>();
        if (!v || *v < 1024) {
          return Err(ErrorCode::kInvalidArgument, "config: server.max_body_bytes must be >= 1024");
        }
        config.max_body_bytes = static_cast<uint64_t>(*v);
      } else if (k == "max_upload_bytes") {
        auto v = value.value<int64_t>();
        if (!v || *v < 1024) {
          return Err(ErrorCode::kInvalidArgument, "config: server.max_upload_bytes must be >= 1024");
        }
        config.max_upload_bytes = static_cast<uint64_t>(*v);
      } else {
        return Err(ErrorCode::kInvalidArgument,
                   "config: " + path + ": unknown key server." + k);
      }
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
  return Ok();
}

}  // namespace cairn::app
