// Unit tests for filecoin/piece: node hash, zero commitments, fr32, sizes, piece CIDs, CommP.
// Known answers come from src/filecoin/piece/testdata (copied from shared/vectors/filecoin):
// FRC-0069 examples and @web3-storage/data-segment 5.3.0 outputs, go-data-segment's zerocomm.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/fr32.hpp"
#include "filecoin/piece/internal/node_backends.hpp"
#include "filecoin/piece/node.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "filecoin/piece/zero_comm.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/multihash.hpp"

namespace cairn::filecoin::piece {
namespace {

namespace mf = multiformats;

std::string TestdataPath(const std::string& name) {
  const char* src = std::getenv("CAIRN_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/src/filecoin/piece/testdata/" + name;
}

Bytes ReadFile(const std::string& name) {
  std::ifstream f(TestdataPath(name), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), {});
}

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

Node NodeOf(ByteSpan b) {
  Node n;
  std::copy(b.begin(), b.begin() + 32, n.begin());
  return n;
}

// The textbook definition, for cross-checking the batched builder: pad the whole payload,
// zero-fill to a power of two, hash level by level with HashNode.
Node NaiveCommP(ByteSpan payload) {
  Bytes padded = Fr32Pad(payload);
  const uint64_t size = *PaddedSizeForPayload(payload.size());
  padded.resize(size, 0);
  std::vector<Node> level;
  for (size_t i = 0; i < padded.size(); i += 32)
    level.push_back(NodeOf(ByteSpan(padded).subspan(i)));
  while (level.size() > 1) {
    std::vector<Node> next;
    for (size_t i = 0; i < level.size(); i += 2) next.push_back(HashNode(level[i], level[i + 1]));
    level = std::move(next);
  }
  return level[0];
}

// ---- node ---------------------------------------------------------------------------------

TEST(HashNode, IsSha256WithTopTwoBitsCleared) {
  for (uint32_t seed = 0; seed < 50; ++seed) {
    const Bytes in = RandomBytes(64, seed);
    auto expect = mf::Sha256(in);
    expect[31] &= 0x3f;
    const Node got = HashNode(NodeOf(in), NodeOf(ByteSpan(in).subspan(32)));
    EXPECT_EQ(HexEncode(got), HexEncode(expect)) << "seed " << seed;
  }
}

TEST(HashNode, PortableBackendMatchesOpenSsl) {
  for (uint32_t seed = 100; seed < 150; ++seed) {
    const Bytes in = RandomBytes(64, seed);
    auto expect = mf::Sha256(in);
    expect[31] &= 0x3f;
    uint8_t out[32];
    internal::HashNodePortable(in.data(), out);
    EXPECT_EQ(HexEncode(ByteSpan(out, 32)), HexEncode(expect)) << "seed " << seed;
  }
}

TEST(HashNode, PairsMatchSingleHashesInPlaceAndOutOfPlace) {
  for (size_t pairs : {0u, 1u, 2u, 3u, 7u, 64u}) {
    const Bytes in = RandomBytes(64 * pairs, static_cast<uint32_t>(pairs));
    Bytes out(32 * pairs);
    HashNodePairs(in.data(), out.data(), pairs);
    Bytes inplace = in;
    HashNodePairs(inplace.data(), inplace.data(), pairs);
    for (size_t i = 0; i < pairs; ++i) {
      const Node expect =
          HashNode(NodeOf(ByteSpan(in).subspan(64 * i)), NodeOf(ByteSpan(in).subspan(64 * i + 32)));
      EXPECT_EQ(HexEncode(ByteSpan(out).subspan(32 * i, 32)), HexEncode(expect));
      EXPECT_EQ(HexEncode(ByteSpan(inplace).subspan(32 * i, 32)), HexEncode(expect));
    }
  }
}

TEST(ZeroComm, MatchesGoDataSegmentTable) {
  const Bytes table = ReadFile("zerocomm.bin");
  ASSERT_EQ(table.size(), 64u * 32u);
  for (int h = 0; h <= kMaxZeroCommHeight; ++h) {
    EXPECT_EQ(HexEncode(ZeroComm(h)), HexEncode(ByteSpan(table).subspan(32 * h, 32))) << h;
  }
}

// ---- fr32 ---------------------------------------------------------------------------------

TEST(Fr32, AllOnesClearsTheTwoTopBitsOfEachQuarter) {
  const Bytes ones(127, 0xff);
  const Bytes padded = Fr32Pad(ones);
  ASSERT_EQ(padded.size(), 128u);
  for (size_t i = 0; i < 128; ++i) {
    EXPECT_EQ(padded[i], (i % 32 == 31) ? 0x3f : 0xff) << i;
  }
}

TEST(Fr32, SingleBitsMoveToTheirQuarter) {
  // Input bit b lands at output bit b + 2 * (b / 254).
  for (int bit : {0, 253, 254, 255, 507, 508, 761, 762, 1015}) {
    Bytes in(127, 0);
    in[bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
    const Bytes out = Fr32Pad(in);
    const int ob = bit + 2 * (bit / 254);
    for (int i = 0; i < 128; ++i) {
      EXPECT_EQ(out[i], i == ob / 8 ? (1u << (ob % 8)) : 0u) << "bit " << bit << " byte " << i;
    }
  }
}

TEST(Fr32, UnpadReversesPad) {
  for (size_t n : {0u, 127u, 254u, 127u * 33u}) {
    const Bytes in = RandomBytes(n, static_cast<uint32_t>(n) + 1);
    const Bytes padded = Fr32Pad(in);
    EXPECT_EQ(padded.size(), n / 127 * 128);
    auto back = Fr32Unpad(padded);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, in);
  }
}

TEST(Fr32, PadZeroFillsAPartialTail) {
  const Bytes in = RandomBytes(200, 9);
  const Bytes padded = Fr32Pad(in);
  ASSERT_EQ(padded.size(), 256u);
  auto back = Fr32Unpad(padded);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(std::equal(in.begin(), in.end(), back->begin()));
  EXPECT_TRUE(std::all_of(back->begin() + 200, back->end(), [](uint8_t b) { return b == 0; }));
}

TEST(Fr32, UnpadRejectsBadLengthAndSetTopBits) {
  EXPECT_FALSE(Fr32Unpad(Bytes(127, 0)).has_value());
  Bytes bad(128, 0);
  bad[63] = 0x40;
  auto r = Fr32Unpad(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("byte 63"), std::string::npos);
}

// ---- sizes --------------------------------------------------------------------------------

TEST(PieceSize, PaddedSizeForPayloadRoundsToPowerOfTwo) {
  EXPECT_EQ(*PaddedSizeForPayload(0), 128u);
  EXPECT_EQ(*PaddedSizeForPayload(1), 128u);
  EXPECT_EQ(*PaddedSizeForPayload(127), 128u);
  EXPECT_EQ(*PaddedSizeForPayload(128), 256u);
  EXPECT_EQ(*PaddedSizeForPayload(254), 256u);
  EXPECT_EQ(*PaddedSizeForPayload(255), 512u);
  EXPECT_EQ(*PaddedSizeForPayload(127ull << 30), 128ull << 30);
  EXPECT_EQ(*PaddedSizeForPayload((127ull << 30) + 1), 256ull << 30);
  EXPECT_FALSE(PaddedSizeForPayload(~uint64_t{0}).has_value());
}

TEST(PieceSize, ValidationSaysWhy) {
  EXPECT_TRUE(ValidatePaddedSize(128).has_value());
  EXPECT_TRUE(ValidatePaddedSize(uint64_t{1} << 63).has_value());
  auto small = ValidatePaddedSize(64);
  ASSERT_FALSE(small.has_value());
  EXPECT_NE(small.error().message().find("minimum"), std::string::npos);
  auto odd = ValidatePaddedSize(384);
  ASSERT_FALSE(odd.has_value());
  EXPECT_NE(odd.error().message().find("power of two"), std::string::npos);
  EXPECT_TRUE(ValidateUnpaddedSize(127).has_value());
  EXPECT_TRUE(ValidateUnpaddedSize(127 * 1024).has_value());
  EXPECT_FALSE(ValidateUnpaddedSize(128).has_value());
  EXPECT_FALSE(ValidateUnpaddedSize(127 * 3).has_value());
  EXPECT_EQ(UnpaddedSize(1024), 1016u);
  EXPECT_EQ(PaddedSize(1016), 1024u);
  EXPECT_EQ(HeightOfPaddedSize(128), 2);
  EXPECT_EQ(HeightOfPaddedSize(32ull << 30), 30);
  EXPECT_FALSE(CheckDealPayloadSize(64).has_value());
  EXPECT_TRUE(CheckDealPayloadSize(65).has_value());
}

// ---- piece CIDs ---------------------------------------------------------------------------

TEST(PieceCid, ZeroPiecesFrom128BytesTo64GiBMatchKnownV1Cids) {
  std::ifstream f(TestdataPath("zero_piece_commp_v1.txt"));
  uint64_t size = 0;
  std::string cid;
  int rows = 0;
  while (f >> size >> cid) {
    ++rows;
    EXPECT_EQ(PieceCidV1(ZeroComm(HeightOfPaddedSize(size))).ToString(), cid) << size;
    if (size <= (uint64_t{1} << 20)) {
      // Small ones also through the builder (a payload of zeros filling the piece).
      auto info = ComputeCommP(Bytes(UnpaddedSize(size), 0), {.threads = 2});
      ASSERT_TRUE(info.has_value());
      EXPECT_EQ(PieceCidV1(info->root).ToString(), cid) << size;
      EXPECT_EQ(info->padded_size(), size);
    }
  }
  EXPECT_EQ(rows, 30);  // 128 B .. 64 GiB
}

// Payloads of commp_js_out.jsonl, from their labels: "zero N" / "0xCC N" are N bytes of that
// value; "empty", "127 zeros", "128 zeros" are zeros; the FRC-0069 examples are 127 bytes each of
// 0, 1, 2, 3 followed by zeros up to the payload size.
Bytes JsPayload(const std::string& label, size_t size) {
  if (label.rfind("0xCC", 0) == 0) return Bytes(size, 0xcc);
  Bytes b(size, 0);
  if (label.rfind("frc69", 0) == 0 || label.rfind("127*8", 0) == 0 || label.rfind("512", 0) == 0 ||
      label.rfind("513", 0) == 0) {
    for (size_t i = 0; i < std::min<size_t>(size, 4 * 127); ++i)
      b[i] = static_cast<uint8_t>(i / 127);
  }
  return b;
}

TEST(PieceCid, MatchesFrc0069ExamplesAndDataSegmentOutputs) {
  std::ifstream f(TestdataPath("commp_js_out.jsonl"));
  std::string line;
  int rows = 0;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    ++rows;
    const auto v = boost::json::parse(line).as_object();
    const std::string label(v.at("label").as_string());
    const auto payload = static_cast<size_t>(v.at("payload").to_number<uint64_t>());
    const int height = static_cast<int>(v.at("height").to_number<int64_t>());
    const uint64_t padding = std::stoull(std::string(v.at("padding").as_string()));
    const uint64_t padded = std::stoull(std::string(v.at("paddedSize").as_string()));
    const std::string v1(v.at("v1").as_string());
    const std::string v2(v.at("v2").as_string());
    SCOPED_TRACE(label);

    auto info = ComputeCommP(JsPayload(label, payload), {.threads = 1});
    ASSERT_TRUE(info.has_value()) << info.error().ToString();
    EXPECT_EQ(info->height, height);
    EXPECT_EQ(info->padding, padding);
    EXPECT_EQ(info->padded_size(), padded);
    EXPECT_EQ(info->payload_size(), payload);
    EXPECT_EQ(PieceCidV1(info->root).ToString(), v1);
    auto cid2 = PieceCidV2(*info);
    ASSERT_TRUE(cid2.has_value());
    EXPECT_EQ(cid2->ToString(), v2);
    EXPECT_EQ("f" + HexEncode(cid2->ToBytes()), std::string(v.at("v2hex").as_string()));

    // Parse both ways and convert.
    auto parsed2 = ParsePieceCidV2(*mf::Cid::Parse(v2));
    ASSERT_TRUE(parsed2.has_value()) << parsed2.error().ToString();
    EXPECT_EQ(*parsed2, *info);
    auto down = PieceCidV2ToV1(*mf::Cid::Parse(v2));
    ASSERT_TRUE(down.has_value());
    EXPECT_EQ(down->cid.ToString(), v1);
    EXPECT_EQ(down->padded_size, padded);
    auto up = PieceCidV1ToV2(*mf::Cid::Parse(v1), padded, payload);
    ASSERT_TRUE(up.has_value()) << up.error().ToString();
    EXPECT_EQ(up->ToString(), v2);
  }
  EXPECT_EQ(rows, 31);
}

// @web3-storage/data-segment's test payloads: deriveBuffer(size) fills the buffer 64 bytes at a
// time with SHA-512 of the previous 64 bytes (of nothing for the first block).
Bytes DeriveBuffer(size_t size) {
  Bytes b(size);
  for (size_t off = 0; off < size; off += 64) {
    const ByteSpan prev = off == 0 ? ByteSpan() : ByteSpan(b).subspan(off - 64, 64);
    auto mh = mf::Multihash::Sum(mf::codec::kSha2_512, prev);
    std::copy_n(mh->digest().begin(), std::min<size_t>(64, size - off), b.begin() + off);
  }
  return b;
}

TEST(CommP, MatchesAllDataSegmentVectors) {
  std::ifstream f(TestdataPath("data-segment-commp-vectors.csv"));
  std::string line;
  std::getline(f, line);  // header
  int rows = 0;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string size_s, payload_cid, padded_s, piece_s, commp;
    std::getline(ss, size_s, ',');
    std::getline(ss, payload_cid, ',');
    std::getline(ss, padded_s, ',');
    std::getline(ss, piece_s, ',');
    std::getline(ss, commp, ',');
    ++rows;
    const size_t size = std::stoull(size_s);
    SCOPED_TRACE(line);
    const Bytes payload = DeriveBuffer(size);
    // The regenerated payload is the one the vector was made from.
    EXPECT_EQ(mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, payload)->ToString(),
              payload_cid);
    auto info = ComputeCommP(payload, {.threads = 2});
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(PieceCidV1(info->root).ToString(), commp);
    // The CSV's "paddedSize" is data-segment's unpadded capacity, "pieceSize" the padded size.
    EXPECT_EQ(info->capacity(), std::stoull(padded_s));
    EXPECT_EQ(info->padded_size(), std::stoull(piece_s));
  }
  EXPECT_EQ(rows, 83);
}

TEST(PieceCid, RejectsMalformedCidsWithAReason) {
  Node root{};
  root[0] = 1;
  const mf::Cid v1 = PieceCidV1(root);
  auto v2 = PieceCidV2(*PieceInfo::Make(root, 1024, 1000));
  ASSERT_TRUE(v2.has_value());
  // Swapped versions.
  EXPECT_FALSE(ParsePieceCidV1(*v2).has_value());
  EXPECT_FALSE(ParsePieceCidV2(v1).has_value());
  // Wrong codec, right multihash.
  auto wrong_codec = ParsePieceCidV1(mf::Cid::V1(mf::codec::kRaw, v1.hash()));
  ASSERT_FALSE(wrong_codec.has_value());
  EXPECT_NE(wrong_codec.error().message().find("codec"), std::string::npos);
  // Root with top bits set.
  Node bad_root = root;
  bad_root[31] = 0xff;
  EXPECT_FALSE(ParsePieceCidV1(PieceCidV1(bad_root)).has_value());
  // Digest checks.
  Bytes digest = EncodePieceDigestV2(*PieceInfo::Make(root, 1024, 1000));
  EXPECT_TRUE(DecodePieceDigestV2(digest).has_value());
  Bytes trailing = digest;
  trailing.push_back(0);
  EXPECT_FALSE(DecodePieceDigestV2(trailing).has_value());
  EXPECT_FALSE(DecodePieceDigestV2(ByteSpan(digest).first(digest.size() - 1)).has_value());
  EXPECT_FALSE(DecodePieceDigestV2({}).has_value());
  PieceInfo high{root, 59, 0};
  auto too_high = DecodePieceDigestV2(EncodePieceDigestV2(high));
  ASSERT_FALSE(too_high.has_value());
  EXPECT_NE(too_high.error().message().find("height"), std::string::npos);
  PieceInfo low{root, 1, 0};
  EXPECT_FALSE(DecodePieceDigestV2(EncodePieceDigestV2(low)).has_value());
  // Padding so large a smaller tree would do: 1024-byte piece (capacity 1016) holding 500 bytes.
  PieceInfo wasteful{root, 5, 516};
  auto pad = DecodePieceDigestV2(EncodePieceDigestV2(wasteful));
  ASSERT_FALSE(pad.has_value());
  EXPECT_NE(pad.error().message().find("padding"), std::string::npos);
  EXPECT_FALSE(PieceCidV2(wasteful).has_value());
  // Height-2 pieces may be padded up to the whole 127 bytes, not more.
  EXPECT_TRUE(PieceCidV2(PieceInfo{root, 2, 127}).has_value());
  EXPECT_FALSE(PieceCidV2(PieceInfo{root, 2, 128}).has_value());
  // Non-minimal varint padding.
  Bytes nonminimal = {0x80, 0x00, 5};
  nonminimal.insert(nonminimal.end(), root.begin(), root.end());
  EXPECT_FALSE(DecodePieceDigestV2(nonminimal).has_value());
  // Make rejects payloads larger than the piece and bad sizes.
  EXPECT_FALSE(PieceInfo::Make(root, 1024, 1017).has_value());
  EXPECT_FALSE(PieceInfo::Make(root, 1000, 900).has_value());
  EXPECT_FALSE(PieceCidV1ToV2(v1, 1024, 100).has_value());
}

TEST(PieceCid, V1ToV2WithFullCapacityMeansZeroPadding) {
  Node root{};
  root[5] = 7;
  auto v2 = PieceCidV1ToV2(PieceCidV1(root), uint64_t{32} << 30, UnpaddedSize(uint64_t{32} << 30));
  ASSERT_TRUE(v2.has_value());
  auto info = ParsePieceCidV2(*v2);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->padding, 0u);
  EXPECT_EQ(info->height, 30);
  EXPECT_EQ(info->root, root);
}

// ---- CommP builder -------------------------------------------------------------------------

TEST(CommP, MatchesNaiveTreeForSmallSizes) {
  for (size_t n : {0u, 1u, 64u, 65u, 126u, 127u, 128u, 253u, 254u, 255u, 1000u, 4064u, 4065u, 9999u,
                   32512u, 65025u}) {
    const Bytes payload = RandomBytes(n, static_cast<uint32_t>(n));
    auto info = ComputeCommP(payload, {.threads = 1});
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(HexEncode(info->root), HexEncode(NaiveCommP(payload))) << n;
    EXPECT_EQ(info->payload_size(), n);
  }
}

TEST(CommP, ThreadCountsOneTwoThreeGiveIdenticalResults) {
  constexpr size_t kBatch = 127 << 13;  // the builder's batch: exercise partial and exact ends
  for (size_t n : {kBatch - 1, kBatch, kBatch + 1, 2 * kBatch, 3 * kBatch + 77, 4 * kBatch,
                   5 * kBatch + 127 * 1000}) {
    const Bytes payload = RandomBytes(n, static_cast<uint32_t>(n));
    auto one = ComputeCommP(payload, {.threads = 1});
    auto two = ComputeCommP(payload, {.threads = 2});
    auto three = ComputeCommP(payload, {.threads = 3});
    ASSERT_TRUE(one && two && three);
    EXPECT_EQ(*one, *two) << n;
    EXPECT_EQ(*one, *three) << n;
    EXPECT_EQ(one->payload_size(), n);
  }
  // One full batch against the naive tree, so the batched path is checked independently.
  const Bytes payload = RandomBytes(kBatch + 500, 4);
  EXPECT_EQ(HexEncode(ComputeCommP(payload, {.threads = 2})->root), HexEncode(NaiveCommP(payload)));
}

class ChunkedSource : public ByteSource {
 public:
  ChunkedSource(ByteSpan data, size_t chunk) : data_(data), chunk_(chunk) {}
  Result<size_t> Read(MutableByteSpan out) override {
    const size_t n = std::min({out.size(), chunk_, data_.size() - pos_});
    std::copy_n(data_.begin() + pos_, n, out.begin());
    pos_ += n;
    return n;
  }

 private:
  ByteSpan data_;
  size_t chunk_;
  size_t pos_ = 0;
};

class FailingSource : public ByteSource {
 public:
  Result<size_t> Read(MutableByteSpan out) override {
    if (reads_++ < 3) {
      std::fill(out.begin(), out.begin() + 100, 1);
      return 100;
    }
    return Err(ErrorCode::kIoError, "disk gone");
  }

 private:
  int reads_ = 0;
};

TEST(CommP, PulledPushedAndZeroCopyFeedingAgree) {
  const Bytes payload = RandomBytes(3 * (127 << 13) + 12345, 11);
  auto whole = ComputeCommP(payload, {.threads = 2});
  ASSERT_TRUE(whole.has_value());
  for (size_t chunk : {1u, 127u, 4096u, 1000003u}) {
    if (chunk == 1 && payload.size() > 100000) {
      // Byte-at-a-time over a prefix only (keeps the test fast).
      const ByteSpan prefix = ByteSpan(payload).first(100000);
      CommPBuilder b({.threads = 1});
      for (uint8_t byte : prefix) ASSERT_TRUE(b.Update(ByteSpan(&byte, 1)).has_value());
      EXPECT_EQ(*b.Finish(), *ComputeCommP(prefix, {.threads = 1}));
      continue;
    }
    ChunkedSource src(payload, chunk);
    auto pulled = ComputeCommP(src, {.threads = 2});
    ASSERT_TRUE(pulled.has_value());
    EXPECT_EQ(*pulled, *whole) << chunk;
    CommPBuilder b({.threads = 3});
    for (size_t off = 0; off < payload.size(); off += chunk) {
      ASSERT_TRUE(b.Update(ByteSpan(payload).subspan(off, std::min(chunk, payload.size() - off)))
                      .has_value());
    }
    EXPECT_EQ(b.payload_size(), payload.size());
    EXPECT_EQ(*b.Finish(), *whole) << chunk;
  }
  // Zero-copy: Writable/Commit.
  CommPBuilder zc({.threads = 2});
  size_t off = 0;
  while (off < payload.size()) {
    MutableByteSpan w = zc.Writable();
    ASSERT_FALSE(w.empty());
    const size_t n = std::min({w.size(), payload.size() - off, size_t{300000}});
    std::copy_n(payload.begin() + off, n, w.begin());
    ASSERT_TRUE(zc.Commit(n).has_value());
    off += n;
  }
  EXPECT_EQ(*zc.Finish(), *whole);
}

TEST(CommP, ErrorsAreValues) {
  CommPBuilder b({.threads = 2});
  ASSERT_TRUE(b.Update(Bytes(10, 1)).has_value());
  auto too_much = b.Commit(b.Writable().size() + 1);
  ASSERT_FALSE(too_much.has_value());
  ASSERT_TRUE(b.Finish().has_value());
  auto again = b.Finish();
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("twice"), std::string::npos);
  EXPECT_FALSE(b.Update(Bytes(1, 1)).has_value());

  FailingSource failing;
  auto r = ComputeCommP(failing, {.threads = 2});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError);
}

TEST(CommP, AbandonedBuilderStopsItsWorkers) {
  // Destroying a builder mid-stream (workers busy, Finish never called) must not hang or leak.
  CommPBuilder b({.threads = 3});
  ASSERT_TRUE(b.Update(RandomBytes(7 * (127 << 13), 5)).has_value());
}

}  // namespace
}  // namespace cairn::filecoin::piece
