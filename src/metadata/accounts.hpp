// Accounts and API tokens (schema in docs/formats/metadata-schema.md).
//
// An account is a tenant: every pin belongs to exactly one. A token is a bearer secret for the
// HTTP APIs, bound to one account and a closed set of scopes. Token text is
// `cairn_<52 base32 chars>` = 256 random bits from OpenSSL's CSPRNG; it is shown once, at
// creation. The database keeps only SHA-256(token text), so a leaked database does not leak
// usable tokens. Authentication hashes the presented text and looks the hash up through a unique
// index: no secret is ever compared byte by byte, so timing reveals nothing about the secret.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "metadata/database.hpp"

namespace cairn::metadata {

// The closed set of token scopes, as a bit set.
enum class Scope : uint32_t {
  kPinsRead = 1u << 0,   // "pins:read":  GET /pins, GET /pins/{id}
  kPinsWrite = 1u << 1,  // "pins:write": POST/DELETE /pins, POST /pins/{id}
  kUpload = 1u << 2,     // "upload":     /api/v0/add, dag/import
  kAdmin = 1u << 3,      // "admin":      account and token administration
};

class ScopeSet {
 public:
  constexpr ScopeSet() = default;
  constexpr explicit ScopeSet(uint32_t bits) : bits_(bits) {}
  static ScopeSet Default();  // pins:read, pins:write, upload
  // Parses a list of scope names; an unknown name is InvalidArgument naming it.
  static Result<ScopeSet> Parse(const std::vector<std::string>& names);
  // Parses the stored form: names separated by single spaces.
  static Result<ScopeSet> FromText(std::string_view text);

  bool Has(Scope s) const { return (bits_ & static_cast<uint32_t>(s)) != 0; }
  void Add(Scope s) { bits_ |= static_cast<uint32_t>(s); }
  bool empty() const { return bits_ == 0; }
  uint32_t bits() const { return bits_; }
  // Names in the fixed order pins:read, pins:write, upload, admin.
  std::vector<std::string> Names() const;
  // Names joined by ' ' (the stored form).
  std::string ToText() const;
  friend bool operator==(ScopeSet, ScopeSet) = default;

 private:
  uint32_t bits_ = 0;
};

std::string_view ScopeName(Scope s);

struct Account {
  int64_t id = 0;
  std::string name;
  int64_t created_us = 0;
  std::optional<int64_t> disabled_us;
  bool disabled() const { return disabled_us.has_value(); }
};

struct TokenInfo {
  std::string id;  // "tok_" + 16 base32 chars; public, used to list and revoke
  int64_t account_id = 0;
  ScopeSet scopes;
  int64_t created_us = 0;
  std::optional<int64_t> expires_us;
  std::optional<int64_t> last_used_us;
  std::optional<int64_t> revoked_us;
};

struct CreatedToken {
  TokenInfo info;
  std::string secret;  // the token text; not stored anywhere, show it once
};

// Who a request acts for, after Authenticate.
struct Principal {
  Account account;
  std::string token_id;
  ScopeSet scopes;
};

// Account and token repository over a migrated Database. Thread-safe (the Database is).
class AccountStore {
 public:
  // `db` and `clock` must outlive the store. `db` must be migrated (Migrate()).
  AccountStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Names: 1–64 characters of [a-z0-9._-], starting with a letter or digit. InvalidArgument for a
  // bad name, AlreadyExists for a taken one.
  Result<Account> CreateAccount(std::string_view name);
  // NotFound if no such account.
  Result<Account> GetAccount(std::string_view name);
  Result<Account> GetAccountById(int64_t id);
  // Every account, by id.
  Result<std::vector<Account>> ListAccounts();
  // Marks the account disabled: its tokens stop authenticating; its pins stay. Idempotent.
  // NotFound if no such account.
  Result<void> DisableAccount(std::string_view name);

  // The account's storage policy: an operator-set map of string values ({} when none). The
  // store keeps it as given; filecoin/deals/pin_policy.hpp (ParseAccountPolicy) defines and checks
  // the keys, and callers check before SetPolicy. NotFound for an unknown account.
  Result<std::map<std::string, std::string>> Policy(int64_t account_id);
  // Replaces the account's policy. At most 16 keys of at most 64 bytes, values of at most 4096
  // bytes (InvalidArgument otherwise). NotFound for an unknown account.
  Result<void> SetPolicy(std::string_view name, const std::map<std::string, std::string>& policy);

  // Creates a token for the account. `scopes` must not be empty; `expires_us`, when given, must
  // be in the future. NotFound for an unknown account, InvalidArgument otherwise.
  Result<CreatedToken> CreateToken(int64_t account_id, ScopeSet scopes,
                                   std::optional<int64_t> expires_us);
  // The account's tokens, oldest first (never the secret).
  Result<std::vector<TokenInfo>> ListTokens(int64_t account_id);
  Result<TokenInfo> GetToken(std::string_view token_id);
  // Revokes one token; revoking a revoked token is a no-op. NotFound for an unknown id.
  Result<void> RevokeToken(std::string_view token_id);

  // The principal for a presented token, or Unauthenticated with the reason: malformed, unknown,
  // revoked, expired, account disabled. Records last use at most once a minute per token (a
  // write per request would cap reads at the write rate).
  //
  // A successful answer is remembered for kAuthCacheUs of `now_us`, keyed by the token's hash:
  // repeated requests with one token cost no database read. RevokeToken and DisableAccount on
  // this store forget every remembered answer at once; a revocation made by another process
  // (the `cairn token revoke` CLI beside `cairn serve`) takes effect within kAuthCacheUs.
  // Expiry is checked on every call.
  Result<Principal> Authenticate(std::string_view token_text, int64_t now_us);

  // How often last_used_at is refreshed.
  static constexpr int64_t kLastUsedResolutionUs = 60'000'000;
  // How long a successful authentication is remembered.
  static constexpr int64_t kAuthCacheUs = 1'000'000;

 private:
  struct Remembered {
    Principal principal;
    std::optional<int64_t> expires_us;
    int64_t checked_us = 0;  // the `now_us` of the database read
  };
  void Forget();

  Database& db_;
  const Clock& clock_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, Remembered> cache_;  // GUARDED_BY(cache_mu_); key: token hash
  uint64_t generation_ = 0;                            // GUARDED_BY(cache_mu_); bumped by Forget
};

// Validates an account name (the rule above). InvalidArgument naming the problem.
Result<void> ValidateAccountName(std::string_view name);

}  // namespace cairn::metadata
