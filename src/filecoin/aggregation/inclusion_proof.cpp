#include "filecoin/aggregation/inclusion_proof.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "filecoin/aggregation/internal/merkle.hpp"
#include "ipld/dag_cbor.hpp"

namespace cairn::filecoin::aggregation {
namespace {

std::string Hex(const Node& node) { return HexEncode(ByteSpan(node.data(), node.size())); }

Result<void> CheckShape(const ProofData& proof, std::string_view name) {
  if (proof.path.size() > kMaxProofDepth) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: " + std::string(name) + " path has " + std::to_string(proof.path.size()) +
                   " nodes, more than the maximum " + std::to_string(kMaxProofDepth));
  }
  if ((proof.index >> proof.path.size()) != 0) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: " + std::string(name) + " index " + std::to_string(proof.index) +
                   " does not fit a tree level of width 2^" + std::to_string(proof.path.size()));
  }
  return Ok();
}

void WriteProofData(ipld::CborWriter& writer, const ProofData& proof) {
  writer.WriteArrayHeader(2);
  writer.WriteUint(proof.index);
  writer.WriteArrayHeader(proof.path.size());
  for (const auto& node : proof.path) writer.WriteBytes(ByteSpan(node.data(), node.size()));
}

Result<ProofData> ReadProofData(const ipld::CborValue& value, std::string_view name) {
  const std::string n(name);
  if (value.kind() != ipld::CborKind::kList || value.AsList().size() != 2) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: " + n + " proof is not a 2-element list [index, path]");
  }
  const auto& fields = value.AsList();
  if (fields[0].kind() != ipld::CborKind::kInt || fields[0].IsNegative()) {
    return Err(ErrorCode::kInvalidArgument, "podsi: " + n + " index is not an unsigned integer");
  }
  if (fields[1].kind() != ipld::CborKind::kList) {
    return Err(ErrorCode::kInvalidArgument, "podsi: " + n + " path is not a list");
  }
  const auto& path = fields[1].AsList();
  if (path.size() > kMaxProofDepth) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: " + n + " path has " + std::to_string(path.size()) +
                   " nodes, more than the maximum " + std::to_string(kMaxProofDepth));
  }
  ProofData proof;
  proof.index = fields[0].IntArgument();
  proof.path.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].kind() != ipld::CborKind::kBytes) {
      return Err(ErrorCode::kInvalidArgument,
                 "podsi: " + n + " path element " + std::to_string(i) + " is not a byte string");
    }
    const Bytes& bytes = path[i].AsBytes();
    if (bytes.size() != 32) {
      return Err(ErrorCode::kInvalidArgument, "podsi: " + n + " path element " + std::to_string(i) +
                                                  " is " + std::to_string(bytes.size()) +
                                                  " bytes, want 32");
    }
    Node node;
    std::memcpy(node.data(), bytes.data(), 32);
    proof.path.push_back(node);
  }
  CAIRN_TRY(CheckShape(proof, name));
  return proof;
}

}  // namespace

Result<Node> ComputeRoot(const ProofData& proof, const Node& node) {
  CAIRN_TRY(CheckShape(proof, "proof"));
  Node top = node;
  uint64_t position = proof.index;
  for (const Node& sibling : proof.path) {
    top =
        (position & 1) != 0 ? internal::HashNodes(sibling, top) : internal::HashNodes(top, sibling);
    position >>= 1;
  }
  return top;
}

Bytes EncodeInclusionProof(const InclusionProof& proof) {
  Bytes out;
  out.reserve(16 + 34 * (proof.subtree.path.size() + proof.index.path.size()));
  ipld::CborWriter writer(out);
  writer.WriteArrayHeader(2);
  WriteProofData(writer, proof.subtree);
  WriteProofData(writer, proof.index);
  return out;
}

Result<InclusionProof> DecodeInclusionProof(ByteSpan bytes) {
  auto value = ipld::DecodeDagCbor(bytes);
  if (!value) return Err(value.error().WithContext("podsi: "));
  if (value->kind() != ipld::CborKind::kList || value->AsList().size() != 2) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: inclusion proof is not a 2-element list [subtree, index]");
  }
  InclusionProof proof;
  proof.subtree = CAIRN_TRY(ReadProofData(value->AsList()[0], "subtree"));
  proof.index = CAIRN_TRY(ReadProofData(value->AsList()[1], "index"));
  return proof;
}

Result<PieceInfo> ResolveAggregate(const InclusionProof& proof, const PieceInfo& piece) {
  CAIRN_TRY(ValidatePaddedSize(piece.size, "piece"));
  CAIRN_TRY(CheckShape(proof.subtree, "subtree"));
  CAIRN_TRY(CheckShape(proof.index, "index"));

  // The subtree path climbs from the piece's level to the root: the aggregate is 2^depth pieces.
  const unsigned piece_log = std::countr_zero(piece.size);
  const unsigned max_log = std::countr_zero(kMaxDealSize);
  if (piece_log + proof.subtree.path.size() > max_log) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: subtree path of " + std::to_string(proof.subtree.path.size()) +
                   " nodes implies an aggregate larger than " + std::to_string(kMaxDealSize));
  }
  const uint64_t aggregate_size = piece.size << proof.subtree.path.size();
  const Node subtree_root = CAIRN_TRY(ComputeRoot(proof.subtree, piece.commitment));

  const uint64_t entries = MaxIndexEntriesInDeal(aggregate_size);
  if (aggregate_size <= entries * kEntrySize) {
    return Err(ErrorCode::kInvalidArgument, "podsi: aggregate of " +
                                                std::to_string(aggregate_size) +
                                                " bytes has no room for data besides its index");
  }
  const uint64_t index_start = IndexAreaStart(aggregate_size);
  const uint64_t offset = proof.subtree.index * piece.size;
  if (offset + piece.size > index_start) {
    return Err(ErrorCode::kInvalidArgument, "podsi: piece at offset " + std::to_string(offset) +
                                                " overlaps the index area at " +
                                                std::to_string(index_start));
  }

  // The index path climbs from the entry's level-1 node (64 bytes) to the same root.
  const unsigned want_index_depth = std::countr_zero(aggregate_size / kEntrySize);
  if (proof.index.path.size() != want_index_depth) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: index path has " + std::to_string(proof.index.path.size()) +
                   " nodes but an aggregate of " + std::to_string(aggregate_size) +
                   " bytes needs " + std::to_string(want_index_depth));
  }
  const uint64_t entry_offset = proof.index.index * kEntrySize;
  if (entry_offset < index_start) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: index entry at offset " + std::to_string(entry_offset) +
                   " lies before the index area at " + std::to_string(index_start));
  }
  const SegmentDesc entry = SegmentDesc::Make(piece.commitment, offset, piece.size);
  const Node index_root = CAIRN_TRY(ComputeRoot(proof.index, entry.TreeNode()));
  if (index_root != subtree_root) {
    return Err(ErrorCode::kInvalidArgument,
               "podsi: subtree proof leads to root " + Hex(subtree_root) +
                   " but the index proof for (offset " + std::to_string(offset) + ", size " +
                   std::to_string(piece.size) + ") leads to " + Hex(index_root));
  }
  return PieceInfo{subtree_root, aggregate_size};
}

Result<void> VerifyInclusion(const InclusionProof& proof, const PieceInfo& piece,
                             const PieceInfo& aggregate) {
  const PieceInfo resolved = CAIRN_TRY(ResolveAggregate(proof, piece));
  if (resolved.size != aggregate.size) {
    return Err(ErrorCode::kInvalidArgument, "podsi: proof is for an aggregate of " +
                                                std::to_string(resolved.size) + " bytes, not " +
                                                std::to_string(aggregate.size));
  }
  if (resolved.commitment != aggregate.commitment) {
    return Err(ErrorCode::kInvalidArgument, "podsi: proof leads to aggregate root " +
                                                Hex(resolved.commitment) + ", not " +
                                                Hex(aggregate.commitment));
  }
  return Ok();
}

}  // namespace cairn::filecoin::aggregation
