#include "filecoin/dealdata/car_piece.hpp"

namespace cairn::filecoin::dealdata {

Result<CarPiece> ComputeCarPiece(const Cid& root, ipld::BlockGetter& getter,
                                 const CarPieceOptions& options) {
  // Every byte the CAR writer writes goes into the CommP builder (a ByteSink), in order.
  piece::CommPBuilder builder({.threads = options.threads});
  const car::ExportStats stats = CAIRN_TRY(car::ExportDag(root, getter, builder, options.on_block));
  CarPiece out;
  out.root = root;
  out.piece = CAIRN_TRY(builder.Finish());
  // The sink hashed exactly what the writer wrote.
  CAIRN_CHECK(out.piece.payload_size() == stats.bytes);
  out.car_size = stats.bytes;
  out.blocks = stats.blocks;
  out.piece_cid_v1 = piece::PieceCidV1(out.piece.root);
  out.piece_cid_v2 = CAIRN_TRY(piece::PieceCidV2(out.piece));
  return out;
}

Result<CarPiece> ComputeCarPiece(const Cid& root, blockstore::Blockstore& store,
                                 const CarPieceOptions& options) {
  ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
  return ComputeCarPiece(root, getter, options);
}

}  // namespace cairn::filecoin::dealdata
