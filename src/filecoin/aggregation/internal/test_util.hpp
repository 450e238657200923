// Test helpers shared by the aggregation tests: testdata paths, file reading, hex nodes, and an
// independent dense Merkle tree over padded bytes (for cross-checking the sparse tree).
#pragma once

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "common/bytes.hpp"
#include "filecoin/aggregation/internal/merkle.hpp"
#include "filecoin/aggregation/segment.hpp"

namespace cairn::filecoin::aggregation::testing {

inline std::string TestdataPath(const std::string& name) {
  const char* root = std::getenv("CAIRN_SOURCE_DIR");
  return std::string(root ? root : ".") + "/src/filecoin/aggregation/testdata/" + name;
}

inline Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline Node NodeFromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  Node node{};
  if (bytes && bytes->size() == 32) std::copy(bytes->begin(), bytes->end(), node.begin());
  return node;
}

inline std::string NodeHex(const Node& node) { return HexEncode(ByteSpan(node.data(), 32)); }

// Root of the full binary tree over `padded` (a power-of-two number of 32-byte leaves), computed
// level by level with no shortcuts.
inline Node DenseRoot(ByteSpan padded) {
  std::vector<Node> level(padded.size() / 32);
  for (size_t i = 0; i < level.size(); ++i) {
    std::copy(padded.begin() + 32 * i, padded.begin() + 32 * (i + 1), level[i].begin());
  }
  while (level.size() > 1) {
    std::vector<Node> up(level.size() / 2);
    for (size_t i = 0; i < up.size(); ++i)
      up[i] = internal::HashNodes(level[2 * i], level[2 * i + 1]);
    level = std::move(up);
  }
  return level[0];
}

}  // namespace cairn::filecoin::aggregation::testing
