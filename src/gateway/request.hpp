// What a gateway request asks for: the content root, the path below it and the response format,
// decided from the URL, `format`, `Accept` and the CAR parameters exactly as
// ../shared/specs/ipfs/path-gateway.md ("HTTP Request") and trustless-gateway.md (format,
// dag-scope, entity-bytes, car-version/-order/-dups, only-if-cached) and IPIP-0412 say.
// Pure: no I/O, no block access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "http/http_types.hpp"
#include "multiformats/cid.hpp"

namespace cairn::gateway {

enum class Format {
  kDeserialized,  // UnixFS files and directories as a web server would serve them
  kRaw,           // application/vnd.ipld.raw: the single block at the end of the path
  kCar,           // application/vnd.ipld.car
};

enum class DagScope { kAll, kEntity, kBlock };

// entity-bytes=from:to. Negative values count from the end; `to` absent means '*'.
struct EntityBytes {
  int64_t from = 0;
  std::optional<int64_t> to;
};

struct CarOptions {
  DagScope scope = DagScope::kAll;
  std::optional<EntityBytes> entity_bytes;  // implies scope entity
  bool dups = false;                        // car-dups=y: repeat duplicate blocks
  // order is always dfs here (we produce depth-first pre-order); requests for order=unk are
  // answered with dfs, which is allowed.
};

// A single HTTP byte range (RFC 9110 14.1.2): first-last, first-, or -suffix.
struct ByteRange {
  std::optional<uint64_t> first;
  std::optional<uint64_t> last;    // inclusive
  std::optional<uint64_t> suffix;  // "-N": the last N bytes
};

struct GatewayRequest {
  multiformats::Cid root;
  std::string root_text;              // as written in the URL
  std::vector<std::string> segments;  // path below the root, each non-empty
  bool trailing_slash = false;
  Format format = Format::kDeserialized;
  bool format_from_query = false;  // `format` given (vs. only Accept): Content-Location logic
  CarOptions car;
  bool only_if_cached = false;
  std::optional<ByteRange> range;  // only for deserialized files
  std::optional<std::string> filename;
  bool download = false;
};

// Parses a GET/HEAD request for /ipfs/{cid}[/path]. Errors: InvalidArgument (400) for a bad CID,
// bad path (".." segments, NUL), bad parameters; NotSupported (406) for formats this gateway
// does not produce (tar, dag-json, ipns-record...) or CAR versions other than 1.
Result<GatewayRequest> ParseGatewayRequest(const http::Request& request);

// Parses a Range header value. nullopt (serve the whole entity) when the header is not a single
// satisfiable-looking "bytes=" range (multiple ranges, other units); errors never.
std::optional<ByteRange> ParseRangeHeader(std::string_view value);

// Resolves `range` against an entity of `size` bytes into [offset, offset+length). NotFound-free:
// returns nullopt when unsatisfiable (the caller answers 416).
struct ResolvedRange {
  uint64_t offset;
  uint64_t length;
};
std::optional<ResolvedRange> ResolveRange(const ByteRange& range, uint64_t size);

// Resolves entity-bytes against an entity of `size` bytes: [offset, offset+length), with length 0
// when the range falls fully outside (the caller then behaves as dag-scope=block).
ResolvedRange ResolveEntityBytes(const EntityBytes& bytes, uint64_t size);

}  // namespace cairn::gateway
