#include "filecoin/types/address.hpp"

#include <charconv>

#include "filecoin/types/blake2b.hpp"
#include "multiformats/multibase.hpp"
#include "multiformats/varint.hpp"

namespace cairn::filecoin {
namespace {

using multiformats::AppendVarint;
using multiformats::DecodeVarint;
using multiformats::Multibase;

tl::unexpected<Error> Invalid(std::string message) {
  return Err(ErrorCode::kInvalidArgument, "address: " + message);
}

// A decimal number without sign, leading zeros (except "0") or overflow, at most `max`.
Result<uint64_t> ParseDecimal(std::string_view digits, uint64_t max, std::string_view what) {
  if (digits.empty()) {
    return Invalid(std::string(what) + " is empty");
  }
  if (digits.size() > 1 && digits[0] == '0') {
    return Invalid(std::string(what) + " '" + std::string(digits) + "' has a leading zero");
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > max) {
    return Invalid(std::string(what) + " '" + std::string(digits) +
                   "' is not a decimal number up to " + std::to_string(max));
  }
  return value;
}

// A uvarint that is minimal and at most kMaxActorId.
Result<multiformats::DecodedVarint> ReadVarint(ByteSpan in, std::string_view what) {
  auto v = DecodeVarint(in);
  if (!v) {
    return Invalid(std::string(what) + ": " + v.error().message());
  }
  if (v->value > kMaxActorId) {
    return Invalid(std::string(what) + " " + std::to_string(v->value) + " exceeds 2^63-1");
  }
  return *v;
}

char NetworkLetter(Network network) { return network == Network::kMainnet ? 'f' : 't'; }

std::string Base32WithChecksum(ByteSpan data, ByteSpan full_address) {
  Bytes buf(data.begin(), data.end());
  auto checksum = Blake2b32(full_address);
  buf.insert(buf.end(), checksum.begin(), checksum.end());
  return multiformats::EncodeBase(Multibase::kBase32, buf);
}

// Decodes base32(data ‖ checksum) where the checksum covers `prefix` ‖ data.
Result<Bytes> DecodeBase32Checked(std::string_view text, ByteSpan prefix) {
  auto decoded = multiformats::DecodeBase(Multibase::kBase32, text);
  if (!decoded) {
    return Invalid("payload '" + std::string(text) +
                   "' is not base32: " + decoded.error().message());
  }
  // Canonical only: lower case, zero trailing bits (the encoding of the decoded bytes).
  if (multiformats::EncodeBase(Multibase::kBase32, *decoded) != text) {
    return Invalid("payload '" + std::string(text) + "' is not canonical lower-case base32");
  }
  if (decoded->size() < 4) {
    return Invalid("payload '" + std::string(text) + "' is shorter than its 4-byte checksum");
  }
  Bytes data(decoded->begin(), decoded->end() - 4);
  Bytes full(prefix.begin(), prefix.end());
  full.insert(full.end(), data.begin(), data.end());
  auto checksum = Blake2b32(full);
  if (!std::equal(checksum.begin(), checksum.end(), decoded->end() - 4)) {
    return Invalid("checksum mismatch in '" + std::string(text) + "'");
  }
  return data;
}

}  // namespace

Result<Address> Address::Id(uint64_t id) {
  if (id > kMaxActorId) {
    return Invalid("id " + std::to_string(id) + " exceeds 2^63-1");
  }
  Bytes bytes{static_cast<uint8_t>(AddressProtocol::kId)};
  AppendVarint(bytes, id);
  return Address(std::move(bytes));
}

Result<Address> Address::FromSecp256k1PublicKey(ByteSpan public_key) {
  if (public_key.size() != 65 || public_key[0] != 0x04) {
    return Invalid("secp256k1 public key must be 65 bytes starting with 0x04, got " +
                   std::to_string(public_key.size()) + " bytes");
  }
  auto hash = Blake2b160(public_key);
  return Make(AddressProtocol::kSecp256k1, hash);
}

Result<Address> Address::Make(AddressProtocol protocol, ByteSpan payload) {
  size_t want = 0;
  switch (protocol) {
    case AddressProtocol::kSecp256k1:
    case AddressProtocol::kActor:
      want = kAddressHashSize;
      break;
    case AddressProtocol::kBls:
      want = kBlsPublicKeySize;
      break;
    default:
      return Invalid("Make takes protocols 1, 2 and 3 only, got " +
                     std::to_string(static_cast<int>(protocol)));
  }
  if (payload.size() != want) {
    return Invalid("protocol " + std::to_string(static_cast<int>(protocol)) + " payload must be " +
                   std::to_string(want) + " bytes, got " + std::to_string(payload.size()));
  }
  Bytes bytes{static_cast<uint8_t>(protocol)};
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return Address(std::move(bytes));
}

Result<Address> Address::Delegated(uint64_t name_space, ByteSpan subaddress) {
  if (name_space > kMaxActorId) {
    return Invalid("delegated namespace " + std::to_string(name_space) + " exceeds 2^63-1");
  }
  if (subaddress.size() > kMaxSubaddressSize) {
    return Invalid("delegated subaddress is " + std::to_string(subaddress.size()) +
                   " bytes, more than 54");
  }
  Bytes bytes{static_cast<uint8_t>(AddressProtocol::kDelegated)};
  AppendVarint(bytes, name_space);
  bytes.insert(bytes.end(), subaddress.begin(), subaddress.end());
  return Address(std::move(bytes));
}

Result<Address> Address::FromBytes(ByteSpan bytes) {
  if (bytes.empty()) {
    return Invalid("empty bytes");
  }
  ByteSpan payload = bytes.subspan(1);
  switch (bytes[0]) {
    case 0: {
      auto v = CAIRN_TRY(ReadVarint(payload, "id"));
      if (v.size != payload.size()) {
        return Invalid("id address has " + std::to_string(payload.size() - v.size) +
                       " trailing bytes");
      }
      return Address(Bytes(bytes.begin(), bytes.end()));
    }
    case 1:
    case 2:
    case 3:
      return Make(static_cast<AddressProtocol>(bytes[0]), payload);
    case 4: {
      auto ns = CAIRN_TRY(ReadVarint(payload, "delegated namespace"));
      return Delegated(ns.value, payload.subspan(ns.size));
    }
    default:
      return Invalid("unknown protocol byte " + std::to_string(bytes[0]));
  }
}

Result<std::pair<Address, Network>> Address::ParseWithNetwork(std::string_view text) {
  // The longest string is a delegated address: "f4", a 19-digit namespace, 'f', and base32 of a
  // 54-byte subaddress plus checksum (93 characters) — 115. (go-address's 86 covers only f3.)
  if (text.size() < 3 || text.size() > 115) {
    return Invalid("'" + std::string(text.substr(0, 120)) + "' has length " +
                   std::to_string(text.size()) + ", not 3..115");
  }
  Network network;
  if (text[0] == 'f') {
    network = Network::kMainnet;
  } else if (text[0] == 't') {
    network = Network::kTestnet;
  } else {
    return Invalid("'" + std::string(text) + "' does not start with network letter f or t");
  }
  std::string_view rest = text.substr(2);
  Address address;
  switch (text[1]) {
    case '0':
      address = CAIRN_TRY(Id(CAIRN_TRY(ParseDecimal(rest, kMaxActorId, "id"))));
      break;
    case '1':
    case '2':
    case '3': {
      auto protocol = static_cast<AddressProtocol>(text[1] - '0');
      uint8_t prefix = static_cast<uint8_t>(protocol);
      auto payload = CAIRN_TRY(DecodeBase32Checked(rest, ByteSpan(&prefix, 1)));
      address = CAIRN_TRY(Make(protocol, payload).map_error([&](Error e) {
        return e.WithContext("'" + std::string(text) + "': ");
      }));
      break;
    }
    case '4': {
      size_t f = rest.find('f');
      if (f == std::string_view::npos) {
        return Invalid("delegated address '" + std::string(text) +
                       "' has no 'f' after its namespace");
      }
      uint64_t ns = CAIRN_TRY(ParseDecimal(rest.substr(0, f), kMaxActorId, "delegated namespace"));
      Bytes prefix{static_cast<uint8_t>(AddressProtocol::kDelegated)};
      AppendVarint(prefix, ns);
      auto sub = CAIRN_TRY(DecodeBase32Checked(rest.substr(f + 1), prefix));
      address = CAIRN_TRY(Delegated(ns, sub));
      break;
    }
    default:
      return Invalid("'" + std::string(text) + "' has unknown protocol '" + text[1] + "'");
  }
  return std::make_pair(std::move(address), network);
}

Result<Address> Address::Parse(std::string_view text) {
  auto parsed = CAIRN_TRY(ParseWithNetwork(text));
  return std::move(parsed.first);
}

uint64_t Address::id() const {
  // Only ID addresses are asked for their id; their payload was validated at construction.
  CAIRN_CHECK(!empty() && protocol() == AddressProtocol::kId);
  return DecodeVarint(payload())->value;
}

std::string Address::ToString(Network network) const {
  if (empty()) {
    return "<empty>";
  }
  std::string out{NetworkLetter(network), static_cast<char>('0' + bytes_[0])};
  switch (protocol()) {
    case AddressProtocol::kId:
      return out + std::to_string(id());
    case AddressProtocol::kDelegated: {
      auto ns = *DecodeVarint(payload());
      return out + std::to_string(ns.value) + "f" +
             Base32WithChecksum(payload().subspan(ns.size), bytes_);
    }
    default:
      return out + Base32WithChecksum(payload(), bytes_);
  }
}

}  // namespace cairn::filecoin
