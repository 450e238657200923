// The bitswap wire format (../shared/specs/ipfs/bitswap-protocol.md, versions 1.0.0, 1.1.0 and
// 1.2.0): the protobuf message, CID prefixes, and the unsigned-varint length-prefixed framing of
// a stream. Pure: no I/O, deterministic, fuzzed (fuzz/bitswap_message_fuzz.cpp).
//
// One decoder reads every version (the fields never clash: 1.0.0 blocks are field 2, 1.1.0+
// payload is field 3, 1.2.0 adds want types, presences and pendingBytes). The encoder writes for
// one version and refuses what that version cannot carry (want-have entries, presences and
// pendingBytes before 1.2.0; CIDv1 blocks in 1.0.0), so the engines must ask per peer.
//
// Decoding is strict and bounded for untrusted bytes: messages above DecodeLimits::max_message
// (4 MiB, the spec's limit) are refused before any parsing; wantlists, block counts and presence
// counts have caps; every CID must parse; want types and presence types must be known values.
// Unknown fields are skipped (protobuf forward compatibility). Errors are InvalidArgument (or
// ResourceExhausted for a cap) and name the field and byte offset.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::bitswap {

using multiformats::Cid;

// The three protocol versions, newest first in preference order.
enum class ProtocolVersion : uint8_t { k100 = 0, k110 = 1, k120 = 2 };

// "/ipfs/bitswap/1.2.0" etc.
std::string_view ProtocolId(ProtocolVersion version);
// The version a protocol id names; nullopt for anything else ("/ipfs/bitswap" without a version
// is 1.0.0 in go-bitswap's history but is not accepted here).
std::optional<ProtocolVersion> ParseProtocolId(std::string_view id);
// Protocol ids in the order a dialer proposes them (multistream-select) and a listener registers.
inline constexpr std::array<std::string_view, 3> kProtocolIds = {
    "/ipfs/bitswap/1.2.0", "/ipfs/bitswap/1.1.0", "/ipfs/bitswap/1.0.0"};

// The spec's limit on one message (the length prefix excluded).
inline constexpr size_t kMaxMessageBytes = 4u << 20;
// The largest block the spec requires implementations to carry.
inline constexpr size_t kMaxBlockBytes = 2u << 20;

enum class WantType : uint8_t { kBlock = 0, kHave = 1 };

struct WantEntry {
  Cid cid;
  int32_t priority = 1;  // higher first; the spec's default is 1
  bool cancel = false;
  WantType type = WantType::kBlock;  // 1.2.0 only
  bool send_dont_have = false;       // 1.2.0 only

  friend bool operator==(const WantEntry&, const WantEntry&) = default;
};

struct Wantlist {
  std::vector<WantEntry> entries;
  bool full = false;  // this is the sender's whole wantlist (replaces the previous one)

  bool empty() const { return entries.empty() && !full; }
  friend bool operator==(const Wantlist&, const Wantlist&) = default;
};

// All of a CID except the multihash digest (bitswap 1.1.0's Block.prefix): version, codec,
// multihash code and digest length. Encoded as four unsigned varints.
struct CidPrefix {
  int version = 1;
  uint64_t codec = 0;
  uint64_t hash_code = 0;
  uint64_t hash_length = 0;

  static CidPrefix Of(const Cid& cid);
  // Parses exactly `bytes`. Version 0 must be dag-pb/sha2-256/32; the digest length is at most
  // multiformats::kMaxDigestSize.
  static Result<CidPrefix> Decode(ByteSpan bytes);
  Bytes Encode() const;
  // The CID of `data` under this prefix (hashes it). NotSupported when the hash cannot be
  // computed here or is truncated (a digest length other than the hash's full length);
  // InvalidArgument for an identity prefix whose length is not data's.
  Result<Cid> Sum(ByteSpan data) const;

  friend bool operator==(const CidPrefix&, const CidPrefix&) = default;
};

// A block as carried: its prefix (1.0.0 blocks get the implied CIDv0 prefix) and its bytes. The
// receiver computes the CID (CidPrefix::Sum), so a block never arrives with a CID it does not
// hash to: whether it is one that was wanted is the receiver's check.
struct BlockPayload {
  CidPrefix prefix;
  Bytes data;

  friend bool operator==(const BlockPayload&, const BlockPayload&) = default;
};

enum class PresenceType : uint8_t { kHave = 0, kDontHave = 1 };

struct BlockPresence {
  Cid cid;
  PresenceType type = PresenceType::kHave;

  friend bool operator==(const BlockPresence&, const BlockPresence&) = default;
};

struct Message {
  Wantlist wantlist;
  std::vector<BlockPayload> blocks;
  std::vector<BlockPresence> presences;  // 1.2.0
  int32_t pending_bytes = 0;             // 1.2.0: bytes the sender still has queued for us

  bool empty() const {
    return wantlist.empty() && blocks.empty() && presences.empty() && pending_bytes == 0;
  }
  friend bool operator==(const Message&, const Message&) = default;
};

struct DecodeLimits {
  size_t max_message = kMaxMessageBytes;
  size_t max_wantlist_entries = 8192;  // per message; a 100k-entry wantlist is refused
  size_t max_blocks = 4096;            // per message
  size_t max_presences = 8192;         // per message
};

// Decodes one message (any version). See the header comment for the rules.
Result<Message> DecodeMessage(ByteSpan bytes, const DecodeLimits& limits = {});

// Encodes `message` for a peer speaking `version`. InvalidArgument when the message holds what
// the version cannot carry (see the header comment), or would exceed kMaxMessageBytes.
// Proto3 defaults are omitted (priority 0, cancel false, want type Block, sendDontHave false,
// presence type Have, pendingBytes 0); the wantlist is written only when not empty.
Result<Bytes> EncodeMessage(const Message& message, ProtocolVersion version);

// An upper bound of the encoded size a block adds to a message (for size budgeting).
size_t EncodedBlockBound(const BlockPayload& block);

// Length-prefixed framing of a bitswap stream: <unsigned varint length><message>, repeated.
// Returns the frame of `message` (prefix + bytes).
Bytes Frame(ByteSpan message);

// Splits a byte stream into messages, incrementally. Append() what the stream delivered, then
// call Next() until it returns nullopt. A declared length above `max_message` is an error as soon
// as the prefix is readable (nothing more is buffered); a malformed prefix is an error. After an
// error the stream is unusable (the caller resets it). Memory: at most one partial frame plus one
// appended chunk (chunks are limited to kMaxChunk; bigger appends are refused).
class FrameReader {
 public:
  static constexpr size_t kMaxChunk = 1u << 20;

  explicit FrameReader(size_t max_message = kMaxMessageBytes) : max_message_(max_message) {}

  Result<void> Append(ByteSpan chunk);
  // The next complete message, or nullopt when more bytes are needed.
  Result<std::optional<Bytes>> Next();
  // Bytes buffered and not yet returned.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  size_t max_message_;
  Bytes buffer_;
  size_t start_ = 0;  // consumed prefix of buffer_
  bool failed_ = false;
};

}  // namespace cairn::bitswap
