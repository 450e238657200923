// PieceResponse: whole payload, single ranges (first-last, first-, suffix), unsatisfiable
// ranges and HEAD, each body compared with the aggregate view's own bytes.
#include "apps/cairn/piece_http.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>

#include "blockstore/memory_blockstore.hpp"
#include "common/io.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "unixfs/importer.hpp"

namespace cairn::app {
namespace {

using filecoin::deals::AggregateView;
using multiformats::Cid;

class PieceHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Bytes data(70000);
    std::mt19937_64 rng(42);
    for (auto& b : data) b = static_cast<uint8_t>(rng());  // no repeated chunks: a 70 KB CAR
    SpanSource source(data);
    ipld::StoreSink<blockstore::Blockstore> sink(store_);
    unixfs::ImportOptions options;
    options.chunk_size = 4096;
    auto node = unixfs::ImportFile(source, options, sink);
    ASSERT_TRUE(node.has_value());
    auto piece = filecoin::dealdata::ComputeCarPiece(node->cid, store_, {.threads = 1});
    ASSERT_TRUE(piece.has_value());
    filecoin::aggregation::PieceInfo info{piece->piece.root, piece->piece.padded_size()};
    auto aggregate = filecoin::aggregation::Aggregate::Build({&info, 1});
    ASSERT_TRUE(aggregate.has_value());
    auto view = AggregateView::Make({{node->cid, {}, piece->car_size, info, 0}},
                                    aggregate->deal_size(), aggregate->root());
    ASSERT_TRUE(view.has_value()) << view.error().ToString();
    ASSERT_GT(view->payload_size(), 70000u);
    view_ = std::make_shared<const AggregateView>(std::move(*view));
    ipld::BlockGetterFor<blockstore::Blockstore> getter(store_);
    ASSERT_TRUE(view_
                    ->WriteRange(0, view_->payload_size(), getter,
                                 [this](ByteSpan b) -> Result<void> {
                                   all_.insert(all_.end(), b.begin(), b.end());
                                   return Ok();
                                 })
                    .has_value());
  }

  http::Response Get(const std::string& range, const std::string& method = "GET") {
    http::Request req;
    req.method = method;
    req.path = "/filecoin/piece/x";
    if (!range.empty()) req.headers.emplace_back("Range", range);
    return PieceResponse(req, view_, store_);
  }

  static Bytes Body(http::Response& r) {
    Bytes out;
    uint8_t buf[8192];
    while (true) {
      auto n = r.stream(MutableByteSpan(buf, sizeof buf));
      EXPECT_TRUE(n.has_value());
      if (!n || *n == 0) break;
      out.insert(out.end(), buf, buf + *n);
    }
    return out;
  }

  blockstore::MemoryBlockstore store_;
  std::shared_ptr<const AggregateView> view_;
  Bytes all_;
};

TEST_F(PieceHttpTest, WholePayloadWithLength) {
  auto r = Get("");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_length, all_.size());
  EXPECT_EQ(r.Header("Accept-Ranges"), "bytes");
  EXPECT_EQ(Body(r), all_);
}

TEST_F(PieceHttpTest, SingleRangesAre206WithContentRange) {
  const uint64_t size = all_.size();
  struct Case {
    std::string range;
    uint64_t first, last;
  } cases[] = {{"bytes=0-0", 0, 0},
               {"bytes=10-99", 10, 99},
               {"bytes=70000-", 70000, size - 1},
               {"bytes=-5", size - 5, size - 1},
               {"bytes=100-" + std::to_string(size + 100), 100, size - 1}};
  for (const auto& c : cases) {
    auto r = Get(c.range);
    EXPECT_EQ(r.status, 206) << c.range;
    EXPECT_EQ(r.Header("Content-Range"), "bytes " + std::to_string(c.first) + "-" +
                                             std::to_string(c.last) + "/" + std::to_string(size))
        << c.range;
    EXPECT_EQ(r.content_length, c.last - c.first + 1) << c.range;
    EXPECT_EQ(Body(r), Bytes(all_.begin() + static_cast<std::ptrdiff_t>(c.first),
                             all_.begin() + static_cast<std::ptrdiff_t>(c.last + 1)))
        << c.range;
  }
}

TEST_F(PieceHttpTest, UnsatisfiableRangeIs416AndHeadHasLengthOnly) {
  auto r = Get("bytes=" + std::to_string(all_.size()) + "-");
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("Content-Range"), "bytes */" + std::to_string(all_.size()));
  auto head = Get("", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, all_.size());
  EXPECT_TRUE(Body(head).empty());
}

// A store that counts how blocks are read, and can report one block damaged.
class ReadCountingStore final : public blockstore::Blockstore {
 public:
  explicit ReadCountingStore(blockstore::Blockstore& inner) : inner_(inner) {}
  Result<void> Put(const Cid& cid, ByteSpan data) override { return inner_.Put(cid, data); }
  Result<Bytes> Get(const Cid& cid) override {
    ++verified_reads;
    return inner_.Get(cid);
  }
  Result<Bytes> GetIntact(const Cid& cid) override {
    ++intact_reads;
    if (damaged && damaged->hash().Encode() == cid.hash().Encode())
      return Err(ErrorCode::kCorruption, "damaged on disk");
    return inner_.GetIntact(cid);
  }
  Result<bool> Has(const Cid& cid) override { return inner_.Has(cid); }
  Result<uint64_t> Size(const Cid& cid) override { return inner_.Size(cid); }
  Result<void> Delete(const Cid& cid) override { return inner_.Delete(cid); }
  Result<void> ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) override {
    return inner_.ForEach(fn);
  }
  Result<void> Sync() override { return inner_.Sync(); }

  int verified_reads = 0;
  int intact_reads = 0;
  std::optional<Cid> damaged;

 private:
  blockstore::Blockstore& inner_;
};

// A provider checks the CommP of every byte it pulls, so the piece is read with GetIntact (the
// store's own checksum, not a second SHA-256 per block); a block the store finds damaged cuts the
// body with an error, never with wrong bytes.
TEST_F(PieceHttpTest, BlocksAreReadIntactAndADamagedOneCutsTheBody) {
  ReadCountingStore counting(store_);
  http::Request req;
  req.method = "GET";
  req.path = "/filecoin/piece/x";
  auto r = PieceResponse(req, view_, counting);
  EXPECT_EQ(Body(r), all_);
  EXPECT_GT(counting.intact_reads, 17);  // 70,000 bytes in 4 KiB chunks, and their root
  EXPECT_EQ(counting.verified_reads, 0);

  std::vector<Cid> cids;
  ASSERT_TRUE(store_.ForEach([&](const Cid& c, uint64_t) {
    cids.push_back(c);
    return true;
  }));
  ASSERT_FALSE(cids.empty());
  counting.damaged = cids.back();
  auto cut = PieceResponse(req, view_, counting);
  Bytes got;
  uint8_t buf[8192];
  Result<size_t> n = size_t{0};
  while ((n = cut.stream(MutableByteSpan(buf, sizeof buf))) && *n > 0) {
    got.insert(got.end(), buf, buf + *n);
  }
  ASSERT_FALSE(n.has_value()) << "the body ended normally after " << got.size() << " bytes";
  EXPECT_LT(got.size(), all_.size());
  EXPECT_TRUE(std::equal(got.begin(), got.end(), all_.begin()));
}

}  // namespace
}  // namespace cairn::app
