#include "filecoin/deals/pin_policy.hpp"

#include <algorithm>
#include <charconv>

namespace cairn::filecoin::deals {

namespace {

Error BadKey(std::string_view key, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "meta " + std::string(key) + ": " + what);
}

// A plain decimal in [min, max]: no sign, no spaces, no leading zeros.
std::optional<int64_t> Decimal(std::string_view text, int64_t min, int64_t max) {
  if (text.empty() || text.size() > 18 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

Result<std::vector<Address>> ParseProviders(std::string_view text) {
  std::vector<Address> out;
  if (text.empty()) return Err(BadKey(kMetaProviders, "empty; list f0 ids such as f01000,f01002"));
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto a = Address::Parse(item);
    if (!a || a->protocol() != AddressProtocol::kId) {
      return Err(
          BadKey(kMetaProviders, "'" + std::string(item) + "' is not a provider id (f0… or t0…)"));
    }
    if (std::find(out.begin(), out.end(), *a) != out.end()) {
      return Err(BadKey(kMetaProviders, "'" + std::string(item) + "' is listed twice"));
    }
    out.push_back(*a);
    if (out.size() > 64) return Err(BadKey(kMetaProviders, "more than 64 providers"));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<PinPolicy> ParsePinPolicy(const std::map<std::string, std::string>& meta) {
  PinPolicy p;
  if (auto it = meta.find(std::string(kMetaReplicas)); it != meta.end()) {
    auto v = Decimal(it->second, 1, kMaxReplicas);
    if (!v) {
      return Err(BadKey(kMetaReplicas, "'" + it->second + "' is not an integer from 1 to " +
                                           std::to_string(kMaxReplicas)));
    }
    p.replicas = static_cast<int>(*v);
  }
  if (auto it = meta.find(std::string(kMetaDurationDays)); it != meta.end()) {
    p.duration_days = Decimal(it->second, kMinDurationDays, kMaxDurationDays);
    if (!p.duration_days) {
      return Err(BadKey(kMetaDurationDays, "'" + it->second + "' is not an integer from " +
                                               std::to_string(kMinDurationDays) + " to " +
                                               std::to_string(kMaxDurationDays) +
                                               " (the market's bounds on a deal's length)"));
    }
  }
  if (auto it = meta.find(std::string(kMetaProviders)); it != meta.end()) {
    p.providers = CAIRN_TRY(ParseProviders(it->second));
  }
  return p;
}

Result<void> CheckPinPolicy(const PinPolicy& policy, const std::vector<Address>& service_providers,
                            int default_replicas) {
  if (service_providers.empty()) return Ok();
  for (const auto& p : policy.providers) {
    if (std::find(service_providers.begin(), service_providers.end(), p) ==
        service_providers.end()) {
      std::string list;
      for (const auto& s : service_providers) list += (list.empty() ? "" : ",") + s.ToString();
      return Err(BadKey(kMetaProviders,
                        p.ToString() + " is not one of this service's providers (" + list + ")"));
    }
  }
  const size_t usable =
      policy.providers.empty() ? service_providers.size() : policy.providers.size();
  const int replicas = policy.replicas.value_or(default_replicas);
  if (static_cast<size_t>(replicas) > usable) {
    const std::string_view key = policy.replicas ? kMetaReplicas : kMetaProviders;
    return Err(BadKey(key, std::to_string(replicas) +
                               " replicas need as many distinct providers; " +
                               std::to_string(usable) + " can be used"));
  }
  return Ok();
}

std::string PolicyKey(const PinPolicy& policy) {
  std::string key;
  auto add = [&key](const std::string& part) { key += (key.empty() ? "" : ";") + part; };
  if (policy.replicas) add("replicas=" + std::to_string(*policy.replicas));
  if (policy.duration_days) add("duration_days=" + std::to_string(*policy.duration_days));
  if (!policy.providers.empty()) {
    std::string list;
    for (const auto& p : policy.providers) list += (list.empty() ? "" : ",") + p.ToString();
    add("providers=" + list);
  }
  return key;
}

EffectivePolicy ResolvePolicy(const PinPolicy& policy,
                              const std::vector<Address>& service_providers, int default_replicas,
                              int64_t default_duration_days) {
  EffectivePolicy e;
  e.replicas = policy.replicas.value_or(default_replicas);
  e.duration_days = policy.duration_days.value_or(default_duration_days);
  e.providers = policy.providers.empty() ? service_providers : policy.providers;
  return e;
}

Result<void> CheckHotMeta(const std::map<std::string, std::string>& meta) {
  auto it = meta.find(std::string(kMetaHot));
  if (it == meta.end() || it->second == "always" || it->second == "auto") return Ok();
  return Err(ErrorCode::kInvalidArgument,
             "meta hot: '" + it->second + "' is not 'always' or 'auto'");
}

}  // namespace cairn::filecoin::deals
