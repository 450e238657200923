#include "filecoin/chain/message_sender.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/mem_env.hpp"
#include "common/testing/temp_dir.hpp"
#include "filecoin/chain/test_fake_lotus.hpp"
#include "filecoin/types/base64.hpp"

namespace cairn::filecoin::chain {
namespace {

using testing::FakeLotus;

const BigInt kFil = *BigInt::Parse("1000000000000000000");

class MessageSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wallet_ = std::move(*wallet::Wallet::Open(env_, "/repo/wallet"));
    client_ = *wallet_->New();
    lotus_.balance[client_] = kFil * 10;
  }
  // Each wait advances the fake chain by one epoch and the clock by the poll interval.
  SenderOptions Options(int advance_epochs = 1) {
    SenderOptions o;
    o.poll_interval = std::chrono::milliseconds(1000);
    o.wait_timeout = std::chrono::seconds(30);
    o.sleep = [this, advance_epochs](std::chrono::milliseconds d) {
      clock_.Advance(d.count() * 1000);
      lotus_.Advance(advance_epochs);
    };
    return o;
  }
  MessageSender Sender(SenderOptions o) {
    return MessageSender(chain_, *wallet_, env_, "/repo/wallet/pending", std::move(o), clock_);
  }
  bool PendingExists() {
    return *env_.Exists("/repo/wallet/pending/" + client_.ToString() + ".json");
  }

  MemEnv env_;
  FakeClock clock_;
  FakeLotus lotus_;
  ChainClient chain_{
      lotus_, {.url = FakeLotus::kUrl, .head_ttl = std::chrono::milliseconds(500)}, clock_};
  std::unique_ptr<wallet::Wallet> wallet_;
  Address client_;
};

TEST_F(MessageSenderTest, TopsUpTheShortfallWithOneAddBalanceAndWaitsForIt) {
  lotus_.escrow[client_] = {kFil, kFil - BigInt::FromUint(1)};  // 1 attoFIL available
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil * 2);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(*r) << "a top-up was sent";
  EXPECT_EQ((*r)->exit_code, 0);
  ASSERT_EQ(lotus_.executed().size(), 1u);
  const Message m = lotus_.executed()[0].message;
  EXPECT_EQ(m.to, *Address::Id(5));
  EXPECT_EQ(m.method, kMarketAddBalance);
  EXPECT_EQ(m.value, kFil * 2 - BigInt::FromUint(1));
  EXPECT_EQ(m.params, AddBalanceParams(client_));
  EXPECT_EQ(m.nonce, 0u);
  EXPECT_EQ(m.gas_limit, 4'250'000) << "gas from GasEstimateMessageGas";
  EXPECT_EQ(lotus_.escrow[client_].available(), kFil * 2);
  EXPECT_FALSE(PendingExists()) << "the pending file is gone once the message is on chain";

  // Enough now: nothing more is sent.
  auto again = sender.EnsureMarketBalance(client_, kFil * 2);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(*again);
  EXPECT_EQ(lotus_.executed().size(), 1u);
  EXPECT_EQ(lotus_.calls("Filecoin.MpoolPush"), 1);
}

TEST_F(MessageSenderTest, AnAddressTheMarketHasNeverSeenStartsFromZero) {
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, BigInt::FromUint(5000));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(*r);
  EXPECT_EQ(lotus_.executed()[0].message.value, BigInt::FromUint(5000));
}

TEST_F(MessageSenderTest, AnswerLostAfterThePushIsResolvedWithoutASecondTopUp) {
  lotus_.lose_next_push_answer = true;  // the node took it; we never heard back (a crash, a cut)
  {
    auto sender = Sender(Options());
    auto r = sender.EnsureMarketBalance(client_, kFil);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
    EXPECT_TRUE(PendingExists()) << "what was signed is written down before the push";
  }
  EXPECT_EQ(lotus_.mpool_size(), 1u);
  // A new process: the pending top-up lands and counts; no second message.
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(*r) << "the pending top-up covered it";
  EXPECT_EQ(lotus_.executed().size(), 1u);
  EXPECT_EQ(lotus_.calls("Filecoin.MpoolPush"), 2)
      << "the same bytes again, refused as a duplicate";
  EXPECT_EQ(lotus_.escrow[client_].available(), kFil);
  EXPECT_FALSE(PendingExists());
}

TEST_F(MessageSenderTest, ANodeThatForgotThePendingMessageGetsTheSameBytesAgain) {
  lotus_.lose_next_push_answer = true;
  {
    auto sender = Sender(Options());
    ASSERT_FALSE(sender.EnsureMarketBalance(client_, kFil));
  }
  lotus_.ForgetMpool();  // the node restarted
  auto pending_before =
      ReadWholeFile(env_, "/repo/wallet/pending/" + client_.ToString() + ".json", 1 << 16);
  ASSERT_TRUE(pending_before);
  auto pending = ParsePendingMessage(std::string(pending_before->begin(), pending_before->end()));
  ASSERT_TRUE(pending) << pending.error().ToString();

  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(*r);
  ASSERT_EQ(lotus_.executed().size(), 1u);
  EXPECT_EQ(lotus_.executed()[0].GetCid(), pending->cid) << "the same signed bytes";
  EXPECT_EQ(lotus_.calls("Filecoin.MpoolPush"), 2);
}

TEST_F(MessageSenderTest, APendingMessageWhoseNonceWentElsewhereIsDropped) {
  // A signed top-up written down but never pushed, while another message took its nonce.
  Message other;
  other.to = *Address::Id(99);
  other.from = client_;
  other.nonce = 0;
  other.value = BigInt::FromUint(1);
  other.gas_limit = 1000;
  other.gas_fee_cap = BigInt::FromUint(200);
  other.gas_premium = BigInt::FromUint(100);
  ASSERT_TRUE(chain_.MpoolPush(*wallet_->SignMessage(other)));
  lotus_.Advance();

  Message lost = other;
  lost.to = MarketActor();
  lost.method = kMarketAddBalance;
  lost.params = AddBalanceParams(client_);
  lost.value = kFil;
  PendingMessage p;
  p.message = *wallet_->SignMessage(lost);
  p.cid = p.message.GetCid();
  p.nonce = 0;
  p.purpose = "market-add-balance";
  std::string text = FormatPendingMessage(p);
  ASSERT_TRUE(env_.CreateDirs("/repo/wallet/pending"));
  ASSERT_TRUE(
      WriteFileAtomically(env_, "/repo/wallet/pending/" + client_.ToString() + ".json",
                          ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size())));

  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(*r);
  ASSERT_EQ(lotus_.executed().size(), 2u);
  EXPECT_EQ(lotus_.executed()[1].message.nonce, 1u) << "a fresh nonce, not a reused one";
  EXPECT_EQ(lotus_.escrow[client_].available(), kFil);
}

TEST_F(MessageSenderTest, AFailedMessageIsAnErrorWithItsExitCode) {
  lotus_.balance[client_] = kFil;  // the push is accepted; executing 2 FIL fails (exit 6)
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil * 2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("exit code 6"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("market-add-balance"), std::string::npos);
  EXPECT_FALSE(PendingExists());
}

TEST_F(MessageSenderTest, WaitingGivesUpAfterTheTimeoutAndKeepsThePendingFile) {
  auto o = Options(/*advance_epochs=*/0);  // the chain never moves
  o.wait_timeout = std::chrono::seconds(5);
  auto sender = Sender(o);
  auto r = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(PendingExists());
  EXPECT_LE(lotus_.calls("Filecoin.StateSearchMsg"), 2) << "searched once per head, not per poll";
}

TEST_F(MessageSenderTest, RefusesToSendFromAnAddressTheWalletLacks) {
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(*Address::Id(1234), kFil);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(lotus_.calls("Filecoin.MpoolPush"), 0);
}

TEST_F(MessageSenderTest, ARefusedPushLeavesNothingPending) {
  lotus_.push_error = "not enough funds including pending messages (required: 9, balance: 1)";
  auto sender = Sender(Options());
  auto r = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInsufficientFunds);
  EXPECT_NE(r.error().message().find("Filecoin.MpoolPush"), std::string::npos);
  EXPECT_FALSE(PendingExists()) << "a refused message is not in flight";
  lotus_.push_error.clear();
  auto again = sender.EnsureMarketBalance(client_, kFil);
  ASSERT_TRUE(again) << again.error().ToString();
  ASSERT_EQ(lotus_.executed().size(), 1u);
  EXPECT_EQ(lotus_.executed()[0].message.nonce, 0u) << "the refused nonce is used, not skipped";
}

TEST(PendingMessageFile, RoundTripsAndRefusesTampering) {
  auto key = *wallet::SecretKey::Generate();
  Message m;
  m.to = MarketActor();
  m.from = key.address();
  m.nonce = 3;
  m.value = BigInt::FromUint(10);
  m.gas_limit = 1;
  m.method = kMarketAddBalance;
  PendingMessage p;
  p.message = SignMessage(m, key.secret());
  p.cid = p.message.GetCid();
  p.nonce = 3;
  p.purpose = "market-add-balance";
  auto back = ParsePendingMessage(FormatPendingMessage(p));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->cid, p.cid);
  EXPECT_EQ(back->message, p.message);
  PendingMessage wrong = p;
  wrong.nonce = 4;
  EXPECT_FALSE(ParsePendingMessage(FormatPendingMessage(wrong)));
  EXPECT_FALSE(ParsePendingMessage("{}"));
  EXPECT_FALSE(ParsePendingMessage("not json"));
}

TEST_F(MessageSenderTest, NothingLoggedOrReturnedHoldsTheKey) {
  // Capture stderr (the structured log) around a full top-up and a failure.
  cairn::testing::TempDir tmp;
  const std::string log_path = tmp / "stderr";
  std::fflush(stderr);
  int saved = ::dup(2);
  FILE* f = std::freopen(log_path.c_str(), "w", stderr);
  ASSERT_NE(f, nullptr);
  auto sender = Sender(Options());
  auto ok = sender.EnsureMarketBalance(client_, kFil);
  lotus_.balance[client_] = BigInt();
  auto fail = sender.EnsureMarketBalance(client_, kFil * 5);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ASSERT_TRUE(ok) << ok.error().ToString();
  ASSERT_FALSE(fail);
  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string logged = ss.str() + fail.error().message();
  EXPECT_NE(logged.find("chain.message_push"), std::string::npos) << "the log was captured";
  // The key in every spelling a mistake could print: hex and base64.
  auto files = *env_.ListDir("/repo/wallet");
  std::string key_file;
  for (const auto& n : files) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".key") {
      auto b = *ReadWholeFile(env_, "/repo/wallet/" + n, 4096);
      key_file.assign(b.begin(), b.end());
    }
  }
  auto key = wallet::ParseKeyFile(key_file);
  ASSERT_TRUE(key);
  EXPECT_EQ(logged.find(HexEncode(key->secret()).substr(0, 16)), std::string::npos);
  EXPECT_EQ(logged.find(Base64Encode(key->secret()).substr(0, 16)), std::string::npos);
}

}  // namespace
}  // namespace cairn::filecoin::chain
