// The Kademlia DHT wire format (../shared/specs/libp2p/kad-dht.md, protocol /ipfs/kad/1.0.0): the
// protobuf Message {type, key, record, closerPeers, providerPeers, clusterLevelRaw} with its
// Peer {id, addrs, connection} and Record, and the unsigned-varint length-prefixed framing of a
// stream. Pure: no I/O, deterministic, fuzzed (fuzz/kad_message_fuzz.cpp).
//
// Decoding is strict and bounded for untrusted bytes: a message above kMaxMessageBytes is refused
// before any parsing; the type and the connection types must be values the spec names; type, key,
// record and clusterLevelRaw may appear at most once; clusterLevelRaw must fit an int32; key, peer
// ids, addresses and peer lists have caps (DecodeLimits). Unknown fields are skipped (protobuf
// forward compatibility). Peer ids and addresses stay bytes here: the node parses them (a peer
// whose id or address does not parse is dropped there, not the whole message). Errors are
// InvalidArgument (ResourceExhausted for a cap) and name the field and its byte offset.
//
// Encoding writes `type` always (it is proto2 `required` in go-libp2p-kad-dht's schema, and 0 is
// PUT_VALUE), every other field only when set, and clusterLevelRaw only when non-zero; a decoded
// message encodes back to a message that decodes equal to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::dht {

inline constexpr std::string_view kProtocolId = "/ipfs/kad/1.0.0";

// One message on the wire, the length prefix excluded. go-libp2p-kad-dht accepts 4 MiB; a FIND_NODE
// or GET_PROVIDERS answer of k peers with their addresses is a few KiB, so 1 MiB leaves room for
// records and long provider lists without letting a peer make us buffer more.
inline constexpr size_t kMaxMessageBytes = 1u << 20;

enum class MessageType : uint8_t {
  kPutValue = 0,
  kGetValue = 1,
  kAddProvider = 2,
  kGetProviders = 3,
  kFindNode = 4,
  kPing = 5,
};
std::string_view MessageTypeName(MessageType type);

enum class ConnectionType : uint8_t {
  kNotConnected = 0,
  kConnected = 1,
  kCanConnect = 2,
  kCannotConnect = 3,
};

struct PeerInfo {
  Bytes id;                  // the binary peer id (a multihash)
  std::vector<Bytes> addrs;  // binary multiaddrs
  ConnectionType connection = ConnectionType::kNotConnected;

  friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};

struct Record {
  Bytes key;
  Bytes value;
  std::string time_received;  // RFC 3339, set by the receiver

  friend bool operator==(const Record&, const Record&) = default;
};

struct Message {
  MessageType type = MessageType::kPing;
  int32_t cluster_level = 0;  // clusterLevelRaw: not used, carried for completeness
  Bytes key;
  std::optional<Record> record;
  std::vector<PeerInfo> closer_peers;
  std::vector<PeerInfo> provider_peers;

  friend bool operator==(const Message&, const Message&) = default;
};

struct DecodeLimits {
  size_t max_message = kMaxMessageBytes;
  size_t max_key = 1024;         // bytes of Message.key and Record.key
  size_t max_peers = 256;        // entries of closerPeers, and of providerPeers
  size_t max_peer_id = 128;      // bytes of one Peer.id (an RSA peer id is 34 bytes, Ed25519 38)
  size_t max_addrs = 64;         // addresses of one Peer
  size_t max_addr_bytes = 1024;  // bytes of one address
};

Result<Message> DecodeMessage(ByteSpan in, const DecodeLimits& limits = {});
Bytes EncodeMessage(const Message& message);

// The message with its unsigned-varint length prefix, as written on a stream.
Bytes EncodeFrame(const Message& message);

// One frame at the start of `in`: its body and the bytes it takes with the prefix. nullopt when
// `in` does not yet hold a whole frame; InvalidArgument for a malformed (non-minimal or over-long)
// prefix; ResourceExhausted for a declared length above `max_message` (known from the prefix
// alone, so nothing of it is buffered).
struct Frame {
  ByteSpan body;
  size_t consumed = 0;
};
Result<std::optional<Frame>> SplitFrame(ByteSpan in, size_t max_message = kMaxMessageBytes);

}  // namespace cairn::dht
