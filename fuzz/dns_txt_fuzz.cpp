// Fuzzes the DNS TXT response parser (net/dns.hpp ParseTxtResponse): any bytes either parse or
// are refused; what parses never holds more than the message's bytes.
#include <cstddef>
#include <cstdint>

#include "net/dns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = cairn::net::ParseTxtResponse(cairn::ByteSpan(data, size));
  if (r) {
    size_t total = 0;
    for (const auto& s : *r) total += s.size();
    CAIRN_CHECK(total <= size);
  }
  return 0;
}
