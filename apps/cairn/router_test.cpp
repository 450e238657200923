// The routing table of `cairn serve` as the pure function it is.
#include "apps/cairn/router.hpp"

#include <gtest/gtest.h>

namespace cairn::app {
namespace {

TEST(Router, EveryPathGoesToItsSurface) {
  struct Case {
    const char* path;
    Surface surface;
  };
  const Case cases[] = {
      {"/healthz", Surface::kHealth},
      {"/metrics", Surface::kMetrics},
      {"/api/v0/add", Surface::kKuboRpc},
      {"/api/v0/version", Surface::kKuboRpc},
      {"/api/v0/", Surface::kKuboRpc},
      {"/pins", Surface::kPinning},
      {"/pins/", Surface::kPinning},
      {"/pins/abc", Surface::kPinning},
      {"/admin/accounts", Surface::kAdmin},
      {"/routing/v1/providers/bafkqaaa", Surface::kRouting},
      {"/ipfs", Surface::kGateway},
      {"/ipfs/bafkqaaa/a/b", Surface::kGateway},
      {"/filecoin/piece/0b6c1f4e-7c2a-4f7e-9a51-2d7c9b1e0a11", Surface::kPiece},
      {"/filecoin/piece", Surface::kNone},
      {"/", Surface::kNone},
      {"/healthz/", Surface::kNone},
      {"/ipfsx", Surface::kNone},
      {"/api/v0", Surface::kNone},
      {"/pinsx", Surface::kNone},
      {"/ipns/x", Surface::kNone},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RouteFor(c.path), c.surface) << c.path;
  }
}

TEST(Router, TokensAreCheckedBeforeTheBodyOnlyWhereEveryCallNeedsOne) {
  EXPECT_TRUE(NeedsTokenAtAdmission(Surface::kKuboRpc, "/api/v0/add"));
  EXPECT_TRUE(NeedsTokenAtAdmission(Surface::kKuboRpc, "/api/v0/dag/import"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kKuboRpc, "/api/v0/version"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kKuboRpc, "/api/v0/id"));
  EXPECT_TRUE(NeedsTokenAtAdmission(Surface::kPinning, "/pins"));
  EXPECT_TRUE(NeedsTokenAtAdmission(Surface::kAdmin, "/admin/accounts"));
  // The gateway applies gateway.public itself; health, metrics and routing are open.
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kGateway, "/ipfs/x"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kHealth, "/healthz"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kMetrics, "/metrics"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kRouting, "/routing/v1/providers/x"));
  EXPECT_FALSE(NeedsTokenAtAdmission(Surface::kNone, "/nothing"));
}

}  // namespace
}  // namespace cairn::app
