// Protobuf wire format: writer and strict reader (contracts in protobuf.hpp).
#include "common/protobuf.hpp"

#include <cstring>

namespace cairn::protobuf {
namespace {

constexpr uint32_t kMaxField = (1u << 29) - 1;

const char* TypeName(WireType type) {
  switch (type) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "64-bit";
    case WireType::kLen:
      return "length-delimited";
    case WireType::kFixed32:
      return "32-bit";
  }
  return "unknown";
}

void AppendLittleEndian(Bytes& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint64_t ReadLittleEndian(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

void AppendVarint(Bytes& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value) | 0x80);
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

uint8_t* EncodeVarint(uint64_t value, uint8_t* out) {
  while (value >= 0x80) {
    *out++ = static_cast<uint8_t>(value) | 0x80;
    value >>= 7;
  }
  *out++ = static_cast<uint8_t>(value);
  return out;
}

Result<DecodedVarint> DecodeVarint(ByteSpan in, std::string_view what) {
  uint64_t value = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i == in.size()) {
      return Err(ErrorCode::kInvalidArgument, std::string(what) + ": truncated varint");
    }
    const uint8_t b = in[i];
    if (i == 9 && b > 1) {
      return Err(ErrorCode::kInvalidArgument, std::string(what) + ": varint overflows 64 bits");
    }
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) {
        return Err(ErrorCode::kInvalidArgument, std::string(what) + ": non-minimal varint");
      }
      return DecodedVarint{value, i + 1};
    }
  }
  return Err(ErrorCode::kInvalidArgument, std::string(what) + ": varint longer than 10 bytes");
}

void Writer::Tag(uint32_t field, WireType type) {
  AppendVarint(out_, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

void Writer::Varint(uint32_t field, uint64_t value) {
  Tag(field, WireType::kVarint);
  AppendVarint(out_, value);
}

void Writer::Sint(uint32_t field, int64_t value) {
  const uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  Varint(field, zigzag);
}

void Writer::Fixed64(uint32_t field, uint64_t value) {
  Tag(field, WireType::kFixed64);
  AppendLittleEndian(out_, value, 8);
}

void Writer::Fixed32(uint32_t field, uint32_t value) {
  Tag(field, WireType::kFixed32);
  AppendLittleEndian(out_, value, 4);
}

void Writer::BytesField(uint32_t field, ByteSpan value) {
  Tag(field, WireType::kLen);
  AppendVarint(out_, value.size());
  out_.insert(out_.end(), value.begin(), value.end());
}

void Writer::String(uint32_t field, std::string_view value) {
  BytesField(field, ByteSpan(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
}

tl::unexpected<Error> Reader::Fail(size_t at, const std::string& why) const {
  return Err(ErrorCode::kInvalidArgument,
             std::string(what_) + ": at offset " + std::to_string(at) + ": " + why);
}

Result<std::optional<Field>> Reader::Next() {
  if (pos_ == in_.size()) return std::optional<Field>();
  Field f;
  f.offset = base_ + pos_;
  auto tag = DecodeVarint(in_.subspan(pos_), "tag");
  if (!tag) return Fail(f.offset, tag.error().message());
  pos_ += tag->size;
  const uint64_t number = tag->value >> 3;
  const uint64_t type = tag->value & 7;
  if (number == 0 || number > kMaxField) {
    return Fail(f.offset, "field number " + std::to_string(number) + " out of range");
  }
  f.number = static_cast<uint32_t>(number);
  const size_t value_at = base_ + pos_;
  switch (type) {
    case 0: {
      auto v = DecodeVarint(in_.subspan(pos_), "field " + std::to_string(number));
      if (!v) return Fail(value_at, v.error().message());
      pos_ += v->size;
      f.type = WireType::kVarint;
      f.varint = v->value;
      break;
    }
    case 1:
    case 5: {
      const size_t width = type == 1 ? 8 : 4;
      if (in_.size() - pos_ < width) {
        return Fail(value_at, "truncated fixed-width field " + std::to_string(number));
      }
      f.type = type == 1 ? WireType::kFixed64 : WireType::kFixed32;
      f.fixed = ReadLittleEndian(in_.data() + pos_, static_cast<int>(width));
      pos_ += width;
      break;
    }
    case 2: {
      auto len = DecodeVarint(in_.subspan(pos_), "length of field " + std::to_string(number));
      if (!len) return Fail(value_at, len.error().message());
      pos_ += len->size;
      if (len->value > in_.size() - pos_) {
        return Fail(value_at, "field " + std::to_string(number) + " length " +
                                  std::to_string(len->value) + " exceeds the remaining " +
                                  std::to_string(in_.size() - pos_) + " bytes");
      }
      f.type = WireType::kLen;
      f.bytes = in_.subspan(pos_, static_cast<size_t>(len->value));
      pos_ += static_cast<size_t>(len->value);
      break;
    }
    default:
      return Fail(f.offset, "unsupported wire type " + std::to_string(type) + " for field " +
                                std::to_string(number));
  }
  return std::optional<Field>(f);
}

Reader Reader::Nested(const Field& field, std::string_view what) const {
  const size_t base = field.bytes.empty()
                          ? base_ + pos_
                          : base_ + static_cast<size_t>(field.bytes.data() - in_.data());
  return Reader(field.bytes, what, base);
}

namespace {
tl::unexpected<Error> WrongType(const Field& f, std::string_view what, WireType want) {
  return Err(ErrorCode::kInvalidArgument, std::string(what) + ": at offset " +
                                              std::to_string(f.offset) + ": field " +
                                              std::to_string(f.number) + " is " + TypeName(f.type) +
                                              ", expected " + TypeName(want));
}
}  // namespace

Result<uint64_t> Field::AsVarint(std::string_view what) const {
  if (type != WireType::kVarint) return WrongType(*this, what, WireType::kVarint);
  return varint;
}

Result<bool> Field::AsBool(std::string_view what) const {
  const uint64_t v = CAIRN_TRY(AsVarint(what));
  if (v > 1) {
    return Err(ErrorCode::kInvalidArgument, std::string(what) + ": at offset " +
                                                std::to_string(offset) + ": field " +
                                                std::to_string(number) + " is not a bool");
  }
  return v == 1;
}

Result<ByteSpan> Field::AsBytes(std::string_view what) const {
  if (type != WireType::kLen) return WrongType(*this, what, WireType::kLen);
  return bytes;
}

Result<std::string_view> Field::AsString(std::string_view what) const {
  const ByteSpan b = CAIRN_TRY(AsBytes(what));
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace cairn::protobuf
