#include "car/car_reader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "car/car_test_util.hpp"
#include "car/car_writer.hpp"
#include "multiformats/varint.hpp"

namespace cairn::car {
namespace {

using testing::Block;
using testing::Raw;

// A source that hands out at most `step` bytes per Read (exercises partial reads).
class TrickleSource final : public ByteSource {
 public:
  TrickleSource(ByteSpan data, size_t step) : data_(data), step_(step) {}
  Result<size_t> Read(MutableByteSpan out) override {
    const size_t n = std::min({out.size(), step_, data_.size() - pos_});
    std::copy_n(data_.begin() + static_cast<ptrdiff_t>(pos_), n, out.begin());
    pos_ += n;
    return n;
  }

 private:
  ByteSpan data_;
  size_t step_;
  size_t pos_ = 0;
};

Bytes V1Of(const std::vector<Cid>& roots, const std::vector<Block>& blocks) {
  Bytes out;
  BytesSink sink(out);
  auto w = CarWriter::Create(sink, roots);
  EXPECT_TRUE(w.has_value());
  for (const auto& b : blocks) EXPECT_TRUE(w->Put(b.cid, b.data).has_value());
  return out;
}

Result<std::vector<CarBlock>> ReadAll(ByteSpan car, CarReaderOptions options = {}) {
  SpanSource src(car);
  auto reader = CAIRN_TRY(CarReader::Open(src, options));
  std::vector<CarBlock> out;
  while (true) {
    auto b = CAIRN_TRY(reader->Next());
    if (!b) break;
    out.push_back(std::move(*b));
  }
  return out;
}

std::string ErrorOf(ByteSpan car) {
  auto r = ReadAll(car);
  return r ? std::string("<no error>") : r.error().message();
}

TEST(CarReader, ReadsV1BlocksWithOffsets) {
  auto a = Raw("alpha"), b = Raw("beta");
  Bytes car = V1Of({a.cid}, {a, b});
  for (size_t step : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    TrickleSource src(car, step);
    auto reader = CarReader::Open(src);
    ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
    EXPECT_EQ((*reader)->version(), 1);
    ASSERT_EQ((*reader)->roots().size(), 1u);
    auto first = (*reader)->Next();
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_EQ((*first)->cid, a.cid);
    EXPECT_EQ((*first)->data, a.data);
    EXPECT_EQ((*first)->offset, 1 + EncodeCarV1Header({a.cid}).size());
    auto second = (*reader)->Next();
    ASSERT_TRUE(second.has_value() && second->has_value());
    EXPECT_EQ((*second)->cid, b.cid);
    auto end = (*reader)->Next();
    ASSERT_TRUE(end.has_value());
    EXPECT_FALSE(end->has_value());
    EXPECT_FALSE((*(*reader)->ReadIndex()).has_value());
  }
}

TEST(CarReader, AcceptsEmptyRootsAndNoBlocks) {
  auto blocks = ReadAll(V1Of({}, {}));
  ASSERT_TRUE(blocks.has_value()) << blocks.error().ToString();
  EXPECT_TRUE(blocks->empty());
}

TEST(CarReader, RejectsBlockNotMatchingItsCidNamingTheOffset) {
  auto a = Raw("alpha"), b = Raw("beta");
  Bytes car = V1Of({a.cid}, {a, b});
  car.back() ^= 1;
  const size_t second = car.size() - (1 + b.cid.ToBytes().size() + b.data.size());
  auto r = ReadAll(car);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.error().message().find("car: section at offset " + std::to_string(second) +
                                     ": block does not match its CID"),
            std::string::npos)
      << r.error().message();
  CarReaderOptions no_verify;
  no_verify.verify = false;
  EXPECT_TRUE(ReadAll(car, no_verify).has_value());
}

TEST(CarReader, RejectsUnverifiableHash) {
  // A CID with a sha3-256 (0x16) multihash Cairn cannot compute.
  Bytes mh = {0x16, 0x20};
  mh.resize(34, 0x11);
  Block b{Cid::V1(testing::codec::kRaw, *multiformats::Multihash::Decode(mh)), ToBytes("x")};
  auto r = ReadAll(V1Of({}, {b}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotSupported);
}

TEST(CarReader, VerifiesIdentityBlocks) {
  auto id = testing::MakeBlock(testing::codec::kRaw, ToBytes("inline"), testing::codec::kIdentity);
  EXPECT_TRUE(ReadAll(V1Of({}, {id})).has_value());
  id.data = ToBytes("other");
  EXPECT_FALSE(ReadAll(V1Of({}, {id})).has_value());
}

TEST(CarReader, RejectsTruncatedSections) {
  auto a = Raw("alpha");
  Bytes car = V1Of({a.cid}, {a});
  Bytes cut(car.begin(), car.end() - 2);
  EXPECT_NE(ErrorOf(cut).find("runs past the end of input"), std::string::npos) << ErrorOf(cut);
  Bytes half_varint = V1Of({a.cid}, {});
  half_varint.push_back(0x80);
  EXPECT_NE(ErrorOf(half_varint).find("truncated section length"), std::string::npos);
}

TEST(CarReader, RejectsHugeClaimedSectionWithoutAllocating) {
  Bytes car = V1Of({}, {});
  multiformats::AppendVarint(car, (1ULL << 62));
  EXPECT_NE(ErrorOf(car).find("exceeds the limit"), std::string::npos);
  Bytes car2 = V1Of({}, {});
  multiformats::AppendVarint(car2, 30 << 20);  // under the limit but only 3 bytes follow
  car2.insert(car2.end(), {1, 2, 3});
  EXPECT_NE(ErrorOf(car2).find("(3 bytes present)"), std::string::npos) << ErrorOf(car2);
}

TEST(CarReader, RejectsZeroLengthSectionAndBadCid) {
  Bytes car = V1Of({}, {});
  car.push_back(0x00);
  EXPECT_NE(ErrorOf(car).find("zero-length"), std::string::npos);
  Bytes bad = V1Of({}, {});
  bad.insert(bad.end(), {0x03, 0x02, 0x55, 0x12});  // CID version 2
  EXPECT_NE(ErrorOf(bad).find("bad CID"), std::string::npos) << ErrorOf(bad);
}

TEST(CarReader, RejectsBadHeaders) {
  EXPECT_NE(ErrorOf({}).find("empty input"), std::string::npos);
  EXPECT_NE(ErrorOf(*HexDecode("00")).find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf(*HexDecode("0aa265726f6f7473")).find("unexpected end of input in header"),
            std::string::npos);
  // {roots: [], version: 3}
  EXPECT_NE(ErrorOf(*HexDecode("11a265726f6f7473806776657273696f6e03")).find("version 3"),
            std::string::npos);
  // A header that is not dag-cbor.
  EXPECT_NE(ErrorOf(*HexDecode("01ff")).find("dag-cbor"), std::string::npos);
  // Header length beyond the limit.
  Bytes big;
  multiformats::AppendVarint(big, 2 << 20);
  EXPECT_NE(ErrorOf(big).find("out of range"), std::string::npos);
}

TEST(CarReader, ErrorIsSticky) {
  auto a = Raw("alpha");
  Bytes car = V1Of({}, {a});
  car.back() ^= 1;
  SpanSource src(car);
  auto reader = CarReader::Open(src);
  ASSERT_TRUE(reader.has_value());
  EXPECT_FALSE((*reader)->Next().has_value());
  EXPECT_FALSE((*reader)->Next().has_value());
}

Bytes V2Of(const std::vector<Cid>& roots, const std::vector<Block>& blocks) {
  Bytes out;
  BytesSink sink(out);
  auto w = CarV2Writer::Create(sink, roots);
  EXPECT_TRUE(w.has_value());
  for (const auto& b : blocks) EXPECT_TRUE(w->Put(b.cid, b.data).has_value());
  EXPECT_TRUE(w->Finish().has_value());
  return out;
}

TEST(CarReader, ReadsV2PayloadAndIndex) {
  auto a = Raw("alpha"), b = Raw("beta");
  auto id = testing::MakeBlock(testing::codec::kRaw, ToBytes("id"), testing::codec::kIdentity);
  Bytes car = V2Of({a.cid}, {a, id, b});
  SpanSource src(car);
  auto reader = CarReader::Open(src);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  EXPECT_EQ((*reader)->version(), 2);
  ASSERT_TRUE((*reader)->v2_header().has_value());
  EXPECT_EQ((*reader)->v2_header()->data_offset, kCarV2DataOffset);
  std::vector<CarBlock> got;
  while (true) {
    auto n = (*reader)->Next();
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    if (!*n) break;
    got.push_back(std::move(**n));
  }
  ASSERT_EQ(got.size(), 3u);
  auto index = (*reader)->ReadIndex();
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_TRUE(index->has_value());
  EXPECT_EQ((*index)->format, kMultihashIndexSorted);
  ASSERT_EQ((*index)->entries.size(), 2u);  // the identity block is not indexed
  for (const auto& e : (*index)->entries) {
    bool found = false;
    for (const auto& g : got) {
      if (Bytes(g.cid.hash().digest().begin(), g.cid.hash().digest().end()) == e.digest) {
        EXPECT_EQ(g.offset, e.offset);
        found = true;
      }
    }
    EXPECT_TRUE(found);
  }
  // The payload is a complete CARv1 on its own.
  const auto& h = *(*reader)->v2_header();
  auto inner = ReadAll(ByteSpan(car).subspan(h.data_offset, h.data_size));
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(inner->size(), 3u);
}

TEST(CarReader, V2StopsAtDataSizeAndSkipsPadding) {
  auto a = Raw("alpha");
  Bytes v1 = V1Of({a.cid}, {a});
  CarV2Header h;
  h.data_offset = kCarV2DataOffset + 5;  // 5 bytes of padding
  h.data_size = v1.size();
  Bytes car(kCarV2Pragma.begin(), kCarV2Pragma.end());
  Bytes hb = h.Encode();
  car.insert(car.end(), hb.begin(), hb.end());
  car.insert(car.end(), 5, 0);
  car.insert(car.end(), v1.begin(), v1.end());
  car.insert(car.end(), {0xde, 0xad});  // junk after the payload, not read as sections
  auto blocks = ReadAll(car);
  ASSERT_TRUE(blocks.has_value()) << blocks.error().ToString();
  EXPECT_EQ(blocks->size(), 1u);
  // A data size that cuts a section in half.
  h.data_size = v1.size() - 1;
  hb = h.Encode();
  std::copy(hb.begin(), hb.end(), car.begin() + kCarV2Pragma.size());
  EXPECT_NE(ErrorOf(car).find("CARv2 data payload"), std::string::npos) << ErrorOf(car);
}

TEST(CarReader, V2RejectsPayloadShorterThanItsHeaderSays) {
  auto a = Raw("alpha");
  Bytes car = V2Of({a.cid}, {a});
  auto h = *CarV2Header::Decode(ByteSpan(car).subspan(kCarV2Pragma.size(), kCarV2HeaderSize));
  car.resize(h.data_offset + h.data_size);  // drop the index...
  h.data_size += 10;                        // ...and claim more payload than exists
  h.index_offset = 0;
  Bytes hb = h.Encode();
  std::copy(hb.begin(), hb.end(), car.begin() + kCarV2Pragma.size());
  EXPECT_NE(ErrorOf(car).find("but the header says"), std::string::npos) << ErrorOf(car);
}

TEST(CarReader, V2RejectsBadHeaderOffsets) {
  Bytes car(kCarV2Pragma.begin(), kCarV2Pragma.end());
  CarV2Header h;
  h.data_offset = 10;
  Bytes hb = h.Encode();
  car.insert(car.end(), hb.begin(), hb.end());
  EXPECT_NE(ErrorOf(car).find("inside the header"), std::string::npos) << ErrorOf(car);
  Bytes short_header(kCarV2Pragma.begin(), kCarV2Pragma.end());
  short_header.push_back(0);
  EXPECT_NE(ErrorOf(short_header).find("CARv2 header"), std::string::npos);
}

}  // namespace
}  // namespace cairn::car

namespace cairn::car {
namespace {

// testdata/v2_go_layout.car was assembled outside Cairn (a Python script following the CARv2
// spec and go-car's index layout, around a CARv1 written by @ipld/car; @ipld/car reads it back):
// pragma, header (data offset 51, index right after the payload), MultihashIndexSorted.
TEST(CarReader, ReadsExternallyBuiltV2AndRewritesItByteForByte) {
  const char* src = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream f(std::string(src) + "/src/car/testdata/v2_go_layout.car", std::ios::binary);
  const Bytes car((std::istreambuf_iterator<char>(f)), {});
  ASSERT_FALSE(car.empty());
  SpanSource source(car);
  auto reader = CarReader::Open(source);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  std::vector<CarBlock> blocks;
  while (true) {
    auto b = (*reader)->Next();
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    if (!*b) break;
    blocks.push_back(std::move(**b));
  }
  ASSERT_EQ(blocks.size(), 3u);
  auto index = (*reader)->ReadIndex();
  ASSERT_TRUE(index.has_value() && index->has_value());
  EXPECT_EQ((*index)->entries.size(), 3u);

  Bytes again;
  BytesSink sink(again);
  auto w = CarV2Writer::Create(sink, (*reader)->roots());
  ASSERT_TRUE(w.has_value());
  for (const auto& b : blocks) ASSERT_TRUE(w->Put(b.cid, b.data).has_value());
  ASSERT_TRUE(w->Finish().has_value());
  EXPECT_EQ(again, car);
}

}  // namespace
}  // namespace cairn::car
