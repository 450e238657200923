// `cairn piece commp FILE|- [--threads N]`: the piece commitment of a file or of stdin, as JSON
// {"pieceCidV1", "pieceCidV2", "payloadSize", "paddedSize"}. The file is streamed (constant
// memory); hashing uses N threads (default: all cores).
//
// `cairn piece commp --car CID [--threads N]`: the piece of the CARv1 export of the DAG under CID
// in the repo's block store, i.e. of the bytes `cairn car export CID` writes, streamed from the
// store into the hasher (filecoin/dealdata; no temporary file). JSON as above plus "root" and
// "carSize" (= payloadSize: the deal's payload is the CAR). A missing block fails with its CID.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "apps/cairn/commands.hpp"
#include "common/io.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"

namespace cairn::app {
namespace {

namespace piece = filecoin::piece;

Result<void> CommP(const std::string& path, unsigned threads) {
  FileSource source = FileSource::Borrow(STDIN_FILENO, "stdin");
  if (path != "-") {
    auto opened = FileSource::Open(path);
    if (!opened) return Err(opened.error().WithContext("piece commp: "));
    source = std::move(*opened);
  }
  auto info = piece::ComputeCommP(source, {.threads = threads});
  if (!info) return Err(info.error());
  const auto v2 = CAIRN_TRY(piece::PieceCidV2(*info));
  std::printf(
      "{\"pieceCidV1\":\"%s\",\"pieceCidV2\":\"%s\",\"payloadSize\":%llu,\"paddedSize\":%llu}\n",
      piece::PieceCidV1(info->root).ToString().c_str(), v2.ToString().c_str(),
      static_cast<unsigned long long>(info->payload_size()),
      static_cast<unsigned long long>(info->padded_size()));
  return Ok();
}

Result<void> CarCommP(const GlobalOptions& options, const std::string& cid_text, unsigned threads) {
  const auto root = CAIRN_TRY(multiformats::Cid::Parse(cid_text));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  auto p = filecoin::dealdata::ComputeCarPiece(root, *store, {.threads = threads});
  if (!p) return Err(p.error().WithContext("piece commp --car: "));
  std::printf(
      "{\"pieceCidV1\":\"%s\",\"pieceCidV2\":\"%s\",\"payloadSize\":%llu,\"paddedSize\":%llu,"
      "\"root\":\"%s\",\"carSize\":%llu}\n",
      p->piece_cid_v1.ToString().c_str(), p->piece_cid_v2.ToString().c_str(),
      static_cast<unsigned long long>(p->piece.payload_size()),
      static_cast<unsigned long long>(p->piece.padded_size()), p->root.ToString().c_str(),
      static_cast<unsigned long long>(p->car_size));
  return Ok();
}

}  // namespace

void RegisterPieceCommands(CLI::App& piece_cmd, GlobalOptions& options) {
  auto* commp = piece_cmd.add_subcommand(
      "commp",
      "Piece commitment of a file (or - for stdin), or with --car CID of the CARv1 export of a "
      "DAG in the repo (what `cairn car export CID` writes, streamed from the block store): "
      "piece CIDs v1 and v2, sizes");
  auto path = std::make_shared<std::string>();
  auto car_root = std::make_shared<std::string>();
  auto threads = std::make_shared<unsigned>(0);
  auto* file_opt = commp->add_option("file", *path, "the payload file, or - for stdin");
  commp
      ->add_option("--car", *car_root,
                   "instead of FILE: the DAG under this root CID, exported as a CARv1 (prints "
                   "also \"root\" and \"carSize\")")
      ->excludes(file_opt);
  commp->add_option("--threads", *threads, "hashing threads (default: all cores)")
      ->check(CLI::Range(1u, 256u));
  commp->callback([path, car_root, threads, &options] {
    if (!car_root->empty()) return Finish(CarCommP(options, *car_root, *threads));
    if (path->empty()) {
      return Finish(Err(ErrorCode::kInvalidArgument, "piece commp: give FILE (or -) or --car CID"));
    }
    Finish(CommP(*path, *threads));
  });
}

}  // namespace cairn::app
