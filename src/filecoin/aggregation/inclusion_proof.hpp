// Proof of Data Segment Inclusion (PoDSI, FRC-0058 "Proof of Data Segment Inclusion"): the two
// Merkle paths that show a piece (data segment) sits in an aggregate at an aligned position and
// that the aggregate's data segment index holds an entry describing it.
//
// Wire form (DAG-CBOR, identical to go-data-segment's cbor-gen output and to
// @web3-storage/data-segment's Inclusion.encode):
//   InclusionProof = [ProofData subtree, ProofData index]
//   ProofData      = [index: uint, path: [bytes(32), ...]]
// `index` is the node's position within its tree level; `path` lists sibling nodes from the
// node's own level upwards (path[0] is the sibling of the proven node, the last element is a
// child of the root). The subtree proof starts at the piece's commitment; the index proof starts
// at the level-1 node of the piece's 64-byte index entry.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/aggregation/segment.hpp"

namespace cairn::filecoin::aggregation {

// Longest path accepted anywhere (decode and verify). A path of length d proves a node 2^d times
// smaller than the root; the JS library uses the same limit.
inline constexpr size_t kMaxProofDepth = 63;

struct ProofData {
  uint64_t index = 0;
  std::vector<Node> path;

  friend bool operator==(const ProofData&, const ProofData&) = default;
};

struct InclusionProof {
  ProofData subtree;
  ProofData index;

  friend bool operator==(const InclusionProof&, const InclusionProof&) = default;
};

// The root reached from `node` at position proof.index by hashing up proof.path.
// InvalidArgument when the path is longer than kMaxProofDepth or index >= 2^path.size().
Result<Node> ComputeRoot(const ProofData& proof, const Node& node);

// Canonical DAG-CBOR bytes of `proof`.
Bytes EncodeInclusionProof(const InclusionProof& proof);

// Strict decode: exactly one DAG-CBOR value of the shape above, nothing after it; every path
// element a 32-byte byte string; paths no longer than kMaxProofDepth; index < 2^path length.
// InvalidArgument saying what is wrong ("podsi: subtree path element 3 is 31 bytes, want 32").
Result<InclusionProof> DecodeInclusionProof(ByteSpan bytes);

// The aggregate (commitment, padded size) that `proof` proves `piece` into, after checking that
// both paths lead to the same root and the same size, that the piece is aligned and ends before
// the index area, and that the index entry lies inside the index area. InvalidArgument with the
// reason otherwise. `piece.size` must be a valid padded size (checked).
Result<PieceInfo> ResolveAggregate(const InclusionProof& proof, const PieceInfo& piece);

// Ok when `proof` proves `piece` into `aggregate`: ResolveAggregate succeeds and gives exactly
// `aggregate`. InvalidArgument naming the mismatch (root or size) otherwise.
Result<void> VerifyInclusion(const InclusionProof& proof, const PieceInfo& piece,
                             const PieceInfo& aggregate);

}  // namespace cairn::filecoin::aggregation
