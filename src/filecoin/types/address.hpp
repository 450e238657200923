// Filecoin addresses (go-address semantics; ../shared/FILECOIN.md §3.2).
//
// Binary form (what CBOR carries as a byte string): protocol byte ‖ payload, where the payload is
//   0 ID         unsigned LEB128 varint of the actor id (≤ 2^63-1)
//   1 secp256k1  blake2b-160 of the 65-byte uncompressed public key (20 bytes)
//   2 actor      blake2b-160 of the actor-creation data (20 bytes)
//   3 BLS        the 48-byte G1 public key
//   4 delegated  uvarint(namespace) ‖ subaddress (≤ 54 bytes); f410… = namespace 10 (EAM) with a
//                20-byte Ethereum address
// String form: a network letter ('f' mainnet, 't' testnets and devnets), the protocol digit, then
// the decimal id (ID), or base32 lower-case without padding of payload ‖ checksum, the checksum
// being blake2b-32 of the binary form; delegated: decimal namespace, 'f', base32(sub ‖ checksum).
// Parsing is strict and canonical: an accepted string formats back to itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::filecoin {

enum class Network { kMainnet, kTestnet };

enum class AddressProtocol : uint8_t {
  kId = 0,
  kSecp256k1 = 1,
  kActor = 2,
  kBls = 3,
  kDelegated = 4,
};

inline constexpr size_t kAddressHashSize = 20;    // f1/f2 payload
inline constexpr size_t kBlsPublicKeySize = 48;   // f3 payload
inline constexpr size_t kMaxSubaddressSize = 54;  // f4 subaddress
inline constexpr uint64_t kMaxActorId = (uint64_t{1} << 63) - 1;
inline constexpr uint64_t kEamNamespace = 10;

class Address {
 public:
  Address() = default;  // the empty (undefined) address; ToBytes() is empty

  static Result<Address> Id(uint64_t id);
  // f1 from a 65-byte uncompressed secp256k1 public key (0x04 ‖ X ‖ Y).
  static Result<Address> FromSecp256k1PublicKey(ByteSpan public_key);
  // f1/f2 from their 20-byte payload, f3 from a 48-byte key.
  static Result<Address> Make(AddressProtocol protocol, ByteSpan payload);
  static Result<Address> Delegated(uint64_t name_space, ByteSpan subaddress);

  // Either network's spelling ("f01234" or "t01234"). Errors are InvalidArgument naming what is
  // wrong (network letter, protocol, id, base32, length, checksum).
  static Result<Address> Parse(std::string_view text);
  // As Parse, and also returns which network the string named.
  static Result<std::pair<Address, Network>> ParseWithNetwork(std::string_view text);
  // The binary form (protocol ‖ payload); strict: every byte must be used.
  static Result<Address> FromBytes(ByteSpan bytes);

  bool empty() const { return bytes_.empty(); }
  AddressProtocol protocol() const { return static_cast<AddressProtocol>(bytes_.at(0)); }
  // Everything after the protocol byte.
  ByteSpan payload() const { return ByteSpan(bytes_).subspan(1); }
  // The actor id of an ID address (protocol kId only; checked).
  uint64_t id() const;
  const Bytes& ToBytes() const { return bytes_; }
  std::string ToString(Network network = Network::kMainnet) const;

  friend bool operator==(const Address&, const Address&) = default;
  friend auto operator<=>(const Address&, const Address&) = default;

 private:
  explicit Address(Bytes bytes) : bytes_(std::move(bytes)) {}
  Bytes bytes_;
};

}  // namespace cairn::filecoin
