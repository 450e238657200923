// Storage policy (issue 10 §7; docs/api.md "Per-pin Filecoin policy", docs/filecoin.md "Policy"):
// what the deals for a pin's aggregate use, from three levels, the first that sets a value wins:
//
//   1. the pin's PSA `meta` keys (PinPolicy):
//        filecoin.replicas       decimal 1..16: deals (with distinct providers) per piece
//        filecoin.duration_days  decimal 180..1278: the deals' length (the market's bounds)
//        filecoin.providers      comma-separated f0/t0 ids, in order of preference, no repeats
//   2. the pin's account (AccountPolicy, set by an operator: `cairn account policy`, or
//      PUT /admin/accounts/{name}/policy): the same three keys, and
//        filecoin.verified       "true" | "false": verified (FIL+) deals where DataCap allows
//        filecoin.max_price      decimal attoFIL per GiB per epoch: the highest ask accepted
//        filecoin.deny           comma-separated ids the account's pins are never dealt with
//      The account's filecoin.providers is an allow list: its pins may name no other provider.
//   3. the service's [filecoin] configuration (ServicePolicy): providers, replicas,
//      duration_days, verified, max_price. Its providers are the only ones ever dealt with.
//
// A pin's other meta keys are not looked at; an account's policy has only the six keys above.
// Parse* check the text (the API answers 400 with the message, which names the key); Check*
// check a policy against the levels below it. The deal engine groups segments by the PolicyKey
// of their EffectivePolicy, so that segments with different policies never share an aggregate
// and its deals.
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
#include "filecoin/types/big_int.hpp"

namespace cairn::filecoin::deals {

inline constexpr std::string_view kMetaReplicas = "filecoin.replicas";
inline constexpr std::string_view kMetaDurationDays = "filecoin.duration_days";
inline constexpr std::string_view kMetaProviders = "filecoin.providers";
// Account-only keys.
inline constexpr std::string_view kPolicyVerified = "filecoin.verified";
inline constexpr std::string_view kPolicyMaxPrice = "filecoin.max_price";
inline constexpr std::string_view kPolicyDeny = "filecoin.deny";
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
  std::vector<Address> providers;  // empty: the account's, else the service's

  bool empty() const { return !replicas && !duration_days && providers.empty(); }
  friend bool operator==(const PinPolicy&, const PinPolicy&) = default;
};

struct AccountPolicy {
  std::optional<int> replicas;
  std::optional<int64_t> duration_days;
  std::optional<bool> verified;
  std::optional<BigInt> max_price;  // attoFIL per GiB per epoch
  std::vector<Address> allow;       // filecoin.providers; empty: the service's
  std::vector<Address> deny;        // filecoin.deny

  bool empty() const {
    return !replicas && !duration_days && !verified && !max_price && allow.empty() && deny.empty();
  }
  friend bool operator==(const AccountPolicy&, const AccountPolicy&) = default;
};

struct ServicePolicy {
  std::vector<Address> providers;  // empty: the cold tier is off
  int replicas = 2;
  int64_t duration_days = kMinDurationDays;
  bool verified = false;
  std::optional<BigInt> max_price;  // none: any ask
};

// What deals for an aggregate of that policy use.
struct EffectivePolicy {
  int replicas = 2;
  int64_t duration_days = kMinDurationDays;
  std::vector<Address> providers;  // in order of preference, none denied
  bool verified = false;
  std::optional<BigInt> max_price;
  friend bool operator==(const EffectivePolicy&, const EffectivePolicy&) = default;
};

// The policy in a pin's meta. InvalidArgument naming the key and the value's fault
// ("meta filecoin.replicas: '0' is not an integer from 1 to 16").
Result<PinPolicy> ParsePinPolicy(const std::map<std::string, std::string>& meta);

// An account's stored policy. InvalidArgument naming the key ("account policy filecoin.verified:
// 'yes' is not true or false"); a key that is not one of the six is refused ("account policy:
// unknown key 'filecoin.replica'").
Result<AccountPolicy> ParseAccountPolicy(const std::map<std::string, std::string>& policy);

// Ok when the meta's `hot` key is absent, "always" or "auto"; InvalidArgument naming the key
// otherwise ("meta hot: 'sometimes' is not 'always' or 'auto'").
Result<void> CheckHotMeta(const std::map<std::string, std::string>& meta);

// Ok when `account` can be honoured by `service`: its allow list names only the service's
// providers and none it denies, and the providers its pins may use (allow, else the service's,
// less deny) number at least its replicas (else the service's). InvalidArgument naming the key.
// A service without providers (the cold tier off) checks only the allow/deny overlap.
Result<void> CheckAccountPolicy(const AccountPolicy& account, const ServicePolicy& service);

// Ok when a pin's `policy` can be honoured for an account with `account` by `service`: every
// provider the pin names is one of the service's, in the account's allow list (when it has one)
// and not denied to it, and the providers the pin may use number at least its replicas.
// InvalidArgument naming the pin's key ("meta filecoin.providers: f01002 is denied to this
// account"). A service without providers (the cold tier is off) checks nothing: the policy
// waits, stored with the pin, for a service that deals.
Result<void> CheckPinPolicy(const PinPolicy& policy, const AccountPolicy& account,
                            const ServicePolicy& service);

// The three levels resolved. Providers: the pin's, else the account's allow list, else the
// service's; less the account's deny list, and only the service's (a policy stored before the
// service's providers changed must not reach a provider the operator dropped).
EffectivePolicy ResolvePolicy(const PinPolicy& pin, const AccountPolicy& account,
                              const ServicePolicy& service);

// The canonical text of an effective policy ("replicas=2;duration_days=180;providers=f01000,
// f01001;verified=false;max_price=any"): equal policies, equal keys.
std::string PolicyKey(const EffectivePolicy& policy);

}  // namespace cairn::filecoin::deals
