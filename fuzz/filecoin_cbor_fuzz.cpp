// Fuzzes the strict CBOR decoders of filecoin/types (messages, deal proposals and the mk12
// protocol messages and the retrieval transports answer, all bytes a peer or provider controls).
// The first byte picks the decoder; anything decoded must re-encode to exactly the input (the
// decoders accept canonical bytes only).
#include <cstddef>
#include <cstdint>

#include "filecoin/types/market.hpp"
#include "filecoin/types/message.hpp"

using namespace cairn::filecoin;

namespace {

template <typename T>
void RoundTrip(const cairn::Result<T>& decoded, cairn::ByteSpan in) {
  if (decoded) {
    CAIRN_CHECK(decoded->Encode() == cairn::Bytes(in.begin(), in.end()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  cairn::ByteSpan in(data + 1, size - 1);
  switch (data[0] % 11) {
    case 0:
      RoundTrip(Message::Decode(in), in);
      break;
    case 1:
      RoundTrip(SignedMessage::Decode(in), in);
      break;
    case 2:
      RoundTrip(DealProposal::Decode(in), in);
      break;
    case 3:
      RoundTrip(ClientDealProposal::Decode(in), in);
      break;
    case 4:
      if (auto p = DealParams::Decode(in, DealProtocolVersion::kV121)) {
        CAIRN_CHECK(p->Encode(DealProtocolVersion::kV121) == cairn::Bytes(in.begin(), in.end()));
      }
      if (auto p = DealParams::Decode(in, DealProtocolVersion::kV120)) {
        CAIRN_CHECK(p->Encode(DealProtocolVersion::kV120) == cairn::Bytes(in.begin(), in.end()));
      }
      break;
    case 5:
      RoundTrip(DealResponse::Decode(in), in);
      break;
    case 6:
      RoundTrip(DealStatusRequest::Decode(in), in);
      break;
    case 7:
      RoundTrip(DealStatusResponse::Decode(in), in);
      break;
    case 8:
      RoundTrip(StorageAsk::Decode(in), in);
      break;
    case 10:
      // cbor-gen's nil slices (null) decode as empty lists, so the check is a fixed point.
      if (auto t = TransportsResponse::Decode(in)) {
        auto again = TransportsResponse::Decode(t->Encode());
        CAIRN_CHECK(again && *again == *t);
      }
      break;
    default:
      RoundTrip(AskResponse::Decode(in), in);
      if (auto a = DecodeAskRequest(in)) {
        CAIRN_CHECK(EncodeAskRequest(*a) == cairn::Bytes(in.begin(), in.end()));
      }
      break;
  }
  return 0;
}
