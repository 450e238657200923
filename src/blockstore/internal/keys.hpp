// Helpers shared by the block store implementations: the map key of a CID and the identity-CID
// rules of the contract (blockstore.hpp).
#pragma once

#include <algorithm>
#include <string>

#include "common/result.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore::internal {

// The key a block is stored under: its encoded multihash.
inline std::string KeyOf(const multiformats::Cid& cid) {
  Bytes mh = cid.hash().Encode();
  return std::string(mh.begin(), mh.end());
}

inline bool IsIdentity(const multiformats::Cid& cid) {
  return cid.hash().code() == multiformats::codec::kIdentity;
}

// Checks a Put's arguments: the CID is not empty, its hash can be computed (a block Get could
// never verify is refused up front), and an identity CID's data equals its digest.
inline Result<void> CheckPut(const multiformats::Cid& cid, ByteSpan data) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) {
    auto digest = cid.hash().digest();
    if (digest.size() != data.size() || !std::equal(digest.begin(), digest.end(), data.begin())) {
      return Err(ErrorCode::kInvalidArgument,
                 "blockstore: identity CID " + cid.ToString() + " does not match its data");
    }
    return Ok();
  }
  if (!multiformats::Multihash::CanCompute(cid.hash().code())) {
    return Err(ErrorCode::kNotSupported, "blockstore: cannot verify hash of " + cid.ToString());
  }
  return Ok();
}

}  // namespace cairn::blockstore::internal
