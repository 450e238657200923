#include "fetch/block_source.hpp"

#include <gtest/gtest.h>

#include "fetch/fake_http_getter.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::fetch {
namespace {

namespace mf = multiformats;

TEST(OriginToGatewayUrl, MapsHttpMultiaddrsOnly) {
  EXPECT_EQ(*OriginToGatewayUrl("/ip4/127.0.0.1/tcp/8080/http"), "http://127.0.0.1:8080");
  EXPECT_EQ(*OriginToGatewayUrl("/dns4/gw.example/tcp/443/https"), "https://gw.example:443");
  EXPECT_EQ(*OriginToGatewayUrl("/dns/gw.example/tcp/443/tls/http"), "https://gw.example:443");
  EXPECT_EQ(*OriginToGatewayUrl(
                "/ip6/::1/tcp/80/http/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"),
            "http://[::1]:80");
  EXPECT_FALSE(OriginToGatewayUrl("/ip4/1.2.3.4/tcp/4001/p2p/QmX"));
  EXPECT_FALSE(OriginToGatewayUrl("/ip4/1.2.3.4/udp/4001/quic"));
  EXPECT_FALSE(OriginToGatewayUrl("/ip4/1.2.3.4/tcp/99999/http"));
  EXPECT_FALSE(OriginToGatewayUrl("/ip4/1.2.3.4/tcp/80/http/extra"));
  EXPECT_FALSE(OriginToGatewayUrl("garbage"));
}

TEST(GatewayBlockSource, FetchesVerifiesAndFallsBackPastLiarsAndMisses) {
  FakeHttpGetter http;
  auto cid = *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes("block"));
  std::string path = "/ipfs/" + cid.ToString() + "?format=raw";
  http.Set("http://liar" + path, 200, "block!");
  http.Set("http://honest" + path, 200, "block");
  GatewayBlockSource source(http, {.gateways = {"http://liar", "http://empty/"}});
  std::vector<std::string> origins = {"http://honest"};
  auto got = source.Fetch(cid, origins);  // origins are tried first
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(AsString(*got), "block");
  EXPECT_EQ(http.gets(), 1);
  auto bad = source.Fetch(cid, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(bad.error().message().find("http://liar: sent bytes that do not match the CID"),
            std::string::npos)
      << bad.error().message();
  EXPECT_NE(bad.error().message().find("http://empty/: HTTP 404"), std::string::npos);
}

TEST(GatewayBlockSource, UnreachableGatewaysAreRetryableNotMissing) {
  FakeHttpGetter http;
  http.FailHost("http://down", ErrorCode::kUnavailable);
  http.FailHost("http://slow", ErrorCode::kTimeout);
  auto cid = *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes("x"));
  GatewayBlockSource down(http, {.gateways = {"http://down", "http://empty"}});
  EXPECT_EQ(down.Fetch(cid, {}).error().code(), ErrorCode::kUnavailable);
  GatewayBlockSource slow(http, {.gateways = {"http://slow"}});
  EXPECT_EQ(slow.Fetch(cid, {}).error().code(), ErrorCode::kTimeout);
}

TEST(GatewayBlockSource, IdentityCidsNeedNoNetworkAndUnknownHashesAreRefused) {
  FakeHttpGetter http;
  GatewayBlockSource source(http, {});
  auto id = *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kIdentity, AsBytes("tiny"));
  EXPECT_EQ(AsString(*source.Fetch(id, {})), "tiny");
  auto odd = mf::Cid::V1(mf::codec::kRaw, *mf::Multihash::Make(0x1e, Bytes(32, 1)));
  EXPECT_EQ(source.Fetch(odd, {}).error().code(), ErrorCode::kNotSupported);
  auto none =
      source.Fetch(*mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes("x")), {});
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(http.gets(), 0);
}

}  // namespace
}  // namespace cairn::fetch
