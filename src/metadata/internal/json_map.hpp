// String→string maps stored as JSON objects (pins' meta and info, accounts' policy).
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "metadata/pins.hpp"

namespace cairn::metadata::internal {

// The map as a JSON object.
std::string EncodeMap(const StringMap& map);
// A stored JSON object of strings; Corruption naming `what` for anything else.
Result<StringMap> DecodeMap(const std::string& text, std::string_view what);

}  // namespace cairn::metadata::internal
