#include "metadata/accounts.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/bytes.hpp"
#include "metadata/internal/test_db.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::metadata {
namespace {

using testing::TempDb;

class AccountsTest : public ::testing::Test {
 protected:
  TempDb t_;
  FakeClock clock_;
  AccountStore store_{t_.db(), clock_};
};

TEST_F(AccountsTest, CreatesGetsAndListsAccounts) {
  auto a = store_.CreateAccount("alice");
  ASSERT_TRUE(a) << a.error().ToString();
  auto b = store_.CreateAccount("bob-2.x_y");
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(a->created_us, clock_.WallMicros());
  auto got = store_.GetAccount("alice");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, a->id);
  EXPECT_FALSE(got->disabled());
  auto by_id = store_.GetAccountById(b->id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->name, "bob-2.x_y");
  auto all = store_.ListAccounts();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice");
  EXPECT_EQ((*all)[1].name, "bob-2.x_y");
}

TEST_F(AccountsTest, RejectsDuplicateAndInvalidNames) {
  ASSERT_TRUE(store_.CreateAccount("alice"));
  auto dup = store_.CreateAccount("alice");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message().find("already exists"), std::string::npos);
  for (std::string bad : {std::string(""), std::string("Alice"), std::string("-x"),
                          std::string("a b"), std::string("é"), std::string(65, 'a')}) {
    auto r = store_.CreateAccount(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(store_.CreateAccount(std::string(64, 'a')));
}

TEST_F(AccountsTest, UnknownAccountIsNotFound) {
  EXPECT_EQ(store_.GetAccount("nobody").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_.GetAccountById(42).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_.DisableAccount("nobody").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_.CreateToken(42, ScopeSet::Default(), std::nullopt).error().code(),
            ErrorCode::kNotFound);
}

TEST_F(AccountsTest, TokenAuthenticatesWithItsScopes) {
  auto a = *store_.CreateAccount("alice");
  ScopeSet scopes = *ScopeSet::Parse({"pins:read", "admin"});
  auto tok = store_.CreateToken(a.id, scopes, std::nullopt);
  ASSERT_TRUE(tok) << tok.error().ToString();
  EXPECT_EQ(tok->secret.rfind("cairn_", 0), 0u);
  EXPECT_EQ(tok->secret.size(), 6u + 52u);
  auto p = store_.Authenticate(tok->secret, clock_.WallMicros());
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->account.id, a.id);
  EXPECT_EQ(p->account.name, "alice");
  EXPECT_EQ(p->token_id, tok->info.id);
  EXPECT_TRUE(p->scopes.Has(Scope::kPinsRead));
  EXPECT_TRUE(p->scopes.Has(Scope::kAdmin));
  EXPECT_FALSE(p->scopes.Has(Scope::kPinsWrite));
  EXPECT_FALSE(p->scopes.Has(Scope::kUpload));
}

TEST_F(AccountsTest, TokensAreRandomAndStoredOnlyAsTheirHash) {
  auto a = *store_.CreateAccount("alice");
  std::set<std::string> secrets, ids;
  for (int i = 0; i < 20; ++i) {
    auto tok = *store_.CreateToken(a.id, ScopeSet::Default(), std::nullopt);
    secrets.insert(tok.secret);
    ids.insert(tok.info.id);
  }
  EXPECT_EQ(secrets.size(), 20u);
  EXPECT_EQ(ids.size(), 20u);
  ASSERT_TRUE(t_.db().Read([&](SqlSession& s) -> Result<void> {
    auto rows = CAIRN_TRY(s.Query("SELECT * FROM tokens"));
    EXPECT_EQ(rows.size(), 20u);
    std::set<Bytes> hashes;
    for (const SqlRow& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        if (const auto* text = std::get_if<std::string>(&row.value(c))) {
          for (const std::string& secret : secrets) {
            EXPECT_EQ(text->find(secret.substr(6)), std::string::npos) << "secret stored in clear";
          }
        }
      }
      hashes.insert(row.Blob(2));
    }
    for (const std::string& secret : secrets) {
      auto d = multiformats::Sha256(AsBytes(secret));
      EXPECT_EQ(hashes.count(Bytes(d.begin(), d.end())), 1u);
    }
    return Ok();
  }));
}

TEST_F(AccountsTest, AuthenticateSaysWhyATokenIsRefused) {
  auto a = *store_.CreateAccount("alice");
  auto revoked = *store_.CreateToken(a.id, ScopeSet::Default(), std::nullopt);
  auto expiring = *store_.CreateToken(a.id, ScopeSet::Default(), clock_.WallMicros() + 1000);
  auto good = *store_.CreateToken(a.id, ScopeSet::Default(), std::nullopt);
  ASSERT_TRUE(store_.RevokeToken(revoked.info.id));
  ASSERT_TRUE(store_.RevokeToken(revoked.info.id)) << "revoking twice is a no-op";

  auto reason = [&](const std::string& text, int64_t now) {
    auto r = store_.Authenticate(text, now);
    EXPECT_FALSE(r) << text;
    if (r) return std::string("accepted");
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
    return r.error().message();
  };
  int64_t now = clock_.WallMicros();
  EXPECT_EQ(reason(revoked.secret, now), "metadata: token revoked");
  EXPECT_TRUE(store_.Authenticate(expiring.secret, now + 999));
  EXPECT_EQ(reason(expiring.secret, now + 1000), "metadata: token expired");
  std::string unknown = good.secret;
  unknown.back() = unknown.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(reason(unknown, now), "metadata: unknown token");
  EXPECT_EQ(reason("", now), "metadata: malformed token");
  EXPECT_EQ(reason(good.secret + "a", now), "metadata: malformed token");
  EXPECT_EQ(reason("Bearer " + good.secret, now), "metadata: malformed token");
  std::string upper = good.secret;
  upper[10] = 'A';
  EXPECT_EQ(reason(upper, now), "metadata: malformed token");

  ASSERT_TRUE(store_.DisableAccount("alice"));
  ASSERT_TRUE(store_.DisableAccount("alice")) << "idempotent";
  EXPECT_EQ(reason(good.secret, now), "metadata: account disabled");
  EXPECT_TRUE(store_.GetAccount("alice")->disabled());
}

TEST_F(AccountsTest, RejectsEmptyScopesAndPastExpiry) {
  auto a = *store_.CreateAccount("alice");
  EXPECT_EQ(store_.CreateToken(a.id, ScopeSet(), std::nullopt).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_.CreateToken(a.id, ScopeSet::Default(), clock_.WallMicros()).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_.RevokeToken("tok_nope").error().code(), ErrorCode::kNotFound);
}

// Remembered authentications: a revocation or a disable on this store is seen at once; one made
// by another store over the same database (another process) within kAuthCacheUs; expiry always.
TEST_F(AccountsTest, RememberedAuthenticationsFollowRevocationsAndExpiry) {
  AccountStore other{t_.db(), clock_};  // as the CLI would, beside the server
  auto a = store_.CreateAccount("alice");
  ASSERT_TRUE(a);
  const int64_t t0 = clock_.WallMicros();
  auto here = store_.CreateToken(a->id, ScopeSet::Default(), std::nullopt);
  auto there = store_.CreateToken(a->id, ScopeSet::Default(), std::nullopt);
  auto brief = store_.CreateToken(a->id, ScopeSet::Default(), t0 + 500'000);
  ASSERT_TRUE(here && there && brief);
  for (const auto* t : {&*here, &*there, &*brief}) ASSERT_TRUE(store_.Authenticate(t->secret, t0));

  ASSERT_TRUE(store_.RevokeToken(here->info.id));
  EXPECT_FALSE(store_.Authenticate(here->secret, t0 + 1));

  ASSERT_TRUE(store_.Authenticate(there->secret, t0 + 2));  // remembered again (Forget cleared all)
  ASSERT_TRUE(other.RevokeToken(there->info.id));
  ASSERT_TRUE(store_.Authenticate(there->secret, t0 + 3));  // remembered: not seen yet
  auto late = store_.Authenticate(there->secret, t0 + 2 + AccountStore::kAuthCacheUs);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message().find("revoked"), std::string::npos);

  auto expired = store_.Authenticate(brief->secret, t0 + 500'000);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);

  auto fresh = store_.CreateToken(a->id, ScopeSet::Default(), std::nullopt);
  ASSERT_TRUE(store_.Authenticate(fresh->secret, t0 + 10));
  ASSERT_TRUE(store_.DisableAccount("alice"));
  EXPECT_FALSE(store_.Authenticate(fresh->secret, t0 + 11));
}

TEST_F(AccountsTest, ListsTokensWithoutSecretsAndRecordsLastUse) {
  auto a = *store_.CreateAccount("alice");
  auto b = *store_.CreateAccount("bob");
  auto t1 = *store_.CreateToken(a.id, ScopeSet::Default(), std::nullopt);
  clock_.Advance(10);
  auto t2 = *store_.CreateToken(a.id, *ScopeSet::Parse({"upload"}), clock_.WallMicros() + 5000);
  ASSERT_TRUE(store_.CreateToken(b.id, ScopeSet::Default(), std::nullopt));
  ASSERT_TRUE(store_.RevokeToken(t2.info.id));

  int64_t used_at = clock_.WallMicros() + 7;
  ASSERT_TRUE(store_.Authenticate(t1.secret, used_at));
  // Within the resolution, the stored last use does not move.
  ASSERT_TRUE(store_.Authenticate(t1.secret, used_at + 5));

  auto list = store_.ListTokens(a.id);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, t1.info.id);
  EXPECT_EQ((*list)[0].scopes, ScopeSet::Default());
  EXPECT_EQ((*list)[0].last_used_us, used_at);
  EXPECT_FALSE((*list)[0].revoked_us);
  EXPECT_FALSE((*list)[0].expires_us);
  EXPECT_EQ((*list)[1].id, t2.info.id);
  EXPECT_EQ((*list)[1].scopes.Names(), std::vector<std::string>{"upload"});
  EXPECT_TRUE((*list)[1].revoked_us);
  EXPECT_EQ((*list)[1].expires_us, t2.info.expires_us);
  EXPECT_FALSE((*list)[1].last_used_us);

  ASSERT_TRUE(store_.Authenticate(t1.secret, used_at + AccountStore::kLastUsedResolutionUs));
  EXPECT_EQ(store_.GetToken(t1.info.id)->last_used_us,
            used_at + AccountStore::kLastUsedResolutionUs);
}

TEST(ScopeSet, ParsesTheClosedSetAndRejectsOthers) {
  auto all = ScopeSet::Parse({"admin", "upload", "pins:write", "pins:read"});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->ToText(), "pins:read pins:write upload admin");
  EXPECT_EQ(*ScopeSet::FromText(all->ToText()), *all);
  EXPECT_EQ(ScopeSet::Default().ToText(), "pins:read pins:write upload");
  auto bad = ScopeSet::Parse({"pins:read", "pins:delete"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("pins:delete"), std::string::npos);
  EXPECT_FALSE(ScopeSet::Parse({"PINS:READ"}));
}

}  // namespace
}  // namespace cairn::metadata
