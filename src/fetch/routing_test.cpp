#include "fetch/routing.hpp"

#include <gtest/gtest.h>

#include "fetch/fake_http_getter.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::fetch {
namespace {

Cid SomeCid() {
  return *Cid::Compute(0, multiformats::codec::kDagPb, multiformats::codec::kSha2_256,
                       AsBytes("x"));
}

TEST(DelegatedRouting, AsksForCidV1AndParsesPeerRecords) {
  FakeHttpGetter http;
  Cid cid = SomeCid();
  std::string url = "https://router.example/routing/v1/providers/" + cid.ToV1().ToString();
  http.Set(url, 200, R"({"Providers":[
    {"Schema":"peer","ID":"12D3KooWA","Addrs":["/ip4/1.2.3.4/tcp/4001"],"Protocols":["transport-bitswap"],"extra":{"x":1}},
    {"Schema":"peer","ID":"12D3KooWB","Protocols":["transport-ipfs-gateway-http"]},
    {"Schema":"bitswap","Protocol":"transport-bitswap","ID":"QmC","Addrs":["/dns4/c/tcp/1",7]},
    {"Schema":"peer","ID":"12D3KooWD"},
    {"Schema":"graphsync-filecoinv1","ID":"12D3KooWE"},
    {"Schema":"peer"},
    "junk"
  ]})");
  DelegatedRoutingClient client(http, {.endpoint = "https://router.example/"});
  auto got = client.FindProviders(cid, 10);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].id, "12D3KooWA");
  EXPECT_EQ((*got)[0].addrs, std::vector<std::string>{"/ip4/1.2.3.4/tcp/4001"});
  EXPECT_EQ((*got)[1].id, "QmC");
  EXPECT_EQ((*got)[1].addrs, std::vector<std::string>{"/dns4/c/tcp/1"});
  EXPECT_EQ((*got)[2].id, "12D3KooWD");  // no protocols: unknown, kept
  auto limited = client.FindProviders(cid, 1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);
}

TEST(DelegatedRouting, NotFoundIsEmptyAndErrorsAreNamed) {
  FakeHttpGetter http;
  Cid cid = SomeCid();
  DelegatedRoutingClient client(http, {.endpoint = "https://r"});
  auto none = client.FindProviders(cid, 10);  // the fake answers 404
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  http.Set("https://r/routing/v1/providers/" + cid.ToV1().ToString(), 500, "");
  auto failed = client.FindProviders(cid, 10);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("HTTP 500"), std::string::npos);
  http.Set("https://r/routing/v1/providers/" + cid.ToV1().ToString(), 200, "[1,2]");
  EXPECT_EQ(client.FindProviders(cid, 10).error().code(), ErrorCode::kInvalidArgument);
  http.Set("https://r/routing/v1/providers/" + cid.ToV1().ToString(), 200,
           std::string(2u << 20, ' '));
  EXPECT_EQ(client.FindProviders(cid, 10).error().code(), ErrorCode::kResourceExhausted);
  DelegatedRoutingClient disabled(http, {.endpoint = ""});
  EXPECT_TRUE(disabled.FindProviders(cid, 10)->empty());
}

TEST(DelegatedRouting, ParserRefusesNonObjects) {
  EXPECT_FALSE(ParseProvidersResponse("", 10));
  EXPECT_FALSE(ParseProvidersResponse("{\"Providers\":{}}", 10));
  EXPECT_TRUE(ParseProvidersResponse("{\"Providers\":null}", 10)->empty());
  EXPECT_TRUE(ParseProvidersResponse("{}", 10)->empty());
  EXPECT_FALSE(ParseProvidersResponse(std::string(100, '[') + std::string(100, ']'), 10));
}

class ListFinder final : public ProviderFinder {
 public:
  explicit ListFinder(Result<std::vector<Provider>> answer) : answer_(std::move(answer)) {}
  Result<std::vector<Provider>> FindProviders(const Cid&, size_t) override {
    ++calls;
    return answer_;
  }
  int calls = 0;

 private:
  Result<std::vector<Provider>> answer_;
};

TEST(ProviderChain, MergesDistinctProvidersAndSkipsFailures) {
  ListFinder down(Err(ErrorCode::kUnavailable, "router down"));
  ListFinder a(std::vector<Provider>{{"A", {}, {}}, {"B", {}, {}}});
  ListFinder b(std::vector<Provider>{{"B", {"/ip4/1.2.3.4/tcp/1"}, {}}, {"C", {}, {}}});
  ProviderChain chain({&down, &a, &b});
  auto got = chain.FindProviders(SomeCid(), 10);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].id, "A");
  EXPECT_EQ((*got)[1].id, "B");
  EXPECT_EQ((*got)[2].id, "C");
  // Enough from the first: the next is not asked.
  ProviderChain enough({&a, &b});
  b.calls = 0;
  EXPECT_EQ(enough.FindProviders(SomeCid(), 2)->size(), 2u);
  EXPECT_EQ(b.calls, 0);
  // All failing: the last error.
  ProviderChain failing({&down, &down});
  auto none = failing.FindProviders(SomeCid(), 2);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("router down"), std::string::npos);
}

}  // namespace
}  // namespace cairn::fetch
