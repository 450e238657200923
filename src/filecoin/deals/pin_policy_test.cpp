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
  EXPECT_EQ(PolicyKey(*p), "replicas=3;duration_days=540;providers=f01004,f01000");
  auto none = ParsePinPolicy({{"app", "x"}});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(PolicyKey(*none), "");
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

TEST(PinPolicy, IsCheckedAgainstTheServicesProviders) {
  const auto service = Ids({1000, 1002, 1004});
  auto check = [&](const std::map<std::string, std::string>& meta) {
    auto r = CheckPinPolicy(*ParsePinPolicy(meta), service, 2);
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
  EXPECT_TRUE(CheckPinPolicy(*ParsePinPolicy({{"filecoin.replicas", "9"}}), {}, 2).has_value());
}

TEST(PinPolicy, ResolvesAgainstTheDefaults) {
  const auto service = Ids({1000, 1002});
  auto e = ResolvePolicy({}, service, 2, 180);
  EXPECT_EQ(e.replicas, 2);
  EXPECT_EQ(e.duration_days, 180);
  EXPECT_EQ(e.providers, service);
  PinPolicy p;
  p.replicas = 1;
  p.duration_days = 200;
  p.providers = Ids({1002});
  e = ResolvePolicy(p, service, 2, 180);
  EXPECT_EQ(e.replicas, 1);
  EXPECT_EQ(e.duration_days, 200);
  EXPECT_EQ(e.providers, Ids({1002}));
}

}  // namespace
}  // namespace cairn::filecoin::deals
