// `cairn piece aggregate` and `cairn piece verify-inclusion`: FRC-0058 aggregates and PoDSI
// inclusion proofs from the command line (library: src/filecoin/aggregation).
//
// A PIECE argument is one of
//   - a v2 piece CID (bafkzcib…, FRC-0069), which carries its size;
//   - a v1 piece CID with its padded size, `baga6ea4seaq…:PADDED`;
//   - a path to a file, whose CommP is computed here.
// All offsets and sizes printed or accepted are padded bytes (the piece/deal space of FRC-0058).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cairn/commands.hpp"
#include "common/io.hpp"
#include "filecoin/aggregation/aggregate.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::app {
namespace {

namespace agg = cairn::filecoin::aggregation;
namespace fp = cairn::filecoin::piece;
using multiformats::Cid;

// One resolved PIECE argument.
struct PieceArg {
  agg::PieceInfo info;
  Cid v1;
  Cid v2;
  std::optional<std::string> file;  // set when computed from a file
};

agg::Node ToNode(const fp::Node& node) {
  agg::Node out;
  std::copy(node.begin(), node.end(), out.begin());
  return out;
}

Result<uint64_t> ParseSize(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return Err(ErrorCode::kInvalidArgument, what + ": size '" + text + "' is not a number");
  }
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) {
    return Err(ErrorCode::kInvalidArgument, what + ": size '" + text + "' is out of range");
  }
  CAIRN_TRY(agg::ValidatePaddedSize(value, what));
  return static_cast<uint64_t>(value);
}

// A v2 CID or "v1:PADDED"; nullopt when `text` is neither (so it may be a file path).
Result<std::optional<PieceArg>> ParsePieceCid(const std::string& text, const std::string& what) {
  if (auto cid = Cid::Parse(text); cid && cid->version() == 1) {
    if (cid->codec() == multiformats::codec::kFilCommitmentUnsealed) {
      return Err(ErrorCode::kInvalidArgument,
                 what + ": a v1 piece CID needs its padded size: " + text + ":PADDED");
    }
    auto info = fp::ParsePieceCidV2(*cid);
    if (!info) return Err(info.error().WithContext(what + ": "));
    PieceArg arg;
    arg.info = {ToNode(info->root), info->padded_size()};
    arg.v1 = fp::PieceCidV1(info->root);
    arg.v2 = *cid;
    return arg;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return std::optional<PieceArg>();
  auto cid = Cid::Parse(text.substr(0, colon));
  if (!cid) return std::optional<PieceArg>();
  const fp::Node root = CAIRN_TRY(fp::ParsePieceCidV1(*cid).map_error(
      [&](const Error& e) { return e.WithContext(what + ": "); }));
  const uint64_t size = CAIRN_TRY(ParseSize(text.substr(colon + 1), what));
  PieceArg arg;
  arg.info = {ToNode(root), size};
  arg.v1 = *cid;
  arg.v2 = CAIRN_TRY(fp::PieceCidV1ToV2(*cid, size, fp::UnpaddedSize(size)));
  return arg;
}

Result<PieceArg> ParsePieceArg(const std::string& text, const std::string& what) {
  auto parsed = CAIRN_TRY(ParsePieceCid(text, what));
  if (parsed) return *parsed;
  auto source = FileSource::Open(text);
  if (!source) {
    return Err(ErrorCode::kInvalidArgument,
               what + ": '" + text +
                   "' is not a v2 piece CID, a v1 piece CID with :PADDED size, or a readable "
                   "file (" +
                   source.error().WithContext("piece: ").message() + ")");
  }
  const fp::PieceInfo info = CAIRN_TRY(fp::ComputeCommP(*source));
  PieceArg arg;
  arg.info = {ToNode(info.root), info.padded_size()};
  arg.v1 = fp::PieceCidV1(info.root);
  arg.v2 = CAIRN_TRY(fp::PieceCidV2(info));
  arg.file = text;
  return arg;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Cid AggregateCidV2(const agg::Aggregate& aggregate) {
  fp::PieceInfo info;
  std::copy(aggregate.root().begin(), aggregate.root().end(), info.root.begin());
  info.height = static_cast<int>(aggregate.height());
  info.padding = 0;
  auto cid = fp::PieceCidV2(info);
  CAIRN_CHECK(cid);  // heights of valid deals (<= 45) and padding 0 are always valid
  return *cid;
}

Result<void> RunAggregate(const std::vector<std::string>& args, std::optional<uint64_t> size,
                          const std::string& out_path) {
  std::vector<PieceArg> pieces;
  std::vector<agg::PieceInfo> infos;
  for (size_t i = 0; i < args.size(); ++i) {
    pieces.push_back(CAIRN_TRY(ParsePieceArg(args[i], "PIECE " + std::to_string(i + 1))));
    infos.push_back(pieces.back().info);
  }
  const agg::Aggregate aggregate = CAIRN_TRY(agg::Aggregate::Build(infos, size));

  if (!out_path.empty()) {
    std::vector<FileSource> sources;
    for (const auto& placed : aggregate.placement().pieces) {
      const PieceArg& arg = pieces[placed.input_index];
      if (!arg.file) {
        return Err(ErrorCode::kInvalidArgument,
                   "aggregate: --out needs every PIECE to be a file (PIECE " +
                       std::to_string(placed.input_index + 1) + " is a CID)");
      }
      auto source = FileSource::Open(*arg.file);
      if (!source) return Err(source.error().WithContext("piece: "));
      sources.push_back(std::move(*source));
    }
    std::vector<ByteSource*> ordered;
    ordered.reserve(sources.size());
    for (FileSource& source : sources) ordered.push_back(&source);
    auto sink = FileSink::Create(out_path);
    if (!sink) return Err(sink.error().WithContext("aggregate: "));
    auto written = agg::WriteAggregatePayload(aggregate, ordered, *sink);
    auto closed = sink->Close();
    CAIRN_TRY(written);
    if (!closed) return Err(closed.error().WithContext("aggregate: "));
  }

  std::string json =
      "{\"aggregateCidV1\":" + JsonString(fp::PieceCidV1(aggregate.root()).ToString()) +
      ",\"aggregateCidV2\":" + JsonString(AggregateCidV2(aggregate).ToString()) +
      ",\"paddedSize\":" + std::to_string(aggregate.deal_size()) +
      ",\"indexStart\":" + std::to_string(aggregate.placement().index_start) +
      ",\"maxIndexEntries\":" + std::to_string(aggregate.placement().max_index_entries) +
      ",\"pieces\":[";
  for (size_t i = 0; i < aggregate.placement().pieces.size(); ++i) {
    const agg::PlacedPiece& placed = aggregate.placement().pieces[i];
    const PieceArg& arg = pieces[placed.input_index];
    const agg::InclusionProof proof = CAIRN_TRY(aggregate.ProveEntry(i));
    if (i > 0) json += ",";
    json += "{\"input\":" + std::to_string(placed.input_index + 1) +
            ",\"pieceCidV1\":" + JsonString(arg.v1.ToString()) +
            ",\"pieceCidV2\":" + JsonString(arg.v2.ToString()) +
            ",\"offset\":" + std::to_string(placed.offset) +
            ",\"size\":" + std::to_string(placed.piece.size) +
            ",\"inclusionProof\":" + JsonString(HexEncode(agg::EncodeInclusionProof(proof))) + "}";
  }
  json += "]}\n";
  std::fputs(json.c_str(), stdout);
  return Ok();
}

Result<void> RunVerify(const std::string& aggregate_text, std::optional<uint64_t> size,
                       const std::string& piece_text, const std::string& proof_hex) {
  const PieceArg piece = CAIRN_TRY(ParsePieceArg(piece_text, "--piece"));
  const Bytes proof_bytes = CAIRN_TRY(
      HexDecode(proof_hex).map_error([](const Error& e) { return e.WithContext("--proof: "); }));
  const agg::InclusionProof proof = CAIRN_TRY(agg::DecodeInclusionProof(proof_bytes));

  // The aggregate: a v2 CID, v1:PADDED, or a bare v1 CID with --size (or none: size from proof).
  agg::PieceInfo aggregate{};
  bool size_known = true;
  if (auto cid = Cid::Parse(aggregate_text);
      cid && cid->codec() == multiformats::codec::kFilCommitmentUnsealed) {
    aggregate.commitment = ToNode(CAIRN_TRY(fp::ParsePieceCidV1(*cid).map_error(
        [](const Error& e) { return e.WithContext("--aggregate: "); })));
    if (size) {
      aggregate.size = *size;
    } else {
      size_known = false;
    }
  } else {
    auto parsed = CAIRN_TRY(ParsePieceCid(aggregate_text, "--aggregate"));
    if (!parsed) {
      return Err(ErrorCode::kInvalidArgument,
                 "--aggregate: '" + aggregate_text + "' is not a piece CID");
    }
    aggregate = parsed->info;
    if (size && *size != aggregate.size) {
      return Err(ErrorCode::kInvalidArgument, "--size " + std::to_string(*size) +
                                                  " contradicts the aggregate CID's size " +
                                                  std::to_string(aggregate.size));
    }
  }

  const agg::PieceInfo resolved = CAIRN_TRY(agg::ResolveAggregate(proof, piece.info));
  if (!size_known) aggregate.size = resolved.size;
  CAIRN_TRY(agg::VerifyInclusion(proof, piece.info, aggregate));
  const uint64_t offset = proof.subtree.index * piece.info.size;
  const uint64_t entry = proof.index.index - agg::IndexAreaStart(aggregate.size) / agg::kEntrySize;
  std::printf(
      "ok: piece %s (%llu bytes) is in aggregate %s (%llu bytes) at offset %llu, index "
      "entry %llu%s\n",
      piece.v2.ToString().c_str(), static_cast<unsigned long long>(piece.info.size),
      fp::PieceCidV1(aggregate.commitment).ToString().c_str(),
      static_cast<unsigned long long>(aggregate.size), static_cast<unsigned long long>(offset),
      static_cast<unsigned long long>(entry),
      size_known ? "" : " (aggregate size taken from the proof)");
  return Ok();
}

}  // namespace

void RegisterAggregateCommands(CLI::App& piece, GlobalOptions&) {
  {
    auto* cmd = piece.add_subcommand(
        "aggregate",
        "Aggregate pieces into one deal (FRC-0058) and print its piece CIDs and a PoDSI inclusion "
        "proof per piece, as JSON");
    cmd->footer(
        "PIECE is a v2 piece CID (bafkzcib...), a v1 piece CID with its padded size "
        "(baga6ea4seaq...:PADDED), or a file path (its CommP is computed).\n"
        "Pieces are placed largest first (ties in argument order), each aligned to its size; the "
        "data segment index fills the end of the deal.\n"
        "Output: {\"aggregateCidV1\", \"aggregateCidV2\", \"paddedSize\", \"indexStart\", "
        "\"maxIndexEntries\", \"pieces\": [{\"input\" (1-based argument position), "
        "\"pieceCidV1\", \"pieceCidV2\", \"offset\", \"size\", \"inclusionProof\" (hex DAG-CBOR "
        "[[index, path], [index, path]], as go-data-segment)}]} in placement order. paddedSize, "
        "indexStart, offset and size are in padded bytes (fr32 space); a piece's payload starts "
        "at byte offset*127/128 of the aggregate payload.");
    auto args = std::make_shared<std::vector<std::string>>();
    auto size = std::make_shared<uint64_t>(0);
    auto out = std::make_shared<std::string>();
    cmd->add_option("PIECE", *args, "pieces to aggregate")->required();
    cmd->add_option("--size", *size,
                    "padded deal size (a power of two); default: the smallest that fits");
    cmd->add_option("--out", *out,
                    "write the aggregate payload (unpadded deal bytes) here; every PIECE must be "
                    "a file");
    cmd->callback([args, size, out] {
      std::optional<uint64_t> deal;
      if (*size != 0) deal = *size;
      Finish(RunAggregate(*args, deal, *out));
    });
  }
  {
    auto* cmd = piece.add_subcommand(
        "verify-inclusion",
        "Check a PoDSI inclusion proof: exit 0 when the piece is in the aggregate, 1 with the "
        "reason otherwise");
    cmd->footer(
        "--aggregate is a v2 piece CID, a v1 piece CID with :PADDED, or a bare v1 piece CID "
        "(then --size gives its padded size; without it the size implied by the proof is "
        "reported). --piece takes the same forms as PIECE in `cairn piece aggregate` (a v2 CID, "
        "v1:PADDED or a file). --proof is the hex DAG-CBOR proof that `cairn piece aggregate` "
        "prints.");
    auto aggregate = std::make_shared<std::string>();
    auto size = std::make_shared<uint64_t>(0);
    auto piece_arg = std::make_shared<std::string>();
    auto proof = std::make_shared<std::string>();
    cmd->add_option("--aggregate", *aggregate, "the aggregate piece CID")->required();
    cmd->add_option("--size", *size, "padded size of a v1 aggregate CID");
    cmd->add_option("--piece", *piece_arg, "the sub-piece")->required();
    cmd->add_option("--proof", *proof, "the inclusion proof, hex DAG-CBOR")->required();
    cmd->callback([aggregate, size, piece_arg, proof] {
      std::optional<uint64_t> deal;
      if (*size != 0) deal = *size;
      Finish(RunVerify(*aggregate, deal, *piece_arg, *proof));
    });
  }
}

}  // namespace cairn::app
