// Block store throughput against file-per-block, measured in one run (scripts/bench-blockstore.sh
// adds the sequential-write limit from dd and computes the ratios for docs/benchmarks.md).
//
//   blockstore_bench DIR [total_mib=1024] [block_kib=256] [sync_every_mib=64]
//
// Blocks are random and their CIDs computed before any timing starts. Phases:
//   file_per_block: one file per block (open/write/close), then one syncfs: the design we beat;
//   store_put:      LogBlockstore::Put of every block, Sync() every sync_every_mib and at the end;
//   store_get:      LogBlockstore::Get of every block (each read verified against its hash),
//                   one thread, then two threads; the page cache is warm (honest: no root needed);
//   store_reopen:   time to open the store again (index files + tail scan).
// Prints "name value" lines (MB/s = 10^6 bytes per second). Everything under DIR is removed.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "blockstore/log_blockstore.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace {

namespace fs = std::filesystem;
using cairn::Bytes;
using cairn::multiformats::Cid;
namespace codec = cairn::multiformats::codec;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "blockstore_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: blockstore_bench DIR [total_mib] [block_kib] [sync_every_mib]");
  fs::path dir = argv[1];
  uint64_t total_mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  uint64_t block_kib = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256;
  uint64_t sync_mib = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 64;
  if (total_mib == 0 || block_kib == 0 || sync_mib == 0) Die("sizes must be positive");
  size_t block_size = block_kib * 1024;
  size_t count = total_mib * 1024 * 1024 / block_size;
  double total_mb = static_cast<double>(count * block_size) / 1e6;

  std::vector<Bytes> blocks(count);
  std::vector<Cid> cids(count);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < count; ++i) {
    blocks[i].resize(block_size);
    for (size_t k = 0; k < block_size; k += 8) {
      uint64_t v = rng();
      std::memcpy(blocks[i].data() + k, &v, std::min<size_t>(8, block_size - k));
    }
    auto cid = Cid::Compute(1, codec::kRaw, codec::kSha2_256, blocks[i]);
    if (!cid) Die(cid.error().ToString());
    cids[i] = *cid;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  std::printf("blocks %zu\nblock_bytes %zu\ntotal_mb %.1f\nsync_every_mib %llu\n", count,
              block_size, total_mb, static_cast<unsigned long long>(sync_mib));

  // file per block, sharded into 256 directories as Kubo's flatfs does.
  {
    fs::path fpb = dir / "file-per-block";
    for (int i = 0; i < 256; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "%02x", i);
      fs::create_directories(fpb / name);
    }
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i) {
      std::string name = cids[i].ToString();
      char shard[8];
      std::snprintf(shard, sizeof shard, "%02x", static_cast<unsigned>(i % 256));
      fs::path p = fpb / shard / name;
      int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) Die("open " + p.string());
      if (::write(fd, blocks[i].data(), block_size) != static_cast<ssize_t>(block_size))
        Die("write");
      ::close(fd);
    }
    int dfd = ::open(fpb.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || ::syncfs(dfd) != 0) Die("syncfs");
    ::close(dfd);
    double s = Seconds(start);
    std::printf("file_per_block_mbps %.1f\nfile_per_block_files_per_s %.0f\n", total_mb / s,
                static_cast<double>(count) / s);
    fs::remove_all(fpb, ec);
    ::sync();
  }

  fs::path store_dir = dir / "store";
  {
    auto store = cairn::blockstore::LogBlockstore::Open(store_dir);
    if (!store) Die(store.error().ToString());
    uint64_t since_sync = 0;
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i) {
      if (auto r = (*store)->Put(cids[i], blocks[i]); !r) Die(r.error().ToString());
      since_sync += block_size;
      if (since_sync >= sync_mib * 1024 * 1024) {
        if (auto r = (*store)->Sync(); !r) Die(r.error().ToString());
        since_sync = 0;
      }
    }
    if (auto r = (*store)->Sync(); !r) Die(r.error().ToString());
    double s = Seconds(start);
    std::printf("store_put_mbps %.1f\nstore_put_blocks_per_s %.0f\n", total_mb / s,
                static_cast<double>(count) / s);

    start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i) {
      auto got = (*store)->Get(cids[i]);
      if (!got || got->size() != block_size) Die("get " + cids[i].ToString());
    }
    s = Seconds(start);
    std::printf("store_get_mbps %.1f\n", total_mb / s);

    start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < count; i += 2) {
          if (!(*store)->Get(cids[i])) Die("get " + cids[i].ToString());
        }
      });
    }
    for (auto& th : threads) th.join();
    s = Seconds(start);
    std::printf("store_get_2threads_mbps %.1f\n", total_mb / s);
  }
  {
    auto start = std::chrono::steady_clock::now();
    auto store = cairn::blockstore::LogBlockstore::Open(store_dir);
    if (!store) Die(store.error().ToString());
    std::printf("store_reopen_ms %.1f\nstore_reopen_blocks %llu\n", Seconds(start) * 1000,
                static_cast<unsigned long long>((*store)->Stats().blocks));
  }
  fs::remove_all(dir, ec);
  return 0;
}
