#include "filecoin/piece/piece_cid.hpp"

#include <bit>
#include <cstring>
#include <string>

#include "multiformats/multicodec.hpp"
#include "multiformats/multihash.hpp"
#include "multiformats/varint.hpp"

namespace cairn::filecoin::piece {
namespace {

namespace mf = multiformats;

constexpr uint64_t kMaxPaddedSize = uint64_t{1} << 63;

tl::unexpected<Error> Invalid(std::string message) {
  return Err(ErrorCode::kInvalidArgument, "piece: " + std::move(message));
}

}  // namespace

Result<void> ValidatePaddedSize(uint64_t padded) {
  if (padded < kMinPaddedPieceSize) {
    return Invalid("padded size " + std::to_string(padded) + " is below the minimum 128");
  }
  if (!std::has_single_bit(padded)) {
    return Invalid("padded size " + std::to_string(padded) + " is not a power of two");
  }
  return Ok();
}

Result<void> ValidateUnpaddedSize(uint64_t unpadded) {
  if (unpadded < kMinUnpaddedPieceSize) {
    return Invalid("unpadded size " + std::to_string(unpadded) + " is below the minimum 127");
  }
  if (unpadded % 127 != 0 || !std::has_single_bit(unpadded / 127)) {
    return Invalid("unpadded size " + std::to_string(unpadded) + " is not 127 * 2^k");
  }
  if (unpadded / 127 > kMaxPaddedSize / 128) {
    return Invalid("unpadded size " + std::to_string(unpadded) + " is too large");
  }
  return Ok();
}

int HeightOfPaddedSize(uint64_t padded) { return std::countr_zero(padded) - 5; }

Result<uint64_t> PaddedSizeForPayload(uint64_t payload) {
  const uint64_t chunks = payload / 127 + (payload % 127 != 0 ? 1 : 0);
  if (chunks > kMaxPaddedSize / 128) {
    return Invalid("payload of " + std::to_string(payload) + " bytes exceeds the largest piece");
  }
  const uint64_t padded = std::bit_ceil(chunks == 0 ? uint64_t{1} : chunks) * 128;
  return padded;
}

Result<void> CheckDealPayloadSize(uint64_t payload) {
  if (payload < kMinDealPayloadSize) {
    return Invalid("payload of " + std::to_string(payload) +
                   " bytes is below the 65-byte minimum for a storage deal");
  }
  return Ok();
}

Result<PieceInfo> PieceInfo::Make(const Node& root, uint64_t padded_size, uint64_t payload_size) {
  CAIRN_TRY(ValidatePaddedSize(padded_size));
  const uint64_t capacity = UnpaddedSize(padded_size);
  if (payload_size > capacity) {
    return Invalid("payload size " + std::to_string(payload_size) + " exceeds the capacity " +
                   std::to_string(capacity) + " of a " + std::to_string(padded_size) +
                   "-byte piece");
  }
  PieceInfo info;
  info.root = root;
  info.height = HeightOfPaddedSize(padded_size);
  info.padding = capacity - payload_size;
  CAIRN_TRY(ValidatePieceInfo(info));
  return info;
}

Result<void> ValidatePieceInfo(const PieceInfo& info) {
  if (info.height < kMinPieceHeight || info.height > kMaxPieceHeight) {
    return Invalid("height " + std::to_string(info.height) + " is outside [2, 58]");
  }
  const uint64_t capacity = info.capacity();
  if (info.height == kMinPieceHeight) {
    if (info.padding > capacity) {
      return Invalid("padding " + std::to_string(info.padding) +
                     " exceeds the capacity 127 of a height-2 piece");
    }
    return Ok();
  }
  if (info.padding >= capacity / 2) {
    return Invalid("padding " + std::to_string(info.padding) + " at height " +
                   std::to_string(info.height) + " must be below " + std::to_string(capacity / 2) +
                   " (a smaller tree would hold the payload)");
  }
  return Ok();
}

mf::Cid PieceCidV1(const Node& root) {
  auto hash = mf::Multihash::Make(mf::codec::kSha2_256Trunc254Padded, root);
  // A 32-byte digest is exactly what 0x1012 requires.
  CAIRN_CHECK(hash.has_value());
  return mf::Cid::V1(mf::codec::kFilCommitmentUnsealed, std::move(*hash));
}

Bytes EncodePieceDigestV2(const PieceInfo& info) {
  Bytes digest;
  digest.reserve(mf::kMaxVarintSize + 33);
  mf::AppendVarint(digest, info.padding);
  digest.push_back(static_cast<uint8_t>(info.height));
  digest.insert(digest.end(), info.root.begin(), info.root.end());
  return digest;
}

Result<mf::Cid> PieceCidV2(const PieceInfo& info) {
  CAIRN_TRY(ValidatePieceInfo(info));
  const Bytes digest = EncodePieceDigestV2(info);
  auto hash = CAIRN_TRY(mf::Multihash::Make(mf::codec::kFr32Sha256Trunc254Padbintree, digest));
  return mf::Cid::V1(mf::codec::kRaw, std::move(hash));
}

Result<Node> ParsePieceCidV1(const mf::Cid& cid) {
  if (cid.version() != 1) return Invalid("a v1 piece CID must be a CIDv1");
  if (cid.codec() != mf::codec::kFilCommitmentUnsealed) {
    return Invalid("a v1 piece CID has codec fil-commitment-unsealed (0xf101), not " +
                   std::to_string(cid.codec()));
  }
  if (cid.hash().code() != mf::codec::kSha2_256Trunc254Padded) {
    return Invalid("a v1 piece CID has multihash sha2-256-trunc254-padded (0x1012), not " +
                   std::to_string(cid.hash().code()));
  }
  if (cid.hash().digest().size() != kNodeSize) {
    return Invalid("a v1 piece CID digest is 32 bytes, not " +
                   std::to_string(cid.hash().digest().size()));
  }
  Node root;
  std::memcpy(root.data(), cid.hash().digest().data(), kNodeSize);
  if ((root[31] & 0xc0) != 0) return Invalid("piece root has its two top bits set");
  return root;
}

Result<PieceInfo> DecodePieceDigestV2(ByteSpan digest) {
  auto padding = mf::DecodeVarint(digest);
  if (!padding) return Invalid("v2 digest padding: " + padding.error().message());
  const ByteSpan rest = digest.subspan(padding->size);
  if (rest.size() != 33) {
    return Invalid("v2 digest needs 1 height byte and a 32-byte root after the padding, has " +
                   std::to_string(rest.size()) + " bytes");
  }
  PieceInfo info;
  info.padding = padding->value;
  info.height = rest[0];
  std::memcpy(info.root.data(), rest.data() + 1, kNodeSize);
  CAIRN_TRY(ValidatePieceInfo(info));
  if ((info.root[31] & 0xc0) != 0) return Invalid("piece root has its two top bits set");
  return info;
}

Result<PieceInfo> ParsePieceCidV2(const mf::Cid& cid) {
  if (cid.version() != 1) return Invalid("a v2 piece CID must be a CIDv1");
  if (cid.codec() != mf::codec::kRaw) {
    return Invalid("a v2 piece CID has codec raw (0x55), not " + std::to_string(cid.codec()));
  }
  if (cid.hash().code() != mf::codec::kFr32Sha256Trunc254Padbintree) {
    return Invalid("a v2 piece CID has multihash fr32-sha256-trunc254-padbintree (0x1011), not " +
                   std::to_string(cid.hash().code()));
  }
  return DecodePieceDigestV2(cid.hash().digest());
}

Result<mf::Cid> PieceCidV1ToV2(const mf::Cid& v1, uint64_t padded_size, uint64_t payload_size) {
  const Node root = CAIRN_TRY(ParsePieceCidV1(v1));
  const PieceInfo info = CAIRN_TRY(PieceInfo::Make(root, padded_size, payload_size));
  return PieceCidV2(info);
}

Result<PieceCidV1AndSize> PieceCidV2ToV1(const mf::Cid& v2) {
  const PieceInfo info = CAIRN_TRY(ParsePieceCidV2(v2));
  return PieceCidV1AndSize{PieceCidV1(info.root), info.padded_size()};
}

}  // namespace cairn::filecoin::piece
