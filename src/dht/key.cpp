#include "dht/key.hpp"

#include <bit>

#include "multiformats/multihash.hpp"

namespace cairn::dht {

KadId KadId::Of(ByteSpan key) {
  KadId id;
  id.bytes = multiformats::Sha256(key);
  return id;
}

KadId Distance(const KadId& a, const KadId& b) {
  KadId d;
  for (size_t i = 0; i < d.bytes.size(); ++i) d.bytes[i] = a.bytes[i] ^ b.bytes[i];
  return d;
}

size_t CommonPrefixLength(const KadId& a, const KadId& b) {
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    auto x = static_cast<uint8_t>(a.bytes[i] ^ b.bytes[i]);
    if (x != 0) return i * 8 + static_cast<size_t>(std::countl_zero(x));
  }
  return kKeyBits;
}

bool Closer(const KadId& a, const KadId& b, const KadId& target) {
  return Distance(a, target) < Distance(b, target);
}

Bytes ProviderKey(const multiformats::Cid& cid) { return cid.hash().Encode(); }

}  // namespace cairn::dht
