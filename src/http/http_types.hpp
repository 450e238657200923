// HTTP requests and responses as plain values: the request handler is a pure function
// Request -> Response, testable without a socket (STYLE.md, "Beast examples"). The server
// (server.hpp) converts to and from the wire. This layer knows nothing of IPFS or pins.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // as received: "/ipfs/bafy.../a%20b?format=raw"
  std::string path;    // percent-decoded path part of the target: "/ipfs/bafy.../a b"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderList headers;                                      // names as received
  std::string body;
  std::string remote;  // "127.0.0.1:53412"

  // First header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First query parameter named `name` (exact), or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
};

// A part of a streamed body. `data` stays valid while `owner` is held; with no owner, until the
// stream is called again or destroyed. Empty `data` is the end of the body.
struct BodyPiece {
  ByteSpan data;
  std::shared_ptr<const void> owner;
};

// A streamed body, made either from a fill function (copies the next part into a buffer, returns
// how many bytes; 0 at the end) or from a piece function (hands out the next part in place, no
// copy: FromPieces). Either kind can be read either way: the server takes pieces (a piece stream
// goes from its producer's memory to the socket without a copy in between), tests and small
// callers fill buffers. An error after the headers were sent aborts the connection (the client
// sees a short body).
class BodyStream {
 public:
  using Fill = std::function<Result<size_t>(MutableByteSpan buffer)>;
  using Pieces = std::function<Result<BodyPiece>()>;
  // For a piece stream whose Next() may wait for a producer: returns true when Next() would not
  // wait now; otherwise keeps `wake` and calls it once, from any thread, when it would not (or
  // drops it if the stream is destroyed first). With a null `wake`, only polls.
  using WhenReady = std::function<bool(std::function<void()> wake)>;

  BodyStream() = default;
  template <typename F>
  requires std::is_invocable_r_v<Result<size_t>, F&, MutableByteSpan> BodyStream(F fill)
      : fill_(std::move(fill)) {}  // NOLINT: a fill function is a stream
  static BodyStream FromPieces(Pieces pieces, WhenReady when_ready = nullptr);

  explicit operator bool() const { return static_cast<bool>(fill_) || static_cast<bool>(pieces_); }
  // Copies up to buffer.size() bytes of the body; 0 at the end.
  Result<size_t> operator()(MutableByteSpan buffer);
  // The next part (a fill stream fills an internal buffer of `fill_size` bytes).
  Result<BodyPiece> Next(size_t fill_size = 256 * 1024);
  // True when Next() would not wait for a producer now; false after arranging `wake` (see
  // WhenReady). Streams without a WhenReady are always ready (they may block in Next).
  bool ReadyOrNotify(std::function<void()> wake = nullptr);

 private:
  Fill fill_;
  Pieces pieces_;
  WhenReady when_ready_;
  BodyPiece pending_;  // the rest of a piece that operator() has not copied out yet
  std::shared_ptr<Bytes> buffer_;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  // When set, the body is streamed from `stream` instead of `body`, with `content_length` bytes
  // (Content-Length) or, when that is absent, chunked transfer encoding.
  BodyStream stream;
  std::optional<uint64_t> content_length;
  // When set, the response is not ready yet (it waits on, say, a group commit): the server calls
  // `deferred` once with a `complete` callback and, without holding an I/O thread, waits for
  // `complete(final_response)`, which must be called exactly once, from any thread. All other
  // fields of a deferred response are ignored. See Resolve() for callers outside the server.
  std::function<void(std::function<void(Response)> complete)> deferred;

  Response& SetHeader(std::string name, std::string value);
  std::optional<std::string_view> Header(std::string_view name) const;
};

using Handler = std::function<Response(const Request&)>;

// Waits (blocking the calling thread) for a deferred response and returns the final one; returns
// `response` itself when it is not deferred. For tests and in-process callers.
Response Resolve(Response response);

// Splits a request target into its percent-decoded path and query parameters ('+' in the query
// is a space). InvalidArgument for malformed percent escapes or a target not starting with '/'.
Result<void> ParseTarget(std::string_view target, Request& request);

// Percent-decodes `in`; InvalidArgument for a malformed escape.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);
// Percent-encodes everything except unreserved characters and '/' (for Location headers).
std::string PercentEncodePath(std::string_view in);

// A small JSON error body {"error":{"reason":"NOT_FOUND","details":"..."}} with the status
// STYLE.md maps `error` to (400 InvalidArgument, 401, 403, 404, 409 InsufficientFunds and
// AlreadyExists, 429 ResourceExhausted, 507 StorageFull, 5xx the rest). The details are valid
// JSON whatever bytes the message holds (see AppendJsonString). For server faults (5xx),
// filesystem paths in the message are replaced by "<path>" and the full message is logged.
// A 401 carries `WWW-Authenticate: Bearer`.
Response ErrorResponse(const Error& error);
// `text` with every absolute path of two or more components ("/var/lib/cairn/spool/x")
// replaced by "<path>".
std::string RedactPaths(std::string_view text);
int HttpStatusFor(ErrorCode code);
// A JSON answer: `status`, Content-Type application/json, `body` as given.
Response JsonResponse(int status, std::string body);
// The answer to a method a resource does not serve: `render` (the surface's own error body:
// ErrorResponse, or Kubo RPC's {Message, Code, Type}) of InvalidArgument
// "<surface>: method <method> not allowed (allowed: <allow>)", then status 405 and the `Allow`
// header RFC 9110 requires.
Response MethodNotAllowed(std::string_view surface, std::string_view method, std::string_view allow,
                          Response (*render)(const Error&) = ErrorResponse);
// ASCII lower case (header names, media types, tokens; other bytes unchanged).
std::string AsciiLower(std::string_view s);
// `s` without leading and trailing optional whitespace (RFC 9110 OWS: spaces and tabs).
std::string_view TrimOws(std::string_view s);
// JSON string escaping (quotes included).
std::string JsonQuote(std::string_view s);

}  // namespace cairn::http
