#include "apps/cairn/router.hpp"

#include "api/admin_api.hpp"
#include "api/kubo_rpc.hpp"
#include "api/pinning_api.hpp"
#include "api/routing_api.hpp"

namespace cairn::app {

Surface RouteFor(std::string_view path) {
  if (path == "/healthz") return Surface::kHealth;
  if (path == "/metrics") return Surface::kMetrics;
  if (api::KuboRpc::Handles(path)) return Surface::kKuboRpc;
  if (api::PinningApi::Handles(path)) return Surface::kPinning;
  if (api::AdminApi::Handles(path)) return Surface::kAdmin;
  if (api::RoutingApi::Handles(path)) return Surface::kRouting;
  if (path == "/ipfs" || path.rfind("/ipfs/", 0) == 0) return Surface::kGateway;
  if (path.rfind("/filecoin/piece/", 0) == 0) return Surface::kPiece;
  return Surface::kNone;
}

bool NeedsTokenAtAdmission(Surface surface, std::string_view path) {
  switch (surface) {
    case Surface::kKuboRpc:
      return path != "/api/v0/version" && path != "/api/v0/id";
    case Surface::kPinning:
    case Surface::kAdmin:
      return true;
    default:
      return false;
  }
}

}  // namespace cairn::app
