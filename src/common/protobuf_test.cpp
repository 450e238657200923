#include "common/protobuf.hpp"

#include <gtest/gtest.h>

namespace cairn::protobuf {
namespace {

Bytes Hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<Field> ReadAll(ByteSpan in) {
  Reader r(in, "test");
  std::vector<Field> out;
  while (true) {
    auto f = r.Next();
    EXPECT_TRUE(f.has_value()) << f.error().message();
    if (!f || !*f) break;
    out.push_back(**f);
  }
  return out;
}

std::string ErrorOf(ByteSpan in) {
  Reader r(in, "msg");
  while (true) {
    auto f = r.Next();
    if (!f) return f.error().message();
    if (!*f) return "";
  }
}

TEST(Protobuf, EncodesTheSpecExamples) {
  // protobuf.dev encoding guide: message Test1 { int32 a = 1; } with a = 150 is 08 96 01, and
  // Test2 { string b = 2; } with b = "testing" is 12 07 74 65 73 74 69 6e 67.
  Writer w;
  w.Varint(1, 150);
  EXPECT_EQ(w.bytes(), Hex("089601"));
  Writer s;
  s.String(2, "testing");
  EXPECT_EQ(s.bytes(), Hex("120774657374696e67"));
  // Test3 { Test1 c = 3; } with c.a = 150 is 1a 03 08 96 01.
  Writer t;
  t.Message(3, w);
  EXPECT_EQ(t.bytes(), Hex("1a03089601"));
  Writer z;
  z.Sint(1, -2);
  z.Fixed32(2, 0x01020304);
  z.Fixed64(3, 1);
  EXPECT_EQ(z.bytes(), Hex("0803"
                           "1504030201"
                           "190100000000000000"));
}

TEST(Protobuf, RoundTripsEveryWireType) {
  Writer w;
  w.Varint(1, UINT64_MAX);
  w.Bool(2, true);
  w.BytesField(3, {});
  w.String(536870911, "max field");
  w.Fixed64(5, 0x1122334455667788);
  w.Fixed32(6, 7);
  const auto fields = ReadAll(w.bytes());
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0].varint, UINT64_MAX);
  EXPECT_EQ(*fields[1].AsBool("t"), true);
  EXPECT_TRUE(fields[2].AsBytes("t")->empty());
  EXPECT_EQ(fields[3].number, 536870911u);
  EXPECT_EQ(*fields[3].AsString("t"), "max field");
  EXPECT_EQ(fields[4].fixed, 0x1122334455667788u);
  EXPECT_EQ(fields[5].type, WireType::kFixed32);
  EXPECT_EQ(fields[5].fixed, 7u);
  EXPECT_EQ(VarintSize(UINT64_MAX), 10u);
  EXPECT_EQ(VarintSize(127), 1u);
  EXPECT_EQ(VarintSize(128), 2u);
}

TEST(Protobuf, NestedReadersReportAbsoluteOffsets) {
  Writer inner;
  inner.Varint(1, 1);
  Writer outer;
  outer.Varint(1, 5);
  outer.Message(2, inner);
  Bytes bytes = outer.Take();
  bytes.back() = 0x80;  // inner varint now truncated, at absolute offset 5
  Reader r(bytes, "outer");
  auto first = r.Next();
  ASSERT_TRUE(first && *first);
  auto second = r.Next();
  ASSERT_TRUE(second && *second);
  Reader nested = r.Nested(**second, "inner");
  auto bad = nested.Next();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "inner: at offset 5: field 1: truncated varint");
}

TEST(Protobuf, RefusesMalformedInputWithItsOffset) {
  EXPECT_EQ(ErrorOf(Hex("0896")), "msg: at offset 1: field 1: truncated varint");
  EXPECT_EQ(ErrorOf(Hex("088000")), "msg: at offset 1: field 1: non-minimal varint");
  EXPECT_EQ(ErrorOf(Hex("08ffffffffffffffffff02")),
            "msg: at offset 1: field 1: varint overflows 64 bits");
  EXPECT_EQ(ErrorOf(Hex("0b")), "msg: at offset 0: unsupported wire type 3 for field 1");
  EXPECT_EQ(ErrorOf(Hex("0001")), "msg: at offset 0: field number 0 out of range");
  EXPECT_EQ(ErrorOf(Hex("1205616263")),
            "msg: at offset 1: field 2 length 5 exceeds the remaining 3 bytes");
  EXPECT_EQ(ErrorOf(Hex("1d0102")), "msg: at offset 1: truncated fixed-width field 3");
  EXPECT_EQ(ErrorOf(Hex("80")), "msg: at offset 0: tag: truncated varint");
  // Field numbers above 2^29-1 do not exist.
  Bytes big;
  AppendVarint(big, (uint64_t{1} << 29) << 3);
  big.push_back(0);
  EXPECT_EQ(ErrorOf(big), "msg: at offset 0: field number 536870912 out of range");
}

TEST(Protobuf, FieldAccessorsCheckTheWireType) {
  const Bytes bytes =
      Hex("0802"
          "1200");
  const auto fields = ReadAll(bytes);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].AsBytes("key").error().message(),
            "key: at offset 0: field 1 is varint, expected length-delimited");
  EXPECT_EQ(fields[1].AsVarint("key").error().message(),
            "key: at offset 2: field 2 is length-delimited, expected varint");
  EXPECT_EQ(fields[0].AsBool("key").error().message(), "key: at offset 0: field 1 is not a bool");
}

}  // namespace
}  // namespace cairn::protobuf
