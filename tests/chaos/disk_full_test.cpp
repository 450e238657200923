// Chaos: a full disk. The repo lives on a 64 MiB tmpfs; uploads run until the disk is full.
// - The upload that does not fit is answered 507 (never 429, which clients retry forever, and
//   never 500), without a filesystem path in the body.
// - Everything acknowledged before reads back byte-identical.
// - Deleting every pin and running `cairn gc` on the stopped repo frees the space (the block
//   store's ballast lets its tombstones and compaction run on a full disk), and uploads work
//   again afterwards.
// Needs a mountable tmpfs (root or CAP_SYS_ADMIN); skipped, saying why, where mounting fails.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <map>

#include "tests/chaos/chaos_support.hpp"

namespace cairn::chaos {
namespace {

uint64_t FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, uint64_t bytes) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(ChaosDiskFull, FullDiskAnswers507AndGcFreesItAgain) {
  testing::TempDir dir;
  std::string mount_point = dir / "fs";
  TmpfsMount fs(mount_point, 64ull << 20);
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << fs.error();
  std::string repo = mount_point + "/repo";
  std::string config = dir / "config.toml";
  testing::WriteFile(config,
                     "[pinning]\ngc_interval_seconds = 0\ngateways = []\n"
                     "[blockstore]\ncache_mib = 0\n"
                     "[api]\nrate_per_second = 100000\nrate_burst = 100000\n");
  std::string token = CreateAccountToken(repo, "full");
  ASSERT_FALSE(token.empty());

  std::mt19937_64 rng(11);
  std::map<std::string, std::string> acknowledged;  // CID → content
  HttpReply refused;
  {
    testing::ServeProcess server(repo, {"--config", config});
    ASSERT_NE(server.port(), 0) << server.output();
    for (int i = 0; i < 200; ++i) {  // 200 MiB offered to a 64 MiB disk
      std::string content = RandomBytes(rng, 1 << 20);
      auto r = HttpRequest(server.port(), "POST", "/api/v0/add?cid-version=1", UploadHeaders(token),
                           MultipartFile("f", content));
      if (r.status != 200) {
        refused = r;
        break;
      }
      acknowledged[JsonField(r.body, "Hash")] = std::move(content);
    }
    ASSERT_NE(refused.status, 0) << "the disk never filled";
    EXPECT_EQ(refused.status, 507) << refused.body;
    EXPECT_NE(refused.body.find("STORAGE_FULL"), std::string::npos) << refused.body;
    EXPECT_EQ(refused.body.find(mount_point), std::string::npos) << "path leaked: " << refused.body;
    EXPECT_FALSE(refused.Header("Retry-After").has_value() && refused.status == 429);
    ASSERT_GT(acknowledged.size(), 10u);

    for (const auto& [cid, content] : acknowledged) {
      auto r = HttpRequest(server.port(), "GET", "/ipfs/" + cid);
      EXPECT_EQ(r.status, 200) << cid;
      EXPECT_TRUE(r.body == content) << cid << " did not read back whole on a full disk";
    }
    // Delete every pin (the uploads' own), on the full disk.
    std::vector<std::string> ids;
    for (;;) {
      auto page =
          HttpRequest(server.port(), "GET", "/pins?status=queued,pinning,pinned,failed&limit=1000",
                      {"Authorization: Bearer " + token});
      ASSERT_EQ(page.status, 200) << page.body;
      size_t at = 0;
      ids.clear();
      while ((at = page.body.find("\"requestid\":\"", at)) != std::string::npos) {
        at += 13;
        ids.push_back(page.body.substr(at, page.body.find('"', at) - at));
      }
      if (ids.empty()) break;
      for (const auto& id : ids) {
        auto d =
            HttpRequest(server.port(), "DELETE", "/pins/" + id, {"Authorization: Bearer " + token});
        ASSERT_EQ(d.status, 202) << "delete on a full disk: " << d.body;
      }
    }
    EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  }
  uint64_t free_before = FreeBytes(mount_point);
  auto gc = RunCairn("--repo " + testing::ShellQuote(repo) + " gc");
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  uint64_t free_after = FreeBytes(mount_point);
  std::printf("disk full: %zu MiB acknowledged, then %d; gc: %s; free %llu -> %llu KiB\n",
              acknowledged.size(), refused.status, gc.out.c_str(),
              static_cast<unsigned long long>(free_before >> 10),
              static_cast<unsigned long long>(free_after >> 10));
  EXPECT_GT(free_after, free_before + (uint64_t{acknowledged.size()} << 20) / 2)
      << "gc freed too little: " << gc.out;

  testing::ServeProcess again(repo, {"--config", config});
  ASSERT_NE(again.port(), 0) << again.output();
  std::string content = RandomBytes(rng, 1 << 20);
  auto r = HttpRequest(again.port(), "POST", "/api/v0/add?cid-version=1", UploadHeaders(token),
                       MultipartFile("f", content));
  ASSERT_EQ(r.status, 200) << r.body;
  auto back = HttpRequest(again.port(), "GET", "/ipfs/" + JsonField(r.body, "Hash"));
  EXPECT_TRUE(back.body == content);
}

}  // namespace
}  // namespace cairn::chaos
