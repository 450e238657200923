// Fuzzes the delegated routing client's response parser: any body gives providers or an error,
// never more than the limit, and every provider has an id.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fetch/routing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto providers = cairn::fetch::ParseProvidersResponse(body, 5)) {
    CAIRN_CHECK(providers->size() <= 5);
    for (const auto& p : *providers) CAIRN_CHECK(!p.id.empty());
  }
  return 0;
}
