// `cairn account create|list|disable|policy` and `cairn token create|list|revoke`: operator
// commands over the repo's metadata database (<repo>/cairn.db, created and migrated on first use;
// see src/metadata/accounts.hpp and docs/formats/metadata-schema.md).
//
// `account policy NAME [--set KEY=VALUE]... [--unset KEY]... [--clear]` shows, and changes, the
// account's storage policy (filecoin/deals/pin_policy.hpp AccountPolicy; docs/filecoin.md
// "Policy"): KEY is `replicas`, `duration_days`, `providers` (the allow list), `verified`,
// `max_price` or `deny`, with or without the `filecoin.` prefix. The new policy is checked against
// the repo's [filecoin] configuration before it is stored; `cairn serve` picks it up at its next
// deal pass.
//
// `token create` prints the token alone on stdout (so `TOKEN=$(cairn token create ...)` works)
// and a note on stderr; the secret is not stored and cannot be shown again.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/admin_api.hpp"
#include "api/psa_model.hpp"
#include "apps/cairn/cold_tier.hpp"
#include "apps/cairn/commands.hpp"
#include "apps/cairn/config.hpp"
#include "common/clock.hpp"
#include "metadata/accounts.hpp"
#include "metadata/open.hpp"

namespace cairn::app {

namespace {

using metadata::AccountStore;
using metadata::ScopeSet;

std::string Time(std::optional<int64_t> micros, const char* absent) {
  return micros ? api::FormatRfc3339(*micros) : std::string(absent);
}

Result<void> Flush() {
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("writing to stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

// "30d", "12h", "90m", "3600s", "2w" from now, or an RFC 3339 timestamp.
Result<void> AccountCreate(const GlobalOptions& options, const std::string& name) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  auto account = CAIRN_TRY(store.CreateAccount(name));
  std::printf("created account %s (id %lld)\n", account.name.c_str(),
              static_cast<long long>(account.id));
  return Flush();
}

Result<void> AccountList(const GlobalOptions& options) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  auto accounts = CAIRN_TRY(store.ListAccounts());
  std::printf("ID\tNAME\tCREATED\tDISABLED\n");
  for (const auto& a : accounts) {
    std::printf("%lld\t%s\t%s\t%s\n", static_cast<long long>(a.id), a.name.c_str(),
                api::FormatRfc3339(a.created_us).c_str(), Time(a.disabled_us, "no").c_str());
  }
  return Flush();
}

Result<void> AccountDisable(const GlobalOptions& options, const std::string& name) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  CAIRN_TRY(store.DisableAccount(name));
  std::printf("disabled account %s\n", name.c_str());
  return Flush();
}

struct PolicyArgs {
  std::string name;
  std::vector<std::string> set;    // KEY=VALUE
  std::vector<std::string> unset;  // KEY
  bool clear = false;
  std::string config_path;
};

// "replicas" and "filecoin.replicas" alike.
std::string PolicyKeyName(const std::string& key) {
  return key.rfind("filecoin.", 0) == 0 ? key : "filecoin." + key;
}

Result<void> AccountPolicy(const GlobalOptions& options, const PolicyArgs& args) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  auto account = CAIRN_TRY(store.GetAccount(args.name));
  auto policy = CAIRN_TRY(store.Policy(account.id));
  const bool change = args.clear || !args.set.empty() || !args.unset.empty();
  if (args.clear) policy.clear();
  for (const auto& key : args.unset) policy.erase(PolicyKeyName(key));
  for (const auto& pair : args.set) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Err(ErrorCode::kInvalidArgument,
                 "account policy: --set '" + pair + "' is not KEY=VALUE (replicas=3)");
    }
    policy[PolicyKeyName(pair.substr(0, eq))] = pair.substr(eq + 1);
  }
  if (change) {
    auto config = CAIRN_TRY(LoadCommandConfig(options.repo, args.config_path));
    auto service = CAIRN_TRY(ServicePolicyOf(config));
    CAIRN_TRY(api::SetAccountPolicy(store, account.name, policy, service));
    policy = CAIRN_TRY(store.Policy(account.id));
  }
  if (policy.empty()) {
    std::printf("account %s has no policy: the service's [filecoin] defaults apply\n",
                account.name.c_str());
  } else {
    std::printf("KEY\tVALUE\n");
    for (const auto& [key, value] : policy) std::printf("%s\t%s\n", key.c_str(), value.c_str());
  }
  return Flush();
}

Result<void> TokenCreate(const GlobalOptions& options, const std::string& account_name,
                         const std::vector<std::string>& scope_names, const std::string& expires) {
  ScopeSet scopes = ScopeSet::Default();
  if (!scope_names.empty()) {
    scopes = CAIRN_TRY(ScopeSet::Parse(scope_names));
  }
  const int64_t now = SystemClock::Instance().WallMicros();
  std::optional<int64_t> expires_us;
  if (!expires.empty()) {
    auto at = api::ParseTokenExpiry(expires, now);
    if (!at) return Err(at.error().WithContext("--expires: "));
    expires_us = *at;
  }
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  auto account = CAIRN_TRY(store.GetAccount(account_name));
  if (account.disabled()) {
    return Err(ErrorCode::kInvalidArgument, "token: account '" + account_name + "' is disabled");
  }
  auto token = CAIRN_TRY(store.CreateToken(account.id, scopes, expires_us));
  std::printf("%s\n", token.secret.c_str());
  CAIRN_TRY(Flush());
  std::fprintf(stderr,
               "token %s for account %s, scopes: %s, expires: %s\n"
               "store it now: it is not shown again\n",
               token.info.id.c_str(), account.name.c_str(), scopes.ToText().c_str(),
               Time(expires_us, "never").c_str());
  return Ok();
}

std::string JoinScopes(const ScopeSet& scopes) {
  std::string out;
  for (const auto& n : scopes.Names()) out += (out.empty() ? "" : ",") + n;
  return out;
}

Result<void> TokenList(const GlobalOptions& options, const std::string& account_name) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  auto account = CAIRN_TRY(store.GetAccount(account_name));
  auto tokens = CAIRN_TRY(store.ListTokens(account.id));
  std::printf("ID\tSCOPES\tCREATED\tEXPIRES\tLAST_USED\tREVOKED\n");
  for (const auto& t : tokens) {
    std::printf("%s\t%s\t%s\t%s\t%s\t%s\n", t.id.c_str(), JoinScopes(t.scopes).c_str(),
                api::FormatRfc3339(t.created_us).c_str(), Time(t.expires_us, "never").c_str(),
                Time(t.last_used_us, "never").c_str(), Time(t.revoked_us, "no").c_str());
  }
  return Flush();
}

Result<void> TokenRevoke(const GlobalOptions& options, const std::string& id) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  AccountStore store(*db, SystemClock::Instance());
  CAIRN_TRY(store.RevokeToken(id));
  std::printf("revoked token %s\n", id.c_str());
  return Flush();
}

}  // namespace

void RegisterAccountCommands(CLI::App& app, GlobalOptions& options) {
  auto* account = app.add_subcommand("account", "Manage accounts (tenants)");
  account->require_subcommand(1);

  auto* create = account->add_subcommand("create", "Create an account");
  auto name = std::make_shared<std::string>();
  create->add_option("NAME", *name, "account name: 1-64 of a-z 0-9 . _ -")->required();
  create->callback([&options, name] { Finish(AccountCreate(options, *name)); });

  auto* list = account->add_subcommand("list", "List accounts");
  list->callback([&options] { Finish(AccountList(options)); });

  auto* disable =
      account->add_subcommand("disable", "Disable an account (its tokens stop working)");
  auto disable_name = std::make_shared<std::string>();
  disable->add_option("NAME", *disable_name, "account name")->required();
  disable->callback([&options, disable_name] { Finish(AccountDisable(options, *disable_name)); });

  auto policy_args = std::make_shared<PolicyArgs>();
  auto* policy = account->add_subcommand(
      "policy", "Show or change an account's storage policy (Filecoin deal defaults)");
  policy->add_option("NAME", policy_args->name, "account name")->required();
  policy->add_option("--set", policy_args->set,
                     "KEY=VALUE; keys: replicas, duration_days, providers (allow list), verified, "
                     "max_price, deny; repeatable");
  policy->add_option("--unset", policy_args->unset, "KEY to remove; repeatable");
  policy->add_flag("--clear", policy_args->clear, "remove every key first");
  policy->add_option("--config", policy_args->config_path,
                     "config file to check against (default: <repo>/config.toml when present)");
  policy->callback([&options, policy_args] { Finish(AccountPolicy(options, *policy_args)); });

  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);

  struct CreateArgs {
    std::string account;
    std::vector<std::string> scopes;
    std::string expires;
  };
  auto args = std::make_shared<CreateArgs>();
  auto* tcreate = token->add_subcommand(
      "create", "Create a token; prints it alone on stdout (it is shown only once)");
  tcreate->add_option("--account", args->account, "account name")->required();
  tcreate
      ->add_option("--scope", args->scopes,
                   "pins:read, pins:write, upload or admin; repeat or separate with commas "
                   "(default: pins:read,pins:write,upload)")
      ->delimiter(',');
  tcreate->add_option("--expires", args->expires,
                      "lifetime (30d, 12h, 90m, 3600s, 2w) or RFC 3339 time; default: never");
  tcreate->callback([&options, args] {
    Finish(TokenCreate(options, args->account, args->scopes, args->expires));
  });

  auto list_account = std::make_shared<std::string>();
  auto* tlist = token->add_subcommand("list", "List an account's tokens (never the secrets)");
  tlist->add_option("--account", *list_account, "account name")->required();
  tlist->callback([&options, list_account] { Finish(TokenList(options, *list_account)); });

  auto revoke_id = std::make_shared<std::string>();
  auto* trevoke = token->add_subcommand("revoke", "Revoke one token");
  trevoke->add_option("ID", *revoke_id, "token id (tok_...)")->required();
  trevoke->callback([&options, revoke_id] { Finish(TokenRevoke(options, *revoke_id)); });
}

}  // namespace cairn::app
