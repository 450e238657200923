#include "filecoin/deals/pin_policy.hpp"

#include <algorithm>
#include <charconv>

namespace cairn::filecoin::deals {

namespace {

// Where a key sits, for error messages: "meta" (a pin) or "account policy".
constexpr std::string_view kPinWhere = "meta";
constexpr std::string_view kAccountWhere = "account policy";

Error BadKey(std::string_view where, std::string_view key, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument,
               std::string(where) + " " + std::string(key) + ": " + what);
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

Result<std::vector<Address>> ParseProviders(std::string_view where, std::string_view key,
                                            std::string_view text) {
  std::vector<Address> out;
  if (text.empty()) return Err(BadKey(where, key, "empty; list f0 ids such as f01000,f01002"));
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto a = Address::Parse(item);
    if (!a || a->protocol() != AddressProtocol::kId) {
      return Err(
          BadKey(where, key, "'" + std::string(item) + "' is not a provider id (f0… or t0…)"));
    }
    if (std::find(out.begin(), out.end(), *a) != out.end()) {
      return Err(BadKey(where, key, "'" + std::string(item) + "' is listed twice"));
    }
    out.push_back(*a);
    if (out.size() > 64) return Err(BadKey(where, key, "more than 64 providers"));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// The keys both levels share, from `map` into `replicas`, `duration_days` and `providers`.
Result<void> ParseShared(std::string_view where, const std::map<std::string, std::string>& map,
                         std::optional<int>& replicas, std::optional<int64_t>& duration_days,
                         std::vector<Address>& providers) {
  if (auto it = map.find(std::string(kMetaReplicas)); it != map.end()) {
    auto v = Decimal(it->second, 1, kMaxReplicas);
    if (!v) {
      return Err(BadKey(
          where, kMetaReplicas,
          "'" + it->second + "' is not an integer from 1 to " + std::to_string(kMaxReplicas)));
    }
    replicas = static_cast<int>(*v);
  }
  if (auto it = map.find(std::string(kMetaDurationDays)); it != map.end()) {
    duration_days = Decimal(it->second, kMinDurationDays, kMaxDurationDays);
    if (!duration_days) {
      return Err(BadKey(where, kMetaDurationDays,
                        "'" + it->second + "' is not an integer from " +
                            std::to_string(kMinDurationDays) + " to " +
                            std::to_string(kMaxDurationDays) +
                            " (the market's bounds on a deal's length)"));
    }
  }
  if (auto it = map.find(std::string(kMetaProviders)); it != map.end()) {
    providers = CAIRN_TRY(ParseProviders(where, kMetaProviders, it->second));
  }
  return Ok();
}

bool Contains(const std::vector<Address>& list, const Address& a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

std::string Join(const std::vector<Address>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ",") + a.ToString();
  return out;
}

// `list` less the addresses in `drop`, in order.
std::vector<Address> Without(const std::vector<Address>& list, const std::vector<Address>& drop) {
  std::vector<Address> out;
  for (const auto& a : list) {
    if (!Contains(drop, a)) out.push_back(a);
  }
  return out;
}

// `list` less what is not in `keep`, in order.
std::vector<Address> Within(const std::vector<Address>& list, const std::vector<Address>& keep) {
  std::vector<Address> out;
  for (const auto& a : list) {
    if (Contains(keep, a)) out.push_back(a);
  }
  return out;
}

}  // namespace

Result<PinPolicy> ParsePinPolicy(const std::map<std::string, std::string>& meta) {
  PinPolicy p;
  CAIRN_TRY(ParseShared(kPinWhere, meta, p.replicas, p.duration_days, p.providers));
  return p;
}

Result<AccountPolicy> ParseAccountPolicy(const std::map<std::string, std::string>& policy) {
  for (const auto& [key, value] : policy) {
    if (key != kMetaReplicas && key != kMetaDurationDays && key != kMetaProviders &&
        key != kPolicyVerified && key != kPolicyMaxPrice && key != kPolicyDeny) {
      return Err(ErrorCode::kInvalidArgument,
                 std::string(kAccountWhere) + ": unknown key '" + key +
                     "' (the keys are filecoin.replicas, filecoin.duration_days, "
                     "filecoin.providers, filecoin.verified, filecoin.max_price, filecoin.deny)");
    }
  }
  AccountPolicy p;
  CAIRN_TRY(ParseShared(kAccountWhere, policy, p.replicas, p.duration_days, p.allow));
  if (auto it = policy.find(std::string(kPolicyVerified)); it != policy.end()) {
    if (it->second != "true" && it->second != "false") {
      return Err(
          BadKey(kAccountWhere, kPolicyVerified, "'" + it->second + "' is not true or false"));
    }
    p.verified = it->second == "true";
  }
  if (auto it = policy.find(std::string(kPolicyMaxPrice)); it != policy.end()) {
    auto price = BigInt::Parse(it->second);
    const bool digits = !it->second.empty() && it->second.size() <= 40 &&
                        it->second.find_first_not_of("0123456789") == std::string::npos;
    if (!price || !digits) {
      return Err(
          BadKey(kAccountWhere, kPolicyMaxPrice,
                 "'" + it->second + "' is not a decimal amount of attoFIL per GiB per epoch"));
    }
    p.max_price = *price;
  }
  if (auto it = policy.find(std::string(kPolicyDeny)); it != policy.end()) {
    p.deny = CAIRN_TRY(ParseProviders(kAccountWhere, kPolicyDeny, it->second));
  }
  return p;
}

Result<void> CheckAccountPolicy(const AccountPolicy& account, const ServicePolicy& service) {
  for (const auto& a : account.allow) {
    if (Contains(account.deny, a)) {
      return Err(BadKey(kAccountWhere, kPolicyDeny,
                        a.ToString() + " is also in filecoin.providers (allowed)"));
    }
  }
  if (service.providers.empty()) return Ok();
  for (const auto& a : account.allow) {
    if (!Contains(service.providers, a)) {
      return Err(BadKey(kAccountWhere, kMetaProviders,
                        a.ToString() + " is not one of this service's providers (" +
                            Join(service.providers) + ")"));
    }
  }
  const auto usable =
      Without(account.allow.empty() ? service.providers : account.allow, account.deny);
  const int replicas = account.replicas.value_or(service.replicas);
  if (static_cast<size_t>(replicas) > usable.size()) {
    const std::string_view key = account.replicas        ? kMetaReplicas
                                 : !account.deny.empty() ? kPolicyDeny
                                                         : kMetaProviders;
    return Err(BadKey(kAccountWhere, key,
                      std::to_string(replicas) + " replicas need as many distinct providers; " +
                          std::to_string(usable.size()) + " can be used"));
  }
  return Ok();
}

Result<void> CheckPinPolicy(const PinPolicy& policy, const AccountPolicy& account,
                            const ServicePolicy& service) {
  if (service.providers.empty()) return Ok();
  for (const auto& p : policy.providers) {
    if (!Contains(service.providers, p)) {
      return Err(BadKey(kPinWhere, kMetaProviders,
                        p.ToString() + " is not one of this service's providers (" +
                            Join(service.providers) + ")"));
    }
    if (Contains(account.deny, p)) {
      return Err(BadKey(kPinWhere, kMetaProviders, p.ToString() + " is denied to this account"));
    }
    if (!account.allow.empty() && !Contains(account.allow, p)) {
      return Err(BadKey(
          kPinWhere, kMetaProviders,
          p.ToString() + " is not one of this account's providers (" + Join(account.allow) + ")"));
    }
  }
  const size_t usable = ResolvePolicy(policy, account, service).providers.size();
  const int replicas = policy.replicas.value_or(account.replicas.value_or(service.replicas));
  if (static_cast<size_t>(replicas) > usable) {
    const std::string_view key = policy.replicas ? kMetaReplicas : kMetaProviders;
    return Err(BadKey(kPinWhere, key,
                      std::to_string(replicas) + " replicas need as many distinct providers; " +
                          std::to_string(usable) + " can be used"));
  }
  return Ok();
}

EffectivePolicy ResolvePolicy(const PinPolicy& pin, const AccountPolicy& account,
                              const ServicePolicy& service) {
  EffectivePolicy e;
  e.replicas = pin.replicas.value_or(account.replicas.value_or(service.replicas));
  e.duration_days =
      pin.duration_days.value_or(account.duration_days.value_or(service.duration_days));
  const std::vector<Address>& named = !pin.providers.empty()   ? pin.providers
                                      : !account.allow.empty() ? account.allow
                                                               : service.providers;
  e.providers = Within(Without(named, account.deny), service.providers);
  e.verified = account.verified.value_or(service.verified);
  e.max_price = account.max_price ? account.max_price : service.max_price;
  return e;
}

std::string PolicyKey(const EffectivePolicy& policy) {
  return "replicas=" + std::to_string(policy.replicas) +
         ";duration_days=" + std::to_string(policy.duration_days) +
         ";providers=" + Join(policy.providers) +
         ";verified=" + (policy.verified ? "true" : "false") +
         ";max_price=" + (policy.max_price ? policy.max_price->ToString() : "any");
}

Result<void> CheckHotMeta(const std::map<std::string, std::string>& meta) {
  auto it = meta.find(std::string(kMetaHot));
  if (it == meta.end() || it->second == "always" || it->second == "auto") return Ok();
  return Err(ErrorCode::kInvalidArgument,
             "meta hot: '" + it->second + "' is not 'always' or 'auto'");
}

}  // namespace cairn::filecoin::deals
