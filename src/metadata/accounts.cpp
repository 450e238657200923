#include "metadata/accounts.hpp"

#include <array>

#include "metadata/internal/ids.hpp"
#include "metadata/internal/json_map.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::metadata {

namespace {

constexpr std::string_view kTokenPrefix = "cairn_";
constexpr size_t kTokenSecretBytes = 32;  // 256 bits
// base32 of 32 bytes, unpadded: ceil(256 / 5) characters.
constexpr size_t kTokenSecretChars = (kTokenSecretBytes * 8 + 4) / 5;

constexpr std::array<Scope, 4> kAllScopes = {Scope::kPinsRead, Scope::kPinsWrite, Scope::kUpload,
                                             Scope::kAdmin};

constexpr std::string_view kAccountColumns = "id, name, created_at, disabled_at";
constexpr std::string_view kTokenColumns =
    "id, account_id, scopes, created_at, expires_at, last_used_at, revoked_at";

std::optional<int64_t> OptInt(const SqlRow& row, size_t i) {
  if (row.IsNull(i)) return std::nullopt;
  return row.Int(i);
}

SqlValue OptValue(const std::optional<int64_t>& v) {
  if (v) return *v;
  return nullptr;
}

Account AccountFromRow(const SqlRow& row) {
  Account a;
  a.id = row.Int(0);
  a.name = row.Text(1);
  a.created_us = row.Int(2);
  a.disabled_us = OptInt(row, 3);
  return a;
}

Result<TokenInfo> TokenFromRow(const SqlRow& row) {
  TokenInfo t;
  t.id = row.Text(0);
  t.account_id = row.Int(1);
  auto scopes = ScopeSet::FromText(row.Text(2));
  if (!scopes) {
    return Err(ErrorCode::kCorruption,
               "metadata: token " + t.id + " has bad stored scopes: " + scopes.error().message());
  }
  t.scopes = *scopes;
  t.created_us = row.Int(3);
  t.expires_us = OptInt(row, 4);
  t.last_used_us = OptInt(row, 5);
  t.revoked_us = OptInt(row, 6);
  return t;
}

Bytes HashSecret(std::string_view token_text) {
  auto digest = multiformats::Sha256(AsBytes(token_text));
  return Bytes(digest.begin(), digest.end());
}

bool IsBase32Char(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

}  // namespace

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kPinsRead:
      return "pins:read";
    case Scope::kPinsWrite:
      return "pins:write";
    case Scope::kUpload:
      return "upload";
    case Scope::kAdmin:
      return "admin";
  }
  return "?";
}

ScopeSet ScopeSet::Default() {
  ScopeSet s;
  s.Add(Scope::kPinsRead);
  s.Add(Scope::kPinsWrite);
  s.Add(Scope::kUpload);
  return s;
}

Result<ScopeSet> ScopeSet::Parse(const std::vector<std::string>& names) {
  ScopeSet set;
  for (const std::string& name : names) {
    bool found = false;
    for (Scope s : kAllScopes) {
      if (name == ScopeName(s)) {
        set.Add(s);
        found = true;
      }
    }
    if (!found) {
      return Err(
          ErrorCode::kInvalidArgument,
          "metadata: unknown scope '" + name + "' (known: pins:read, pins:write, upload, admin)");
    }
  }
  return set;
}

Result<ScopeSet> ScopeSet::FromText(std::string_view text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) names.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return Parse(names);
}

std::vector<std::string> ScopeSet::Names() const {
  std::vector<std::string> out;
  for (Scope s : kAllScopes) {
    if (Has(s)) out.emplace_back(ScopeName(s));
  }
  return out;
}

std::string ScopeSet::ToText() const {
  std::string out;
  for (const std::string& n : Names()) {
    if (!out.empty()) out += ' ';
    out += n;
  }
  return out;
}

Result<void> ValidateAccountName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Err(
        ErrorCode::kInvalidArgument,
        "metadata: account name must be 1 to 64 characters, got " + std::to_string(name.size()));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (i == 0 && !alnum) {
      return Err(ErrorCode::kInvalidArgument,
                 "metadata: account name must start with a lower-case letter or digit: '" +
                     std::string(name) + "'");
    }
    if (!alnum && c != '.' && c != '_' && c != '-') {
      return Err(ErrorCode::kInvalidArgument,
                 "metadata: account name may contain only a-z, 0-9, '.', '_' and '-': '" +
                     std::string(name) + "'");
    }
  }
  return Ok();
}

Result<Account> AccountStore::CreateAccount(std::string_view name) {
  CAIRN_TRY(ValidateAccountName(name));
  Account account;
  account.name = std::string(name);
  account.created_us = clock_.WallMicros();
  auto r = db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {account.name, account.created_us};
    CAIRN_TRY(s.Exec("INSERT INTO accounts (name, created_at) VALUES (?, ?)", params));
    std::array<SqlValue, 1> by_name = {account.name};
    auto rows = CAIRN_TRY(s.Query("SELECT id FROM accounts WHERE name = ?", by_name));
    // The row was inserted just above in this transaction.
    CAIRN_CHECK(rows.size() == 1);
    account.id = rows[0].Int(0);
    return Ok();
  });
  if (!r) {
    if (r.error().code() == ErrorCode::kAlreadyExists) {
      return Err(ErrorCode::kAlreadyExists,
                 "metadata: account '" + account.name + "' already exists");
    }
    return Err(r.error());
  }
  return account;
}

Result<Account> AccountStore::GetAccount(std::string_view name) {
  std::vector<SqlRow> rows;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {std::string(name)};
    rows = CAIRN_TRY(s.Query(
        "SELECT " + std::string(kAccountColumns) + " FROM accounts WHERE name = ?", params));
    return Ok();
  }));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound, "metadata: no account named '" + std::string(name) + "'");
  }
  return AccountFromRow(rows[0]);
}

Result<Account> AccountStore::GetAccountById(int64_t id) {
  std::vector<SqlRow> rows;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {id};
    rows = CAIRN_TRY(
        s.Query("SELECT " + std::string(kAccountColumns) + " FROM accounts WHERE id = ?", params));
    return Ok();
  }));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound, "metadata: no account with id " + std::to_string(id));
  }
  return AccountFromRow(rows[0]);
}

Result<std::vector<Account>> AccountStore::ListAccounts() {
  std::vector<Account> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    auto rows =
        CAIRN_TRY(s.Query("SELECT " + std::string(kAccountColumns) + " FROM accounts ORDER BY id"));
    for (const SqlRow& row : rows) out.push_back(AccountFromRow(row));
    return Ok();
  }));
  return out;
}

Result<void> AccountStore::DisableAccount(std::string_view name) {
  int64_t now = clock_.WallMicros();
  struct ForgetAfter {  // after the write, whatever its outcome
    AccountStore* store;
    ~ForgetAfter() { store->Forget(); }
  } forget{this};
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> by_name = {std::string(name)};
    auto rows = CAIRN_TRY(s.Query("SELECT id FROM accounts WHERE name = ?", by_name));
    if (rows.empty()) {
      return Err(ErrorCode::kNotFound, "metadata: no account named '" + std::string(name) + "'");
    }
    std::array<SqlValue, 2> params = {now, std::string(name)};
    CAIRN_TRY(s.Exec("UPDATE accounts SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL",
                     params));
    return Ok();
  });
}

Result<std::map<std::string, std::string>> AccountStore::Policy(int64_t account_id) {
  std::array<SqlValue, 1> params = {account_id};
  auto rows = CAIRN_TRY(db_.ReadQuery("SELECT policy FROM accounts WHERE id = ?", params));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound, "metadata: no account with id " + std::to_string(account_id));
  }
  return internal::DecodeMap(rows[0].Text(0), "account policy");
}

Result<void> AccountStore::SetPolicy(std::string_view name,
                                     const std::map<std::string, std::string>& policy) {
  if (policy.size() > 16) {
    return Err(ErrorCode::kInvalidArgument, "metadata: an account policy has at most 16 keys");
  }
  for (const auto& [key, value] : policy) {
    if (key.empty() || key.size() > 64 || value.size() > 4096) {
      return Err(ErrorCode::kInvalidArgument, "metadata: account policy key '" + key.substr(0, 64) +
                                                  "': keys are 1 to 64 bytes, values at most 4096");
    }
  }
  const std::string text = internal::EncodeMap(policy);
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 2> params = {text, std::string(name)};
    auto changed = CAIRN_TRY(s.Exec("UPDATE accounts SET policy = ? WHERE name = ?", params));
    if (changed == 0) {
      return Err(ErrorCode::kNotFound, "metadata: no account named '" + std::string(name) + "'");
    }
    return Ok();
  });
}

Result<CreatedToken> AccountStore::CreateToken(int64_t account_id, ScopeSet scopes,
                                               std::optional<int64_t> expires_us) {
  if (scopes.empty()) {
    return Err(ErrorCode::kInvalidArgument, "metadata: a token needs at least one scope");
  }
  const int64_t now = clock_.WallMicros();
  if (expires_us && *expires_us <= now) {
    return Err(ErrorCode::kInvalidArgument, "metadata: token expiry is not in the future");
  }
  CreatedToken token;
  token.secret =
      std::string(kTokenPrefix) + internal::Base32(internal::RandomBytes(kTokenSecretBytes));
  token.info.id = "tok_" + internal::Base32(internal::RandomBytes(10));
  token.info.account_id = account_id;
  token.info.scopes = scopes;
  token.info.created_us = now;
  token.info.expires_us = expires_us;
  CAIRN_TRY(db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> by_id = {account_id};
    auto rows = CAIRN_TRY(s.Query("SELECT 1 FROM accounts WHERE id = ?", by_id));
    if (rows.empty()) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no account with id " + std::to_string(account_id));
    }
    std::array<SqlValue, 6> params = {token.info.id,   account_id, HashSecret(token.secret),
                                      scopes.ToText(), now,        OptValue(expires_us)};
    CAIRN_TRY(
        s.Exec("INSERT INTO tokens (id, account_id, secret_hash, scopes, created_at, "
               "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
               params));
    return Ok();
  }));
  return token;
}

Result<std::vector<TokenInfo>> AccountStore::ListTokens(int64_t account_id) {
  std::vector<TokenInfo> out;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {account_id};
    auto rows = CAIRN_TRY(s.Query("SELECT " + std::string(kTokenColumns) +
                                      " FROM tokens WHERE account_id = ? ORDER BY created_at, id",
                                  params));
    for (const SqlRow& row : rows) out.push_back(CAIRN_TRY(TokenFromRow(row)));
    return Ok();
  }));
  return out;
}

Result<TokenInfo> AccountStore::GetToken(std::string_view token_id) {
  std::vector<SqlRow> rows;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {std::string(token_id)};
    rows = CAIRN_TRY(
        s.Query("SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?", params));
    return Ok();
  }));
  if (rows.empty()) {
    return Err(ErrorCode::kNotFound, "metadata: no token with id '" + std::string(token_id) + "'");
  }
  return TokenFromRow(rows[0]);
}

Result<void> AccountStore::RevokeToken(std::string_view token_id) {
  int64_t now = clock_.WallMicros();
  struct ForgetAfter {  // after the write, whatever its outcome
    AccountStore* store;
    ~ForgetAfter() { store->Forget(); }
  } forget{this};
  return db_.Write([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> by_id = {std::string(token_id)};
    auto rows = CAIRN_TRY(s.Query("SELECT 1 FROM tokens WHERE id = ?", by_id));
    if (rows.empty()) {
      return Err(ErrorCode::kNotFound,
                 "metadata: no token with id '" + std::string(token_id) + "'");
    }
    std::array<SqlValue, 2> params = {now, std::string(token_id)};
    CAIRN_TRY(
        s.Exec("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", params));
    return Ok();
  });
}

Result<Principal> AccountStore::Authenticate(std::string_view token_text, int64_t now_us) {
  // Shape check first: it depends only on the length and alphabet, not on any stored secret.
  bool well_formed = token_text.size() == kTokenPrefix.size() + kTokenSecretChars &&
                     token_text.substr(0, kTokenPrefix.size()) == kTokenPrefix;
  if (well_formed) {
    for (char c : token_text.substr(kTokenPrefix.size())) well_formed &= IsBase32Char(c);
  }
  if (!well_formed) {
    return Err(ErrorCode::kUnauthenticated, "metadata: malformed token");
  }
  const Bytes hash = HashSecret(token_text);
  const std::string key(hash.begin(), hash.end());
  uint64_t generation = 0;
  {
    std::lock_guard lock(cache_mu_);
    generation = generation_;
    if (auto it = cache_.find(key); it != cache_.end()) {
      const Remembered& r = it->second;
      if (now_us >= r.checked_us && now_us - r.checked_us < kAuthCacheUs) {
        if (r.expires_us && *r.expires_us <= now_us) {
          return Err(ErrorCode::kUnauthenticated, "metadata: token expired");
        }
        return r.principal;
      }
      cache_.erase(it);
    }
  }
  std::vector<SqlRow> rows;
  CAIRN_TRY(db_.Read([&](SqlSession& s) -> Result<void> {
    std::array<SqlValue, 1> params = {hash};
    rows = CAIRN_TRY(s.Query(
        "SELECT t.id, t.account_id, t.scopes, t.created_at, t.expires_at, t.last_used_at, "
        "t.revoked_at, a.id, a.name, a.created_at, a.disabled_at "
        "FROM tokens AS t JOIN accounts AS a ON a.id = t.account_id WHERE t.secret_hash = ?",
        params));
    return Ok();
  }));
  if (rows.empty()) return Err(ErrorCode::kUnauthenticated, "metadata: unknown token");
  TokenInfo token = CAIRN_TRY(TokenFromRow(rows[0]));
  if (token.revoked_us) return Err(ErrorCode::kUnauthenticated, "metadata: token revoked");
  if (token.expires_us && *token.expires_us <= now_us) {
    return Err(ErrorCode::kUnauthenticated, "metadata: token expired");
  }
  Principal p;
  p.account.id = rows[0].Int(7);
  p.account.name = rows[0].Text(8);
  p.account.created_us = rows[0].Int(9);
  p.account.disabled_us = OptInt(rows[0], 10);
  if (p.account.disabled()) {
    return Err(ErrorCode::kUnauthenticated, "metadata: account disabled");
  }
  p.token_id = token.id;
  p.scopes = token.scopes;
  if (!token.last_used_us || now_us - *token.last_used_us >= kLastUsedResolutionUs) {
    // Best effort: a failure to record the use must not fail the request it authenticates.
    (void)db_.Write([&](SqlSession& s) -> Result<void> {
      std::array<SqlValue, 2> params = {now_us, token.id};
      CAIRN_TRY(s.Exec("UPDATE tokens SET last_used_at = ? WHERE id = ?", params));
      return Ok();
    });
  }
  {
    std::lock_guard lock(cache_mu_);
    // Not when a revocation or a disable happened since the read: it may not have seen it.
    if (generation_ == generation) {
      if (cache_.size() >= 100'000) cache_.clear();  // bounded: many distinct tokens re-read
      cache_[key] = Remembered{p, token.expires_us, now_us};
    }
  }
  return p;
}

void AccountStore::Forget() {
  std::lock_guard lock(cache_mu_);
  ++generation_;
  cache_.clear();
}

}  // namespace cairn::metadata
