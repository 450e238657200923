// Fuzzes multibase decoding: decoding never crashes, and whatever decodes re-encodes to a string
// that decodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "multiformats/multibase.hpp"

using namespace cairn::multiformats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // base-N decoding is quadratic; CIDs are far shorter
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = MultibaseDecode(text);
  if (!bytes) return 0;
  auto base = MultibaseOf(text);
  CAIRN_CHECK(base.has_value());  // decoding succeeded, so the prefix is known
  auto back = MultibaseDecode(MultibaseEncode(*base, *bytes));
  CAIRN_CHECK(back && *back == *bytes);
  return 0;
}
