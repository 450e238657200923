// Fuzzes multistream-select: decodes every message of the input and drives a listener and a
// dialer with the lines; nothing may crash, and a decoded message re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>

#include "net/multistream.hpp"

using namespace cairn;
using namespace cairn::net::multistream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  Listener listener([](std::string_view p) { return p == "/yamux/1.0.0" || p == "/noise"; });
  Dialer dialer({"/noise", "/tls/1.0.0"});
  (void)dialer.Start();
  bool listener_ok = true, dialer_ok = true;
  while (!in.empty()) {
    auto d = DecodeMessage(in);
    if (!d || !*d) break;
    std::string_view line = (*d)->line;
    if (line.find('\n') == std::string_view::npos) {
      Bytes again = EncodeMessage(line);
      CAIRN_CHECK(again.size() == (*d)->consumed);  // minimal varints only: encoding is unique
    }
    if (listener_ok && !listener.selected()) listener_ok = listener.OnLine(line).has_value();
    if (dialer_ok && !dialer.selected()) dialer_ok = dialer.OnLine(line).has_value();
    in = in.subspan((*d)->consumed);
  }
  return 0;
}
