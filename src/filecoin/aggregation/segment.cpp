#include "filecoin/aggregation/segment.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "filecoin/aggregation/internal/merkle.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::aggregation {

Result<void> ValidatePaddedSize(uint64_t size, std::string_view what) {
  if (!std::has_single_bit(size)) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: " + std::string(what) + " size " +
                                                std::to_string(size) + " is not a power of two");
  }
  if (size < kMinPieceSize) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: " + std::string(what) + " size " +
                                                std::to_string(size) + " is below the minimum " +
                                                std::to_string(kMinPieceSize));
  }
  if (size > kMaxDealSize) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: " + std::string(what) + " size " +
                                                std::to_string(size) + " exceeds the maximum " +
                                                std::to_string(kMaxDealSize));
  }
  return Ok();
}

uint64_t MaxIndexEntriesInDeal(uint64_t deal_size) {
  const uint64_t quotient = deal_size / 2048 / kEntrySize;
  // 2^ceil(log2(quotient)); log2Ceil(0) and log2Ceil(1) are 0 in both reference libraries.
  const uint64_t entries = quotient <= 1 ? 1 : std::bit_ceil(quotient);
  return entries < 4 ? 4 : entries;
}

uint64_t IndexAreaStart(uint64_t deal_size) {
  return deal_size - MaxIndexEntriesInDeal(deal_size) * kEntrySize;
}

SegmentDesc SegmentDesc::Make(const Node& commitment, uint64_t offset, uint64_t size) {
  SegmentDesc desc;
  desc.commitment = commitment;
  desc.offset = offset;
  desc.size = size;
  desc.checksum = desc.ComputeChecksum();
  return desc;
}

SegmentDesc SegmentDesc::Parse(std::span<const uint8_t, kEntrySize> bytes) {
  SegmentDesc desc;
  std::memcpy(desc.commitment.data(), bytes.data(), 32);
  desc.offset = GetU64Le(bytes.data() + 32);
  desc.size = GetU64Le(bytes.data() + 40);
  std::memcpy(desc.checksum.data(), bytes.data() + 48, kChecksumSize);
  return desc;
}

std::array<uint8_t, kEntrySize> SegmentDesc::Serialize() const {
  std::array<uint8_t, kEntrySize> out{};
  std::memcpy(out.data(), commitment.data(), 32);
  PutU64Le(out.data() + 32, offset);
  PutU64Le(out.data() + 40, size);
  std::memcpy(out.data() + 48, checksum.data(), kChecksumSize);
  return out;
}

std::array<uint8_t, kChecksumSize> SegmentDesc::ComputeChecksum() const {
  SegmentDesc zeroed = *this;
  zeroed.checksum = {};
  const auto bytes = zeroed.Serialize();
  const auto digest = multiformats::Sha256(ByteSpan(bytes.data(), bytes.size()));
  std::array<uint8_t, kChecksumSize> out{};
  std::memcpy(out.data(), digest.data(), kChecksumSize);
  out[kChecksumSize - 1] &= 0x3f;  // 126 bits: the entry's second word stays a valid fr32 word
  return out;
}

Result<void> SegmentDesc::Validate() const {
  if (ComputeChecksum() != checksum) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: index entry checksum does not match");
  }
  if (offset % 128 != 0) {
    return Err(
        ErrorCode::kInvalidArgument,
        "aggregation: index entry offset " + std::to_string(offset) + " is not a multiple of 128");
  }
  if (size % 128 != 0) {
    return Err(ErrorCode::kInvalidArgument, "aggregation: index entry size " +
                                                std::to_string(size) + " is not a multiple of 128");
  }
  return Ok();
}

Node SegmentDesc::TreeNode() const {
  const auto bytes = Serialize();
  return internal::TruncatedHash(ByteSpan(bytes.data(), bytes.size()));
}

}  // namespace cairn::filecoin::aggregation
