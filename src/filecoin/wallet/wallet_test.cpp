#include "filecoin/wallet/wallet.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/mem_env.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/types/base64.hpp"

namespace cairn::filecoin::wallet {
namespace {

// ../shared/vectors/filecoin/deal_vectors.json, as copied into filecoin/types' testdata.
const boost::json::value& Vectors() {
  static const boost::json::value v = [] {
    const char* src = std::getenv("CAIRN_SOURCE_DIR");
    std::ifstream f(std::string(src ? src : ".") +
                    "/src/filecoin/types/testdata/deal_vectors.json");
    std::stringstream ss;
    ss << f.rdbuf();
    return boost::json::parse(ss.str());
  }();
  return v;
}
std::string V(std::string_view pointer) {
  return std::string(Vectors().at_pointer(pointer).as_string());
}

SecretKey VectorKey() { return *SecretKey::FromBytes(*HexDecode(V("/key/privHex"))); }

ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Every error message a test sees is checked with this: no key material, in any spelling.
void ExpectNoSecret(const Error& error) {
  const std::string hex = V("/key/privHex");
  const std::string b64 = Base64Encode(*HexDecode(hex));
  EXPECT_EQ(error.message().find(hex.substr(0, 16)), std::string::npos) << error.message();
  EXPECT_EQ(error.message().find(b64.substr(0, 16)), std::string::npos) << error.message();
}

TEST(Wallet, NewKeyIsStoredAt0600InA0700DirectoryAndBecomesDefault) {
  testing::TempDir tmp;
  auto dir = tmp.path() / "repo" / "wallet";
  auto wallet = Wallet::Open(Env::Default(), dir);
  ASSERT_TRUE(wallet) << wallet.error().ToString();
  EXPECT_TRUE((*wallet)->List().empty());
  EXPECT_FALSE((*wallet)->Default());
  auto empty = (*wallet)->Resolve(std::nullopt);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kNotFound);

  auto a = (*wallet)->New();
  ASSERT_TRUE(a) << a.error().ToString();
  auto b = (*wallet)->New();
  ASSERT_TRUE(b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ((*wallet)->Default(), *a) << "the first key is the default";

  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir / KeyFileName(*a)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "default").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(KeyFileName(*a), a->ToString() + ".key");

  auto reopened = Wallet::Open(Env::Default(), dir);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  EXPECT_EQ((*reopened)->List().size(), 2u);
  EXPECT_EQ((*reopened)->Default(), *a);
}

TEST(Wallet, DefaultCanBeChangedAndSurvivesReopen) {
  MemEnv env;
  auto wallet = *Wallet::Open(env, "/r/wallet");
  auto a = *wallet->New();
  auto b = *wallet->New();
  ASSERT_TRUE(wallet->SetDefault(b));
  EXPECT_EQ(*wallet->Resolve(std::nullopt), b);
  EXPECT_EQ(*wallet->Resolve(a), a);
  auto stranger = *Address::Id(1234);
  auto r = wallet->SetDefault(stranger);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(wallet->Resolve(stranger));
  auto again = *Wallet::Open(env, "/r/wallet");
  EXPECT_EQ(again->Default(), b);
}

TEST(Wallet, KeysAreDurableAcrossACrash) {
  MemEnv env;
  Address a;
  {
    auto wallet = *Wallet::Open(env, "/r/wallet");
    a = *wallet->New();
  }
  env.Crash();
  auto wallet = Wallet::Open(env, "/r/wallet");
  ASSERT_TRUE(wallet) << wallet.error().ToString();
  EXPECT_TRUE((*wallet)->Has(a));
  EXPECT_EQ((*wallet)->Default(), a);
}

TEST(Wallet, SignsTheAddBalanceVectorAsLotusDoes) {
  MemEnv env;
  auto wallet = *Wallet::Open(env, "/r/wallet");
  auto address = wallet->Import(VectorKey());
  ASSERT_TRUE(address) << address.error().ToString();
  EXPECT_EQ(address->ToString(), V("/key/f1"));
  auto dup = wallet->Import(VectorKey());
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);

  auto message = Message::Decode(*HexDecode(V("/addBalanceMessage/messageCborHex")));
  ASSERT_TRUE(message) << message.error().ToString();
  auto signed_message = wallet->SignMessage(*message);
  ASSERT_TRUE(signed_message) << signed_message.error().ToString();
  EXPECT_EQ(HexEncode(signed_message->Encode()), V("/addBalanceMessage/signedMessageCborHex"));
  EXPECT_EQ(signed_message->GetCid().ToString(), V("/addBalanceMessage/signedMessageCid"));
  EXPECT_TRUE(VerifySignedMessage(*signed_message));

  // Bytes are signed over blake2b-256(data), verifiable against the f1 address.
  const std::string data = "proposal bytes";
  auto sig = wallet->SignBytes(*address, AsBytes(data));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(VerifyBytes(sig->data, AsBytes(data), *address));
}

TEST(Wallet, RefusesToSignForAnAddressItDoesNotHold) {
  MemEnv env;
  auto wallet = *Wallet::Open(env, "/r/wallet");
  ASSERT_TRUE(wallet->New());
  auto message = *Message::Decode(*HexDecode(V("/addBalanceMessage/messageCborHex")));
  auto r = wallet->SignMessage(message);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find(message.from.ToString()), std::string::npos);
}

TEST(Wallet, CorruptOrMisnamedKeyFilesAreRefusedNamingTheFileNotTheKey) {
  const std::string good = FormatKeyFile(VectorKey());
  const std::string name = V("/key/f1") + ".key";
  {
    MemEnv env;
    ASSERT_TRUE(env.CreateDirs("/r/wallet"));
    // A truncated copy: the first half of the key's base64 is still in it.
    ASSERT_TRUE(WriteFileAtomically(env, "/r/wallet/" + name, AsBytes(good.substr(0, 50))));
    auto r = Wallet::Open(env, "/r/wallet");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
    ExpectNoSecret(r.error());
  }
  {
    MemEnv env;
    ASSERT_TRUE(env.CreateDirs("/r/wallet"));
    ASSERT_TRUE(WriteFileAtomically(env, "/r/wallet/f1aaaaaaaa.key", AsBytes(good)));
    auto r = Wallet::Open(env, "/r/wallet");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.error().message().find(V("/key/f1")), std::string::npos) << r.error().message();
    ExpectNoSecret(r.error());
  }
  {
    MemEnv env;
    auto wallet = *Wallet::Open(env, "/r/wallet");
    ASSERT_TRUE(wallet->Import(VectorKey()));
    ASSERT_TRUE(WriteFileAtomically(env, "/r/wallet/default", AsBytes("f01234\n")));
    auto r = Wallet::Open(env, "/r/wallet");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
    ExpectNoSecret(r.error());
  }
}

TEST(Wallet, IgnoresFilesThatAreNotKeys) {
  MemEnv env;
  auto wallet = *Wallet::Open(env, "/r/wallet");
  auto a = *wallet->New();
  ASSERT_TRUE(WriteFileAtomically(env, "/r/wallet/notes.txt", AsBytes("hello")));
  ASSERT_TRUE(WriteFileAtomically(env, "/r/wallet/" + KeyFileName(a) + ".tmp", AsBytes("{")));
  auto again = Wallet::Open(env, "/r/wallet");
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ((*again)->List(), std::vector<Address>{a});
}

}  // namespace
}  // namespace cairn::filecoin::wallet
