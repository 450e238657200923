// Fuzzes multiaddr parsing from bytes and text; whatever parses must round-trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/multiaddr.hpp"

using cairn::net::Multiaddr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto ma = Multiaddr::FromBytes(cairn::ByteSpan(data, size))) {
    auto again = Multiaddr::Parse(ma->ToString());
    CAIRN_CHECK(again && again->ToBytes() == ma->ToBytes());  // binary → text → binary is stable
  }
  if (auto ma = Multiaddr::Parse(std::string_view(reinterpret_cast<const char*>(data), size))) {
    auto again = Multiaddr::FromBytes(ma->ToBytes());
    CAIRN_CHECK(again && again->ToString() == ma->ToString());
  }
  return 0;
}
