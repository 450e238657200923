// Structured logs: one JSON object per line on stderr,
//   {"ts":"2026-11-29T21:04:05.123456Z","level":"info","event":"pin.pinned","requestid":"…"}
// through spdlog (thread-safe). Levels print as "debug", "info", "warning", "error". Events are
// dotted names ("serve.start", "pin.failed", "upkeep.done"); fields are string or integer
// values, JSON-escaped here. Level filtering: CAIRN_LOG_LEVEL=debug|info|warn|error|off
// (default info), read once.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace cairn::log {

enum class Level { kDebug, kInfo, kWarn, kError };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  std::string_view key;
  std::variant<std::string, int64_t> value;
};

// The JSON members after "level" for `event` and `fields` (no braces): exposed for tests.
std::string FormatFields(std::string_view event, std::initializer_list<Field> fields);

bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void Debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

}  // namespace cairn::log
