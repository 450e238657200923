#include "filecoin/piece/zero_comm.hpp"

#include <array>

#include "common/result.hpp"

namespace cairn::filecoin::piece {
namespace {

using Table = std::array<Node, kMaxZeroCommHeight + 1>;

Table ComputeTable() {
  Table t{};
  t[0].fill(0);
  for (int h = 1; h <= kMaxZeroCommHeight; ++h) t[h] = HashNode(t[h - 1], t[h - 1]);
  return t;
}

}  // namespace

const Node& ZeroComm(int height) {
  static const Table table = ComputeTable();
  CAIRN_CHECK(height >= 0 && height <= kMaxZeroCommHeight);  // callers derive it from valid sizes
  return table[static_cast<size_t>(height)];
}

}  // namespace cairn::filecoin::piece
