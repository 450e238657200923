// Piece sizes and piece CIDs, versions 1 and 2.
//
// Sizes (Filecoin spec, "Piece"): a piece is a complete binary tree of 32-byte nodes over the
// fr32-padded payload; its padded size is a power of two ≥ 128 bytes; its unpadded size (payload
// capacity) is padded * 127 / 128. Height h means 2^h leaves, padded size 32 * 2^h.
//
// Piece CID v1 ("baga6ea4seaq…", used in deal proposals): CIDv1, codec fil-commitment-unsealed
// (0xf101), multihash sha2-256-trunc254-padded (0x1012) with the 32-byte root. It carries no size.
//
// Piece CID v2 (FRC-0069, "bafkzcib…", used by PDP and mk20): CIDv1, codec raw (0x55), multihash
// fr32-sha256-trunc254-padbintree (0x1011) whose digest is
//   uvarint padding ‖ uint8 height ‖ 32-byte root
// where padding is the number of zero bytes appended to the payload to fill the tree's capacity
// (capacity − payload size; payloads under 127 bytes are padded to 127).
//
// Conversions: v2 → v1 loses the height and padding (keep the padded size beside the v1 CID, as
// deals do). v1 → v2 needs the padded size AND the payload size; when only the padded size is
// known (an aggregate, or a deal's PieceSize), pass payload = capacity: the v2 CID then says
// "padding 0", which is what FRC-0069 prescribes for the full piece as the chain sees it, but it no
// longer tells where the user's payload ends.
//
// All functions are pure and thread-safe. Errors are InvalidArgument with a message starting
// "piece: ".
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/piece/node.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin::piece {

inline constexpr uint64_t kMinPaddedPieceSize = 128;
inline constexpr uint64_t kMinUnpaddedPieceSize = 127;
// Heights a piece may have: 2 (128 B) .. 58 (2^63 B; the capacity still fits a uvarint).
inline constexpr int kMinPieceHeight = 2;
inline constexpr int kMaxPieceHeight = 58;
// Lotus (and Boost, Curio) refuse deals over payloads shorter than this: the piece must hold at
// least 65 bytes of data. FRC-0069 v2 CIDs have no such minimum.
inline constexpr uint64_t kMinDealPayloadSize = 65;

// Ok when `padded` is a power of two in [128, 2^63]; otherwise says why.
Result<void> ValidatePaddedSize(uint64_t padded);
// Ok when `unpadded` is 127 * 2^k with k ≥ 0 and the padded size is valid.
Result<void> ValidateUnpaddedSize(uint64_t unpadded);
// padded − padded/128. `padded` must be valid (not checked).
inline uint64_t UnpaddedSize(uint64_t padded) { return padded - padded / 128; }
// unpadded + unpadded/127. `unpadded` must be valid (not checked).
inline uint64_t PaddedSize(uint64_t unpadded) { return unpadded + unpadded / 127; }
// Height (log2 of the leaf count) of a valid padded size.
int HeightOfPaddedSize(uint64_t padded);
// 32 * 2^height for a height in [0, 58].
inline uint64_t PaddedSizeOfHeight(int height) { return uint64_t{32} << height; }
// The padded size of the smallest piece holding `payload` bytes: the next power of two ≥
// ceil(payload / 127) * 128, at least 128. InvalidArgument when it would exceed 2^63.
Result<uint64_t> PaddedSizeForPayload(uint64_t payload);
// Ok when `payload` may be the content of a storage deal (≥ kMinDealPayloadSize bytes, as Lotus
// requires for a v1 CommP); InvalidArgument otherwise. CommP itself accepts any size.
Result<void> CheckDealPayloadSize(uint64_t payload);

// A piece as a v2 CID describes it: its root (CommP), height and payload padding.
struct PieceInfo {
  Node root{};
  int height = kMinPieceHeight;
  uint64_t padding = 0;

  uint64_t padded_size() const { return PaddedSizeOfHeight(height); }
  uint64_t capacity() const { return UnpaddedSize(padded_size()); }
  uint64_t payload_size() const { return capacity() - padding; }

  // Builds and validates (see ValidatePieceInfo) from a root, a padded size and a payload size.
  static Result<PieceInfo> Make(const Node& root, uint64_t padded_size, uint64_t payload_size);

  friend bool operator==(const PieceInfo&, const PieceInfo&) = default;
};

// Ok when the height is in [2, 58] and the padding is one a minimal tree can have: at height 2
// padding ≤ 127 (payloads under 127 bytes are padded up), above it padding < capacity / 2 (else a
// smaller tree would hold the payload). Errors name the bad field.
Result<void> ValidatePieceInfo(const PieceInfo& info);

// v1 piece CID of a root.
multiformats::Cid PieceCidV1(const Node& root);
// v2 piece CID of a validated piece (ValidatePieceInfo).
Result<multiformats::Cid> PieceCidV2(const PieceInfo& info);

// The root inside a v1 piece CID. InvalidArgument unless the CID is v1 with codec 0xf101 and
// multihash 0x1012 of 32 bytes.
Result<Node> ParsePieceCidV1(const multiformats::Cid& cid);
// The piece inside a v2 piece CID: codec raw, multihash 0x1011, digest as above with no trailing
// bytes, validated with ValidatePieceInfo.
Result<PieceInfo> ParsePieceCidV2(const multiformats::Cid& cid);
// Decodes the 0x1011 multihash digest alone (uvarint padding ‖ height ‖ root), validated.
Result<PieceInfo> DecodePieceDigestV2(ByteSpan digest);
// The 0x1011 digest of a piece (no validation; pair with ValidatePieceInfo).
Bytes EncodePieceDigestV2(const PieceInfo& info);

// v1 → v2: the root of `v1` with the padded size and payload size (see the header comment for
// what passing payload = capacity means).
Result<multiformats::Cid> PieceCidV1ToV2(const multiformats::Cid& v1, uint64_t padded_size,
                                         uint64_t payload_size);
struct PieceCidV1AndSize {
  multiformats::Cid cid;
  uint64_t padded_size;
};
// v2 → (v1, padded size). The payload size is lost.
Result<PieceCidV1AndSize> PieceCidV2ToV1(const multiformats::Cid& v2);

}  // namespace cairn::filecoin::piece
