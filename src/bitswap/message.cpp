#include "bitswap/message.hpp"

#include <string>

#include "common/protobuf.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/multihash.hpp"
#include "multiformats/varint.hpp"

namespace cairn::bitswap {
namespace {

namespace mc = multiformats::codec;
using protobuf::Field;
using protobuf::Reader;
using protobuf::WireType;
using protobuf::Writer;

tl::unexpected<Error> Bad(const Field& f, const std::string& why) {
  return Err(ErrorCode::kInvalidArgument,
             "bitswap message: " + why + " (field at offset " + std::to_string(f.offset) + ")");
}

tl::unexpected<Error> TooMany(std::string_view what, size_t limit) {
  return Err(ErrorCode::kResourceExhausted,
             "bitswap message: more than " + std::to_string(limit) + " " + std::string(what));
}

// A CID field: must parse exactly.
Result<Cid> CidField(const Field& f, std::string_view what) {
  auto bytes = CAIRN_TRY(f.AsBytes(what));
  if (bytes.empty()) return Bad(f, std::string(what) + " is empty");
  auto cid = Cid::FromBytes(bytes);
  if (!cid) return Bad(f, std::string(what) + ": " + cid.error().message());
  return *cid;
}

int32_t AsInt32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

Result<WantEntry> DecodeEntry(Reader r) {
  WantEntry e;
  e.priority = 0;  // proto3 default when absent
  bool have_cid = false;
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    switch (f.number) {
      case 1:
        e.cid = CAIRN_TRY(CidField(f, "wantlist entry block"));
        have_cid = true;
        break;
      case 2:
        e.priority = AsInt32(CAIRN_TRY(f.AsVarint("wantlist entry priority")));
        break;
      case 3:
        e.cancel = CAIRN_TRY(f.AsBool("wantlist entry cancel"));
        break;
      case 4: {
        uint64_t t = CAIRN_TRY(f.AsVarint("wantlist entry wantType"));
        if (t > 1) return Bad(f, "unknown wantType " + std::to_string(t));
        e.type = static_cast<WantType>(t);
        break;
      }
      case 5:
        e.send_dont_have = CAIRN_TRY(f.AsBool("wantlist entry sendDontHave"));
        break;
      default:
        break;  // unknown field: skipped
    }
  }
  if (!have_cid) {
    return Err(ErrorCode::kInvalidArgument, "bitswap message: wantlist entry without a block CID");
  }
  return e;
}

Result<void> DecodeWantlist(Reader r, Wantlist& out, const DecodeLimits& limits) {
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) return Ok();
    const Field& f = *next;
    if (f.number == 1) {
      if (f.type != WireType::kLen) return Bad(f, "wantlist entry is not a message");
      if (out.entries.size() >= limits.max_wantlist_entries) {
        return TooMany("wantlist entries", limits.max_wantlist_entries);
      }
      out.entries.push_back(CAIRN_TRY(DecodeEntry(r.Nested(f, "bitswap wantlist entry"))));
    } else if (f.number == 2) {
      out.full = out.full || CAIRN_TRY(f.AsBool("wantlist full"));
    }
  }
}

Result<BlockPayload> DecodePayload(Reader r) {
  BlockPayload b;
  bool have_prefix = false;
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    if (f.number == 1) {
      auto bytes = CAIRN_TRY(f.AsBytes("block prefix"));
      auto prefix = CidPrefix::Decode(bytes);
      if (!prefix) return Bad(f, prefix.error().message());
      b.prefix = *prefix;
      have_prefix = true;
    } else if (f.number == 2) {
      auto bytes = CAIRN_TRY(f.AsBytes("block data"));
      b.data.assign(bytes.begin(), bytes.end());
    }
  }
  if (!have_prefix) {
    return Err(ErrorCode::kInvalidArgument, "bitswap message: payload block without a prefix");
  }
  return b;
}

Result<BlockPresence> DecodePresence(Reader r) {
  BlockPresence p;
  bool have_cid = false;
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    if (f.number == 1) {
      p.cid = CAIRN_TRY(CidField(f, "block presence cid"));
      have_cid = true;
    } else if (f.number == 2) {
      uint64_t t = CAIRN_TRY(f.AsVarint("block presence type"));
      if (t > 1) return Bad(f, "unknown block presence type " + std::to_string(t));
      p.type = static_cast<PresenceType>(t);
    }
  }
  if (!have_cid) {
    return Err(ErrorCode::kInvalidArgument, "bitswap message: block presence without a CID");
  }
  return p;
}

CidPrefix V0Prefix() { return CidPrefix{0, mc::kDagPb, mc::kSha2_256, 32}; }

}  // namespace

std::string_view ProtocolId(ProtocolVersion version) {
  switch (version) {
    case ProtocolVersion::k100:
      return kProtocolIds[2];
    case ProtocolVersion::k110:
      return kProtocolIds[1];
    case ProtocolVersion::k120:
      return kProtocolIds[0];
  }
  return kProtocolIds[0];
}

std::optional<ProtocolVersion> ParseProtocolId(std::string_view id) {
  if (id == kProtocolIds[0]) return ProtocolVersion::k120;
  if (id == kProtocolIds[1]) return ProtocolVersion::k110;
  if (id == kProtocolIds[2]) return ProtocolVersion::k100;
  return std::nullopt;
}

CidPrefix CidPrefix::Of(const Cid& cid) {
  return CidPrefix{cid.version(), cid.codec(), cid.hash().code(), cid.hash().digest().size()};
}

Result<CidPrefix> CidPrefix::Decode(ByteSpan bytes) {
  uint64_t v[4];
  size_t at = 0;
  for (auto& value : v) {
    auto d = multiformats::DecodeVarint(bytes.subspan(at));
    if (!d) return Err(d.error().WithContext("cid prefix: "));
    value = d->value;
    at += d->size;
  }
  if (at != bytes.size()) {
    return Err(ErrorCode::kInvalidArgument,
               "cid prefix: " + std::to_string(bytes.size() - at) + " trailing bytes");
  }
  if (v[0] > 1) {
    return Err(ErrorCode::kInvalidArgument, "cid prefix: version " + std::to_string(v[0]));
  }
  CidPrefix p{static_cast<int>(v[0]), v[1], v[2], v[3]};
  if (p.version == 0 && !(p == V0Prefix())) {
    return Err(ErrorCode::kInvalidArgument, "cid prefix: version 0 must be dag-pb sha2-256/32");
  }
  if (p.hash_length > multiformats::kMaxDigestSize) {
    return Err(ErrorCode::kInvalidArgument, "cid prefix: digest length " +
                                                std::to_string(p.hash_length) + " exceeds " +
                                                std::to_string(multiformats::kMaxDigestSize));
  }
  return p;
}

Bytes CidPrefix::Encode() const {
  Bytes out;
  multiformats::AppendVarint(out, static_cast<uint64_t>(version));
  multiformats::AppendVarint(out, codec);
  multiformats::AppendVarint(out, hash_code);
  multiformats::AppendVarint(out, hash_length);
  return out;
}

Result<Cid> CidPrefix::Sum(ByteSpan data) const {
  multiformats::Multihash hash;
  if (hash_code == mc::kIdentity) {
    if (data.size() != hash_length) {
      return Err(ErrorCode::kInvalidArgument, "cid prefix: identity length " +
                                                  std::to_string(hash_length) + " but block has " +
                                                  std::to_string(data.size()) + " bytes");
    }
    hash = CAIRN_TRY(multiformats::Multihash::Make(hash_code, data));
  } else {
    hash = CAIRN_TRY(multiformats::Multihash::Sum(hash_code, data));
    if (hash.digest().size() != hash_length) {
      return Err(ErrorCode::kNotSupported, "cid prefix: truncated digest (" +
                                               std::to_string(hash_length) + " bytes of " +
                                               std::to_string(hash.digest().size()) + ")");
    }
  }
  return Cid::Make(version, codec, std::move(hash));
}

Result<Message> DecodeMessage(ByteSpan bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_message) {
    return Err(ErrorCode::kResourceExhausted, "bitswap message: " + std::to_string(bytes.size()) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(limits.max_message));
  }
  Message m;
  m.pending_bytes = 0;
  Reader r(bytes, "bitswap message");
  for (;;) {
    auto next = CAIRN_TRY(r.Next());
    if (!next) break;
    const Field& f = *next;
    switch (f.number) {
      case 1:
        if (f.type != WireType::kLen) return Bad(f, "wantlist is not a message");
        CAIRN_TRY(DecodeWantlist(r.Nested(f, "bitswap wantlist"), m.wantlist, limits));
        break;
      case 2: {  // 1.0.0 blocks: raw bytes of a CIDv0 block
        auto data = CAIRN_TRY(f.AsBytes("blocks"));
        if (m.blocks.size() >= limits.max_blocks) return TooMany("blocks", limits.max_blocks);
        m.blocks.push_back(BlockPayload{V0Prefix(), Bytes(data.begin(), data.end())});
        break;
      }
      case 3:
        if (f.type != WireType::kLen) return Bad(f, "payload is not a message");
        if (m.blocks.size() >= limits.max_blocks) return TooMany("blocks", limits.max_blocks);
        m.blocks.push_back(CAIRN_TRY(DecodePayload(r.Nested(f, "bitswap payload"))));
        break;
      case 4:
        if (f.type != WireType::kLen) return Bad(f, "blockPresence is not a message");
        if (m.presences.size() >= limits.max_presences) {
          return TooMany("block presences", limits.max_presences);
        }
        m.presences.push_back(CAIRN_TRY(DecodePresence(r.Nested(f, "bitswap block presence"))));
        break;
      case 5:
        m.pending_bytes = AsInt32(CAIRN_TRY(f.AsVarint("pendingBytes")));
        break;
      default:
        break;  // unknown field: skipped
    }
  }
  return m;
}

Result<Bytes> EncodeMessage(const Message& message, ProtocolVersion version) {
  const bool v12 = version == ProtocolVersion::k120;
  Writer w;
  if (!message.wantlist.empty()) {
    Writer wl;
    for (const auto& e : message.wantlist.entries) {
      if (!v12 && (e.type != WantType::kBlock || e.send_dont_have)) {
        return Err(ErrorCode::kInvalidArgument, "bitswap: " + std::string(ProtocolId(version)) +
                                                    " cannot carry want-have or sendDontHave");
      }
      if (e.cid.empty()) return Err(ErrorCode::kInvalidArgument, "bitswap: want without a CID");
      Writer entry;
      entry.BytesField(1, e.cid.ToBytes());
      // int32 on the wire: negative values are sign-extended to 64 bits (10 bytes).
      if (e.priority != 0) entry.Varint(2, static_cast<uint64_t>(static_cast<int64_t>(e.priority)));
      if (e.cancel) entry.Bool(3, true);
      if (e.type != WantType::kBlock) entry.Varint(4, static_cast<uint64_t>(e.type));
      if (e.send_dont_have) entry.Bool(5, true);
      wl.Message(1, entry);
    }
    if (message.wantlist.full) wl.Bool(2, true);
    w.Message(1, wl);
  }
  for (const auto& b : message.blocks) {
    if (version == ProtocolVersion::k100) {
      if (!(b.prefix == V0Prefix())) {
        return Err(ErrorCode::kInvalidArgument,
                   "bitswap: /ipfs/bitswap/1.0.0 can only carry CIDv0 blocks");
      }
      w.BytesField(2, b.data);
    } else {
      Writer block;
      block.BytesField(1, b.prefix.Encode());
      block.BytesField(2, b.data);
      w.Message(3, block);
    }
  }
  if (!v12 && (!message.presences.empty() || message.pending_bytes != 0)) {
    return Err(ErrorCode::kInvalidArgument, "bitswap: " + std::string(ProtocolId(version)) +
                                                " cannot carry block presences or pendingBytes");
  }
  for (const auto& p : message.presences) {
    Writer presence;
    presence.BytesField(1, p.cid.ToBytes());
    if (p.type != PresenceType::kHave) presence.Varint(2, static_cast<uint64_t>(p.type));
    w.Message(4, presence);
  }
  if (message.pending_bytes != 0) {
    w.Varint(5, static_cast<uint64_t>(static_cast<int64_t>(message.pending_bytes)));
  }
  if (w.size() > kMaxMessageBytes) {
    return Err(ErrorCode::kInvalidArgument, "bitswap: message of " + std::to_string(w.size()) +
                                                " bytes exceeds the 4 MiB limit");
  }
  return w.Take();
}

size_t EncodedBlockBound(const BlockPayload& block) {
  // tag + length of the Block message, tags + lengths of prefix and data, the prefix itself.
  return block.data.size() + 2 * 11 + 2 * 11 + 4 * 10;
}

Bytes Frame(ByteSpan message) {
  Bytes out;
  out.reserve(message.size() + multiformats::kMaxVarintSize);
  multiformats::AppendVarint(out, message.size());
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Result<void> FrameReader::Append(ByteSpan chunk) {
  if (failed_) return Err(ErrorCode::kInvalidArgument, "bitswap stream: already failed");
  if (chunk.size() > kMaxChunk) {
    return Err(ErrorCode::kInvalidArgument,
               "bitswap stream: chunk of " + std::to_string(chunk.size()) + " bytes is too big");
  }
  // A partial frame is never bigger than a prefix plus max_message_ (Next() checks the prefix
  // before buffering the rest), so the buffer stays below that plus one chunk.
  if (buffered() > max_message_ + multiformats::kMaxVarintSize) {
    failed_ = true;
    return Err(ErrorCode::kInvalidArgument, "bitswap stream: frames were not drained");
  }
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
  return Ok();
}

Result<std::optional<Bytes>> FrameReader::Next() {
  if (failed_) return Err(ErrorCode::kInvalidArgument, "bitswap stream: already failed");
  ByteSpan rest(buffer_.data() + start_, buffer_.size() - start_);
  // The prefix is complete once a byte without the continuation bit is buffered.
  size_t end = 0;
  while (end < rest.size() && end < multiformats::kMaxVarintSize && (rest[end] & 0x80) != 0) {
    ++end;
  }
  if (end == rest.size()) return std::optional<Bytes>();  // prefix incomplete
  auto len = multiformats::DecodeVarint(rest);
  if (!len) {
    failed_ = true;
    return Err(len.error().WithContext("bitswap stream: length prefix: "));
  }
  if (len->value > max_message_) {
    failed_ = true;
    return Err(ErrorCode::kResourceExhausted,
               "bitswap stream: message of " + std::to_string(len->value) +
                   " bytes exceeds the limit of " + std::to_string(max_message_));
  }
  if (rest.size() - len->size < len->value) return std::optional<Bytes>();
  auto body = rest.subspan(len->size, len->value);
  Bytes message(body.begin(), body.end());
  start_ += len->size + len->value;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return std::optional<Bytes>(std::move(message));
}

}  // namespace cairn::bitswap
