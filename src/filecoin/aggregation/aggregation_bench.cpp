// Times Aggregate::Build and proof generation for N random pieces (128 B .. 16 KiB) in a 32 GiB
// deal. Pair with tests/interop/aggregation_bench.mjs (the same workload in
// @web3-storage/data-segment). Usage: aggregation_bench [N]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "filecoin/aggregation/aggregate.hpp"

using namespace cairn::filecoin::aggregation;

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  std::mt19937_64 rng(1);
  std::vector<PieceInfo> pieces(n);
  for (auto& p : pieces) {
    for (auto& b : p.commitment) b = static_cast<uint8_t>(rng());
    p.commitment[31] &= 0x3f;
    p.size = uint64_t{128} << (rng() % 8);
  }
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto agg = Aggregate::Build(pieces, uint64_t{32} << 30);
  const auto t1 = Clock::now();
  if (!agg) {
    std::fprintf(stderr, "%s\n", agg.error().ToString().c_str());
    return 1;
  }
  size_t bytes = 0;
  for (size_t i = 0; i < agg->entries().size(); ++i) {
    bytes += EncodeInclusionProof(*agg->ProveEntry(i)).size();
  }
  const auto t2 = Clock::now();
  const double build = std::chrono::duration<double>(t1 - t0).count();
  const double prove = std::chrono::duration<double>(t2 - t1).count();
  std::printf("pieces=%zu build=%.3fs proofs=%.3fs (%.2f us/proof, %zu bytes of CBOR)\n", n, build,
              prove, prove * 1e6 / static_cast<double>(n), bytes);
  return 0;
}
