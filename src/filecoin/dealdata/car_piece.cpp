#include "filecoin/dealdata/car_piece.hpp"

namespace cairn::filecoin::dealdata {
namespace {

// The CAR writer's sink: every byte it writes goes into the CommP builder, in order.
class CommPSink final : public car::ByteSink {
 public:
  explicit CommPSink(piece::CommPBuilder& builder) : builder_(builder) {}
  Result<void> Write(ByteSpan data) override { return builder_.Update(data); }

 private:
  piece::CommPBuilder& builder_;
};

}  // namespace

Result<CarPiece> ComputeCarPiece(const Cid& root, car::BlockGetter& getter,
                                 CarPieceOptions options) {
  piece::CommPBuilder builder({.threads = options.threads});
  CommPSink sink(builder);
  const car::ExportStats stats = CAIRN_TRY(car::ExportDag(root, getter, sink));
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
                                 CarPieceOptions options) {
  car::GetterFor<blockstore::Blockstore> getter(store);
  return ComputeCarPiece(root, getter, options);
}

}  // namespace cairn::filecoin::dealdata
