#include "filecoin/chain/rpc.hpp"

#include <gtest/gtest.h>

namespace cairn::filecoin::chain {
namespace {

namespace json = boost::json;

std::vector<std::string> M(std::initializer_list<const char*> names) {
  return std::vector<std::string>(names.begin(), names.end());
}

TEST(Rpc, EncodesOneCallAsAnObjectAndSeveralAsABatch) {
  std::vector<RpcCall> one = {{"Filecoin.ChainHead", {}}};
  EXPECT_EQ(json::parse(EncodeRpcRequest(one, 7)),
            json::parse(R"({"jsonrpc":"2.0","id":7,"method":"Filecoin.ChainHead","params":[]})"));
  std::vector<RpcCall> two = {{"Filecoin.WalletBalance", json::array{"f01"}},
                              {"Filecoin.MpoolGetNonce", json::array{"f02"}}};
  auto batch = json::parse(EncodeRpcRequest(two, 10));
  ASSERT_TRUE(batch.is_array());
  EXPECT_EQ(batch.as_array().size(), 2u);
  EXPECT_EQ(batch.as_array()[1].at("id"), 11);
  EXPECT_EQ(batch.as_array()[1].at("params"), json::array{"f02"});
}

TEST(Rpc, MatchesBatchAnswersByIdInAnyOrder) {
  auto r = ParseRpcResponse(
      R"([{"jsonrpc":"2.0","id":4,"result":"b"},{"jsonrpc":"2.0","id":3,"result":{"x":1}}])",
      M({"A", "B"}), 3);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(*(*r)[0], json::parse(R"({"x":1})"));
  EXPECT_EQ(*(*r)[1], json::value("b"));
}

TEST(Rpc, CallErrorsNameTheMethodAndKeepTheEndpointsWords) {
  auto r = ParseRpcResponse(
      R"J([{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"deal 7 not found"}},
          {"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"method 'X' not found"}},
          {"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"not enough funds (required: 5)"}},
          {"jsonrpc":"2.0","id":4,"error":{"code":1,"message":"mpool push: bad\nthing"}},
          {"jsonrpc":"2.0","id":5,"result":null}])J",
      M({"Filecoin.StateMarketStorageDeal", "X", "Filecoin.MpoolPush", "Filecoin.MpoolPush", "N"}),
      1);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ((*r)[0].error().code(), ErrorCode::kNotFound);
  EXPECT_EQ((*r)[0].error().message(),
            "chain: Filecoin.StateMarketStorageDeal: deal 7 not found (RPC error 1)");
  EXPECT_EQ((*r)[1].error().code(), ErrorCode::kNotSupported);
  EXPECT_EQ((*r)[2].error().code(), ErrorCode::kInsufficientFunds);
  EXPECT_EQ((*r)[3].error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ((*r)[3].error().message().find('\n'), std::string::npos);
  EXPECT_TRUE((*r)[4]);
  EXPECT_TRUE((*r)[4]->is_null());
}

TEST(Rpc, LongErrorMessagesAreCut) {
  std::string huge(100000, 'x');
  auto r = ParseRpcResponse(
      R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":")" + huge + R"("}})", M({"A"}), 1);
  ASSERT_TRUE(r);
  EXPECT_LT((*r)[0].error().message().size(), kMaxRpcMessage + 100);
}

TEST(Rpc, RefusesMalformedAnswersNamingTheCall) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "42",
      R"({"jsonrpc":"2.0","result":1})",                                          // no id
      R"({"jsonrpc":"2.0","id":9,"result":1})",                                   // unknown id
      R"({"jsonrpc":"2.0","id":"1","result":1})",                                 // id not a number
      R"({"jsonrpc":"2.0","id":1})",                                              // neither
      R"({"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}})",  // both
      R"({"jsonrpc":"2.0","id":1,"error":"boom"})",
      R"({"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"x"}})",
      R"([{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":1,"result":2}])",  // dup
      R"([1,2])",
      std::string(100, '[') + std::string(100, ']'),  // deeper than 64
  };
  for (const auto& body : bad) {
    auto r = ParseRpcResponse(body, M({"Filecoin.ChainHead"}), 1);
    ASSERT_FALSE(r) << body.substr(0, 80);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << body.substr(0, 80);
    EXPECT_NE(r.error().message().find("Filecoin.ChainHead"), std::string::npos);
  }
  auto dup = ParseRpcResponse(
      R"([{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":1,"result":2}])", M({"A", "B"}),
      1);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("two answers"), std::string::npos);
  auto short_batch = ParseRpcResponse(R"([{"jsonrpc":"2.0","id":1,"result":1}])", M({"A", "B"}), 1);
  ASSERT_FALSE(short_batch);
}

TEST(Rpc, AWholeRequestRefusalIsOneError) {
  auto r = ParseRpcResponse(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}})",
      M({"A", "B"}), 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("parse error"), std::string::npos);
}

}  // namespace
}  // namespace cairn::filecoin::chain
