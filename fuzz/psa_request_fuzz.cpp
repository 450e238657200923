// Fuzzes the Pinning Service API's request parsers (untrusted bodies and query strings): a Pin
// body that parses is valid by the spec's rules (a CID, at most 20 origins), and a GET /pins or
// GET /pins/{id}/events target either parses or is refused with a reason, never a crash. The
// first byte chooses which.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/psa_model.hpp"
#include "http/http_types.hpp"
#include "multiformats/cid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    if (auto pin = cairn::api::ParsePinRequest(text)) {
      CAIRN_CHECK(cairn::multiformats::Cid::Parse(pin->cid).has_value());
      CAIRN_CHECK(pin->origins.size() <= 20);
    }
    return 0;
  }
  cairn::http::Request req;
  req.method = "GET";
  req.target = "/pins?" + std::string(text);
  if (!cairn::http::ParseTarget(req.target, req)) return 0;
  if (data[0] % 4 == 3) {
    if (auto q = cairn::api::ParseEventsQuery(req)) {
      CAIRN_CHECK(q->limit >= 1 && q->limit <= 1000);
      CAIRN_CHECK(!q->after || *q->after >= 0);
    }
    return 0;
  }
  if (auto q = cairn::api::ParseListQuery(req)) {
    CAIRN_CHECK(q->filter.cids.size() <= 10);
    CAIRN_CHECK(q->filter.limit >= 1 && q->filter.limit <= 1000);
  }
  return 0;
}
