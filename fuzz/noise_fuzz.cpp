// Fuzzes what a peer controls in a Noise handshake: the handshake payload and key decoders (with
// signature checks), and handshake messages 1-3 read by each role. Nothing may crash; a payload
// that decodes must re-encode to a message that decodes to the same fields.
#include <cstddef>
#include <cstdint>

#include "net/noise.hpp"

using namespace cairn;
using namespace cairn::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  if (auto p = noise::HandshakePayload::Decode(in)) {
    auto again = noise::HandshakePayload::Decode(p->Encode());
    CAIRN_CHECK(again && again->identity_key == p->identity_key &&
                again->identity_sig == p->identity_sig);
    if (auto key = PublicKey::FromProto(p->identity_key)) {
      (void)key->Verify(AsBytes("noise-libp2p-static-key:"), p->identity_sig);
      CAIRN_CHECK(PublicKey::FromProto(key->ToProto()).has_value());
    }
  }
  static const Ed25519Identity identity = Ed25519Identity::FromSeed(Bytes(32, 3));
  {
    noise::Handshake responder(noise::Role::kResponder, identity);
    if (responder.ReadMessage(in)) {
      // Writing fails only for a low-order ephemeral key (found by this fuzzer: 32 zero bytes).
      if (responder.WriteMessage()) (void)responder.ReadMessage(in);
    }
  }
  {
    noise::Handshake initiator(noise::Role::kInitiator, identity);
    auto msg1 = initiator.WriteMessage();
    CAIRN_CHECK(msg1.has_value());
    (void)initiator.ReadMessage(in);
  }
  return 0;
}
