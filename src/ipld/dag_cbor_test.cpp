#include "ipld/dag_cbor.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "multiformats/multicodec.hpp"

namespace cairn::ipld {
namespace {

using multiformats::Cid;

Bytes Hex(std::string_view h) { return *HexDecode(h); }

Cid TestCid() { return *Cid::Parse("bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"); }

std::string EncodeHex(const CborValue& v) {
  auto bytes = EncodeDagCbor(v);
  EXPECT_TRUE(bytes.has_value());
  return bytes ? HexEncode(*bytes) : "";
}

// Expected bytes produced by @ipld/dag-cbor 10.0.2 (see tests/interop/car_crosscheck.mjs).
constexpr std::string_view kMixedHex =
    "a46161850120fb3ff8000000000000f6f562626243010203646c696e6bd82a58250001711220e3b0c44298fc1c14"
    "9afbf4c8996fb92427ae41e4649b934ca495991b7852b8556568656c6c6f65776f726c64";

CborValue MixedValue() {
  // Built out of order on purpose: the encoder sorts keys length-first.
  return CborValue::MakeMap({
      {"hello", CborValue::String("world")},
      {"link", CborValue::Link(TestCid())},
      {"bb", CborValue::ByteString({1, 2, 3})},
      {"a", CborValue::MakeList({CborValue::Int(1), CborValue::Int(-1), CborValue::Float(1.5),
                                 CborValue::Null(), CborValue::Bool(true)})},
  });
}

TEST(DagCbor, EncodesLikeJsDagCbor) { EXPECT_EQ(EncodeHex(MixedValue()), kMixedHex); }

TEST(DagCbor, DecodesJsDagCborBytes) {
  auto v = DecodeDagCbor(Hex(kMixedHex));
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->AsMap()[0].first, "a");
  EXPECT_EQ(v->Find("hello")->AsString(), "world");
  EXPECT_EQ(v->Find("link")->AsLink(), TestCid());
  EXPECT_EQ(*v->Find("a")->AsList()[1].GetInt64(), -1);
  EXPECT_EQ(v->Find("a")->AsList()[2].AsFloat(), 1.5);
  EXPECT_EQ(EncodeHex(*v), kMixedHex);
}

TEST(DagCbor, IntegerExtremes) {
  EXPECT_EQ(EncodeHex(CborValue::NegativeInt(std::numeric_limits<uint64_t>::max())),
            "3bffffffffffffffff");  // -2^64
  EXPECT_EQ(EncodeHex(CborValue::Uint(std::numeric_limits<uint64_t>::max())), "1bffffffffffffffff");
  EXPECT_EQ(EncodeHex(CborValue::Int(std::numeric_limits<int64_t>::min())), "3b7fffffffffffffff");
  EXPECT_EQ(EncodeHex(CborValue::Int(23)), "17");
  EXPECT_EQ(EncodeHex(CborValue::Int(24)), "1818");
  EXPECT_EQ(EncodeHex(CborValue::Int(-24)), "37");
  EXPECT_EQ(EncodeHex(CborValue::Int(-25)), "3818");
  EXPECT_EQ(EncodeHex(CborValue::Uint(65536)), "1a00010000");
  EXPECT_EQ(EncodeHex(CborValue::Float(0.1)), "fb3fb999999999999a");
  auto big = DecodeDagCbor(Hex("3bffffffffffffffff"));
  ASSERT_TRUE(big.has_value());
  EXPECT_FALSE(big->GetInt64().has_value());
  EXPECT_FALSE(big->GetUint64().has_value());
  EXPECT_EQ(*DecodeDagCbor(Hex("3b7fffffffffffffff"))->GetInt64(),
            std::numeric_limits<int64_t>::min());
}

TEST(DagCbor, SortsKeysLengthFirst) {
  auto v = CborValue::MakeMap(
      {{"c", CborValue::Int(3)}, {"aa", CborValue::Int(1)}, {"b", CborValue::Int(2)}});
  EXPECT_EQ(EncodeHex(v), "a361620261630362616101");
}

TEST(DagCbor, EncoderRejectsDuplicateKeysAndNonFiniteFloats) {
  EXPECT_FALSE(
      EncodeDagCbor(CborValue::MakeMap({{"a", CborValue::Int(1)}, {"a", CborValue::Int(2)}}))
          .has_value());
  EXPECT_FALSE(
      EncodeDagCbor(CborValue::Float(std::numeric_limits<double>::quiet_NaN())).has_value());
  EXPECT_FALSE(
      EncodeDagCbor(CborValue::Float(std::numeric_limits<double>::infinity())).has_value());
}

TEST(DagCbor, LinksInDocumentOrder) {
  auto v = DecodeDagCbor(
      Hex("82d82a58250001711220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855a161"
          "78d82a"
          "58250001711220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  int n = 0;
  ForEachLink(*v, [&](const Cid& c) {
    EXPECT_EQ(c, TestCid());
    ++n;
  });
  EXPECT_EQ(n, 2);
}

void ExpectRejected(std::string_view hex, std::string_view reason) {
  auto v = DecodeDagCbor(Hex(hex));
  ASSERT_FALSE(v.has_value()) << hex << " decoded";
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message().find(reason), std::string::npos)
      << hex << ": " << v.error().message();
}

TEST(DagCbor, RejectsIndefiniteLengths) {
  ExpectRejected("9f01ff", "indefinite");
  ExpectRejected("bf616101ff", "indefinite");
  ExpectRejected("5f4101ff", "indefinite");
  ExpectRejected("7f6161ff", "indefinite");
  ExpectRejected("ff", "break");
}

TEST(DagCbor, RejectsNonMinimalEncodings) {
  ExpectRejected("1817", "minimally");
  ExpectRejected("190017", "minimally");
  ExpectRejected("1a0000ffff", "minimally");
  ExpectRejected("1b00000000ffffffff", "minimally");
  ExpectRejected("3817", "minimally");
  ExpectRejected("5801ff", "minimally");      // bytes length
  ExpectRejected("980101", "minimally");      // list length
  ExpectRejected("d9002a4100", "minimally");  // tag 42 as 0xd9002a instead of 0xd82a
}

TEST(DagCbor, RejectsBadMapKeys) {
  ExpectRejected("a10101", "not a string");
  ExpectRejected("a2616201616102", "canonical order");
  ExpectRejected("a262616101616202", "canonical order");  // "aa" before "b"
  ExpectRejected("a2616101616102", "duplicate");
  ExpectRejected("a161ff01", "UTF-8");
}

TEST(DagCbor, RejectsOtherTagsAndBadLinks) {
  ExpectRejected("c11a514b67b0", "tag 1");
  ExpectRejected("d82a6161", "byte string");
  ExpectRejected("d82a4101", "0x00");
  ExpectRejected("d82a40", "0x00");
  ExpectRejected("d82a420001", "invalid CID");
}

TEST(DagCbor, RejectsFloatsNotFloat64AndNonFinite) {
  ExpectRejected("f93c00", "64-bit");
  ExpectRejected("fa3fc00000", "64-bit");
  ExpectRejected("fb7ff8000000000000", "NaN");
  ExpectRejected("fb7ff0000000000000", "Infinity");
  ExpectRejected("fbfff0000000000000", "Infinity");
}

TEST(DagCbor, RejectsUndefinedAndSimpleValues) {
  ExpectRejected("f7", "undefined");
  ExpectRejected("f0", "simple value");
  ExpectRejected("f820", "simple value");
  ExpectRejected("fc", "simple value");
}

TEST(DagCbor, RejectsTruncationTrailingBytesAndHugeLengths) {
  ExpectRejected("", "end of input");
  ExpectRejected("1a0001", "end of input");
  ExpectRejected("4301", "past the end");
  ExpectRejected("0101", "trailing");
  ExpectRejected("9bffffffffffffffff", "past the end");  // claims 2^64-1 items
  ExpectRejected("bbffffffffffffffff", "past the end");
  ExpectRejected("5bffffffffffffffff", "past the end");
  ExpectRejected("8201", "end of input");
  ExpectRejected("fb3ff000", "end of input");
  ExpectRejected("62c328", "UTF-8");    // invalid continuation byte
  ExpectRejected("63eda080", "UTF-8");  // surrogate
  ExpectRejected("62c080", "UTF-8");    // overlong
}

TEST(DagCbor, RejectsDeepNesting) {
  Bytes deep(kMaxDagCborDepth + 1, 0x81);
  deep.push_back(0x01);
  auto v = DecodeDagCbor(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message().find("too deep"), std::string::npos);
  Bytes ok(kMaxDagCborDepth, 0x81);
  ok.push_back(0x01);
  EXPECT_TRUE(DecodeDagCbor(ok).has_value());
}

TEST(DagCbor, AcceptsValidUtf8) {
  auto v = DecodeDagCbor(Hex("6de697a5e69cace8aa9ef09f9880"));
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->AsString(), "日本語😀");
}

CborValue RandomValue(std::mt19937_64& rng, int depth) {
  const int kind = static_cast<int>(rng() % (depth > 3 ? 7 : 9));
  switch (kind) {
    case 0:
      return CborValue::Null();
    case 1:
      return CborValue::Bool(rng() & 1);
    case 2:
      return CborValue::Uint(rng() >> (rng() % 64));
    case 3:
      return CborValue::NegativeInt(rng() >> (rng() % 64));
    case 4: {
      double d;
      do {
        d = std::bit_cast<double>(rng());
      } while (!std::isfinite(d));
      return CborValue::Float(d);
    }
    case 5: {
      Bytes b(rng() % 40);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      return CborValue::ByteString(std::move(b));
    }
    case 6: {
      if (rng() % 2) return CborValue::Link(TestCid());
      std::string s(rng() % 10, 'a');
      for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
      return CborValue::String(s);
    }
    case 7: {
      CborValue::List items(rng() % 5);
      for (auto& i : items) i = RandomValue(rng, depth + 1);
      return CborValue::MakeList(std::move(items));
    }
    default: {
      CborValue::Map m;
      const size_t n = rng() % 5;
      for (size_t i = 0; i < n; ++i) {
        m.emplace_back(std::to_string(i * 7919 % 1000), RandomValue(rng, depth + 1));
      }
      return CborValue::MakeMap(std::move(m));
    }
  }
}

TEST(DagCbor, RandomValuesRoundTripCanonically) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 500; ++i) {
    CborValue v = RandomValue(rng, 0);
    auto bytes = EncodeDagCbor(v);
    ASSERT_TRUE(bytes.has_value());
    auto back = DecodeDagCbor(*bytes);
    ASSERT_TRUE(back.has_value()) << back.error().ToString() << " " << HexEncode(*bytes);
    auto again = EncodeDagCbor(*back);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *bytes);
  }
}

TEST(CborWriter, WritesTuplesByHand) {
  Bytes out;
  CborWriter w(out);
  w.WriteArrayHeader(4);
  w.WriteUint(1);
  w.WriteBytes(Bytes{0x00, 0xff});
  w.WriteCid(TestCid());
  w.WriteMapHeader(1);
  w.WriteString("k");
  w.WriteInt(-500);
  auto v = DecodeDagCbor(out);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  ASSERT_EQ(v->AsList().size(), 4u);
  EXPECT_EQ(v->AsList()[2].AsLink(), TestCid());
  EXPECT_EQ(*v->AsList()[3].Find("k")->GetInt64(), -500);
  EXPECT_EQ(HexEncode(Bytes(out.begin(), out.begin() + 5)), "84014200ff");
}

}  // namespace
}  // namespace cairn::ipld
