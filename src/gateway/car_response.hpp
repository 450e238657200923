// The CAR body of a trustless-gateway response (../shared/specs/ipfs/trustless-gateway.md, "CAR
// Responses"; IPIP-0402 dag-scope and entity-bytes; IPIP-0412 order and dups). CARv1, header
// roots = [the requested root CID], blocks in depth-first pre-order (order=dfs):
//   1. the blocks needed to verify the path from the root to its terminus (directory nodes and
//      HAMT shards, then the terminus' own block);
//   2. then, by dag-scope: `block` — nothing more; `entity` — a UnixFS file's whole DAG (with
//      entity-bytes only the blocks covering that range), a directory's own blocks (all shards of
//      a HAMT, none of the entries), anything else just its block; `all` — the whole DAG below
//      the terminus.
// Identity CIDs are never sent as blocks. With dups=n each block is sent once; with dups=y every
// time the walk meets it.
#pragma once

#include "blockstore/blockstore.hpp"
#include "gateway/request.hpp"
#include "http/pushed_stream.hpp"

namespace cairn::gateway {

// Checks what can be checked before the status line goes out: the root exists (caller), the path
// resolves, entity-bytes is not entirely outside a file whose size is known. InvalidArgument for
// a range outside the entity; NotFound for a path that does not resolve.
Result<void> PrecheckCar(blockstore::Blockstore& blocks, const GatewayRequest& g);

// Writes the whole CAR to `sink`. A block missing half-way is an error after some bytes were
// written: the server then cuts the response, and clients detect the incomplete CAR.
Result<void> WriteCar(blockstore::Blockstore& blocks, const GatewayRequest& g,
                      const http::PushSink& sink);

}  // namespace cairn::gateway
