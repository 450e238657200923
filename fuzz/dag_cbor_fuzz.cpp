// Fuzzes the strict DAG-CBOR decoder: any input gives a value or an error (no crash, no hang, no
// allocation beyond the input's size), and a decoded value re-encodes to exactly the input (the
// decoder only accepts canonical bytes). Links() over the same bytes must agree on success.
#include <cstddef>
#include <cstdint>

#include "ipld/dag_cbor.hpp"
#include "ipld/links.hpp"
#include "multiformats/multicodec.hpp"

using cairn::Bytes;
using cairn::ByteSpan;
namespace ipld = cairn::ipld;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  auto value = ipld::DecodeDagCbor(in);
  if (value) {
    auto again = ipld::EncodeDagCbor(*value);
    CAIRN_CHECK(again && *again == Bytes(data, data + size));  // accepted bytes are canonical
  }
  auto cid = cairn::multiformats::Cid::Compute(1, cairn::multiformats::codec::kDagCbor,
                                               cairn::multiformats::codec::kSha2_256, in);
  auto links = ipld::Links(*cid, in);
  CAIRN_CHECK(links.has_value() == value.has_value());
  return 0;
}
