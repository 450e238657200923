// Multicodec codes Cairn uses (../shared/specs/multiformats/multicodec-table.csv), and names for
// the CLI and `cid inspect`.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cairn::multiformats {

namespace codec {
inline constexpr uint64_t kIdentity = 0x00;
inline constexpr uint64_t kSha2_256 = 0x12;
inline constexpr uint64_t kSha2_512 = 0x13;
inline constexpr uint64_t kBlake2b256 = 0xb220;
inline constexpr uint64_t kRaw = 0x55;
inline constexpr uint64_t kDagPb = 0x70;
inline constexpr uint64_t kDagCbor = 0x71;
inline constexpr uint64_t kLibp2pKey = 0x72;
inline constexpr uint64_t kDagJson = 0x0129;
inline constexpr uint64_t kJson = 0x0200;
inline constexpr uint64_t kCar = 0x0202;
inline constexpr uint64_t kFilCommitmentUnsealed = 0xf101;
inline constexpr uint64_t kFilCommitmentSealed = 0xf102;
inline constexpr uint64_t kSha2_256Trunc254Padded = 0x1012;
inline constexpr uint64_t kFr32Sha256Trunc254Padbintree = 0x1011;
inline constexpr uint64_t kPoseidonBls12_381A2Fc1 = 0xb401;
}  // namespace codec

// "dag-pb" for 0x70; nullopt for codes Cairn does not know.
std::optional<std::string_view> CodecName(uint64_t code);
}  // namespace cairn::multiformats
