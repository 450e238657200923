#include "filecoin/types/internal/cbor_fields.hpp"

#include <algorithm>

namespace cairn::filecoin::internal {

tl::unexpected<Error> FieldError(std::string_view field, std::string_view problem) {
  return Err(ErrorCode::kInvalidArgument, std::string(field) + ": " + std::string(problem));
}

Result<CborValue> DecodeTop(ByteSpan bytes, std::string_view type) {
  auto v = ipld::DecodeDagCbor(bytes);
  if (!v) {
    return FieldError(type, v.error().message());
  }
  return std::move(*v);
}

Bytes EncodeValue(const CborValue& value) {
  auto bytes = ipld::EncodeDagCbor(value);
  // Values built here hold no floats, no duplicate keys and nest a few levels deep only.
  CAIRN_CHECK(bytes.has_value());
  return std::move(*bytes);
}

Result<const CborValue::List*> Tuple(const CborValue& v, size_t n, std::string_view field) {
  if (v.kind() != ipld::CborKind::kList) {
    return FieldError(field, "expected an array of " + std::to_string(n));
  }
  if (v.AsList().size() != n) {
    return FieldError(field, "expected " + std::to_string(n) + " fields, got " +
                                 std::to_string(v.AsList().size()));
  }
  return &v.AsList();
}

Result<uint64_t> Uint(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kInt || v.IsNegative()) {
    return FieldError(field, "expected an unsigned integer");
  }
  return v.IntArgument();
}

Result<int64_t> Int(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kInt) {
    return FieldError(field, "expected an integer");
  }
  auto i = v.GetInt64();
  if (!i) {
    return FieldError(field, "integer out of int64 range");
  }
  return *i;
}

Result<bool> Bool(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kBool) {
    return FieldError(field, "expected a bool");
  }
  return v.AsBool();
}

Result<Bytes> ByteString(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kBytes) {
    return FieldError(field, "expected a byte string");
  }
  return v.AsBytes();
}

Result<std::string> Text(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kString) {
    return FieldError(field, "expected a text string");
  }
  return v.AsString();
}

Result<multiformats::Cid> Link(const CborValue& v, std::string_view field) {
  if (v.kind() != ipld::CborKind::kLink) {
    return FieldError(field, "expected a CID (tag 42)");
  }
  return v.AsLink();
}

Result<Address> AddressField(const CborValue& v, std::string_view field) {
  auto bytes = CAIRN_TRY(ByteString(v, field));
  auto a = Address::FromBytes(bytes);
  if (!a) {
    return FieldError(field, a.error().message());
  }
  return std::move(*a);
}

Result<BigInt> BigIntField(const CborValue& v, std::string_view field) {
  auto bytes = CAIRN_TRY(ByteString(v, field));
  auto b = BigInt::FromBytes(bytes);
  if (!b) {
    return FieldError(field, b.error().message());
  }
  return std::move(*b);
}

Result<Signature> SignatureField(const CborValue& v, std::string_view field) {
  auto bytes = CAIRN_TRY(ByteString(v, field));
  auto s = Signature::FromBytes(bytes);
  if (!s) {
    return FieldError(field, s.error().message());
  }
  return std::move(*s);
}

Result<MapFields> MapFields::Read(const CborValue& v, std::string_view type,
                                  std::initializer_list<std::string_view> keys) {
  if (v.kind() != ipld::CborKind::kMap) {
    return FieldError(type, "expected a map of " + std::to_string(keys.size()) + " fields");
  }
  for (const auto& [key, value] : v.AsMap()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return FieldError(std::string(type) + "." + key, "unknown field");
    }
  }
  for (std::string_view key : keys) {
    if (v.Find(key) == nullptr) {
      return FieldError(std::string(type) + "." + std::string(key), "missing");
    }
  }
  return MapFields(&v, std::string(type));
}

const CborValue& MapFields::operator[](std::string_view key) const {
  const CborValue* found = map_->Find(key);
  // Read() checked that every listed key is present; callers ask only for listed keys.
  CAIRN_CHECK(found != nullptr);
  return *found;
}

CborValue BigIntValue(const BigInt& v) { return CborValue::ByteString(v.ToBytes()); }
CborValue AddressValue(const Address& a) { return CborValue::ByteString(a.ToBytes()); }

}  // namespace cairn::filecoin::internal
