// The Pinning Service API v1.0.0 data model on the wire (../shared/specs/ipfs/
// pinning-service-api.yaml, "components"): parsing and validating `Pin` bodies and `GET /pins`
// query parameters, and rendering `PinStatus` / `PinResults` JSON. Pure: no storage, no sockets.
//
// Choices where the spec is silent (documented in docs/api.md):
// - `cid` must parse as a CID; it is kept exactly as submitted and echoed back unchanged.
// - `null` for an optional field means absent; unknown fields are ignored.
// - origins: at most 20, unique, each a multiaddr text starting with '/'.
// - meta/info: at most 1000 string values; keys non-empty, at most 255 bytes.
// - timestamps are RFC 3339 in UTC with microseconds ("2020-07-27T17:32:28.276123Z"), so a
//   `created` value fed back as `before` pages exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "http/http_types.hpp"
#include "metadata/events.hpp"
#include "metadata/pins.hpp"

namespace cairn::api {

// GET /pins query parameters as a metadata filter, plus whether any filter was given at all (when
// none was, only pinned pins are listed, as the spec says).
struct ListQuery {
  metadata::PinFilter filter;
  bool no_filters = true;
};

// GET /pins/{requestid}/events query parameters.
struct EventsQuery {
  // Cursor: the `id` of the last event already seen; absent = from the start, the pin's
  // `created` event (id 0, made from the pin row) included.
  std::optional<int64_t> after;
  size_t limit = 100;  // 1..1000
};

// Parses a Pin JSON body. InvalidArgument naming the field on any violation.
Result<metadata::NewPin> ParsePinRequest(std::string_view body);
// Parses GET /pins query parameters. InvalidArgument naming the parameter.
Result<ListQuery> ParseListQuery(const http::Request& request);

// PinStatus JSON of a stored pin, with the service's delegates. Never emits null.
std::string RenderPinStatus(const metadata::PinRecord& pin,
                            const std::vector<std::string>& delegates);
std::string RenderPinResults(uint64_t count, const std::vector<metadata::PinRecord>& pins,
                             const std::vector<std::string>& delegates);

// Parses `limit` and `after` of GET /pins/{requestid}/events. InvalidArgument naming the
// parameter.
Result<EventsQuery> ParseEventsQuery(const http::Request& request);
// {"results":[{"id","type","created","details":{…}}, …]} oldest first, plus "next" (the cursor
// to pass as `after`) when `more` events follow. Never emits null.
std::string RenderPinEvents(const std::vector<metadata::EventRecord>& events, bool more);

// RFC 3339 (section 5.6) to microseconds since the epoch; fractional digits beyond 6 are
// truncated, offsets applied. InvalidArgument otherwise.
Result<int64_t> ParseRfc3339(std::string_view text);
// Microseconds since the epoch to "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string FormatRfc3339(int64_t micros);

}  // namespace cairn::api
