// Fuzzes the strict dag-pb decoder: any input gives a node or an error, never a crash; and since
// the decoder accepts only canonical encodings, every node it accepts re-encodes to exactly the
// input bytes, with EncodedDagPbSize agreeing.
#include <cstddef>
#include <cstdint>

#include "ipld/dag_pb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cairn::ByteSpan input(data, size);
  if (auto node = cairn::ipld::DecodeDagPb(input)) {
    const cairn::Bytes again = cairn::ipld::EncodeDagPb(*node);
    CAIRN_CHECK(again == cairn::Bytes(data, data + size));  // strict decode ⇒ canonical input
    CAIRN_CHECK(cairn::ipld::EncodedDagPbSize(*node) == size);
  }
  return 0;
}
