// Identify (../shared/specs/libp2p/identify.md): the message peers exchange on /ipfs/id/1.0.0
// (asked for) and /ipfs/id/push/1.0.0 (pushed on change). On the wire it is one protobuf message
// prefixed by its unsigned-varint length, as go-libp2p and js-libp2p write it.
//
//   message Identify { optional bytes publicKey = 1; repeated bytes listenAddrs = 2;
//     repeated string protocols = 3; optional bytes observedAddr = 4;
//     optional string protocolVersion = 5; optional string agentVersion = 6; }
// Other fields (signedPeerRecord = 8) are skipped. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::net::identify {

inline constexpr std::string_view kProtocolId = "/ipfs/id/1.0.0";
inline constexpr std::string_view kPushProtocolId = "/ipfs/id/push/1.0.0";
inline constexpr std::string_view kProtocolVersion = "ipfs/0.1.0";
// Largest message accepted (the length prefix's value).
inline constexpr size_t kMaxMessage = 64 * 1024;
inline constexpr size_t kMaxAddrs = 128;
inline constexpr size_t kMaxProtocols = 512;

struct Message {
  std::optional<std::string> protocol_version;
  std::optional<std::string> agent_version;
  std::optional<Bytes> public_key;  // protobuf PublicKey
  std::vector<Bytes> listen_addrs;  // binary multiaddrs (not validated here)
  std::optional<Bytes> observed_addr;
  std::vector<std::string> protocols;

  // The protobuf message (no length prefix).
  Bytes Encode() const;
  // InvalidArgument for malformed protobuf, wrong wire types, more than kMaxAddrs addresses or
  // kMaxProtocols protocols.
  static Result<Message> Decode(ByteSpan bytes);
};

}  // namespace cairn::net::identify
