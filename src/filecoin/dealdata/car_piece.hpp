// Deal data: the piece a storage deal for a DAG carries. Filecoin deals store a DAG as the CARv1
// that `ipfs dag export` writes (car/car_writer.hpp ExportDag: header roots=[root], blocks in
// depth-first pre-order, each once); the deal's payload is those CAR bytes and its piece is their
// CommP (filecoin/piece/commp.hpp; Filecoin spec, "Piece commitment"; FRC-0069 for the v2 CID).
//
// ComputeCarPiece streams the export straight into the CommP hasher: no temporary file and no
// copy of the CAR, whatever its size. Memory is the hasher's (constant, about 3 MiB per thread)
// plus one block at a time plus the exporter's bookkeeping (the CIDs already written and the
// links still to visit: proportional to the number of blocks, never to their bytes).
//
// The result is by construction the CommP of the bytes `cairn car export ROOT` prints; a CAR made
// by another exporter (different block order, extra roots, CARv2) has a different piece.
#pragma once

#include <cstdint>

#include "blockstore/blockstore.hpp"
#include "car/car_writer.hpp"
#include "common/result.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin::dealdata {

using multiformats::Cid;

struct CarPieceOptions {
  // Hashing threads, as piece::CommPOptions: 0 means one per hardware thread, 1 hashes on the
  // caller's thread only. Every thread count gives the same result.
  unsigned threads = 0;
  // When set, told where each block's bytes sit in the CAR (car::ExportDag's BlockPlacedFn): the
  // segment's block index is recorded from the same export that is hashed.
  car::BlockPlacedFn on_block;
};

// The piece of a DAG's CARv1 export.
struct CarPiece {
  Cid root;                // the DAG's root, the CAR's only root
  uint64_t car_size = 0;   // bytes of the CARv1 = the deal's payload size (piece.payload_size())
  uint64_t blocks = 0;     // sections in the CAR (identity-CID blocks are not written)
  piece::PieceInfo piece;  // CommP (root), height (padded size) and padding
  Cid piece_cid_v1;        // baga6ea4seaq…: CommP alone (deal proposals; keep padded size beside)
  Cid piece_cid_v2;        // bafkzcib…: CommP, height and padding (FRC-0069)
};

// The piece of the CARv1 export of the DAG under `root`, reading its blocks from `store`.
// Every block is verified against its CID before it is hashed into the piece.
// Errors (nothing is returned on error; the store is only read):
// - NotFound when a block of the DAG is absent, the message naming its CID
//   ("car: export: <cid>: …");
// - Corruption when a block does not match its CID; NotSupported for a codec whose links cannot
//   be read; each naming the CID;
// - InvalidArgument when the CAR would exceed the largest piece (2^63 bytes padded);
// - the store's own errors (IoError…) as they are, with the CID as context.
// Thread-safety: as the store's Get (Blockstore: any thread); the call itself blocks until done.
Result<CarPiece> ComputeCarPiece(const Cid& root, blockstore::Blockstore& store,
                                 const CarPieceOptions& options = {});

// The same over any block getter (a fetcher, a test map). ExportDag verifies what it returns, so
// an untrusted getter is fine.
Result<CarPiece> ComputeCarPiece(const Cid& root, ipld::BlockGetter& getter,
                                 const CarPieceOptions& options = {});

// One CAR shard of a DAG too large for one piece (car/car_writer.hpp ExportDagShards;
// docs/formats/car-shards.md): its piece, and where its sections sit in the whole export.
struct CarShard {
  CarPiece piece;              // car_size and blocks are the shard's
  uint64_t first_section = 0;  // index of its first section in the whole export
};

struct CarShardOptions {
  unsigned threads = 1;  // hashing threads per shard, as CarPieceOptions
  // When set, told where each block's bytes sit in its shard's CAR.
  car::ShardBlockPlacedFn on_block;
};

// The pieces of the DAG's export cut into CAR shards of at most `max_car_bytes` each, in one
// walk (one hasher at a time): one shard, equal to ComputeCarPiece's, when the export fits.
// Errors as ComputeCarPiece, and InvalidArgument when a block does not fit a shard on its own.
Result<std::vector<CarShard>> ComputeCarShards(const Cid& root, ipld::BlockGetter& getter,
                                               uint64_t max_car_bytes,
                                               const CarShardOptions& options = {});
Result<std::vector<CarShard>> ComputeCarShards(const Cid& root, blockstore::Blockstore& store,
                                               uint64_t max_car_bytes,
                                               const CarShardOptions& options = {});

}  // namespace cairn::filecoin::dealdata
