// JSON string escaping, for the few places that write JSON by hand (logs, error bodies).
#pragma once

#include <string>
#include <string_view>

namespace cairn {

// Appends `s` as a JSON string: quotes included, '"', '\\' and control characters escaped,
// every other byte as is (UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace cairn
