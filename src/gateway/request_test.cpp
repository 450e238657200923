#include "gateway/request.hpp"

#include <gtest/gtest.h>

namespace cairn::gateway {
namespace {

constexpr const char* kCid = "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby";

http::Request Get(const std::string& target, http::HeaderList headers = {}) {
  http::Request r;
  r.method = "GET";
  r.target = target;
  EXPECT_TRUE(http::ParseTarget(target, r));
  r.headers = std::move(headers);
  return r;
}

TEST(ParseGatewayRequest, SplitsRootAndPath) {
  auto g = ParseGatewayRequest(Get(std::string("/ipfs/") + kCid + "/a/b%20c/"));
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->root_text, kCid);
  EXPECT_EQ(g->segments, (std::vector<std::string>{"a", "b c"}));
  EXPECT_TRUE(g->trailing_slash);
  EXPECT_EQ(g->format, Format::kDeserialized);
  auto bare = ParseGatewayRequest(Get(std::string("/ipfs/") + kCid));
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->segments.empty());
  EXPECT_FALSE(bare->trailing_slash);
}

TEST(ParseGatewayRequest, FormatQueryWinsOverAccept) {
  auto g = ParseGatewayRequest(
      Get(std::string("/ipfs/") + kCid + "?format=raw", {{"Accept", "application/vnd.ipld.car"}}));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->format, Format::kRaw);
  EXPECT_TRUE(g->format_from_query);
  auto a = ParseGatewayRequest(
      Get(std::string("/ipfs/") + kCid,
          {{"Accept", "text/html;q=0.5, application/vnd.ipld.car; version=1; dups=y"}}));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->format, Format::kCar);
  EXPECT_TRUE(a->car.dups);
}

TEST(ParseGatewayRequest, CarParameters) {
  auto g = ParseGatewayRequest(
      Get(std::string("/ipfs/") + kCid + "?format=car&dag-scope=block&car-dups=n&car-order=dfs"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->car.scope, DagScope::kBlock);
  auto e =
      ParseGatewayRequest(Get(std::string("/ipfs/") + kCid + "?format=car&entity-bytes=-1024:*"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->car.scope, DagScope::kEntity);
  EXPECT_EQ(e->car.entity_bytes->from, -1024);
  EXPECT_FALSE(e->car.entity_bytes->to);
}

TEST(ParseGatewayRequest, RejectsWithTheRightCode) {
  struct Case {
    std::string target;
    http::HeaderList headers;
    ErrorCode code;
  } cases[] = {
      {"/ipfs/notacid", {}, ErrorCode::kInvalidArgument},
      {"/ipfs/", {}, ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid + "/../etc/passwd", {}, ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid + "?format=tar", {}, ErrorCode::kNotSupported},
      {std::string("/ipfs/") + kCid + "?format=bogus", {}, ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid + "?format=car&car-version=2", {}, ErrorCode::kNotSupported},
      {std::string("/ipfs/") + kCid + "?format=car&dag-scope=most",
       {},
       ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid + "?format=car&entity-bytes=5:2",
       {},
       ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid + "?format=car&entity-bytes=x",
       {},
       ErrorCode::kInvalidArgument},
      {std::string("/ipfs/") + kCid, {{"Accept", "application/x-tar"}}, ErrorCode::kNotSupported},
      {std::string("/ipfs/") + kCid, {{"Service-Worker", "script"}}, ErrorCode::kInvalidArgument},
      {"/ipns/example.com", {}, ErrorCode::kNotFound},
  };
  for (const auto& c : cases) {
    auto g = ParseGatewayRequest(Get(c.target, c.headers));
    ASSERT_FALSE(g) << c.target;
    EXPECT_EQ(g.error().code(), c.code) << c.target << ": " << g.error().message();
  }
}

TEST(RangeHeader, ParsesSingleRangesOnly) {
  auto r = ParseRangeHeader("bytes=10-19");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->first, 10u);
  EXPECT_EQ(*r->last, 19u);
  EXPECT_EQ(*ParseRangeHeader("bytes=-5")->suffix, 5u);
  EXPECT_FALSE(ParseRangeHeader("bytes=10-19")->suffix);
  EXPECT_FALSE(ParseRangeHeader("bytes=1-2,4-5"));
  EXPECT_FALSE(ParseRangeHeader("items=1-2"));
  EXPECT_FALSE(ParseRangeHeader("bytes=9-3"));
}

TEST(RangeHeader, ResolvesAgainstTheSize) {
  auto full = ResolveRange(*ParseRangeHeader("bytes=0-"), 100);
  EXPECT_EQ(full->offset, 0u);
  EXPECT_EQ(full->length, 100u);
  auto clipped = ResolveRange(*ParseRangeHeader("bytes=90-200"), 100);
  EXPECT_EQ(clipped->length, 10u);
  auto suffix = ResolveRange(*ParseRangeHeader("bytes=-30"), 100);
  EXPECT_EQ(suffix->offset, 70u);
  EXPECT_FALSE(ResolveRange(*ParseRangeHeader("bytes=100-"), 100));
  EXPECT_FALSE(ResolveRange(*ParseRangeHeader("bytes=-0"), 100));
}

TEST(EntityBytes, ResolvesNegativeAndOpenEnds) {
  auto r = ResolveEntityBytes({-1024, std::nullopt}, 5000);
  EXPECT_EQ(r.offset, 3976u);
  EXPECT_EQ(r.length, 1024u);
  r = ResolveEntityBytes({499, -1000}, 5000);
  EXPECT_EQ(r.offset, 499u);
  EXPECT_EQ(r.length, 4000u - 499u + 1);
  r = ResolveEntityBytes({6000, std::nullopt}, 5000);
  EXPECT_EQ(r.length, 0u);
  r = ResolveEntityBytes({0, 99999}, 5000);
  EXPECT_EQ(r.length, 5000u);
}

}  // namespace
}  // namespace cairn::gateway
