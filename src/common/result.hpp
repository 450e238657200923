// Result<T> and Error: how every Cairn subsystem reports expected failures.
//
// Expected failures (bad input from a client or peer, a missing block, I/O errors, timeouts) are
// values, never exceptions. An Error is a small closed code plus a message that says which thing
// failed ("car: section at offset 812 exceeds file size 640"). Propagate with CAIRN_TRY.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace cairn {

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kCorruption,
  kIoError,
  kUnavailable,
  kTimeout,
  kCancelled,
  kUnauthenticated,
  kPermissionDenied,
  kInsufficientFunds,
  kResourceExhausted,  // a quota or rate limit (HTTP 429): retrying later succeeds by itself
  kStorageFull,        // the disk or database has no room (HTTP 507): an operator must act
  kNotSupported,
  kInternal,
};

// The stable upper-case name of a code ("INVALID_ARGUMENT"), used in logs and HTTP bodies.
std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: cid: unknown multibase prefix 'x'"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("car: " + message).
  Error WithContext(std::string_view context) const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result(Base base) : Base(std::move(base)) {}  // NOLINT: implicit by design
};

// Builds the error arm of a Result: `return Err(ErrorCode::kNotFound, "block " + cid)`.
inline tl::unexpected<Error> Err(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> Err(Error error) { return tl::unexpected<Error>(std::move(error)); }

inline Result<void> Ok() { return {}; }

namespace internal {
template <typename T>
T TakeValue(Result<T>&& r) {
  return std::move(*r);
}
inline void TakeValue(Result<void>&&) {}
template <typename T>
T TakeValue(tl::expected<T, Error>&& r) {
  return std::move(*r);
}
inline void TakeValue(tl::expected<void, Error>&&) {}
}  // namespace internal

}  // namespace cairn

// CAIRN_TRY(expr): evaluates a Result; on error returns it from the enclosing function, otherwise
// yields the value (`auto cid = CAIRN_TRY(Cid::Parse(text));`). Uses a GNU statement expression
// (g++ and clang both support it).
#define CAIRN_TRY(expr)                                                              \
  ({                                                                                 \
    auto cairn_try_result_ = (expr);                                                 \
    if (!cairn_try_result_) {                                                        \
      return ::tl::unexpected<::cairn::Error>(std::move(cairn_try_result_).error()); \
    }                                                                                \
    ::cairn::internal::TakeValue(std::move(cairn_try_result_));                      \
  })

// CAIRN_CHECK(cond): an invariant the code guarantees (never user, network or disk input). Aborts
// with the location when it does not hold. Say next to it why it holds.
#define CAIRN_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) ::cairn::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace cairn::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
