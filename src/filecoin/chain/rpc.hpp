// JSON-RPC 2.0 as Lotus serves it (../shared/FILECOIN.md §3.6): requests are POSTed to the
// endpoint (`…/rpc/v1`), one object per call or an array of them (a batch); method names carry the
// "Filecoin." prefix; errors are {"code", "message"} objects.
//
// The HTTP exchange is behind RpcTransport, owned here so the chain layer does not depend on the
// HTTP stack: apps/cairn adapts http::Fetch to it, tests script it. The codec below is pure and
// fuzzed (fuzz/filecoin_rpc_fuzz.cpp): whatever the endpoint answers, the result is values or a
// named error, never a crash or an unbounded allocation.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace cairn::filecoin::chain {

struct RpcHttpReply {
  int status = 0;
  std::string body;
};

class RpcTransport {
 public:
  virtual ~RpcTransport() = default;
  // POSTs `body` (Content-Type: application/json) to `url`, with "Authorization: Bearer <token>"
  // when `token` is not empty. Unavailable when the endpoint cannot be reached, Timeout after
  // `timeout`, ResourceExhausted when the answer exceeds `max_response_bytes`; any HTTP status is
  // a reply. Thread-safe.
  virtual Result<RpcHttpReply> Post(const std::string& url, const std::string& body,
                                    const std::string& token, std::chrono::milliseconds timeout,
                                    uint64_t max_response_bytes) = 0;
};

struct RpcCall {
  std::string method;  // "Filecoin.ChainHead"
  boost::json::array params;
};

// The request text for `calls`, with ids first_id, first_id + 1, …: one JSON-RPC object for a
// single call, an array (a batch) for several.
std::string EncodeRpcRequest(std::span<const RpcCall> calls, uint64_t first_id);

// Longest part of an endpoint's error message carried into our errors.
inline constexpr size_t kMaxRpcMessage = 300;

// Parses the answer to EncodeRpcRequest(calls, first_id), `methods` naming the calls in order.
// Accepts one object or an array, the answers in any order, matched by id. The outer Result
// fails (InvalidArgument, "chain: <method>: …") when the body is not JSON, too deep (> 64
// levels), not objects with `jsonrpc`/`id` and exactly one of `result`/`error`, or when an id is
// missing, unknown or repeated. Otherwise each call gets its result, or its RPC error as an Error
// "chain: <method>: <endpoint's message, at most kMaxRpcMessage bytes> (RPC error <code>)" whose
// code is NotSupported for an unknown method (-32601), InvalidArgument for -32600/-32602/-32700,
// NotFound when the message says "not found", InsufficientFunds when it says "not enough funds"
// or "insufficient funds", Unavailable otherwise.
Result<std::vector<Result<boost::json::value>>> ParseRpcResponse(
    std::string_view body, std::span<const std::string> methods, uint64_t first_id);

}  // namespace cairn::filecoin::chain
