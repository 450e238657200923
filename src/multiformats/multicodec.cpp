#include "multiformats/multicodec.hpp"

#include <array>
#include <utility>

namespace cairn::multiformats {
namespace {

constexpr std::array<std::pair<uint64_t, std::string_view>, 16> kCodecs = {{
    {codec::kIdentity, "identity"},
    {codec::kSha2_256, "sha2-256"},
    {codec::kSha2_512, "sha2-512"},
    {codec::kBlake2b256, "blake2b-256"},
    {codec::kRaw, "raw"},
    {codec::kDagPb, "dag-pb"},
    {codec::kDagCbor, "dag-cbor"},
    {codec::kLibp2pKey, "libp2p-key"},
    {codec::kDagJson, "dag-json"},
    {codec::kJson, "json"},
    {codec::kCar, "car"},
    {codec::kFilCommitmentUnsealed, "fil-commitment-unsealed"},
    {codec::kFilCommitmentSealed, "fil-commitment-sealed"},
    {codec::kSha2_256Trunc254Padded, "sha2-256-trunc254-padded"},
    {codec::kFr32Sha256Trunc254Padbintree, "fr32-sha256-trunc254-padbintree"},
    {codec::kPoseidonBls12_381A2Fc1, "poseidon-bls12_381-a2-fc1"},
}};

}  // namespace

std::optional<std::string_view> CodecName(uint64_t code) {
  for (const auto& [c, name] : kCodecs) {
    if (c == code) return name;
  }
  return std::nullopt;
}

}  // namespace cairn::multiformats
