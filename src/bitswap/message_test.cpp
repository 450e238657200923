#include "bitswap/message.hpp"

#include <gtest/gtest.h>

#include "common/protobuf.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::bitswap {
namespace {

namespace mc = multiformats::codec;

Cid RawCid(std::string_view data) {
  return *Cid::Compute(1, mc::kRaw, mc::kSha2_256, AsBytes(data));
}
Cid V0Cid(std::string_view data) {
  return *Cid::Compute(0, mc::kDagPb, mc::kSha2_256, AsBytes(data));
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes Len(const Bytes& b) { return Cat({Bytes{static_cast<uint8_t>(b.size())}, b}); }

TEST(BitswapProtocol, IdsRoundTrip) {
  for (auto v : {ProtocolVersion::k100, ProtocolVersion::k110, ProtocolVersion::k120}) {
    EXPECT_EQ(ParseProtocolId(ProtocolId(v)), v);
  }
  EXPECT_EQ(ProtocolId(ProtocolVersion::k120), "/ipfs/bitswap/1.2.0");
  EXPECT_FALSE(ParseProtocolId("/ipfs/bitswap"));
  EXPECT_FALSE(ParseProtocolId("/ipfs/bitswap/1.3.0"));
}

TEST(BitswapMessage, EncodesWantHaveWithKnownBytes) {
  Cid cid = RawCid("hello");
  Message m;
  m.wantlist.entries.push_back(WantEntry{cid, 1, false, WantType::kHave, true});
  auto bytes = EncodeMessage(m, ProtocolVersion::k120);
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  // Entry: 0a <len> <cid> 10 01 (priority 1) 20 01 (Have) 28 01 (sendDontHave)
  Bytes entry = Cat({{0x0a}, Len(cid.ToBytes()), {0x10, 0x01, 0x20, 0x01, 0x28, 0x01}});
  Bytes wantlist = Cat({{0x0a}, Len(entry)});
  Bytes expected = Cat({{0x0a}, Len(wantlist)});
  EXPECT_EQ(HexEncode(*bytes), HexEncode(expected));
  // And the CID bytes themselves: CIDv1 raw sha2-256.
  EXPECT_EQ(HexEncode(cid.ToBytes()).substr(0, 8), "01551220");
}

TEST(BitswapMessage, EncodesPayloadPresencesAndPendingBytesWithKnownBytes) {
  Message m;
  m.blocks.push_back(BlockPayload{CidPrefix{1, mc::kRaw, mc::kSha2_256, 32}, ToBytes("hi")});
  Cid c = RawCid("x");
  m.presences.push_back(BlockPresence{c, PresenceType::kDontHave});
  m.pending_bytes = 300;
  auto bytes = EncodeMessage(m, ProtocolVersion::k120);
  ASSERT_TRUE(bytes);
  Bytes block = {0x0a, 0x04, 0x01, 0x55, 0x12, 0x20, 0x12, 0x02, 'h', 'i'};
  Bytes presence = Cat({{0x0a}, Len(c.ToBytes()), {0x10, 0x01}});
  Bytes expected = Cat({{0x1a}, Len(block), {0x22}, Len(presence), {0x28, 0xac, 0x02}});
  EXPECT_EQ(HexEncode(*bytes), HexEncode(expected));
}

TEST(BitswapMessage, Version100CarriesRawBlocksInField2) {
  Message m;
  m.blocks.push_back(BlockPayload{CidPrefix::Of(V0Cid("abc")), ToBytes("abc")});
  auto bytes = EncodeMessage(m, ProtocolVersion::k100);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(HexEncode(*bytes), "1203616263");
  auto back = DecodeMessage(*bytes);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->blocks.size(), 1u);
  auto cid = back->blocks[0].prefix.Sum(back->blocks[0].data);
  ASSERT_TRUE(cid);
  EXPECT_EQ(*cid, V0Cid("abc"));
}

TEST(BitswapMessage, OldVersionsRefuseWhatTheyCannotCarry) {
  Message have;
  have.wantlist.entries.push_back(WantEntry{RawCid("a"), 1, false, WantType::kHave, false});
  EXPECT_FALSE(EncodeMessage(have, ProtocolVersion::k110));
  Message presence;
  presence.presences.push_back(BlockPresence{RawCid("a"), PresenceType::kHave});
  EXPECT_FALSE(EncodeMessage(presence, ProtocolVersion::k110));
  Message v1block;
  v1block.blocks.push_back(BlockPayload{CidPrefix::Of(RawCid("a")), ToBytes("a")});
  EXPECT_FALSE(EncodeMessage(v1block, ProtocolVersion::k100));
  EXPECT_TRUE(EncodeMessage(v1block, ProtocolVersion::k110));
}

TEST(BitswapMessage, RoundTripsEveryField) {
  Message m;
  m.wantlist.full = true;
  m.wantlist.entries.push_back(WantEntry{RawCid("a"), 7, false, WantType::kBlock, true});
  m.wantlist.entries.push_back(WantEntry{V0Cid("b"), -3, true, WantType::kHave, false});
  m.blocks.push_back(BlockPayload{CidPrefix::Of(RawCid("c")), ToBytes("c")});
  m.presences.push_back(BlockPresence{RawCid("d"), PresenceType::kHave});
  m.presences.push_back(BlockPresence{RawCid("e"), PresenceType::kDontHave});
  m.pending_bytes = -5;
  auto bytes = EncodeMessage(m, ProtocolVersion::k120);
  ASSERT_TRUE(bytes);
  auto back = DecodeMessage(*bytes);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, m);
}

TEST(BitswapMessage, MissingPriorityDecodesAsZero) {
  Cid cid = RawCid("a");
  Bytes entry = Cat({{0x0a}, Len(cid.ToBytes())});
  Bytes bytes = Cat({{0x0a}, Len(Cat({{0x0a}, Len(entry)}))});
  auto m = DecodeMessage(bytes);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->wantlist.entries.size(), 1u);
  EXPECT_EQ(m->wantlist.entries[0].priority, 0);
  EXPECT_EQ(m->wantlist.entries[0].type, WantType::kBlock);
}

TEST(BitswapMessage, SkipsUnknownFields) {
  protobuf::Writer w;
  w.Varint(9, 42);
  w.BytesField(10, ToBytes("future"));
  auto m = DecodeMessage(w.bytes());
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->empty());
}

TEST(BitswapMessage, RefusesOversizedMessageBeforeParsing) {
  Bytes big(kMaxMessageBytes + 1, 0);
  auto m = DecodeMessage(big);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(m.error().message().find("exceeds the limit"), std::string::npos);
}

TEST(BitswapMessage, RefusesHundredThousandEntryWantlist) {
  protobuf::Writer wl;
  Cid cid = RawCid("a");
  protobuf::Writer entry;
  entry.BytesField(1, cid.ToBytes());
  for (int i = 0; i < 100'000; ++i) wl.Message(1, entry);
  protobuf::Writer w;
  w.Message(1, wl);
  ASSERT_LE(w.size(), kMaxMessageBytes);  // fits the size limit: the entry cap must catch it
  auto m = DecodeMessage(w.bytes());
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(m.error().message().find("wantlist entries"), std::string::npos);
}

TEST(BitswapMessage, RefusesMalformedInput) {
  Cid cid = RawCid("a");
  // An entry whose CID is garbage.
  Bytes bad_cid = Cat({{0x0a}, Len(Cat({{0x0a}, Len(Cat({{0x0a, 0x03, 0x01, 0x02, 0x03}}))}))});
  EXPECT_FALSE(DecodeMessage(bad_cid));
  // An unknown want type.
  Bytes entry = Cat({{0x0a}, Len(cid.ToBytes()), {0x20, 0x05}});
  EXPECT_FALSE(DecodeMessage(Cat({{0x0a}, Len(Cat({{0x0a}, Len(entry)}))})));
  // An entry without a CID.
  EXPECT_FALSE(DecodeMessage(Bytes{0x0a, 0x04, 0x0a, 0x02, 0x10, 0x01}));
  // A presence of an unknown type.
  Bytes presence = Cat({{0x0a}, Len(cid.ToBytes()), {0x10, 0x02}});
  EXPECT_FALSE(DecodeMessage(Cat({{0x22}, Len(presence)})));
  // A payload whose prefix has trailing bytes, and one with no prefix.
  EXPECT_FALSE(DecodeMessage(Bytes{0x1a, 0x07, 0x0a, 0x05, 0x01, 0x55, 0x12, 0x20, 0x00}));
  EXPECT_FALSE(DecodeMessage(Bytes{0x1a, 0x03, 0x12, 0x01, 0x61}));
  // Truncated length, wrong wire type for the wantlist, a group.
  EXPECT_FALSE(DecodeMessage(Bytes{0x0a, 0x05, 0x0a}));
  EXPECT_FALSE(DecodeMessage(Bytes{0x08, 0x01}));
  EXPECT_FALSE(DecodeMessage(Bytes{0x0b}));
}

TEST(CidPrefix, SumComputesAndRefusesWhatItCannotVerify) {
  CidPrefix p = CidPrefix::Of(RawCid("data"));
  auto cid = p.Sum(AsBytes("data"));
  ASSERT_TRUE(cid);
  EXPECT_EQ(*cid, RawCid("data"));
  CidPrefix truncated{1, mc::kRaw, mc::kSha2_256, 20};
  EXPECT_EQ(truncated.Sum(AsBytes("data")).error().code(), ErrorCode::kNotSupported);
  CidPrefix unknown{1, mc::kRaw, 0x1b /* keccak-256 */, 32};
  EXPECT_FALSE(unknown.Sum(AsBytes("data")));
  CidPrefix identity{1, mc::kRaw, mc::kIdentity, 4};
  EXPECT_TRUE(identity.Sum(AsBytes("data")));
  EXPECT_FALSE(identity.Sum(AsBytes("dat")));
  EXPECT_FALSE(CidPrefix::Decode(Bytes{0x00, 0x55, 0x12, 0x20}));  // v0 must be dag-pb
  EXPECT_FALSE(CidPrefix::Decode(Bytes{0x02, 0x55, 0x12, 0x20}));
  EXPECT_EQ(*CidPrefix::Decode(p.Encode()), p);
}

TEST(FrameReader, SplitsFramesAcrossChunkBoundaries) {
  Bytes stream;
  std::vector<Bytes> messages = {ToBytes("one"), Bytes(300, 7), Bytes{}, ToBytes("last")};
  for (const auto& m : messages) {
    auto f = Frame(m);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameReader reader;
  std::vector<Bytes> got;
  for (uint8_t b : stream) {  // one byte at a time: every split point
    ASSERT_TRUE(reader.Append(ByteSpan(&b, 1)));
    for (;;) {
      auto next = reader.Next();
      ASSERT_TRUE(next);
      if (!*next) break;
      got.push_back(**next);
    }
  }
  EXPECT_EQ(got, messages);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(FrameReader, RefusesOversizedLengthBeforeBuffering) {
  FrameReader reader;
  Bytes prefix;
  multiformats::AppendVarint(prefix, kMaxMessageBytes + 1);
  ASSERT_TRUE(reader.Append(prefix));
  auto next = reader.Next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE(reader.Append(ToBytes("x")));  // unusable after an error
}

TEST(FrameReader, RefusesMalformedPrefix) {
  FrameReader reader;
  ASSERT_TRUE(reader.Append(Bytes{0x80, 0x00}));  // non-minimal varint
  EXPECT_FALSE(reader.Next());
  FrameReader endless;
  ASSERT_TRUE(endless.Append(Bytes(10, 0xff)));
  EXPECT_FALSE(endless.Next());
}

}  // namespace
}  // namespace cairn::bitswap
