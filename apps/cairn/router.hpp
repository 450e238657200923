// Which surface of `cairn serve` answers a request path: a pure function, so the routing table
// is tested without building the service. Service::Handle dispatches on it; Service::Admit uses
// it to decide which requests must carry a valid token before their body is read.
#pragma once

#include <string_view>

namespace cairn::app {

enum class Surface {
  kHealth,   // /healthz
  kMetrics,  // /metrics
  kKuboRpc,  // /api/v0/…
  kPinning,  // /pins, /pins/{requestid}
  kAdmin,    // /admin/…
  kRouting,  // /routing/v1/…
  kGateway,  // /ipfs, /ipfs/…
  kPiece,    // /filecoin/piece/{deal}: deal data for storage providers (cold tier)
  kNone,     // anything else: 404
};

Surface RouteFor(std::string_view path);

// True for the surfaces whose requests are refused with 401 before their body is read when the
// token is missing or invalid (every call of the Kubo RPC but version and id, the pinning and
// admin APIs). The gateway's own rule (gateway.public) is applied when it is handled.
bool NeedsTokenAtAdmission(Surface surface, std::string_view path);

}  // namespace cairn::app
