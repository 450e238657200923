// Fuzzes the gateway's request parsing (untrusted targets and headers): the target, an Accept
// header and a Range header come from the input, split at NUL bytes. Whatever parses must resolve
// to ranges inside the entity, for sizes around the edges.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/request.hpp"
#include "http/http_types.hpp"

namespace gw = cairn::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view fields[3];
  for (auto& f : fields) {
    size_t nul = in.find('\0');
    f = in.substr(0, nul);
    in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  }
  const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX};
  if (auto range = gw::ParseRangeHeader(fields[2])) {
    for (uint64_t entity : sizes) {
      if (auto r = gw::ResolveRange(*range, entity)) {
        CAIRN_CHECK(r->offset <= entity && r->length <= entity - r->offset);
      }
    }
  }
  cairn::http::Request req;
  req.method = "GET";
  req.target = "/ipfs/" + std::string(fields[0]);
  if (!fields[1].empty()) req.headers.emplace_back("Accept", std::string(fields[1]));
  if (!fields[2].empty()) req.headers.emplace_back("Range", std::string(fields[2]));
  if (!cairn::http::ParseTarget(req.target, req)) return 0;
  if (auto g = gw::ParseGatewayRequest(req)) {
    for (const auto& seg : g->segments) {
      CAIRN_CHECK(!seg.empty() && seg != ".." && seg.find('\0') == std::string::npos);
    }
    if (g->car.entity_bytes) {
      for (uint64_t entity : sizes) {
        auto r = gw::ResolveEntityBytes(*g->car.entity_bytes, entity);
        CAIRN_CHECK(r.offset <= entity && r.length <= entity - r.offset);
      }
    }
  }
  return 0;
}
