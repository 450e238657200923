// A streaming multipart/form-data parser (RFC 7578 over RFC 2046 §5.1), for `POST /api/v0/add`
// as kubo-rpc-client and `ipfs` send it: each part has a Content-Disposition with a
// URL-encoded `filename` (a relative path), and directories are parts with
// `Content-Type: application/x-directory` and no body.
//
// Push parser: feed the body in chunks of any size; it calls back for each part's headers, its
// data (in pieces, never buffered whole) and its end. Memory is bounded by the header limit.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::api {

struct MultipartPart {
  std::map<std::string, std::string> headers;  // lower-case names
  std::string name;                            // Content-Disposition name=
  std::string filename;                        // Content-Disposition filename=, percent-decoded
  std::string content_type;
};

class MultipartParser {
 public:
  struct Callbacks {
    std::function<Result<void>(const MultipartPart&)> on_part_begin;
    std::function<Result<void>(ByteSpan)> on_part_data;
    std::function<Result<void>()> on_part_end;
  };

  // `boundary` from the Content-Type header (see BoundaryFromContentType).
  MultipartParser(std::string boundary, Callbacks callbacks, size_t max_header_bytes = 16 * 1024);

  // Feeds the next chunk. Errors from callbacks are returned as they are; malformed input is
  // InvalidArgument with the byte offset.
  Result<void> Feed(ByteSpan chunk);
  // Ends the body: InvalidArgument unless the closing boundary was seen.
  Result<void> Finish();

 private:
  enum class State { kPreamble, kHeaders, kData, kAfterBoundary, kDone };
  // Runs the state machine until it needs more input (or, with `final`, fails on a cut body).
  Result<void> Process(bool final);
  // One state each: true when the state advanced and Process should go on, false when more
  // input is needed (or the body is complete).
  Result<bool> SkipPreamble();
  Result<bool> AfterBoundary(bool final);
  Result<bool> PartHeaders(bool final);
  Result<bool> PartData(bool final);
  Error GarbageAfterBoundary() const;
  Result<void> ParseHeaders(std::string_view block);

  std::string delimiter_;  // "\r\n--" + boundary
  Callbacks cb_;
  size_t max_header_bytes_;
  State state_ = State::kPreamble;
  std::string buffer_;   // unprocessed bytes (bounded)
  uint64_t offset_ = 0;  // bytes consumed before buffer_
  bool in_part_ = false;
};

// The boundary parameter of a multipart/form-data Content-Type. InvalidArgument otherwise.
Result<std::string> BoundaryFromContentType(std::string_view content_type);

}  // namespace cairn::api
