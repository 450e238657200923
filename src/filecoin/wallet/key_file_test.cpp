#include "filecoin/wallet/key_file.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "filecoin/types/base64.hpp"

namespace cairn::filecoin::wallet {
namespace {

// deal_vectors.json "key": the project's secp256k1 vector (../shared/vectors/filecoin).
constexpr const char* kPrivHex = "44998d7039df8d0bfb274c4609ff7f433202873bf20a847a0af08ad8b5396082";
constexpr const char* kF1 = "f1uk3gngpynyj2goqvxglvapsr7ycmdnogyuzphny";

SecretKey VectorKey() { return *SecretKey::FromBytes(*HexDecode(kPrivHex)); }
std::string VectorBase64() { return Base64Encode(*HexDecode(kPrivHex)); }

TEST(KeyFile, FormatsLotusKeyInfoAndParsesItBack) {
  SecretKey key = VectorKey();
  EXPECT_EQ(key.address().ToString(), kF1);
  std::string file = FormatKeyFile(key);
  EXPECT_EQ(file, "{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + VectorBase64() + "\"}\n");
  auto back = ParseKeyFile(file);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->secret(), key.secret());
}

TEST(KeyFile, AcceptsLotusExportWithMembersInAnyOrderAndWhitespace) {
  auto key =
      ParseKeyFile("{ \"PrivateKey\" : \"" + VectorBase64() + "\",\n \"Type\": \"secp256k1\" }");
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->address().ToString(), kF1);
}

TEST(KeyFile, RefusesMalformedFilesWithoutQuotingThem) {
  const std::string b64 = VectorBase64();
  struct Case {
    std::string text;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"", ErrorCode::kInvalidArgument},
      {"not json " + b64, ErrorCode::kInvalidArgument},
      {"[\"" + b64 + "\"]", ErrorCode::kInvalidArgument},
      {"{\"PrivateKey\":\"" + b64 + "\"}", ErrorCode::kInvalidArgument},
      {"{\"Type\":\"secp256k1\"}", ErrorCode::kInvalidArgument},
      {"{\"Type\":1,\"PrivateKey\":\"" + b64 + "\"}", ErrorCode::kInvalidArgument},
      {"{\"Type\":\"ed25519\",\"PrivateKey\":\"" + b64 + "\"}", ErrorCode::kInvalidArgument},
      {"{\"Type\":\"bls\",\"PrivateKey\":\"" + b64 + "\"}", ErrorCode::kNotSupported},
      {"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + b64.substr(0, 40) + "\"}",
       ErrorCode::kInvalidArgument},
      {"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + std::string(kPrivHex) + "\"}",
       ErrorCode::kInvalidArgument},
      {"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + Base64Encode(Bytes(32, 0)) + "\"}",
       ErrorCode::kInvalidArgument},
      {"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + b64 + "\",\"Extra\":\"" + b64 + "\"}",
       ErrorCode::kInvalidArgument},
      {"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" + b64 + "\"," + std::string(5000, ' ') + "}",
       ErrorCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto r = ParseKeyFile(c.text);
    ASSERT_FALSE(r) << c.text.substr(0, 60);
    EXPECT_EQ(r.error().code(), c.code) << r.error().ToString();
    const std::string& message = r.error().message();
    EXPECT_EQ(message.find(b64.substr(0, 12)), std::string::npos) << message;
    EXPECT_EQ(message.find(std::string(kPrivHex).substr(0, 12)), std::string::npos) << message;
  }
}

TEST(KeyFile, SecretKeyPrintsRedacted) {
  SecretKey key = VectorKey();
  std::ostringstream out;
  out << key;
  EXPECT_EQ(out.str(), kRedacted);
  EXPECT_EQ(::testing::PrintToString(key), kRedacted);
  EXPECT_EQ(out.str().find(std::string(kPrivHex).substr(0, 8)), std::string::npos);
}

TEST(KeyFile, GeneratedKeysAreValidAndDistinct) {
  auto a = SecretKey::Generate();
  auto b = SecretKey::Generate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->secret(), b->secret());
  EXPECT_EQ(a->address().protocol(), AddressProtocol::kSecp256k1);
  auto again = ParseKeyFile(FormatKeyFile(*a));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->address(), a->address());
}

TEST(KeyFile, InvalidSecretIsRefusedWithoutItsBytes) {
  auto r = SecretKey::FromBytes(Bytes(31, 0x42));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().find("42"), std::string::npos);
}

}  // namespace
}  // namespace cairn::filecoin::wallet
