// DAG-CBOR codec (../shared/specs/ipld/dag-cbor.md): the IPLD data model in deterministic CBOR.
//
// Three parts:
// - CborValue: a small value model of the IPLD data model (null, bool, integer over the whole
//   CBOR range -2^64..2^64-1, float64, bytes, string, list, map with string keys, link).
// - DecodeDagCbor: a strict decoder implementing the spec's "Strictness" section. It rejects
//   indefinite lengths, non-minimal integer/length/tag encodings, tags other than 42 (and 42 on
//   anything but a byte string holding 0x00 + a valid CID), map keys that are not strings, not in
//   canonical order (length first, then bytewise) or duplicated, floats other than 64-bit, NaN and
//   ±Infinity, undefined and other simple values, strings that are not UTF-8, nesting deeper than
//   kMaxDagCborDepth, lengths that run past the input, and trailing bytes. It never allocates on a
//   claimed length before checking that the input can hold it. Errors are InvalidArgument with the
//   byte offset ("dag-cbor: at offset 7: map keys not in canonical order").
// - EncodeDagCbor / CborWriter: canonical encoding. EncodeDagCbor sorts map keys itself;
//   CborWriter is the low-level streaming encoder for hand-written structures (Filecoin messages,
//   proofs), where the caller writes items in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "multiformats/cid.hpp"

namespace cairn::ipld {

// Lists and maps nested deeper than this are rejected on decode (and on encode).
inline constexpr size_t kMaxDagCborDepth = 512;

enum class CborKind { kNull, kBool, kInt, kFloat, kBytes, kString, kList, kMap, kLink };

// One IPLD data-model value. Maps keep their entries in a vector: the decoder produces them in
// canonical order; EncodeDagCbor sorts them (and rejects duplicates), so callers may build maps in
// any order. Accessors As*() require the matching kind (checked: calling AsBool on a map aborts).
class CborValue {
 public:
  using List = std::vector<CborValue>;
  using Entry = std::pair<std::string, CborValue>;
  using Map = std::vector<Entry>;

  CborValue() = default;  // null

  static CborValue Null() { return CborValue(); }
  static CborValue Bool(bool value);
  static CborValue Int(int64_t value);
  static CborValue Uint(uint64_t value);
  // The negative integer -1 - n (CBOR major type 1 with argument n): reaches down to -2^64.
  static CborValue NegativeInt(uint64_t n);
  static CborValue Float(double value);  // must be finite to encode
  static CborValue ByteString(Bytes value);
  static CborValue String(std::string value);
  static CborValue MakeList(List items);
  static CborValue MakeMap(Map entries);
  static CborValue Link(multiformats::Cid cid);

  CborKind kind() const { return kind_; }
  bool is_null() const { return kind_ == CborKind::kNull; }

  bool AsBool() const;
  double AsFloat() const;
  const Bytes& AsBytes() const;
  const std::string& AsString() const;
  const List& AsList() const;
  List& AsList();
  const Map& AsMap() const;
  Map& AsMap();
  const multiformats::Cid& AsLink() const;

  // Integers: whether the value is negative, and its CBOR argument (value for non-negative,
  // -1 - value for negative).
  bool IsNegative() const;
  uint64_t IntArgument() const;
  // The integer as int64/uint64. InvalidArgument when the value is not an integer or out of range.
  Result<int64_t> GetInt64() const;
  Result<uint64_t> GetUint64() const;

  // The value under `key` in a map, or nullptr (also when this is not a map).
  const CborValue* Find(std::string_view key) const;

  friend bool operator==(const CborValue&, const CborValue&) = default;

 private:
  CborKind kind_ = CborKind::kNull;
  bool bool_or_negative_ = false;  // kBool: the value; kInt: negative
  uint64_t uint_ = 0;              // kInt: the CBOR argument
  double float_ = 0;
  std::string text_;  // kString
  Bytes bytes_;       // kBytes
  List list_;
  Map map_;
  multiformats::Cid cid_;
};

// Strict decode of exactly one DAG-CBOR value filling `bytes` (see the header comment for what is
// rejected). Errors are InvalidArgument naming the offset.
Result<CborValue> DecodeDagCbor(ByteSpan bytes);

// Canonical DAG-CBOR bytes of `value`. InvalidArgument for duplicate map keys, non-finite floats
// or nesting deeper than kMaxDagCborDepth (values the decoder would reject).
Result<Bytes> EncodeDagCbor(const CborValue& value);

// Canonical map-key order: shorter keys first, equal lengths bytewise.
bool DagCborKeyLess(std::string_view a, std::string_view b);

// Calls `fn(cid)` for every link in `value`, in document order (depth-first, map entries in the
// order stored).
template <typename Fn>
void ForEachLink(const CborValue& value, Fn&& fn) {
  switch (value.kind()) {
    case CborKind::kLink:
      fn(value.AsLink());
      break;
    case CborKind::kList:
      for (const auto& item : value.AsList()) ForEachLink(item, fn);
      break;
    case CborKind::kMap:
      for (const auto& [key, item] : value.AsMap()) ForEachLink(item, fn);
      break;
    default:
      break;
  }
}

// Low-level streaming DAG-CBOR encoder: appends CBOR items to a caller-owned buffer, always in
// the shortest form DAG-CBOR requires (minimal heads, float64, tag 42 as 0xd82a). It does no
// bookkeeping: after WriteArrayHeader(n) the caller writes exactly n items, after
// WriteMapHeader(n) exactly n key/value pairs with string keys in canonical order (DagCborKeyLess)
// — the result is valid DAG-CBOR only if it does. Example (a 2-tuple [1, h'00ff']):
//   Bytes out; CborWriter w(out); w.WriteArrayHeader(2); w.WriteUint(1); w.WriteBytes(data);
class CborWriter {
 public:
  explicit CborWriter(Bytes& out) : out_(out) {}

  void WriteNull();
  void WriteBool(bool value);
  void WriteUint(uint64_t value);
  void WriteInt(int64_t value);
  // -1 - n.
  void WriteNegativeInt(uint64_t n);
  // Float64 always. The caller must pass a finite value (CAIRN_CHECKed).
  void WriteFloat64(double value);
  void WriteBytes(ByteSpan value);
  void WriteString(std::string_view value);
  void WriteArrayHeader(uint64_t count);
  void WriteMapHeader(uint64_t count);
  // Tag 42 + byte string 0x00 || cid bytes.
  void WriteCid(const multiformats::Cid& cid);
  // The raw head of major type `major` (0..7) with `argument`, minimal form.
  void WriteHead(uint8_t major, uint64_t argument);

 private:
  Bytes& out_;
};

}  // namespace cairn::ipld
