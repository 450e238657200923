// Crash safety of LogBlockstore against a real kill -9: a child process puts, deletes, syncs and
// compacts in a loop and reports each acknowledged operation through a pipe; the parent kills it
// with SIGKILL at a random moment, reopens the store and checks that every acknowledged block
// reads back exactly and that nothing listed reads as wrong or corrupt. Several rounds on one
// directory, so each recovery starts from the previous one's result.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "blockstore/internal/test_support.hpp"
#include "blockstore/log_blockstore.hpp"

namespace cairn::blockstore {
namespace {

using testing::MakeBlock;

// Block number n: size varies from 0 to ~48 KiB so records straddle page and segment edges.
testing::Block BlockNumber(uint64_t n) { return MakeBlock(n * 7919 + 1, (n * 104729) % 49152); }

constexpr uint64_t kSegmentSize = 1 << 20;

void WriteLine(int fd, const std::string& line) {
  std::string s = line + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w <= 0) _exit(3);
    p += w;
    left -= static_cast<size_t>(w);
  }
}

// The child: never returns. Blocks numbered from `first`; "A n" after the Sync that covered
// block n's Put; "D n" before deleting block n (the delete may or may not land).
[[noreturn]] void RunChild(const std::filesystem::path& dir, uint64_t first, int out) {
  LogBlockstoreOptions options;
  options.segment_size = kSegmentSize;
  auto store = LogBlockstore::Open(dir, options);
  if (!store) _exit(2);
  std::mt19937_64 rng(first);
  std::vector<uint64_t> pending;
  for (uint64_t n = first;; ++n) {
    auto b = BlockNumber(n);
    if (!(*store)->Put(b.cid, b.data)) _exit(4);
    pending.push_back(n);
    if (rng() % 4 == 0) {
      if (!(*store)->Sync()) _exit(5);
      for (uint64_t p : pending) WriteLine(out, "A " + std::to_string(p));
      pending.clear();
    }
    if (rng() % 5 == 0 && n > first + 3) {
      uint64_t victim = first + rng() % (n - first);
      WriteLine(out, "D " + std::to_string(victim));
      if (!(*store)->Delete(BlockNumber(victim).cid)) _exit(6);
    }
    if (rng() % 100 == 0 && !(*store)->Compact(0.9)) _exit(7);  // often finds candidates
  }
}

TEST(LogBlockstoreCrash, KillNineNeverLosesAnAcknowledgedBlockNorReturnsAWrongOne) {
  testing::TempDir dir;
  std::set<uint64_t> acknowledged, maybe_deleted;
  std::mt19937_64 rng(std::random_device{}());
  uint64_t next_block = 0;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    uint64_t first = next_block;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(dir.path(), first, fds[1]);
    }
    ::close(fds[1]);
    // Kill at a random moment once the child has acknowledged something: waiting for progress
    // rather than a fixed time keeps the test independent of the machine's speed.
    std::string text;
    char buf[4096];
    ssize_t r;
    auto progress_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (text.find("A ") == std::string::npos &&
           std::chrono::steady_clock::now() < progress_deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if ((r = ::read(fds[0], buf, sizeof buf)) <= 0) break;
      text.append(buf, static_cast<size_t>(r));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    while ((r = ::read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(r));
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);
    std::istringstream lines(text);
    std::string kind;
    uint64_t n;
    uint64_t acked_now = 0;
    while (lines >> kind >> n) {
      if (kind == "A") {
        acknowledged.insert(n);
        ++acked_now;
      } else {
        maybe_deleted.insert(n);
      }
      next_block = std::max(next_block, n + 1);
    }
    next_block += 100000;  // the child may have put blocks it never reported
    EXPECT_GT(acked_now, 0u) << "round " << round << " acknowledged nothing";

    LogBlockstoreOptions options;
    options.segment_size = kSegmentSize;
    auto store = LogBlockstore::Open(dir.path(), options);
    ASSERT_TRUE(store) << store.error().ToString();
    for (const auto& p : (*store)->recovery().problems) {
      // Only a torn tail is acceptable after kill -9: an incomplete last record, or a last
      // segment killed while its header was being written (recovery recreates it).
      EXPECT_TRUE(p.find("incomplete") != std::string::npos ||
                  p.find("torn segment header") != std::string::npos)
          << p;
    }
    for (uint64_t a : acknowledged) {
      if (maybe_deleted.count(a)) continue;
      auto b = BlockNumber(a);
      auto got = (*store)->Get(b.cid);
      ASSERT_TRUE(got) << "round " << round << " block " << a << ": " << got.error().ToString();
      ASSERT_EQ(*got, b.data);
    }
    uint64_t listed = 0;
    ASSERT_TRUE((*store)->ForEach([&](const multiformats::Cid& cid, uint64_t size) {
      auto got = (*store)->Get(cid);
      EXPECT_TRUE(got) << cid.ToString() << ": " << got.error().ToString();
      if (got) {
        EXPECT_EQ(got->size(), size);
      }
      ++listed;
      return true;
    }));
    EXPECT_GT(listed, 0u);
  }
}

}  // namespace
}  // namespace cairn::blockstore
