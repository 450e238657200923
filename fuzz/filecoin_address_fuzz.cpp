// Fuzzes Filecoin address parsing from text (both networks) and from bytes: any input gives an
// address or an error, and an accepted input is canonical (formats back to itself).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filecoin/types/address.hpp"

using cairn::filecoin::Address;
using cairn::filecoin::Network;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = Address::ParseWithNetwork(text)) {
    // Parse is strict: only the canonical spelling is accepted.
    CAIRN_CHECK(parsed->first.ToString(parsed->second) == text);
    auto again = Address::FromBytes(parsed->first.ToBytes());
    CAIRN_CHECK(again && *again == parsed->first);
  }
  if (auto a = Address::FromBytes(cairn::ByteSpan(data, size))) {
    CAIRN_CHECK(a->ToBytes() == cairn::Bytes(data, data + size));
    auto again = Address::Parse(a->ToString(Network::kTestnet));
    CAIRN_CHECK(again && *again == *a);  // our own string form always parses back
  }
  return 0;
}
