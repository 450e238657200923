// Content-Type of a deserialized UnixFS file (path-gateway.md, "Content-Type"): by the file name's
// extension first, then by magic bytes in the first bytes of the file, then text vs. binary.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace cairn::gateway {

// `name` is the last path segment or the `filename` parameter (may be empty); `head` is up to the
// first 512 bytes of the file.
std::string DetectContentType(std::string_view name, ByteSpan head);

}  // namespace cairn::gateway
