// Fuzzes the PoDSI inclusion proof decoder (filecoin/aggregation/inclusion_proof.hpp): any input
// must give a proof or an error; a decoded proof must re-encode to the same bytes (the decoder only
// accepts canonical DAG-CBOR), and resolving it against a piece must not crash.
#include <cstddef>
#include <cstdint>

#include "filecoin/aggregation/inclusion_proof.hpp"

using namespace cairn::filecoin::aggregation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto proof = DecodeInclusionProof(cairn::ByteSpan(data, size));
  if (!proof) return 0;
  CAIRN_CHECK(EncodeInclusionProof(*proof) == cairn::Bytes(data, data + size));  // canonical
  PieceInfo piece;
  piece.commitment[0] = size > 0 ? data[0] : 0;
  for (uint64_t piece_size : {uint64_t{128}, uint64_t{1} << 20}) {
    piece.size = piece_size;
    (void)ResolveAggregate(*proof, piece);
  }
  return 0;
}
