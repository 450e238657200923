// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a small writer and a
// strict reader for the hand-written codecs of libp2p (keys, Noise payloads, identify), bitswap and
// the DHT, and dag-pb. No schema compiler: each codec names its fields and checks their types.
//
// Reader rules, for untrusted bytes: varints are at most 10 bytes, fit in 64 bits and are minimal
// (no trailing zero groups); a length-delimited field's length must fit in what remains; only wire
// types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit) exist (groups, 3 and 4, are
// refused); field numbers are 1..2^29-1. Every error is kInvalidArgument and names the absolute
// byte offset and the `what` the caller gave ("bitswap message", "noise payload").
// The reader never allocates: bytes fields are views into the input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::protobuf {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// Bytes AppendVarint writes for `value` (1..10).
size_t VarintSize(uint64_t value);
// Appends `value` as a protobuf varint (LEB128, up to 10 bytes).
void AppendVarint(Bytes& out, uint64_t value);
// Writes `value` at `out` (room for VarintSize(value) bytes); returns the byte after it.
uint8_t* EncodeVarint(uint64_t value, uint8_t* out);
// Decodes the varint at the start of `in` (rules above); returns {value, bytes consumed}.
struct DecodedVarint {
  uint64_t value;
  size_t size;
};
Result<DecodedVarint> DecodeVarint(ByteSpan in, std::string_view what);

// Appends fields to a message. Fields are written in call order; proto3 default values are
// written too (callers skip them where the schema says so).
class Writer {
 public:
  void Varint(uint32_t field, uint64_t value);
  void Bool(uint32_t field, bool value) { Varint(field, value ? 1 : 0); }
  // Zig-zag encoded (sint32/sint64).
  void Sint(uint32_t field, int64_t value);
  void Fixed64(uint32_t field, uint64_t value);
  void Fixed32(uint32_t field, uint32_t value);
  void BytesField(uint32_t field, ByteSpan value);
  void String(uint32_t field, std::string_view value);
  // A nested message: its encoded bytes, length-delimited.
  void Message(uint32_t field, const Writer& nested) { BytesField(field, nested.bytes()); }

  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  void Tag(uint32_t field, WireType type);
  Bytes out_;
};

// One decoded field. For kVarint, `varint` holds the value; for kFixed64/kFixed32, `fixed`; for
// kLen, `bytes` views the payload inside the reader's input.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;
  uint64_t fixed = 0;
  ByteSpan bytes;
  size_t offset = 0;  // absolute offset of the field's tag

  // The value as the schema expects it; an error (naming `what` and the field) when the wire
  // type differs.
  Result<uint64_t> AsVarint(std::string_view what) const;
  Result<bool> AsBool(std::string_view what) const;
  Result<ByteSpan> AsBytes(std::string_view what) const;
  Result<std::string_view> AsString(std::string_view what) const;
};

// Iterates the fields of one message. `what` must outlive the reader (a literal, usually). `base`
// is the absolute offset of `message` inside the outermost input, so nested readers report offsets
// a user can find.
class Reader {
 public:
  Reader(ByteSpan message, std::string_view what, size_t base = 0)
      : in_(message), what_(what), base_(base) {}

  // The next field, or nullopt at the end of the message.
  Result<std::optional<Field>> Next();
  // A reader over a length-delimited field's payload (offsets stay absolute).
  Reader Nested(const Field& field, std::string_view what) const;
  bool done() const { return pos_ == in_.size(); }

 private:
  tl::unexpected<Error> Fail(size_t at, const std::string& why) const;

  ByteSpan in_;
  std::string_view what_;
  size_t base_;
  size_t pos_ = 0;
};

}  // namespace cairn::protobuf
