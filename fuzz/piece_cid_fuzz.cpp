// Fuzzes the piece CID decoders (filecoin/piece/piece_cid.hpp): text and binary CIDs through
// ParsePieceCidV1/V2 and raw bytes through DecodePieceDigestV2. Any input gives a value or an
// error; whatever decodes re-encodes to the same CID and converts between v1 and v2 consistently.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filecoin/piece/piece_cid.hpp"
#include "multiformats/cid.hpp"

namespace piece = cairn::filecoin::piece;
using cairn::multiformats::Cid;

namespace {

void CheckCid(const Cid& cid) {
  if (auto root = piece::ParsePieceCidV1(cid)) {
    CAIRN_CHECK(piece::PieceCidV1(*root) == cid);  // v1 is fully determined by its root
  }
  if (auto info = piece::ParsePieceCidV2(cid)) {
    auto again = piece::PieceCidV2(*info);
    CAIRN_CHECK(again && *again == cid);  // a validated piece always re-encodes, identically
    auto v1 = piece::PieceCidV2ToV1(cid);
    CAIRN_CHECK(v1 && v1->padded_size == info->padded_size());
    auto back = piece::PieceCidV1ToV2(v1->cid, v1->padded_size, info->payload_size());
    CAIRN_CHECK(back && *back == cid);  // v1 + padded size + payload size is lossless
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cairn::ByteSpan bytes(data, size);
  if (auto cid = Cid::Parse(std::string_view(reinterpret_cast<const char*>(data), size))) {
    CheckCid(*cid);
  }
  if (auto cid = Cid::FromBytes(bytes)) CheckCid(*cid);
  if (auto info = piece::DecodePieceDigestV2(bytes)) {
    CAIRN_CHECK(piece::EncodePieceDigestV2(*info) == cairn::Bytes(data, data + size));
  }
  return 0;
}
