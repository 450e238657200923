#include "net/noise.hpp"

#include <gtest/gtest.h>

namespace cairn::net::noise {
namespace {

struct Pair {
  Ed25519Identity alice = Ed25519Identity::FromSeed(Bytes(32, 1));
  Ed25519Identity bob = Ed25519Identity::FromSeed(Bytes(32, 2));
};

// Runs the three messages; `tamper` may change message i (0-based) in flight.
Result<void> RunHandshake(Handshake& init, Handshake& resp,
                          const std::function<void(int, Bytes&)>& tamper = {}) {
  Handshake* writer = &init;
  Handshake* reader = &resp;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(writer->writing());
    EXPECT_FALSE(reader->writing());
    Bytes msg = CAIRN_TRY(writer->WriteMessage());
    if (tamper) tamper(i, msg);
    CAIRN_TRY(reader->ReadMessage(msg));
    std::swap(writer, reader);
  }
  return Ok();
}

TEST(NoiseHandshake, CompletesAndBothSidesLearnTheOtherPeer) {
  Pair p;
  Handshake init(Role::kInitiator, p.alice, p.bob.peer_id());
  Handshake resp(Role::kResponder, p.bob);
  ASSERT_TRUE(RunHandshake(init, resp));
  ASSERT_TRUE(init.complete() && resp.complete());
  EXPECT_EQ(init.remote_peer(), p.bob.peer_id());
  EXPECT_EQ(resp.remote_peer(), p.alice.peer_id());

  auto a = init.Split();
  auto b = resp.Split();
  Bytes wire, plain;
  ASSERT_TRUE(a.send.EncryptAppend({}, AsBytes("hello bob"), wire));
  EXPECT_EQ(wire.size(), 9 + kTagSize);
  ASSERT_TRUE(b.recv.DecryptAppend({}, wire, plain));
  EXPECT_EQ(AsString(plain), "hello bob");
  wire.clear();
  plain.clear();
  ASSERT_TRUE(b.send.EncryptAppend({}, AsBytes("hi alice"), wire));
  ASSERT_TRUE(a.recv.DecryptAppend({}, wire, plain));
  EXPECT_EQ(AsString(plain), "hi alice");
  // Replaying the same ciphertext fails: the nonce moved on.
  plain.clear();
  EXPECT_FALSE(a.recv.DecryptAppend({}, wire, plain));
  EXPECT_TRUE(plain.empty());
}

TEST(NoiseHandshake, MessageSizesAreTheXxPattern) {
  Pair p;
  Handshake init(Role::kInitiator, p.alice);
  Handshake resp(Role::kResponder, p.bob);
  std::vector<size_t> sizes;
  ASSERT_TRUE(RunHandshake(init, resp, [&](int, Bytes& m) { sizes.push_back(m.size()); }));
  // 1: e. 2: e + enc(s) + enc(payload). 3: enc(s) + enc(payload). Payload = 36-byte key +
  // 64-byte signature, each with a 2-byte protobuf tag/length: 104 bytes.
  EXPECT_EQ(sizes, (std::vector<size_t>{32, 32 + 48 + 104 + 16, 48 + 104 + 16}));
}

TEST(NoiseHandshake, FailsOnTheWrongPeer) {
  Pair p;
  Handshake init(Role::kInitiator, p.alice, p.alice.peer_id());  // expects someone else
  Handshake resp(Role::kResponder, p.bob);
  auto r = RunHandshake(init, resp);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("expected"), std::string::npos) << r.error().message();
}

TEST(NoiseHandshake, FailsOnAnyFlippedBitOfMessagesTwoAndThree) {
  for (int msg = 1; msg < 3; ++msg) {
    for (size_t at : {0u, 40u, 90u, 150u}) {
      Pair p;
      Handshake init(Role::kInitiator, p.alice);
      Handshake resp(Role::kResponder, p.bob);
      auto r = RunHandshake(init, resp, [&](int i, Bytes& m) {
        if (i == msg && at < m.size()) m[at] ^= 0x01;
      });
      EXPECT_FALSE(r) << "message " << msg << " byte " << at;
    }
  }
}

TEST(NoiseHandshake, RejectsAPayloadWhoseSignatureIsNotOverTheStaticKey) {
  // A payload signed over another static key: decode and check it the way the handshake does.
  Pair p;
  HandshakePayload payload;
  payload.identity_key = p.alice.PublicKeyProto();
  auto sig = p.alice.Sign(AsBytes("noise-libp2p-static-key:not-the-key"));
  payload.identity_sig.assign(sig.begin(), sig.end());
  auto decoded = HandshakePayload::Decode(payload.Encode());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->identity_key, payload.identity_key);
  auto key = PublicKey::FromProto(decoded->identity_key);
  ASSERT_TRUE(key);
  Bytes signed_data = ToBytes(kSignaturePrefix);
  signed_data.resize(signed_data.size() + 32, 0);
  EXPECT_FALSE(key->Verify(signed_data, decoded->identity_sig));
  EXPECT_FALSE(HandshakePayload::Decode(*HexDecode("0a05")));  // truncated field
}

TEST(NoiseHandshake, RejectsALowOrderEphemeralKey) {
  // Found by noise_fuzz: an all-zero key makes the X25519 result zero; the responder refuses.
  Pair p;
  Handshake resp(Role::kResponder, p.bob);
  ASSERT_TRUE(resp.ReadMessage(Bytes(32, 0)));
  auto msg2 = resp.WriteMessage();
  ASSERT_FALSE(msg2);
  EXPECT_NE(msg2.error().message().find("low-order"), std::string::npos);
}

TEST(NoiseHandshake, RejectsShortMessages) {
  Pair p;
  Handshake resp(Role::kResponder, p.bob);
  EXPECT_FALSE(resp.ReadMessage(Bytes(31, 0)));
  Handshake init(Role::kInitiator, p.alice);
  ASSERT_TRUE(init.WriteMessage());
  EXPECT_FALSE(init.ReadMessage(Bytes(100, 0)));
}

}  // namespace
}  // namespace cairn::net::noise
