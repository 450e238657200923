#include "filecoin/deals/pin_policy.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin::deals {
namespace {

std::vector<Address> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<Address> out;
  for (uint64_t id : ids) out.push_back(*Address::Id(id));
  return out;
}

std::string ErrorOf(const std::map<std::string, std::string>& meta) {
  auto p = ParsePinPolicy(meta);
  return p ? "" : p.error().message();
}

TEST(PinPolicy, ReadsTheThreeKeysAndIgnoresOthers) {
  auto p = ParsePinPolicy({{"filecoin.replicas", "3"},
                           {"filecoin.duration_days", "540"},
                           {"filecoin.providers", "f01004,t01000"},
                           {"app", "x"}});
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->replicas, 3);
  EXPECT_EQ(p->duration_days, 540);
  EXPECT_EQ(p->providers, Ids({1004, 1000}));
  auto none = ParsePinPolicy({{"app", "x"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(PinPolicy, BadValuesNameTheKey) {
  for (const char* v : {"0", "17", "-1", "+2", "02", "2 ", "two", ""}) {
    EXPECT_NE(ErrorOf({{"filecoin.replicas", v}}).find("meta filecoin.replicas: '"),
              std::string::npos)
        << v;
  }
  for (const char* v : {"179", "1279", "1e3", "99999999999999999999"}) {
    EXPECT_NE(ErrorOf({{"filecoin.duration_days", v}}).find("meta filecoin.duration_days: '"),
              std::string::npos)
        << v;
  }
  for (const char* v : {"", "f01000,", ",f01000", "f01000,f01000", "f1abc", "1000", "f0x"}) {
    EXPECT_NE(ErrorOf({{"filecoin.providers", v}}).find("meta filecoin.providers: "),
              std::string::npos)
        << v;
  }
}

TEST(PinPolicy, HotIsAlwaysOrAuto) {
  EXPECT_TRUE(CheckHotMeta({}));
  EXPECT_TRUE(CheckHotMeta({{"hot", "always"}}));
  EXPECT_TRUE(CheckHotMeta({{"hot", "auto"}, {"other", "x"}}));
  auto bad = CheckHotMeta({{"hot", "Always"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "meta hot: 'Always' is not 'always' or 'auto'");
}

ServicePolicy Service(std::initializer_list<uint64_t> ids, int replicas = 2) {
  ServicePolicy s;
  s.providers = Ids(ids);
  s.replicas = replicas;
  return s;
}

AccountPolicy Account(const std::map<std::string, std::string>& policy) {
  auto p = ParseAccountPolicy(policy);
  EXPECT_TRUE(p.has_value()) << p.error().message();
  return p ? *p : AccountPolicy{};
}

TEST(PinPolicy, IsCheckedAgainstTheServicesProviders) {
  const auto service = Service({1000, 1002, 1004});
  auto check = [&](const std::map<std::string, std::string>& meta) {
    auto r = CheckPinPolicy(*ParsePinPolicy(meta), {}, service);
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(check({{"filecoin.providers", "f01004,f01000"}}), "");
  EXPECT_EQ(check({{"filecoin.replicas", "3"}}), "");
  EXPECT_NE(check({{"filecoin.providers", "f01000,f09999"}})
                .find("meta filecoin.providers: f09999 is not one of this service's providers"),
            std::string::npos);
  // Two replicas by default, one provider named: the providers key is what falls short.
  EXPECT_NE(check({{"filecoin.providers", "f01004"}}).find("meta filecoin.providers: 2 replicas"),
            std::string::npos);
  EXPECT_EQ(check({{"filecoin.providers", "f01004"}, {"filecoin.replicas", "1"}}), "");
  EXPECT_NE(check({{"filecoin.replicas", "4"}}).find("meta filecoin.replicas: 4 replicas"),
            std::string::npos);
  // The cold tier off: nothing to check against.
  EXPECT_TRUE(CheckPinPolicy(*ParsePinPolicy({{"filecoin.replicas", "9"}}), {}, ServicePolicy{})
                  .has_value());
}

TEST(PinPolicy, IsCheckedAgainstTheAccountsAllowAndDenyLists) {
  const auto service = Service({1000, 1002, 1004});
  auto check = [&](const std::map<std::string, std::string>& meta, const AccountPolicy& account) {
    auto r = CheckPinPolicy(*ParsePinPolicy(meta), account, service);
    return r ? std::string() : r.error().message();
  };
  const auto deny = Account({{"filecoin.deny", "f01002"}});
  EXPECT_EQ(check({}, deny), "");
  EXPECT_EQ(check({{"filecoin.providers", "f01000,f01004"}}, deny), "");
  EXPECT_EQ(check({{"filecoin.providers", "f01000,f01002"}}, deny),
            "meta filecoin.providers: f01002 is denied to this account");
  // Three replicas, two providers left once f01002 is denied.
  EXPECT_EQ(check({{"filecoin.replicas", "3"}}, deny),
            "meta filecoin.replicas: 3 replicas need as many distinct providers; 2 can be used");
  const auto allow = Account({{"filecoin.providers", "f01004,f01000"}});
  EXPECT_EQ(check({{"filecoin.providers", "f01000"}, {"filecoin.replicas", "1"}}, allow), "");
  EXPECT_EQ(check({{"filecoin.providers", "f01002"}, {"filecoin.replicas", "1"}}, allow),
            "meta filecoin.providers: f01002 is not one of this account's providers "
            "(f01004,f01000)");
  // The account's replicas are the pin's default.
  EXPECT_EQ(check({}, Account({{"filecoin.replicas", "3"}, {"filecoin.deny", "f01000"}})),
            "meta filecoin.providers: 3 replicas need as many distinct providers; 2 can be used");
}

TEST(PinPolicy, AccountPolicyKeysAndValues) {
  auto p = ParseAccountPolicy({{"filecoin.replicas", "3"},
                               {"filecoin.duration_days", "200"},
                               {"filecoin.providers", "f01000,f01002"},
                               {"filecoin.verified", "true"},
                               {"filecoin.max_price", "500000000"},
                               {"filecoin.deny", "t01004"}});
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->replicas, 3);
  EXPECT_EQ(p->duration_days, 200);
  EXPECT_EQ(p->allow, Ids({1000, 1002}));
  EXPECT_EQ(p->verified, true);
  EXPECT_EQ(p->max_price, BigInt::FromUint(500000000));
  EXPECT_EQ(p->deny, Ids({1004}));
  EXPECT_TRUE(ParseAccountPolicy({})->empty());
  auto error = [](const std::map<std::string, std::string>& policy) {
    auto r = ParseAccountPolicy(policy);
    return r ? std::string() : r.error().message();
  };
  EXPECT_NE(
      error({{"filecoin.replica", "3"}}).find("account policy: unknown key 'filecoin.replica'"),
      std::string::npos);
  EXPECT_NE(error({{"hot", "always"}}).find("unknown key 'hot'"), std::string::npos);
  EXPECT_EQ(error({{"filecoin.verified", "yes"}}),
            "account policy filecoin.verified: 'yes' is not true or false");
  for (const char* v : {"", "-1", "1.5", "01", "1e9", "abc"}) {
    EXPECT_NE(error({{"filecoin.max_price", v}}).find("account policy filecoin.max_price: '"),
              std::string::npos)
        << v;
  }
  EXPECT_NE(error({{"filecoin.deny", "f01000,f01000"}})
                .find("account policy filecoin.deny: 'f01000' is listed twice"),
            std::string::npos);
  EXPECT_NE(error({{"filecoin.replicas", "0"}}).find("account policy filecoin.replicas: '0'"),
            std::string::npos);
}

TEST(PinPolicy, AccountPolicyIsCheckedAgainstTheService) {
  const auto service = Service({1000, 1002, 1004});
  auto check = [&](const std::map<std::string, std::string>& policy) {
    auto r = CheckAccountPolicy(Account(policy), service);
    return r ? std::string() : r.error().message();
  };
  EXPECT_EQ(check({{"filecoin.deny", "f01002"}}), "");
  EXPECT_EQ(check({{"filecoin.providers", "f01000,f01002"}}), "");
  EXPECT_EQ(check({{"filecoin.providers", "f01000,f09999"}}),
            "account policy filecoin.providers: f09999 is not one of this service's providers "
            "(f01000,f01002,f01004)");
  EXPECT_EQ(check({{"filecoin.providers", "f01000,f01002"}, {"filecoin.deny", "f01002"}}),
            "account policy filecoin.deny: f01002 is also in filecoin.providers (allowed)");
  EXPECT_EQ(check({{"filecoin.deny", "f01000,f01002"}}),
            "account policy filecoin.deny: 2 replicas need as many distinct providers; 1 can be "
            "used");
  EXPECT_EQ(check({{"filecoin.replicas", "4"}}),
            "account policy filecoin.replicas: 4 replicas need as many distinct providers; 3 can "
            "be used");
  // The cold tier off: only the overlap is checked.
  EXPECT_TRUE(CheckAccountPolicy(Account({{"filecoin.replicas", "9"}}), ServicePolicy{}));
}

TEST(PinPolicy, ResolvesPinThenAccountThenService) {
  auto service = Service({1000, 1002, 1004});
  service.duration_days = 180;
  service.max_price = BigInt::FromUint(7);
  auto e = ResolvePolicy({}, {}, service);
  EXPECT_EQ(e.replicas, 2);
  EXPECT_EQ(e.duration_days, 180);
  EXPECT_EQ(e.providers, service.providers);
  EXPECT_FALSE(e.verified);
  EXPECT_EQ(e.max_price, BigInt::FromUint(7));
  EXPECT_EQ(PolicyKey(e),
            "replicas=2;duration_days=180;providers=f01000,f01002,f01004;verified=false;"
            "max_price=7");

  const auto account = Account({{"filecoin.replicas", "3"},
                                {"filecoin.duration_days", "300"},
                                {"filecoin.verified", "true"},
                                {"filecoin.max_price", "9"},
                                {"filecoin.deny", "f01002"}});
  e = ResolvePolicy({}, account, service);
  EXPECT_EQ(e.replicas, 3);
  EXPECT_EQ(e.duration_days, 300);
  EXPECT_EQ(e.providers, Ids({1000, 1004}));
  EXPECT_TRUE(e.verified);
  EXPECT_EQ(e.max_price, BigInt::FromUint(9));

  PinPolicy p;
  p.replicas = 1;
  p.duration_days = 200;
  p.providers = Ids({1004, 1002});
  e = ResolvePolicy(p, account, service);
  EXPECT_EQ(e.replicas, 1);
  EXPECT_EQ(e.duration_days, 200);
  // A pin stored before its account denied f01002 does not reach it.
  EXPECT_EQ(e.providers, Ids({1004}));

  // An allow list naming a provider the service dropped since: only the service's remain.
  e = ResolvePolicy({}, Account({{"filecoin.providers", "f01004,f09999"}}), service);
  EXPECT_EQ(e.providers, Ids({1004}));
  EXPECT_EQ(ResolvePolicy({}, {}, service), ResolvePolicy({}, {}, service));
  EXPECT_NE(PolicyKey(ResolvePolicy({}, account, service)),
            PolicyKey(ResolvePolicy({}, {}, service)));
}

}  // namespace
}  // namespace cairn::filecoin::deals
