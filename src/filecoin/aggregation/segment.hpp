// FRC-0058 data segments (../shared/specs/filecoin/frc-0058.md, "Data Segments" and "Data Segment
// Index"): piece identity (commitment + padded size), the index geometry of a deal, and the
// 64-byte data segment descriptor (index entry) with its checksum. See aggregate.hpp for how
// pieces are placed. Sizes and offsets are padded bytes unless a name says "unpadded".
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin::aggregation {

// One node of the sha2-256-trunc254-padded binary tree (a piece commitment is one).
using Node = std::array<uint8_t, 32>;

inline constexpr uint64_t kEntrySize = 64;  // one index entry, padded bytes
inline constexpr uint64_t kChecksumSize = 16;
inline constexpr uint64_t kMinPieceSize = 128;  // smallest padded piece
// Largest deal (and piece) accepted: 2^50 padded bytes (1 PiB) — far above real sector sizes
// (64 GiB) and small enough that no offset or size computation overflows.
inline constexpr uint64_t kMaxDealSize = uint64_t{1} << 50;

// A piece as the aggregation layer sees it: its commitment (CommP root) and padded size.
struct PieceInfo {
  Node commitment{};
  uint64_t size = 0;  // padded bytes, a power of two >= 128

  friend bool operator==(const PieceInfo&, const PieceInfo&) = default;
};

// Padded bytes -> the payload bytes they hold (size - size / 128). `padded` must be a multiple
// of 128.
inline uint64_t UnpaddedSize(uint64_t padded) { return padded - padded / 128; }

// Ok when `size` is a power of two, >= 128 and <= kMaxDealSize; InvalidArgument naming `what`
// otherwise ("aggregation: piece 2 size 1000 is not a power of two").
Result<void> ValidatePaddedSize(uint64_t size, std::string_view what);

// Number of index entries in a deal of padded size `deal_size` (FRC-0058):
// max(4, 2^ceil(log2(deal_size / 2048 / 64))) — for the power-of-two deal sizes used here the
// ceiling equals the spec's floor. 1 MiB -> 8; 32 GiB -> 262144.
uint64_t MaxIndexEntriesInDeal(uint64_t deal_size);

// Padded offset of the index area: deal_size - MaxIndexEntriesInDeal(deal_size) * 64.
uint64_t IndexAreaStart(uint64_t deal_size);

// One data segment index entry (FRC-0058 "Data Segment Index").
struct SegmentDesc {
  Node commitment{};
  uint64_t offset = 0;  // padded bytes from the start of the deal
  uint64_t size = 0;    // padded bytes
  std::array<uint8_t, kChecksumSize> checksum{};

  // An entry for (commitment, offset, size) with its checksum computed.
  static SegmentDesc Make(const Node& commitment, uint64_t offset, uint64_t size);
  // Parses the 64-byte padded form (no validation: see Validate()).
  static SegmentDesc Parse(std::span<const uint8_t, kEntrySize> bytes);

  // The 64-byte padded form.
  std::array<uint8_t, kEntrySize> Serialize() const;
  // The checksum this entry should carry.
  std::array<uint8_t, kChecksumSize> ComputeChecksum() const;
  // Ok when the checksum matches and offset and size are multiples of 128 (go-data-segment's
  // SegmentDesc.Validate); InvalidArgument saying which check failed.
  Result<void> Validate() const;
  // The level-1 tree node of this entry: the truncated SHA-256 of Serialize().
  Node TreeNode() const;

  friend bool operator==(const SegmentDesc&, const SegmentDesc&) = default;
};

}  // namespace cairn::filecoin::aggregation
