// Fuzzes the Kademlia DHT message decoder and its stream framing: any input must give a message
// or an error; a decoded message must encode and decode back to itself; a frame split off a
// buffer must be the same whether the buffer holds the whole input or only its first bytes.
#include <cstddef>
#include <cstdint>

#include "dht/message.hpp"

using cairn::Bytes;
using cairn::ByteSpan;
using namespace cairn::dht;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  if (auto m = DecodeMessage(in)) {
    Bytes again = EncodeMessage(*m);
    auto back = DecodeMessage(again);
    CAIRN_CHECK(back && *back == *m);
    CAIRN_CHECK(EncodeMessage(*back) == again);
  }
  // Framing: a frame found in a prefix of the input is the frame found in the whole input.
  auto whole = SplitFrame(in, 4096);
  for (size_t cut = 0; cut <= size && cut < 64; ++cut) {
    auto part = SplitFrame(in.first(cut), 4096);
    if (part && *part) {
      CAIRN_CHECK(whole && *whole && (*whole)->consumed == (*part)->consumed);
    }
    if (!part) CAIRN_CHECK(!whole);  // a bad prefix is bad however much follows
  }
  if (whole && *whole) {
    CAIRN_CHECK((*whole)->consumed <= size);
    (void)DecodeMessage((*whole)->body);
  }
  return 0;
}
