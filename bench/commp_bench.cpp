// CommP throughput: MB/s of payload for each requested thread count over the same in-memory
// payload, plus the raw node-hash rate. scripts/bench-commp.sh runs it beside `openssl speed` and
// @web3-storage/data-segment and prints the ratios recorded in docs/benchmarks.md.
//
//   commp_bench [--size BYTES] [--threads 1,2] [--repeat N]
// Prints one JSON object per line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/node.hpp"

namespace piece = cairn::filecoin::piece;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds of the whole process (all threads): `openssl speed` divides by CPU time too, so on a
// shared machine the single-thread ratio stays meaningful; thread scaling needs wall time.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size = uint64_t{1} << 30;
  std::vector<unsigned> threads = {1, 2};
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--size") {
      size = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--threads") {
      threads.clear();
      std::stringstream ss(argv[i + 1]);
      std::string t;
      while (std::getline(ss, t, ',')) threads.push_back(static_cast<unsigned>(std::stoul(t)));
    } else if (flag == "--repeat") {
      repeat = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: commp_bench [--size BYTES] [--threads 1,2] [--repeat N]\n");
      return 2;
    }
  }

  // Deterministic incompressible payload (xorshift64*).
  std::vector<uint8_t> payload(size);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= payload.size(); i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t v = x * 0x2545f4914f6cdd1dull;
    std::memcpy(payload.data() + i, &v, 8);
  }

  // Raw node hashing rate (one thread): 1 MiB of nodes hashed pairwise in place, repeatedly.
  {
    std::vector<uint8_t> buf(1 << 20, 0x5a);
    const size_t pairs = buf.size() / 64;
    const int rounds = 256;
    const double c0 = CpuSeconds();
    for (int r = 0; r < rounds; ++r) piece::HashNodePairs(buf.data(), buf.data(), pairs);
    const double s = CpuSeconds() - c0;
    std::printf(
        "{\"what\":\"node_hash\",\"sha_ni\":%s,\"nodes_per_s\":%.0f,\"sha256_MBps\":%.1f}\n",
        piece::HashUsesShaNi() ? "true" : "false", pairs * rounds / s,
        pairs * rounds * 128.0 / s / 1e6);
  }

  std::string first_root;
  for (unsigned t : threads) {
    double best = 1e100;
    double best_cpu = 1e100;
    std::string root;
    for (int r = 0; r < repeat; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = CpuSeconds();
      auto info = piece::ComputeCommP(payload, {.threads = t});
      const double s = Seconds(t0, std::chrono::steady_clock::now());
      best_cpu = std::min(best_cpu, CpuSeconds() - c0);
      if (!info) {
        std::fprintf(stderr, "commp failed: %s\n", info.error().ToString().c_str());
        return 1;
      }
      root = cairn::HexEncode(info->root);
      best = std::min(best, s);
    }
    if (first_root.empty()) first_root = root;
    if (root != first_root) {
      std::fprintf(stderr, "thread counts disagree: %s vs %s\n", root.c_str(), first_root.c_str());
      return 1;
    }
    std::printf(
        "{\"what\":\"commp\",\"threads\":%u,\"bytes\":%llu,\"seconds\":%.3f,\"MBps\":%.1f,"
        "\"cpu_seconds\":%.3f,\"MB_per_cpu_s\":%.1f,\"root\":\"%s\"}\n",
        t, static_cast<unsigned long long>(size), best, size / best / 1e6, best_cpu,
        size / best_cpu / 1e6, root.c_str());
  }
  return 0;
}
