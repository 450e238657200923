#include "api/spool.hpp"

#include <gtest/gtest.h>

#include "common/mem_env.hpp"

namespace cairn::api {
namespace {

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 9));
  return b;
}

TEST(SpoolFile, ReadsBackWhatWasWrittenAcrossItsBuffer) {
  MemEnv env;
  auto spool = SpoolFile::Create(env, "/repo/spool");
  ASSERT_TRUE(spool) << spool.error().message();
  Bytes all;
  for (size_t n : {1u, 100u, 300000u, 7u, 1u << 20, 5u}) {  // small, over the buffer, huge
    Bytes part = Pattern(n, static_cast<uint8_t>(n));
    ASSERT_TRUE((*spool)->Write(part));
    all.insert(all.end(), part.begin(), part.end());
  }
  EXPECT_EQ((*spool)->size(), all.size());
  for (int round = 0; round < 2; ++round) {  // CARs are read twice
    ASSERT_TRUE((*spool)->Rewind());
    Bytes back, chunk(70000);
    for (;;) {
      size_t got = *(*spool)->Read(chunk);
      if (got == 0) break;
      back.insert(back.end(), chunk.begin(), chunk.begin() + static_cast<long>(got));
    }
    EXPECT_EQ(back, all) << "round " << round;
  }
  EXPECT_EQ(env.ListDir("/repo/spool")->size(), 1u);
  spool->reset();
  EXPECT_TRUE(env.ListDir("/repo/spool")->empty());  // removed with the object
}

TEST(SpoolFile, AFullDiskIsStorageFullAndNamesTheSpool) {
  MemEnv env;
  auto spool = *SpoolFile::Create(env, "/repo/spool");
  env.SetCapacity(100000);
  Result<void> r = Ok();
  for (int i = 0; i < 10 && r; ++i) r = spool->Write(Pattern(64 * 1024, 1));
  if (r) r = spool->Rewind();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kStorageFull);
  EXPECT_EQ(r.error().message().rfind("rpc: spool: write /repo/spool/upload-", 0), 0u)
      << r.error().message();
}

TEST(RemoveStaleSpools, RemovesOnlyUploadSpools) {
  MemEnv env;
  EXPECT_EQ(RemoveStaleSpools(env, "/none")->files, 0u);  // no directory, nothing to clean
  ASSERT_TRUE(env.CreateDirs("/s"));
  ASSERT_TRUE(WriteFileAtomically(env, "/s/upload-1", Pattern(10, 0)));
  ASSERT_TRUE(WriteFileAtomically(env, "/s/upload-2", Pattern(20, 0)));
  ASSERT_TRUE(WriteFileAtomically(env, "/s/keep-me", Pattern(5, 0)));
  auto cleaned = RemoveStaleSpools(env, "/s");
  ASSERT_TRUE(cleaned);
  EXPECT_EQ(cleaned->files, 2u);
  EXPECT_EQ(cleaned->bytes, 30u);
  EXPECT_EQ(*env.ListDir("/s"), std::vector<std::string>{"keep-me"});
}

}  // namespace
}  // namespace cairn::api
