#include "filecoin/dealdata/car_piece.hpp"

#include <optional>
#include <vector>

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

namespace {

// Each shard's bytes go into its own CommP builder; its piece is finished when the shard ends.
class ShardHashers final : public car::ShardSinks {
 public:
  ShardHashers(const Cid& root, unsigned threads) : root_(root), threads_(threads) {}

  Result<ByteSink*> Begin(size_t) override {
    builder_.emplace(piece::CommPOptions{.threads = threads_});
    return &*builder_;
  }
  Result<void> End(size_t, const car::ShardInfo& info) override {
    CarShard shard;
    shard.first_section = info.first_section;
    shard.piece.root = root_;
    shard.piece.piece = CAIRN_TRY(builder_->Finish());
    CAIRN_CHECK(shard.piece.piece.payload_size() == info.bytes);
    shard.piece.car_size = info.bytes;
    shard.piece.blocks = info.sections;
    shard.piece.piece_cid_v1 = piece::PieceCidV1(shard.piece.piece.root);
    shard.piece.piece_cid_v2 = CAIRN_TRY(piece::PieceCidV2(shard.piece.piece));
    builder_.reset();
    shards_.push_back(std::move(shard));
    return Ok();
  }
  std::vector<CarShard> Take() { return std::move(shards_); }

 private:
  Cid root_;
  unsigned threads_;
  std::optional<piece::CommPBuilder> builder_;
  std::vector<CarShard> shards_;
};

}  // namespace

Result<std::vector<CarShard>> ComputeCarShards(const Cid& root, ipld::BlockGetter& getter,
                                               uint64_t max_car_bytes,
                                               const CarShardOptions& options) {
  ShardHashers hashers(root, options.threads);
  CAIRN_TRY(car::ExportDagShards(root, max_car_bytes, getter, hashers, options.on_block));
  return hashers.Take();
}

Result<std::vector<CarShard>> ComputeCarShards(const Cid& root, blockstore::Blockstore& store,
                                               uint64_t max_car_bytes,
                                               const CarShardOptions& options) {
  ipld::BlockGetterFor<blockstore::Blockstore> getter(store);
  return ComputeCarShards(root, getter, max_car_bytes, options);
}

}  // namespace cairn::filecoin::dealdata
