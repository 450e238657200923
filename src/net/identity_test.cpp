#include "net/identity.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/mem_env.hpp"

namespace cairn::net {
namespace {

// The Ed25519 key from ../shared/specs/libp2p/peer-ids.md ("Test vectors"); the peer ID strings
// were computed with js multiformats 14.0.5 (identity multihash, base58btc / base36 CID).
constexpr const char* kPrivateProto =
    "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8"
    "be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr const char* kPublicProto =
    "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

TEST(Ed25519Identity, SpecVectorGivesItsPublicKeyAndPeerId) {
  auto id = Ed25519Identity::FromPrivateKeyProto(*HexDecode(kPrivateProto));
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_EQ(HexEncode(id->PublicKeyProto()), kPublicProto);
  EXPECT_EQ(HexEncode(id->PrivateKeyProto()), kPrivateProto);
  EXPECT_EQ(id->peer_id().ToString(), "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  EXPECT_EQ(id->peer_id().ToCidString(),
            "k51qzi5uqu5dgy8qsq67hbz73jqkw87l3fgf4a91qb0d9b5173tir7n4vxk1oe");
}

TEST(PeerId, ParsesBothSpellingsAndRejectsOthers) {
  auto a = PeerId::Parse("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  auto b = PeerId::Parse("k51qzi5uqu5dgy8qsq67hbz73jqkw87l3fgf4a91qb0d9b5173tir7n4vxk1oe");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_TRUE(PeerId::Parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"));
  EXPECT_FALSE(PeerId::Parse(""));
  EXPECT_FALSE(PeerId::Parse("bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"));
  EXPECT_FALSE(PeerId::Parse("12D3KooW"));
}

TEST(Ed25519Identity, SignsAndVerifies) {
  auto id = Ed25519Identity::Generate();
  auto sig = id.Sign(AsBytes("hello"));
  EXPECT_TRUE(Ed25519Identity::Verify(id.public_key(), AsBytes("hello"), sig));
  EXPECT_FALSE(Ed25519Identity::Verify(id.public_key(), AsBytes("hellp"), sig));
}

TEST(Ed25519Identity, RejectsMismatchedOrMalformedKeys) {
  Bytes bad = *HexDecode(kPrivateProto);
  bad.back() ^= 1;  // public half no longer matches the seed
  EXPECT_FALSE(Ed25519Identity::FromPrivateKeyProto(bad));
  EXPECT_FALSE(Ed25519Identity::FromPrivateKeyProto(Bytes{0x08, 0x01}));
  Bytes wrong_type = *HexDecode(kPrivateProto);
  wrong_type[1] = 2;
  EXPECT_FALSE(Ed25519Identity::FromPrivateKeyProto(wrong_type));
}

TEST(LoadOrCreateIdentity, CreatesOnceThenLoadsTheSameKey) {
  auto dir = std::filesystem::temp_directory_path() / ("cairn-id-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto path = dir / "identity.key";
  auto first = LoadOrCreateIdentity(path);
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = LoadOrCreateIdentity(path);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->peer_id(), second->peer_id());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::group_read,
            std::filesystem::perms::none);
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage"; }
  auto broken = LoadOrCreateIdentity(path);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kCorruption);
  std::filesystem::remove_all(dir);
}

TEST(LoadOrCreateIdentity, ACrashWhileCreatingLeavesNoHalfWrittenKey) {
  // Whether the first write fails (torn) or the process dies before the rename is synced, the
  // next start either finds no key and creates one, or finds the complete key: never a partial.
  MemEnv env;
  ASSERT_TRUE(env.CreateDirs("/repo"));
  env.FailWrite(1, ErrorCode::kStorageFull, 10);
  auto failed = LoadOrCreateIdentity("/repo/identity.key", env);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kStorageFull);
  EXPECT_EQ(failed.error().message().rfind("identity: ", 0), 0u) << failed.error().message();
  env.Crash();
  auto created = LoadOrCreateIdentity("/repo/identity.key", env);
  ASSERT_TRUE(created) << created.error().message();
  env.Crash();  // the rename and the directory were synced: the key survives
  auto loaded = LoadOrCreateIdentity("/repo/identity.key", env);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->peer_id().ToString(), created->peer_id().ToString());
}

}  // namespace
}  // namespace cairn::net
