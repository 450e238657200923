// Link extraction: the CIDs a block points to, by the block's codec. This is what DAG walkers
// (CAR export, pinning, the gateway's CAR responses) follow.
//
// Order: dag-pb (../shared/specs/ipld/dag-pb.md) gives its links in the order of the PBNode's
// Links; dag-cbor (../shared/specs/ipld/dag-cbor.md) gives tag-42 links in document order,
// depth-first (map entries in their canonical key order, as encoded). This is the order
// `ipfs dag export` and go-car follow.
#pragma once

#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::ipld {

// The links of `block`, decoded with `cid`'s codec: raw (0x55) blocks have none (so neither do
// identity-hashed raw CIDs). Errors: InvalidArgument when the block does not decode with its codec;
// NotSupported for codecs Cairn cannot decode. The block is not verified against `cid` here.
Result<std::vector<multiformats::Cid>> Links(const multiformats::Cid& cid, ByteSpan block);

}  // namespace cairn::ipld
