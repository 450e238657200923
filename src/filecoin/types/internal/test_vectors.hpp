// Test-only access to testdata/deal_vectors.json (located through CAIRN_SOURCE_DIR, which ctest
// sets; the source tree otherwise).
#pragma once

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/bytes.hpp"

namespace cairn::filecoin::testing {

inline const boost::json::value& DealVectors() {
  static const boost::json::value vectors = [] {
    const char* src = std::getenv("CAIRN_SOURCE_DIR");
    std::string root = src != nullptr ? src : CAIRN_SOURCE_DIR_FALLBACK;
    std::ifstream f(root + "/src/filecoin/types/testdata/deal_vectors.json");
    std::stringstream ss;
    ss << f.rdbuf();
    return boost::json::parse(ss.str());
  }();
  return vectors;
}

// The string at a '/'-separated path ("key/privHex").
inline std::string V(std::string_view path) {
  return std::string(DealVectors().at_pointer("/" + std::string(path)).as_string());
}
inline Bytes VHex(std::string_view path) { return *HexDecode(V(path)); }

}  // namespace cairn::filecoin::testing
