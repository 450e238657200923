#include "ipld/dag_cbor.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace cairn::ipld {

using multiformats::Cid;

// ---- CborValue ----------------------------------------------------------------------------

CborValue CborValue::Bool(bool value) {
  CborValue v;
  v.kind_ = CborKind::kBool;
  v.bool_or_negative_ = value;
  return v;
}

CborValue CborValue::Int(int64_t value) {
  if (value < 0) return NegativeInt(static_cast<uint64_t>(-(value + 1)));
  return Uint(static_cast<uint64_t>(value));
}

CborValue CborValue::Uint(uint64_t value) {
  CborValue v;
  v.kind_ = CborKind::kInt;
  v.uint_ = value;
  return v;
}

CborValue CborValue::NegativeInt(uint64_t n) {
  CborValue v;
  v.kind_ = CborKind::kInt;
  v.bool_or_negative_ = true;
  v.uint_ = n;
  return v;
}

CborValue CborValue::Float(double value) {
  CborValue v;
  v.kind_ = CborKind::kFloat;
  v.float_ = value;
  return v;
}

CborValue CborValue::ByteString(Bytes value) {
  CborValue v;
  v.kind_ = CborKind::kBytes;
  v.bytes_ = std::move(value);
  return v;
}

CborValue CborValue::String(std::string value) {
  CborValue v;
  v.kind_ = CborKind::kString;
  v.text_ = std::move(value);
  return v;
}

CborValue CborValue::MakeList(List items) {
  CborValue v;
  v.kind_ = CborKind::kList;
  v.list_ = std::move(items);
  return v;
}

CborValue CborValue::MakeMap(Map entries) {
  CborValue v;
  v.kind_ = CborKind::kMap;
  v.map_ = std::move(entries);
  return v;
}

CborValue CborValue::Link(Cid cid) {
  CborValue v;
  v.kind_ = CborKind::kLink;
  v.cid_ = std::move(cid);
  return v;
}

// Accessors check the kind: calling one on the wrong kind is a programming error.
bool CborValue::AsBool() const {
  CAIRN_CHECK(kind_ == CborKind::kBool);
  return bool_or_negative_;
}
double CborValue::AsFloat() const {
  CAIRN_CHECK(kind_ == CborKind::kFloat);
  return float_;
}
const Bytes& CborValue::AsBytes() const {
  CAIRN_CHECK(kind_ == CborKind::kBytes);
  return bytes_;
}
const std::string& CborValue::AsString() const {
  CAIRN_CHECK(kind_ == CborKind::kString);
  return text_;
}
const CborValue::List& CborValue::AsList() const {
  CAIRN_CHECK(kind_ == CborKind::kList);
  return list_;
}
CborValue::List& CborValue::AsList() {
  CAIRN_CHECK(kind_ == CborKind::kList);
  return list_;
}
const CborValue::Map& CborValue::AsMap() const {
  CAIRN_CHECK(kind_ == CborKind::kMap);
  return map_;
}
CborValue::Map& CborValue::AsMap() {
  CAIRN_CHECK(kind_ == CborKind::kMap);
  return map_;
}
const Cid& CborValue::AsLink() const {
  CAIRN_CHECK(kind_ == CborKind::kLink);
  return cid_;
}
bool CborValue::IsNegative() const {
  CAIRN_CHECK(kind_ == CborKind::kInt);
  return bool_or_negative_;
}
uint64_t CborValue::IntArgument() const {
  CAIRN_CHECK(kind_ == CborKind::kInt);
  return uint_;
}

Result<int64_t> CborValue::GetInt64() const {
  if (kind_ != CborKind::kInt) return Err(ErrorCode::kInvalidArgument, "dag-cbor: not an integer");
  if (uint_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Err(ErrorCode::kInvalidArgument, "dag-cbor: integer out of int64 range");
  }
  const auto v = static_cast<int64_t>(uint_);
  return bool_or_negative_ ? -1 - v : v;
}

Result<uint64_t> CborValue::GetUint64() const {
  if (kind_ != CborKind::kInt) return Err(ErrorCode::kInvalidArgument, "dag-cbor: not an integer");
  if (bool_or_negative_) {
    return Err(ErrorCode::kInvalidArgument, "dag-cbor: negative integer where unsigned expected");
  }
  return uint_;
}

const CborValue* CborValue::Find(std::string_view key) const {
  if (kind_ != CborKind::kMap) return nullptr;
  for (const auto& [k, v] : map_) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool DagCborKeyLess(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::memcmp(a.data(), b.data(), a.size()) < 0;  // bytewise, unsigned
}

// ---- CborWriter ---------------------------------------------------------------------------

void CborWriter::WriteHead(uint8_t major, uint64_t argument) {
  const auto m = static_cast<uint8_t>(major << 5);
  if (argument < 24) {
    out_.push_back(static_cast<uint8_t>(m | argument));
    return;
  }
  int bytes;
  if (argument <= 0xff) {
    out_.push_back(m | 24);
    bytes = 1;
  } else if (argument <= 0xffff) {
    out_.push_back(m | 25);
    bytes = 2;
  } else if (argument <= 0xffffffffULL) {
    out_.push_back(m | 26);
    bytes = 4;
  } else {
    out_.push_back(m | 27);
    bytes = 8;
  }
  for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(argument >> (8 * i)));
}

void CborWriter::WriteNull() { out_.push_back(0xf6); }
void CborWriter::WriteBool(bool value) { out_.push_back(value ? 0xf5 : 0xf4); }
void CborWriter::WriteUint(uint64_t value) { WriteHead(0, value); }
void CborWriter::WriteNegativeInt(uint64_t n) { WriteHead(1, n); }
void CborWriter::WriteInt(int64_t value) {
  if (value < 0) {
    WriteNegativeInt(static_cast<uint64_t>(-(value + 1)));
  } else {
    WriteUint(static_cast<uint64_t>(value));
  }
}

void CborWriter::WriteFloat64(double value) {
  // DAG-CBOR has no NaN or infinities; EncodeDagCbor filters them, direct callers must too.
  CAIRN_CHECK(std::isfinite(value));
  const auto bits = std::bit_cast<uint64_t>(value);
  out_.push_back(0xfb);
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
}

void CborWriter::WriteBytes(ByteSpan value) {
  WriteHead(2, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
}
void CborWriter::WriteString(std::string_view value) {
  WriteHead(3, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
}
void CborWriter::WriteArrayHeader(uint64_t count) { WriteHead(4, count); }
void CborWriter::WriteMapHeader(uint64_t count) { WriteHead(5, count); }

void CborWriter::WriteCid(const Cid& cid) {
  out_.push_back(0xd8);
  out_.push_back(42);
  Bytes body;
  body.push_back(0x00);
  cid.AppendTo(body);
  WriteBytes(body);
}

// ---- Encoder ------------------------------------------------------------------------------

namespace {

Result<void> EncodeValue(CborWriter& w, const CborValue& value, size_t depth) {
  switch (value.kind()) {
    case CborKind::kNull:
      w.WriteNull();
      return Ok();
    case CborKind::kBool:
      w.WriteBool(value.AsBool());
      return Ok();
    case CborKind::kInt:
      w.WriteHead(value.IsNegative() ? 1 : 0, value.IntArgument());
      return Ok();
    case CborKind::kFloat:
      if (!std::isfinite(value.AsFloat())) {
        return Err(ErrorCode::kInvalidArgument, "dag-cbor: cannot encode NaN or Infinity");
      }
      w.WriteFloat64(value.AsFloat());
      return Ok();
    case CborKind::kBytes:
      w.WriteBytes(value.AsBytes());
      return Ok();
    case CborKind::kString:
      w.WriteString(value.AsString());
      return Ok();
    case CborKind::kLink:
      w.WriteCid(value.AsLink());
      return Ok();
    case CborKind::kList:
    case CborKind::kMap:
      break;
  }
  if (depth >= kMaxDagCborDepth) {
    return Err(ErrorCode::kInvalidArgument, "dag-cbor: value nested too deeply to encode");
  }
  if (value.kind() == CborKind::kList) {
    w.WriteArrayHeader(value.AsList().size());
    for (const auto& item : value.AsList()) CAIRN_TRY(EncodeValue(w, item, depth + 1));
    return Ok();
  }
  const auto& map = value.AsMap();
  std::vector<const CborValue::Entry*> order;
  order.reserve(map.size());
  for (const auto& e : map) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return DagCborKeyLess(a->first, b->first); });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->first == order[i]->first) {
      return Err(ErrorCode::kInvalidArgument,
                 "dag-cbor: duplicate map key \"" + order[i]->first + "\"");
    }
  }
  w.WriteMapHeader(map.size());
  for (const auto* e : order) {
    w.WriteString(e->first);
    CAIRN_TRY(EncodeValue(w, e->second, depth + 1));
  }
  return Ok();
}

// ---- Decoder ------------------------------------------------------------------------------

bool ValidUtf8(ByteSpan s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values above U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

class Decoder {
 public:
  explicit Decoder(ByteSpan in) : in_(in) {}

  Result<CborValue> DecodeAll() {
    CborValue v = CAIRN_TRY(Decode(0));
    if (pos_ != in_.size()) return Fail(pos_, "trailing bytes after the value");
    return v;
  }

 private:
  struct Head {
    uint8_t major;
    uint8_t minor;
    uint64_t argument;
  };

  tl::unexpected<Error> Fail(size_t at, const std::string& what) const {
    return Err(ErrorCode::kInvalidArgument,
               "dag-cbor: at offset " + std::to_string(at) + ": " + what);
  }

  Result<Head> ReadHead() {
    const size_t start = pos_;
    if (pos_ >= in_.size()) return Fail(pos_, "unexpected end of input");
    const uint8_t b = in_[pos_++];
    Head h{static_cast<uint8_t>(b >> 5), static_cast<uint8_t>(b & 0x1f), 0};
    if (h.major == 7) return h;  // floats and simple values: handled by the caller
    if (h.minor < 24) {
      h.argument = h.minor;
      return h;
    }
    if (h.minor == 31) return Fail(start, "indefinite-length items are not allowed");
    if (h.minor > 27) return Fail(start, "reserved additional information");
    const size_t n = size_t{1} << (h.minor - 24);
    if (in_.size() - pos_ < n) return Fail(start, "unexpected end of input");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | in_[pos_++];
    const uint64_t min = n == 1 ? 24 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000ULL;
    if (v < min) return Fail(start, "integer or length not minimally encoded");
    h.argument = v;
    return h;
  }

  // Checks a claimed byte length fits in the remaining input, before anything is allocated.
  Result<ByteSpan> TakeBytes(size_t at, uint64_t length) {
    if (length > in_.size() - pos_) return Fail(at, "length runs past the end of input");
    ByteSpan s = in_.subspan(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return s;
  }

  Result<std::string> ReadKey() {
    const size_t at = pos_;
    Head h = CAIRN_TRY(ReadHead());
    if (h.major != 3) return Fail(at, "map key is not a string");
    ByteSpan s = CAIRN_TRY(TakeBytes(at, h.argument));
    if (!ValidUtf8(s)) return Fail(at, "map key is not valid UTF-8");
    return std::string(AsString(s));
  }

  Result<CborValue> Decode(size_t depth) {
    const size_t at = pos_;
    Head h = CAIRN_TRY(ReadHead());
    switch (h.major) {
      case 0:
        return CborValue::Uint(h.argument);
      case 1:
        return CborValue::NegativeInt(h.argument);
      case 2: {
        ByteSpan s = CAIRN_TRY(TakeBytes(at, h.argument));
        return CborValue::ByteString(Bytes(s.begin(), s.end()));
      }
      case 3: {
        ByteSpan s = CAIRN_TRY(TakeBytes(at, h.argument));
        if (!ValidUtf8(s)) return Fail(at, "string is not valid UTF-8");
        return CborValue::String(std::string(AsString(s)));
      }
      case 4: {
        if (depth >= kMaxDagCborDepth) return Fail(at, "nesting too deep");
        // Every item takes at least one byte: a count beyond the remaining input cannot be valid.
        if (h.argument > in_.size() - pos_)
          return Fail(at, "list length runs past the end of input");
        CborValue::List items;
        items.reserve(static_cast<size_t>(h.argument));
        for (uint64_t i = 0; i < h.argument; ++i) items.push_back(CAIRN_TRY(Decode(depth + 1)));
        return CborValue::MakeList(std::move(items));
      }
      case 5: {
        if (depth >= kMaxDagCborDepth) return Fail(at, "nesting too deep");
        // Every entry takes at least two bytes.
        if (h.argument > (in_.size() - pos_) / 2) {
          return Fail(at, "map length runs past the end of input");
        }
        CborValue::Map entries;
        entries.reserve(static_cast<size_t>(h.argument));
        for (uint64_t i = 0; i < h.argument; ++i) {
          const size_t key_at = pos_;
          std::string key = CAIRN_TRY(ReadKey());
          if (!entries.empty()) {
            const std::string& prev = entries.back().first;
            if (prev == key) return Fail(key_at, "duplicate map key \"" + key + "\"");
            if (!DagCborKeyLess(prev, key)) return Fail(key_at, "map keys not in canonical order");
          }
          CborValue value = CAIRN_TRY(Decode(depth + 1));
          entries.emplace_back(std::move(key), std::move(value));
        }
        return CborValue::MakeMap(std::move(entries));
      }
      case 6: {
        if (h.argument != 42) {
          return Fail(at, "tag " + std::to_string(h.argument) + " is not allowed (only 42)");
        }
        const size_t body_at = pos_;
        Head b = CAIRN_TRY(ReadHead());
        if (b.major != 2) return Fail(body_at, "tag 42 must wrap a byte string");
        ByteSpan s = CAIRN_TRY(TakeBytes(body_at, b.argument));
        if (s.empty() || s[0] != 0x00) {
          return Fail(body_at, "link bytes must start with the identity multibase prefix 0x00");
        }
        auto cid = Cid::FromBytes(s.subspan(1));
        if (!cid) return Fail(body_at, "invalid CID in link: " + cid.error().message());
        return CborValue::Link(std::move(*cid));
      }
      default:
        break;
    }
    // Major type 7.
    switch (h.minor) {
      case 20:
        return CborValue::Bool(false);
      case 21:
        return CborValue::Bool(true);
      case 22:
        return CborValue::Null();
      case 23:
        return Fail(at, "undefined is not allowed");
      case 25:
      case 26:
        return Fail(at, "floats must be encoded as 64-bit");
      case 27: {
        if (in_.size() - pos_ < 8) return Fail(at, "unexpected end of input");
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | in_[pos_++];
        const double d = std::bit_cast<double>(bits);
        if (std::isnan(d)) return Fail(at, "NaN is not allowed");
        if (std::isinf(d)) return Fail(at, "Infinity is not allowed");
        return CborValue::Float(d);
      }
      case 31:
        return Fail(at, "unexpected break (indefinite lengths are not allowed)");
      default:
        return Fail(at, "simple value " + std::to_string(h.minor) + " is not allowed");
    }
  }

  ByteSpan in_;
  size_t pos_ = 0;
};

}  // namespace

Result<CborValue> DecodeDagCbor(ByteSpan bytes) { return Decoder(bytes).DecodeAll(); }

Result<Bytes> EncodeDagCbor(const CborValue& value) {
  Bytes out;
  CborWriter w(out);
  CAIRN_TRY(EncodeValue(w, value, 0));
  return out;
}

}  // namespace cairn::ipld
