// Fuzzes the bitswap message decoder and the stream framing: any input must give a message or an
// error; a decoded message must encode (for 1.2.0, which carries every field) and decode back to
// itself; frames must split the same way however the input is chunked.
#include <cstddef>
#include <cstdint>

#include "bitswap/message.hpp"

using cairn::Bytes;
using cairn::ByteSpan;
using namespace cairn::bitswap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  if (auto m = DecodeMessage(in)) {
    // Every decoded field is representable in 1.2.0 (1.0.0 blocks become v0-prefixed payload).
    auto again = EncodeMessage(*m, ProtocolVersion::k120);
    if (again) {
      auto back = DecodeMessage(*again);
      CAIRN_CHECK(back && *back == *m);
    }
    for (const auto& b : m->blocks) (void)b.prefix.Sum(b.data);
  }
  // Framing: the whole input at once and in 7-byte chunks must yield the same messages.
  auto split = [&](size_t chunk) {
    std::vector<Bytes> out;
    FrameReader reader;
    for (size_t at = 0; at < size; at += chunk) {
      if (!reader.Append(in.subspan(at, std::min(chunk, size - at)))) return out;
      for (;;) {
        auto next = reader.Next();
        if (!next || !*next) break;
        out.push_back(std::move(**next));
      }
    }
    return out;
  };
  if (size > 0) CAIRN_CHECK(split(size) == split(7));
  return 0;
}
