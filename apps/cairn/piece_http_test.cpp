// PieceResponse: whole payload, single ranges (first-last, first-, suffix), unsatisfiable
// ranges and HEAD, each body compared with the aggregate view's own bytes.
#include "apps/cairn/piece_http.hpp"

#include <gtest/gtest.h>

#include <random>

#include "blockstore/memory_blockstore.hpp"
#include "common/io.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "unixfs/importer.hpp"

namespace cairn::app {
namespace {

using filecoin::deals::AggregateView;

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

}  // namespace
}  // namespace cairn::app
