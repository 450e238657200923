#include "net/identify.hpp"

#include "common/protobuf.hpp"

namespace cairn::net::identify {

Bytes Message::Encode() const {
  protobuf::Writer w;
  if (public_key) w.BytesField(1, *public_key);
  for (const auto& a : listen_addrs) w.BytesField(2, a);
  for (const auto& p : protocols) w.String(3, p);
  if (observed_addr) w.BytesField(4, *observed_addr);
  if (protocol_version) w.String(5, *protocol_version);
  if (agent_version) w.String(6, *agent_version);
  return w.Take();
}

Result<Message> Message::Decode(ByteSpan bytes) {
  protobuf::Reader reader(bytes, "identify");
  Message m;
  for (;;) {
    auto field = CAIRN_TRY(reader.Next());
    if (!field) break;
    switch (field->number) {
      case 1: {
        auto b = CAIRN_TRY(field->AsBytes("identify publicKey"));
        m.public_key = Bytes(b.begin(), b.end());
        break;
      }
      case 2: {
        auto b = CAIRN_TRY(field->AsBytes("identify listenAddrs"));
        if (m.listen_addrs.size() == kMaxAddrs) {
          return Err(ErrorCode::kInvalidArgument, "identify: more than 128 listen addresses");
        }
        m.listen_addrs.emplace_back(b.begin(), b.end());
        break;
      }
      case 3: {
        auto s = CAIRN_TRY(field->AsString("identify protocols"));
        if (m.protocols.size() == kMaxProtocols) {
          return Err(ErrorCode::kInvalidArgument, "identify: more than 512 protocols");
        }
        m.protocols.emplace_back(s);
        break;
      }
      case 4: {
        auto b = CAIRN_TRY(field->AsBytes("identify observedAddr"));
        m.observed_addr = Bytes(b.begin(), b.end());
        break;
      }
      case 5:
        m.protocol_version = std::string(CAIRN_TRY(field->AsString("identify protocolVersion")));
        break;
      case 6:
        m.agent_version = std::string(CAIRN_TRY(field->AsString("identify agentVersion")));
        break;
      default:
        break;
    }
  }
  return m;
}

}  // namespace cairn::net::identify
