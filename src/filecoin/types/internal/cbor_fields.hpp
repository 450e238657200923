// Typed access to decoded DAG-CBOR values for the Filecoin types: every failure is an
// InvalidArgument naming the field ("DealProposal.PieceSize: expected an unsigned integer").
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "filecoin/types/address.hpp"
#include "filecoin/types/big_int.hpp"
#include "filecoin/types/signature.hpp"
#include "ipld/dag_cbor.hpp"

namespace cairn::filecoin::internal {

using ipld::CborValue;

tl::unexpected<Error> FieldError(std::string_view field, std::string_view problem);

// Strict DAG-CBOR decode of a whole top-level `type`.
Result<CborValue> DecodeTop(ByteSpan bytes, std::string_view type);
// Canonical bytes of a value built by this subsystem (cannot fail: no floats, no deep nesting).
Bytes EncodeValue(const CborValue& value);

// The items of a list of exactly `n` elements.
Result<const CborValue::List*> Tuple(const CborValue& v, size_t n, std::string_view field);
Result<uint64_t> Uint(const CborValue& v, std::string_view field);
Result<int64_t> Int(const CborValue& v, std::string_view field);
Result<bool> Bool(const CborValue& v, std::string_view field);
Result<Bytes> ByteString(const CborValue& v, std::string_view field);
Result<std::string> Text(const CborValue& v, std::string_view field);
Result<multiformats::Cid> Link(const CborValue& v, std::string_view field);
Result<Address> AddressField(const CborValue& v, std::string_view field);
Result<BigInt> BigIntField(const CborValue& v, std::string_view field);
Result<Signature> SignatureField(const CborValue& v, std::string_view field);

// A map with exactly the keys `keys` (no more, none missing). `type` prefixes field names.
class MapFields {
 public:
  static Result<MapFields> Read(const CborValue& v, std::string_view type,
                                std::initializer_list<std::string_view> keys);
  const CborValue& operator[](std::string_view key) const;
  // "Type.Key", for errors.
  std::string Name(std::string_view key) const { return type_ + "." + std::string(key); }

 private:
  MapFields(const CborValue* map, std::string type) : map_(map), type_(std::move(type)) {}
  const CborValue* map_;
  std::string type_;
};

CborValue BigIntValue(const BigInt& v);
CborValue AddressValue(const Address& a);

}  // namespace cairn::filecoin::internal
