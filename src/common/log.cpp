#include "common/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

#include "common/json_string.hpp"

namespace cairn::log {
namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("cairn", sink);
    l->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc));
    auto level = spdlog::level::info;
    if (const char* env = std::getenv("CAIRN_LOG_LEVEL"); env && *env) {
      level = spdlog::level::from_str(env);  // unknown names mean off in spdlog: keep info
      if (level == spdlog::level::off && std::string_view(env) != "off")
        level = spdlog::level::info;
    }
    l->set_level(level);
    l->flush_on(spdlog::level::trace);  // one line per write; stderr is unbuffered anyway
    return l;
  }();
  return *logger;
}

}  // namespace

std::string FormatFields(std::string_view event, std::initializer_list<Field> fields) {
  std::string out = "\"event\":";
  AppendJsonString(out, event);
  for (const Field& f : fields) {
    out.push_back(',');
    AppendJsonString(out, f.key);
    out.push_back(':');
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      AppendJsonString(out, *s);
    } else {
      out += std::to_string(std::get<int64_t>(f.value));
    }
  }
  return out;
}

bool Enabled(Level level) { return Logger().should_log(ToSpdlog(level)); }

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string text = FormatFields(event, fields);
  Logger().log(ToSpdlog(level), spdlog::string_view_t(text.data(), text.size()));
}

}  // namespace cairn::log
