// Fuzzes CID parsing from text and from bytes: any input must give a CID or an error, and a
// parsed CID must round-trip through its own encodings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "multiformats/cid.hpp"

using cairn::multiformats::Cid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = Cid::Parse(text)) {
    auto again = Cid::Parse(c->ToString());
    CAIRN_CHECK(again && *again == *c);  // our own encoding always parses back
  }
  if (auto c = Cid::FromBytes(cairn::ByteSpan(data, size))) {
    CAIRN_CHECK(c->ToBytes() == cairn::Bytes(data, data + size));  // binary form is canonical
  }
  return 0;
}
