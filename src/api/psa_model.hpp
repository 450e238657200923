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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "http/http_types.hpp"

namespace cairn::api {

enum class PinState { kQueued, kPinning, kPinned, kFailed };
std::string_view PinStateName(PinState s);
Result<PinState> PinStateFromName(std::string_view name);

enum class TextMatch { kExact, kIexact, kPartial, kIpartial };

struct PinRequest {
  std::string cid;  // exactly as submitted (validated)
  std::optional<std::string> name;
  std::vector<std::string> origins;
  std::map<std::string, std::string> meta;
};

struct ListQuery {
  std::vector<std::string> cids;  // as given (validated), 1..10 when present
  std::optional<std::string> name;
  TextMatch match = TextMatch::kExact;
  std::vector<PinState> statuses;  // empty = not given
  std::optional<int64_t> before_us;  // microseconds since the Unix epoch
  std::optional<int64_t> after_us;
  int limit = 10;
  std::map<std::string, std::string> meta;
  // True when no filter at all was given (then only pinned pins are listed, per the spec).
  bool no_filters = true;
};

struct PinStatusView {
  std::string requestid;
  PinState status = PinState::kQueued;
  int64_t created_us = 0;
  PinRequest pin;
  std::vector<std::string> delegates;
  std::map<std::string, std::string> info;
};

// Parses a Pin JSON body. InvalidArgument naming the field on any violation.
Result<PinRequest> ParsePinRequest(std::string_view body);
// Parses GET /pins query parameters. InvalidArgument naming the parameter.
Result<ListQuery> ParseListQuery(const http::Request& request);

std::string RenderPinStatus(const PinStatusView& status);
std::string RenderPinResults(uint64_t count, const std::vector<PinStatusView>& results);

// RFC 3339 (section 5.6) to microseconds since the epoch; fractional digits beyond 6 are
// truncated, offsets applied. InvalidArgument otherwise.
Result<int64_t> ParseRfc3339(std::string_view text);
// Microseconds since the epoch to "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string FormatRfc3339(int64_t micros);

}  // namespace cairn::api
