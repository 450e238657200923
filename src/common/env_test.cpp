#include "common/env.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/mem_env.hpp"
#include "common/testing/temp_dir.hpp"

namespace cairn {
namespace {

namespace fs = std::filesystem;

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The contract every Env keeps, run on the real file system and on MemEnv.
class EnvContract : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      env_ = &mem_;
      dir_ = "/data/repo";
    } else {
      env_ = &Env::Default();
      dir_ = tmp_.path() / "repo";
    }
    ASSERT_TRUE(env_->CreateDirs(dir_));
  }

  testing::TempDir tmp_{"cairn-env"};
  MemEnv mem_;
  Env* env_ = nullptr;
  fs::path dir_;
};

TEST_P(EnvContract, WritesReadsAndGathers) {
  auto f = env_->Open(dir_ / "a", OpenMode::kCreateNew);
  ASSERT_TRUE(f) << f.error().message();
  const Bytes head = B("head-"), body = B("body");
  const ByteSpan parts[] = {head, body};
  ASSERT_TRUE((*f)->WriteAt(0, parts));
  ASSERT_TRUE((*f)->WriteAt(9, B("!")));
  ASSERT_TRUE((*f)->Sync());
  EXPECT_EQ(*(*f)->Size(), 10u);
  Bytes out(20);
  EXPECT_EQ(*(*f)->ReadAt(5, out), 5u);  // short only at the end
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 5), B("body!"));
  ASSERT_TRUE((*f)->Truncate(4));
  EXPECT_EQ(*ReadWholeFile(*env_, dir_ / "a", 100), B("head"));
  auto big = ReadWholeFile(*env_, dir_ / "a", 3);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(EnvContract, NamesErrorsAndLocks) {
  EXPECT_EQ(env_->Open(dir_ / "missing", OpenMode::kRead).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(env_->Open(dir_ / "x", OpenMode::kCreateNew));
  auto again = env_->Open(dir_ / "x", OpenMode::kCreateNew);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().message().find((dir_ / "x").string()), std::string::npos);
  ASSERT_TRUE(env_->Rename(dir_ / "x", dir_ / "y"));
  EXPECT_FALSE(*env_->Exists(dir_ / "x"));
  EXPECT_TRUE(*env_->Exists(dir_ / "y"));
  EXPECT_TRUE(*env_->IsDirectory(dir_));
  EXPECT_FALSE(*env_->IsDirectory(dir_ / "y"));
  auto names = *env_->ListDir(dir_);
  EXPECT_EQ(names, std::vector<std::string>{"y"});
  ASSERT_TRUE(env_->Remove(dir_ / "y"));
  EXPECT_EQ(env_->Remove(dir_ / "y").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(env_->SyncDir(dir_));

  auto lock1 = env_->Open(dir_ / "LOCK", OpenMode::kCreateOrOpen);
  auto lock2 = env_->Open(dir_ / "LOCK", OpenMode::kCreateOrOpen);
  ASSERT_TRUE(lock1 && lock2);
  ASSERT_TRUE((*lock1)->LockExclusive());
  auto held = (*lock2)->LockExclusive();
  ASSERT_FALSE(held);
  EXPECT_EQ(held.error().code(), ErrorCode::kUnavailable);
  lock1->reset();  // closing releases it
  EXPECT_TRUE((*lock2)->LockExclusive());
}

TEST_P(EnvContract, AtomicWriteReplacesWholeFiles) {
  ASSERT_TRUE(WriteFileAtomically(*env_, dir_ / "id", B("first")));
  ASSERT_TRUE(WriteFileAtomically(*env_, dir_ / "id", B("second")));
  EXPECT_EQ(*ReadWholeFile(*env_, dir_ / "id", 100), B("second"));
  EXPECT_FALSE(*env_->Exists(dir_ / "id.tmp"));
}

INSTANTIATE_TEST_SUITE_P(Env, EnvContract, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Mem" : "Posix"; });

TEST(MemEnv, CrashKeepsOnlySyncedBytesAndNames) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDirs("/d"));
  auto f = *env.Open("/d/log", OpenMode::kCreateNew);
  ASSERT_TRUE(f->WriteAt(0, B("synced")));
  ASSERT_TRUE(f->Sync());
  ASSERT_TRUE(env.SyncDir("/d"));
  ASSERT_TRUE(f->WriteAt(6, B("+lost")));
  auto g = *env.Open("/d/new", OpenMode::kCreateNew);
  ASSERT_TRUE(g->WriteAt(0, B("x")));
  ASSERT_TRUE(g->Sync());  // bytes synced, but the name never was
  env.Crash();
  EXPECT_EQ(*ReadWholeFile(env, "/d/log", 100), B("synced"));
  EXPECT_FALSE(*env.Exists("/d/new"));
  auto stale = f->WriteAt(0, B("z"));
  ASSERT_FALSE(stale);
  EXPECT_NE(stale.error().message().find("before a simulated crash"), std::string::npos);
}

TEST(MemEnv, AtomicWriteSurvivesACrashAtEveryStep) {
  // Whatever step fails or is cut by a crash, the file holds the old content or the new.
  for (int step = 1; step <= 3; ++step) {
    MemEnv env;
    ASSERT_TRUE(env.CreateDirs("/r"));
    ASSERT_TRUE(WriteFileAtomically(env, "/r/id", B("old")));
    if (step == 1) env.FailWrite(1, ErrorCode::kStorageFull, 1);
    if (step == 2) env.FailSync(1);
    auto r = WriteFileAtomically(env, "/r/id", B("new!"));
    if (step <= 2) {
      ASSERT_FALSE(r);
      EXPECT_FALSE(*env.Exists("/r/id.tmp")) << "step " << step;
    }
    if (step == 3) {
      ASSERT_TRUE(r);
    }
    env.Crash();
    const Bytes now = *ReadWholeFile(env, "/r/id", 100);
    if (step <= 2) {
      EXPECT_EQ(now, B("old")) << "step " << step;
    } else {
      EXPECT_EQ(now, B("new!")) << "step " << step;
    }
  }
}

TEST(MemEnv, InjectsShortWritesFullDisksAndFailedTruncates) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDirs("/d"));
  auto f = *env.Open("/d/f", OpenMode::kCreateNew);
  env.FailWrite(2, ErrorCode::kIoError, 3);
  ASSERT_TRUE(f->WriteAt(0, B("abc")));
  auto torn = f->WriteAt(3, B("defgh"));
  ASSERT_FALSE(torn);
  EXPECT_EQ(torn.error().code(), ErrorCode::kIoError);
  EXPECT_EQ(*ReadWholeFile(env, "/d/f", 100), B("abcdef"));  // 3 of 5 bytes landed
  env.SetCapacity(8);
  auto full = f->WriteAt(6, B("ghijk"));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), ErrorCode::kStorageFull);
  EXPECT_EQ(*ReadWholeFile(env, "/d/f", 100), B("abcdefgh"));
  EXPECT_EQ(f->Allocate(100).error().code(), ErrorCode::kStorageFull);
  env.FailTruncate(1);
  EXPECT_FALSE(f->Truncate(2));
  EXPECT_EQ(*f->Size(), 8u);
  ASSERT_TRUE(f->Truncate(2));
  EXPECT_EQ(env.used_bytes(), 2u);
}

TEST(ErrnoError, MapsTheCodesCallersActOn) {
  EXPECT_EQ(ErrnoError(ENOSPC, "write x").code(), ErrorCode::kStorageFull);
  EXPECT_EQ(ErrnoError(EDQUOT, "write x").code(), ErrorCode::kStorageFull);
  EXPECT_EQ(ErrnoError(ENOENT, "open x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(ErrnoError(EIO, "read x", "blockstore: ").message(),
            "blockstore: read x: Input/output error");
}

}  // namespace
}  // namespace cairn
