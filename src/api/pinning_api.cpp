#include "api/pinning_api.hpp"

#include "api/psa_model.hpp"
#include "filecoin/deals/pin_policy.hpp"
#include "filecoin/deals/receipt.hpp"

namespace cairn::api {
PinningApi::PinningApi(metadata::PinStore& pins, metadata::AccountStore& accounts,
                       PinEvents& events, const Clock& clock, PinningApiOptions options)
    : pins_(pins),
      accounts_(accounts),
      events_(events),
      clock_(clock),
      options_(std::move(options)),
      limiter_(options_.rate_limit, clock) {}

bool PinningApi::Handles(std::string_view path) {
  return path == "/pins" || path == "/pins/" || path.rfind("/pins/", 0) == 0;
}

http::Response PinningApi::Handle(const http::Request& req) {
  std::string_view path = req.path;
  std::string requestid;
  bool events = false;
  bool receipt = false;
  if (path != "/pins" && path != "/pins/") {
    constexpr std::string_view kEvents = "/events";
    if (path.size() > 6 + kEvents.size() && path.substr(path.size() - kEvents.size()) == kEvents) {
      events = true;
      path.remove_suffix(kEvents.size());
    }
    requestid = std::string(path.substr(6));
    constexpr std::string_view kReceipt = "/receipt";
    if (!events && requestid.size() > kReceipt.size() && requestid.ends_with(kReceipt)) {
      requestid.resize(requestid.size() - kReceipt.size());
      receipt = true;
    }
    if (requestid.empty() || requestid.find('/') != std::string::npos || requestid.size() > 128) {
      return http::ErrorResponse(Error(ErrorCode::kNotFound, "pins: no such pin request"));
    }
  }
  bool collection = requestid.empty();
  bool read = req.method == "GET" || req.method == "HEAD";
  bool sub_resource = events || receipt;  // GET only
  bool allowed =
      sub_resource ? read : read || req.method == "POST" || (!collection && req.method == "DELETE");
  if (!allowed) {
    return http::MethodNotAllowed("pins", req.method,
                                  sub_resource ? "GET"
                                  : collection ? "GET, POST"
                                               : "GET, POST, DELETE");
  }
  auto who = Authorize(accounts_, clock_, req,
                       read ? metadata::Scope::kPinsRead : metadata::Scope::kPinsWrite);
  if (!who) return http::ErrorResponse(who.error());
  // Reads and writes have separate budgets: a bulk import does not stop status polling.
  std::string bucket = read ? "account:" + std::to_string(who->account.id) + ":read"
                            : PinWriteBucket(who->account.id);
  if (int64_t wait = limiter_.Acquire(bucket); wait > 0) {
    http::Response r = http::ErrorResponse(
        Error(ErrorCode::kResourceExhausted,
              "pins: rate limit exceeded; retry in " + std::to_string(wait) + " s"));
    r.SetHeader("Retry-After", std::to_string(wait));
    return r;
  }
  int64_t account = who->account.id;
  if (receipt) return Receipt(account, requestid);
  if (collection) return read ? List(account, req) : Add(account, req);
  if (events) return Events(account, requestid, req);
  if (read) return Get(account, requestid);
  if (req.method == "DELETE") return Remove(account, requestid);
  return Replace(account, requestid, req);
}

http::Response PinningApi::List(int64_t account, const http::Request& req) {
  auto q = ParseListQuery(req);
  if (!q) return http::ErrorResponse(q.error());
  if (q->no_filters) q->filter.statuses = {metadata::PinStatus::kPinned};
  auto count = pins_.Count(account, q->filter);
  if (!count) return http::ErrorResponse(count.error());
  auto list = pins_.List(account, q->filter);
  if (!list) return http::ErrorResponse(list.error());
  return http::JsonResponse(200, RenderPinResults(*count, *list, options_.delegates));
}

Result<metadata::NewPin> PinningApi::ParsePin(int64_t account, const http::Request& req) const {
  auto pin = CAIRN_TRY(ParsePinRequest(req.body));
  auto policy = CAIRN_TRY(filecoin::deals::ParsePinPolicy(pin.meta));
  CAIRN_TRY(filecoin::deals::CheckHotMeta(pin.meta));
  // A pin without policy keys follows its account's policy, checked when it was set: the
  // account's policy is read only for pins that override it.
  if (policy.empty() || options_.filecoin_providers.empty()) return pin;
  filecoin::deals::AccountPolicy account_policy;
  auto stored = CAIRN_TRY(accounts_.Policy(account));
  if (auto parsed = filecoin::deals::ParseAccountPolicy(stored)) account_policy = *parsed;
  filecoin::deals::ServicePolicy service;
  service.providers = options_.filecoin_providers;
  service.replicas = options_.filecoin_replicas;
  CAIRN_TRY(filecoin::deals::CheckPinPolicy(policy, account_policy, service));
  return pin;
}

http::Response PinningApi::Add(int64_t account, const http::Request& req) {
  auto pin = ParsePin(account, req);
  if (!pin) return http::ErrorResponse(pin.error());
  // Durable before the 202, without holding an I/O thread while the group commit syncs: the
  // response completes on the committer thread (rendering only; the server resumes the
  // connection on its own thread).
  http::Response deferred;
  deferred.deferred =
      [this, account, pin = std::move(*pin)](std::function<void(http::Response)> complete) mutable {
        pins_.CreateAsync(
            account, std::move(pin),
            [this, complete = std::move(complete)](Result<metadata::PinRecord> created) {
              if (!created) return complete(http::ErrorResponse(created.error()));
              events_.OnQueued();
              complete(http::JsonResponse(202, RenderPinStatus(*created, options_.delegates)));
            });
      };
  return deferred;
}

http::Response PinningApi::Get(int64_t account, const std::string& requestid) {
  auto got = pins_.Get(account, requestid);
  if (!got) return http::ErrorResponse(got.error());
  return http::JsonResponse(200, RenderPinStatus(*got, options_.delegates));
}

// GET /pins/{requestid}/events?limit=&after=: the pin's events, oldest first, paged by the
// `after` cursor (the `id` of the last event seen). Another account's pin is 404 as in Get.
http::Response PinningApi::Events(int64_t account, const std::string& requestid,
                                  const http::Request& req) {
  if (!options_.events) {
    return http::ErrorResponse(Error(ErrorCode::kNotFound, "pins: events are not recorded here"));
  }
  auto pin = pins_.Get(account, requestid);
  if (!pin) return http::ErrorResponse(pin.error());
  auto query = ParseEventsQuery(req);
  if (!query) return http::ErrorResponse(query.error());
  // The pin row is its `created` event (id 0); stored events follow. One more than asked:
  // whether another page follows.
  std::vector<metadata::EventRecord> events;
  if (!query->after) {
    events.push_back(
        {0, std::string(metadata::kEventCreated), {{"cid", pin->cid_text}}, pin->created_us});
  }
  auto stored = options_.events->PinEvents(requestid, query->after.value_or(0),
                                           query->limit + 1 - events.size());
  if (!stored) return http::ErrorResponse(stored.error());
  events.insert(events.end(), stored->begin(), stored->end());
  const bool more = events.size() > query->limit;
  if (more) events.pop_back();
  return http::JsonResponse(200, RenderPinEvents(events, more));
}

// GET /pins/{requestid}/receipt (docs/formats/receipt.md). Another account's pin is 404 as in Get.
http::Response PinningApi::Receipt(int64_t account, const std::string& requestid) {
  auto got = pins_.Get(account, requestid);
  if (!got) return http::ErrorResponse(got.error());
  if (!options_.deals) {
    return http::ErrorResponse(
        Error(ErrorCode::kNotFound, "receipt: this service keeps no Filecoin deals"));
  }
  auto receipt = filecoin::deals::BuildReceipt(*options_.deals, requestid);
  if (!receipt) return http::ErrorResponse(receipt.error());
  return http::JsonResponse(200, filecoin::deals::RenderReceipt(*receipt));
}

http::Response PinningApi::Remove(int64_t account, const std::string& requestid) {
  auto deleted = pins_.Delete(account, requestid);
  if (!deleted) return http::ErrorResponse(deleted.error());
  events_.OnRemoved(requestid);
  http::Response r;
  r.status = 202;
  return r;
}

// POST /pins/{requestid}: replaced atomically (the old request is gone, a new one queued).
http::Response PinningApi::Replace(int64_t account, const std::string& requestid,
                                   const http::Request& req) {
  auto pin = ParsePin(account, req);
  if (!pin) return http::ErrorResponse(pin.error());
  auto replaced = pins_.Replace(account, requestid, *pin);
  if (!replaced) return http::ErrorResponse(replaced.error());
  events_.OnRemoved(requestid);
  events_.OnQueued();
  return http::JsonResponse(202, RenderPinStatus(*replaced, options_.delegates));
}

}  // namespace cairn::api
