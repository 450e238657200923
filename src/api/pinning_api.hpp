// The Pinning Service API v1.0.0 over HTTP (../shared/specs/ipfs/pinning-service-api.yaml):
//   GET /pins, POST /pins, GET /pins/{requestid}, POST /pins/{requestid} (replace),
//   DELETE /pins/{requestid}
// with bearer-token authentication, per-account isolation, scopes and rate limits; and Cairn's
// own GET /pins/{requestid}/events (the pin's history, docs/api.md "Pin events") and
// GET /pins/{requestid}/receipt (docs/formats/receipt.md), with the same auth and isolation.
//
// Behaviour where the spec leaves room (docs/api.md):
// - Authentication: `Authorization: Bearer <token>`; a missing/unknown/revoked/expired token is
//   401, a token without the needed scope (pins:read for GET, pins:write otherwise) 403.
// - Another account's requestid is 404, exactly like a missing one.
// - `status` absent: with no filter at all, only pinned pins are listed; with any other filter,
//   all statuses (the reading under which the official compliance suite passes).
// - Rate limits per account, reads (GET) and writes (POST, DELETE) in separate token buckets;
//   beyond them 429 with Retry-After.
// - Errors use the spec's Failure body {"error":{"reason","details"}}.
// - `meta` keys filecoin.replicas, filecoin.duration_days and filecoin.providers are a per-pin
//   storage policy (filecoin/deals/pin_policy.hpp), checked at POST and replace: 400 naming the
//   key when invalid or not honourable by this service's providers.
// - GET /pins/{requestid}/receipt: 404 for another account's pin (as for GET /pins/{id}), 404
//   with the reason while the pin has no aggregated segment yet ("… is waiting to be
//   aggregated"), 200 with the receipt JSON once it has one (deals listed as recorded).
#pragma once

#include <string>
#include <vector>

#include "api/auth.hpp"
#include "api/rate_limiter.hpp"
#include "common/clock.hpp"
#include "filecoin/types/address.hpp"
#include "http/http_types.hpp"
#include "metadata/accounts.hpp"
#include "metadata/deals.hpp"
#include "metadata/events.hpp"
#include "metadata/pins.hpp"

namespace cairn::api {

// What the API tells the pinning workers. Implemented by the composition root.
class PinEvents {
 public:
  virtual ~PinEvents() = default;
  // A pin was queued: a worker should look.
  virtual void OnQueued() = 0;
  // A pin was deleted or replaced: stop working on it.
  virtual void OnRemoved(const std::string& requestid) = 0;
};

struct PinningApiOptions {
  std::vector<std::string> delegates;  // this service's /p2p/ multiaddrs; at least one
  RateLimit rate_limit;
  // The pins' history for GET /pins/{requestid}/events; null: that route is 404.
  metadata::EventStore* events = nullptr;
  // Where receipts are read (the repo's database); null: every receipt is 404.
  metadata::DealStore* deals = nullptr;
  // The cold tier's `filecoin.providers` and `filecoin.replicas`, against which a pin's policy
  // meta is checked with its account's policy; no providers (the cold tier is off): only the
  // values' syntax is checked.
  std::vector<filecoin::Address> filecoin_providers;
  int filecoin_replicas = 2;
};

class PinningApi {
 public:
  // Everything passed must outlive the API.
  PinningApi(metadata::PinStore& pins, metadata::AccountStore& accounts, PinEvents& events,
             const Clock& clock, PinningApiOptions options);

  // Whether `path` belongs to this API ("/pins", "/pins/...").
  static bool Handles(std::string_view path);
  // Thread-safe.
  http::Response Handle(const http::Request& request);
  // The per-account buckets this API charges (PinWriteBucket for pin writes), for the other
  // surfaces that create pins (uploads) to charge the same budget. Thread-safe.
  RateLimiter& rate_limiter() { return limiter_; }

 private:
  // One function per route, called once the request is authorized and admitted.
  http::Response List(int64_t account, const http::Request& req);       // GET /pins
  http::Response Add(int64_t account, const http::Request& req);        // POST /pins
  http::Response Get(int64_t account, const std::string& requestid);    // GET /pins/{id}
  http::Response Events(int64_t account, const std::string& requestid,  // GET …/events
                        const http::Request& req);
  http::Response Receipt(int64_t account, const std::string& requestid);  // GET …/receipt
  http::Response Remove(int64_t account, const std::string& requestid);   // DELETE /pins/{id}
  http::Response Replace(int64_t account, const std::string& requestid,   // POST /pins/{id}
                         const http::Request& req);
  // ParsePinRequest, then the per-pin Filecoin policy in its meta (against the account's).
  Result<metadata::NewPin> ParsePin(int64_t account, const http::Request& req) const;

  metadata::PinStore& pins_;
  metadata::AccountStore& accounts_;
  PinEvents& events_;
  const Clock& clock_;
  PinningApiOptions options_;
  RateLimiter limiter_;
};

}  // namespace cairn::api
