#include "dht/message.hpp"

#include <string>

#include "common/protobuf.hpp"
#include "multiformats/varint.hpp"

namespace cairn::dht {
namespace {

using protobuf::Field;
using protobuf::Reader;
using protobuf::Writer;

// Field numbers of the spec's schema.
constexpr uint32_t kFieldType = 1;
constexpr uint32_t kFieldKey = 2;
constexpr uint32_t kFieldRecord = 3;
constexpr uint32_t kFieldCloserPeers = 8;
constexpr uint32_t kFieldProviderPeers = 9;
constexpr uint32_t kFieldClusterLevel = 10;
constexpr uint32_t kPeerId = 1;
constexpr uint32_t kPeerAddrs = 2;
constexpr uint32_t kPeerConnection = 3;
constexpr uint32_t kRecordKey = 1;
constexpr uint32_t kRecordValue = 2;
constexpr uint32_t kRecordTimeReceived = 5;

tl::unexpected<Error> Bad(const Field& f, const std::string& why) {
  return Err(ErrorCode::kInvalidArgument,
             "kad message: " + why + " (field at offset " + std::to_string(f.offset) + ")");
}

tl::unexpected<Error> TooMany(const Field& f, std::string_view what, size_t limit) {
  return Err(ErrorCode::kResourceExhausted, "kad message: more than " + std::to_string(limit) +
                                                " " + std::string(what) + " (field at offset " +
                                                std::to_string(f.offset) + ")");
}

Result<Bytes> BoundedBytes(const Field& f, std::string_view what, size_t max) {
  ByteSpan b = CAIRN_TRY(f.AsBytes(what));
  if (b.size() > max) return TooMany(f, std::string(what) + " bytes", max);
  return Bytes(b.begin(), b.end());
}

Result<PeerInfo> DecodePeer(Reader r, const DecodeLimits& limits) {
  PeerInfo p;
  bool have_id = false;
  bool have_connection = false;
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    if (f.number == kPeerId) {
      if (have_id) return Bad(f, "peer id repeated");
      p.id = CAIRN_TRY(BoundedBytes(f, "peer id", limits.max_peer_id));
      if (p.id.empty()) return Bad(f, "peer id is empty");
      have_id = true;
    } else if (f.number == kPeerAddrs) {
      if (p.addrs.size() == limits.max_addrs)
        return TooMany(f, "addresses of one peer", limits.max_addrs);
      p.addrs.push_back(CAIRN_TRY(BoundedBytes(f, "peer address", limits.max_addr_bytes)));
    } else if (f.number == kPeerConnection) {
      if (have_connection) return Bad(f, "peer connection repeated");
      uint64_t c = CAIRN_TRY(f.AsVarint("peer connection"));
      if (c > 3) return Bad(f, "unknown connection type " + std::to_string(c));
      p.connection = static_cast<ConnectionType>(c);
      have_connection = true;
    }
  }
  if (!have_id) return Err(ErrorCode::kInvalidArgument, "kad message: peer without an id");
  return p;
}

Result<Record> DecodeRecord(Reader r, const DecodeLimits& limits) {
  Record rec;
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    if (f.number == kRecordKey) {
      rec.key = CAIRN_TRY(BoundedBytes(f, "record key", limits.max_key));
    } else if (f.number == kRecordValue) {
      rec.value = CAIRN_TRY(BoundedBytes(f, "record value", limits.max_message));
    } else if (f.number == kRecordTimeReceived) {
      rec.time_received = std::string(CAIRN_TRY(f.AsString("record timeReceived")));
    }
  }
  return rec;
}

// clusterLevelRaw is an int32: negative values arrive sign-extended to 64 bits.
Result<int32_t> Int32Field(const Field& f, std::string_view what) {
  auto v = static_cast<int64_t>(CAIRN_TRY(f.AsVarint(what)));
  if (v < INT32_MIN || v > INT32_MAX) return Bad(f, std::string(what) + " does not fit an int32");
  return static_cast<int32_t>(v);
}

struct Seen {
  bool type = false, key = false, record = false, cluster = false;
};

Result<void> DecodeField(const Field& f, const Reader& r, Message& m, Seen& seen,
                         const DecodeLimits& limits) {
  auto once = [&](bool& flag, std::string_view name) -> Result<void> {
    if (flag) return Bad(f, std::string(name) + " repeated");
    flag = true;
    return Ok();
  };
  switch (f.number) {
    case kFieldType: {
      CAIRN_TRY(once(seen.type, "type"));
      uint64_t t = CAIRN_TRY(f.AsVarint("type"));
      if (t > 5) return Bad(f, "unknown message type " + std::to_string(t));
      m.type = static_cast<MessageType>(t);
      return Ok();
    }
    case kFieldKey:
      CAIRN_TRY(once(seen.key, "key"));
      m.key = CAIRN_TRY(BoundedBytes(f, "key", limits.max_key));
      return Ok();
    case kFieldRecord:
      CAIRN_TRY(once(seen.record, "record"));
      CAIRN_TRY(f.AsBytes("record"));
      m.record = CAIRN_TRY(DecodeRecord(r.Nested(f, "kad record"), limits));
      return Ok();
    case kFieldCloserPeers:
    case kFieldProviderPeers: {
      auto& list = f.number == kFieldCloserPeers ? m.closer_peers : m.provider_peers;
      std::string_view what = f.number == kFieldCloserPeers ? "closerPeers" : "providerPeers";
      if (list.size() == limits.max_peers) return TooMany(f, what, limits.max_peers);
      CAIRN_TRY(f.AsBytes(what));
      list.push_back(CAIRN_TRY(DecodePeer(r.Nested(f, "kad peer"), limits)));
      return Ok();
    }
    case kFieldClusterLevel:
      CAIRN_TRY(once(seen.cluster, "clusterLevelRaw"));
      m.cluster_level = CAIRN_TRY(Int32Field(f, "clusterLevelRaw"));
      return Ok();
    default:
      return Ok();  // unknown field: skipped
  }
}

void EncodePeer(Writer& w, uint32_t field, const PeerInfo& p) {
  Writer nested;
  nested.BytesField(kPeerId, p.id);
  for (const auto& a : p.addrs) nested.BytesField(kPeerAddrs, a);
  if (p.connection != ConnectionType::kNotConnected) {
    nested.Varint(kPeerConnection, static_cast<uint64_t>(p.connection));
  }
  w.Message(field, nested);
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPutValue:
      return "PUT_VALUE";
    case MessageType::kGetValue:
      return "GET_VALUE";
    case MessageType::kAddProvider:
      return "ADD_PROVIDER";
    case MessageType::kGetProviders:
      return "GET_PROVIDERS";
    case MessageType::kFindNode:
      return "FIND_NODE";
    case MessageType::kPing:
      return "PING";
  }
  return "?";
}

Result<Message> DecodeMessage(ByteSpan in, const DecodeLimits& limits) {
  if (in.size() > limits.max_message) {
    return Err(ErrorCode::kResourceExhausted, "kad message: " + std::to_string(in.size()) +
                                                  " bytes, above the limit of " +
                                                  std::to_string(limits.max_message));
  }
  Message m;
  m.type = MessageType::kPutValue;  // the proto default when absent
  Seen seen;
  Reader r(in, "kad message");
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    CAIRN_TRY(DecodeField(*next, r, m, seen, limits));
  }
  return m;
}

Bytes EncodeMessage(const Message& m) {
  Writer w;
  w.Varint(kFieldType, static_cast<uint64_t>(m.type));
  if (!m.key.empty()) w.BytesField(kFieldKey, m.key);
  if (m.record) {
    Writer rec;
    if (!m.record->key.empty()) rec.BytesField(kRecordKey, m.record->key);
    if (!m.record->value.empty()) rec.BytesField(kRecordValue, m.record->value);
    if (!m.record->time_received.empty()) rec.String(kRecordTimeReceived, m.record->time_received);
    w.Message(kFieldRecord, rec);
  }
  for (const auto& p : m.closer_peers) EncodePeer(w, kFieldCloserPeers, p);
  for (const auto& p : m.provider_peers) EncodePeer(w, kFieldProviderPeers, p);
  if (m.cluster_level != 0) {
    // int32 on the wire: sign-extended to 64 bits, as protobuf writes negative int32 values.
    w.Varint(kFieldClusterLevel, static_cast<uint64_t>(static_cast<int64_t>(m.cluster_level)));
  }
  return w.Take();
}

Bytes EncodeFrame(const Message& message) {
  Bytes body = EncodeMessage(message);
  Bytes out;
  out.reserve(body.size() + multiformats::kMaxVarintSize);
  protobuf::AppendVarint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Result<std::optional<Frame>> SplitFrame(ByteSpan in, size_t max_message) {
  size_t end = 0;
  while (end < in.size() && end < multiformats::kMaxVarintSize && (in[end] & 0x80) != 0) ++end;
  if (end == in.size()) {
    if (in.size() < multiformats::kMaxVarintSize) return std::nullopt;  // prefix incomplete
    return Err(ErrorCode::kInvalidArgument, "kad frame: length prefix longer than 9 bytes");
  }
  if (end == multiformats::kMaxVarintSize) {
    return Err(ErrorCode::kInvalidArgument, "kad frame: length prefix longer than 9 bytes");
  }
  auto len = multiformats::DecodeVarint(in.first(end + 1));
  if (!len) return Err(len.error().WithContext("kad frame: length prefix: "));
  if (len->value > max_message) {
    return Err(ErrorCode::kResourceExhausted,
               "kad frame: declared length " + std::to_string(len->value) + " above the limit of " +
                   std::to_string(max_message));
  }
  size_t total = len->size + static_cast<size_t>(len->value);
  if (in.size() < total) return std::nullopt;
  return Frame{in.subspan(len->size, static_cast<size_t>(len->value)), total};
}

}  // namespace cairn::dht
