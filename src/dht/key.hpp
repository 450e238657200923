// Positions in the Kademlia key space (../shared/specs/libp2p/kad-dht.md "Distance"): every key —
// a peer's binary id, a provider record's key — sits at SHA-256(key), and the distance between two
// keys is the XOR of their positions, compared as a 256-bit big-endian number.
//
// Provider records are keyed by the multihash of the CID, not the CID (the spec, go-libp2p-kad-dht
// and js @libp2p/kad-dht): a CIDv0 and the CIDv1 of the same dag-pb block, or the raw and dag-pb
// CIDs of one digest, meet at one place. Pure.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "common/bytes.hpp"
#include "multiformats/cid.hpp"

namespace cairn::dht {

inline constexpr size_t kKeyBits = 256;

// A position in the key space: SHA-256 of the key's bytes.
struct KadId {
  std::array<uint8_t, 32> bytes{};

  static KadId Of(ByteSpan key);

  // Bit `i`, 0 the most significant.
  bool Bit(size_t i) const { return ((bytes[i / 8] >> (7 - i % 8)) & 1) != 0; }
  friend auto operator<=>(const KadId&, const KadId&) = default;
};

// XOR distance, ordered as a big-endian number (so `<` on distances means closer).
KadId Distance(const KadId& a, const KadId& b);
// Leading bits `a` and `b` share (256 when equal).
size_t CommonPrefixLength(const KadId& a, const KadId& b);
// True when `a` is strictly closer to `target` than `b`.
bool Closer(const KadId& a, const KadId& b, const KadId& target);

// The provider-record key of `cid`: its multihash bytes.
Bytes ProviderKey(const multiformats::Cid& cid);

}  // namespace cairn::dht
