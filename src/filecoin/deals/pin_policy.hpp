// Per-pin storage policy (issue 10 §7; docs/api.md "Per-pin Filecoin policy"): the PSA `meta`
// keys a user sets on a pin to override the service's deal defaults.
//
//   filecoin.replicas       decimal 1..16: deals (with distinct providers) per piece
//   filecoin.duration_days  decimal 180..1278: the deals' length (the market's bounds)
//   filecoin.providers      comma-separated f0/t0 ids, in order of preference, no repeats
//
// Other meta keys are not looked at. ParsePinPolicy checks the text (the API answers 400 with its
// message, which names the key); CheckPinPolicy checks it against the service (the providers must
// be among the service's, and there must be enough of them for the replicas). The deal engine
// groups segments by PolicyKey, so that segments with different policies never share an aggregate
// and its deals, and deals for each aggregate with ResolvePolicy of its segments' policy.
//
// Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "filecoin/types/address.hpp"

namespace cairn::filecoin::deals {

inline constexpr std::string_view kMetaReplicas = "filecoin.replicas";
inline constexpr std::string_view kMetaDurationDays = "filecoin.duration_days";
inline constexpr std::string_view kMetaProviders = "filecoin.providers";
// Not a deal setting but the hot tier's (pinning/hot_cache.hpp): "always" keeps the pin's blocks
// hot whatever hot.max_bytes says; "auto" (the same as no key) lets the pin leave the hot tier
// once all its deals are active.
inline constexpr std::string_view kMetaHot = "hot";
inline constexpr int kMaxReplicas = 16;
inline constexpr int64_t kMinDurationDays = 180;   // the market's DealMinDuration
inline constexpr int64_t kMaxDurationDays = 1278;  // the market's DealMaxDuration

struct PinPolicy {
  std::optional<int> replicas;
  std::optional<int64_t> duration_days;
  std::vector<Address> providers;  // empty: the service's

  bool empty() const { return !replicas && !duration_days && providers.empty(); }
  friend bool operator==(const PinPolicy&, const PinPolicy&) = default;
};

// The policy in a pin's meta. InvalidArgument naming the key and the value's fault
// ("meta filecoin.replicas: '0' is not an integer from 1 to 16").
Result<PinPolicy> ParsePinPolicy(const std::map<std::string, std::string>& meta);

// Ok when the meta's `hot` key is absent, "always" or "auto"; InvalidArgument naming the key
// otherwise ("meta hot: 'sometimes' is not 'always' or 'auto'").
Result<void> CheckHotMeta(const std::map<std::string, std::string>& meta);

// Ok when `policy` can be honoured by a service dealing with `service_providers` (its
// filecoin.providers) and `default_replicas`: every provider of the pin is one of the service's,
// and the providers the pin may use number at least its replicas. InvalidArgument naming the key.
// An empty `service_providers` (the cold tier is off) checks nothing: the policy waits, stored
// with the pin, for a service that deals.
Result<void> CheckPinPolicy(const PinPolicy& policy, const std::vector<Address>& service_providers,
                            int default_replicas);

// The canonical text of a policy ("" for none; "replicas=3;duration_days=200;providers=f01000,
// f01002" with only the keys set): equal policies, equal keys.
std::string PolicyKey(const PinPolicy& policy);

// What deals for an aggregate of that policy use.
struct EffectivePolicy {
  int replicas = 2;
  int64_t duration_days = kMinDurationDays;
  std::vector<Address> providers;
};
EffectivePolicy ResolvePolicy(const PinPolicy& policy,
                              const std::vector<Address>& service_providers, int default_replicas,
                              int64_t default_duration_days);

}  // namespace cairn::filecoin::deals
