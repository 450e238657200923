#include "filecoin/chain/rpc.hpp"

#include <optional>

namespace cairn::filecoin::chain {

namespace json = boost::json;

std::string EncodeRpcRequest(std::span<const RpcCall> calls, uint64_t first_id) {
  auto one = [](const RpcCall& call, uint64_t id) {
    json::object o;
    o["jsonrpc"] = "2.0";
    o["id"] = id;
    o["method"] = call.method;
    o["params"] = call.params;
    return o;
  };
  if (calls.size() == 1) return json::serialize(one(calls[0], first_id));
  json::array batch;
  batch.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) batch.push_back(one(calls[i], first_id + i));
  return json::serialize(batch);
}

namespace {

// The endpoint's words, cut to kMaxRpcMessage bytes, control characters as spaces.
std::string Sanitize(std::string_view message) {
  std::string out(message.substr(0, kMaxRpcMessage));
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (message.size() > kMaxRpcMessage) out += "…";
  return out;
}

ErrorCode CodeFor(int64_t rpc_code, std::string_view message) {
  if (rpc_code == -32601) return ErrorCode::kNotSupported;
  if (rpc_code == -32600 || rpc_code == -32602 || rpc_code == -32700) {
    return ErrorCode::kInvalidArgument;
  }
  if (message.find("not found") != std::string_view::npos) return ErrorCode::kNotFound;
  if (message.find("not enough funds") != std::string_view::npos ||
      message.find("insufficient funds") != std::string_view::npos) {
    return ErrorCode::kInsufficientFunds;
  }
  return ErrorCode::kUnavailable;
}

std::string Name(std::span<const std::string> methods) {
  if (methods.size() == 1) return methods[0];
  return "batch of " + std::to_string(methods.size()) + " calls";
}

tl::unexpected<Error> Bad(std::span<const std::string> methods, const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, "chain: " + Name(methods) + ": " + what);
}

std::optional<uint64_t> IdOf(const json::value& id) {
  if (id.is_uint64()) return id.get_uint64();
  if (id.is_int64() && id.get_int64() >= 0) return static_cast<uint64_t>(id.get_int64());
  return std::nullopt;
}

}  // namespace

Result<std::vector<Result<json::value>>> ParseRpcResponse(std::string_view body,
                                                          std::span<const std::string> methods,
                                                          uint64_t first_id) {
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  json::value doc = json::parse(body, ec, {}, opts);
  if (ec) return Bad(methods, "the answer is not JSON (" + ec.message() + ")");

  std::vector<const json::object*> answers;
  if (const auto* arr = doc.if_array()) {
    for (const auto& item : *arr) {
      const auto* o = item.if_object();
      if (!o) return Bad(methods, "a batch answer holds a non-object");
      answers.push_back(o);
    }
  } else if (const auto* o = doc.if_object()) {
    answers.push_back(o);
  } else {
    return Bad(methods, "the answer is neither an object nor an array");
  }
  if (answers.size() != methods.size()) {
    // A single error object with a null id is how a server refuses a whole request.
    if (answers.size() == 1) {
      const auto* error = answers[0]->if_contains("error");
      if (error && error->is_object()) {
        const auto* message = error->as_object().if_contains("message");
        std::string text = message && message->is_string() ? Sanitize(message->get_string())
                                                           : std::string("no message");
        return Err(ErrorCode::kUnavailable, "chain: " + Name(methods) + ": " + text);
      }
    }
    return Bad(methods, std::to_string(answers.size()) + " answers for " +
                            std::to_string(methods.size()) + " calls");
  }

  std::vector<std::optional<Result<json::value>>> slots(methods.size());
  for (const auto* o : answers) {
    const auto* id_value = o->if_contains("id");
    auto id = id_value ? IdOf(*id_value) : std::nullopt;
    if (!id || *id < first_id || *id - first_id >= methods.size()) {
      return Bad(methods, "an answer has a missing or unknown id");
    }
    size_t index = static_cast<size_t>(*id - first_id);
    if (slots[index]) return Bad(methods, "two answers for id " + std::to_string(*id));
    const std::string& method = methods[index];
    const auto* result = o->if_contains("result");
    const auto* error = o->if_contains("error");
    if ((result != nullptr) == (error != nullptr)) {
      return Bad(methods, method + " has " + (result ? "both result and error" : "no result"));
    }
    if (result) {
      slots[index] = Result<json::value>(*result);
      continue;
    }
    const auto* eo = error->if_object();
    if (!eo) return Bad(methods, method + ": error is not an object");
    const auto* code_value = eo->if_contains("code");
    const auto* message_value = eo->if_contains("message");
    if (!code_value || !code_value->is_int64() || !message_value || !message_value->is_string()) {
      return Bad(methods, method + ": error without an integer code and a string message");
    }
    const int64_t code = code_value->get_int64();
    std::string message = Sanitize(message_value->get_string());
    slots[index] = Result<json::value>(
        Err(CodeFor(code, message),
            "chain: " + method + ": " + message + " (RPC error " + std::to_string(code) + ")"));
  }
  std::vector<Result<json::value>> out;
  out.reserve(slots.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));  // every slot was filled above
  return out;
}

}  // namespace cairn::filecoin::chain
