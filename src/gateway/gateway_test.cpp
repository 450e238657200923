#include "gateway/gateway.hpp"

#include <gtest/gtest.h>

#include "blockstore/memory_blockstore.hpp"
#include "car/car_reader.hpp"
#include "common/io.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/multicodec.hpp"
#include "unixfs/importer.hpp"

namespace cairn::gateway {
namespace {

namespace mf = multiformats;

// A small site imported like `ipfs add -r --cid-version=1 --chunker=size-1024`:
//   /big.bin (5000 bytes, 5 raw leaves), /docs/a.txt, /docs/index.html, /empty/ (a directory)
class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.cid_version = 1;
    opts_.raw_leaves = true;
    opts_.chunk_size = 1024;
    ipld::StoreSink<blockstore::Blockstore> sink(store_);
    for (int i = 0; i < 5000; ++i) big_.push_back(static_cast<char>('a' + i % 26));
    auto big = File(big_, sink);
    auto a = File("hello gateway\n", sink);
    auto index = File("<!doctype html><p>docs</p>", sink);
    unixfs::DirectoryBuilder docs(opts_, sink);
    ASSERT_TRUE(docs.Add("a.txt", a));
    ASSERT_TRUE(docs.Add("index.html", index));
    auto docs_node = *docs.Finish();
    unixfs::DirectoryBuilder empty(opts_, sink);
    auto empty_node = *empty.Finish();
    unixfs::DirectoryBuilder root(opts_, sink);
    ASSERT_TRUE(root.Add("big.bin", big));
    ASSERT_TRUE(root.Add("docs", docs_node));
    ASSERT_TRUE(root.Add("empty", empty_node));
    root_ = root.Finish()->cid;
    big_cid_ = big.cid;
  }
  unixfs::ImportedNode File(const std::string& data, ipld::BlockSink& sink) {
    SpanSource src(AsBytes(data));
    return *unixfs::ImportFile(src, opts_, sink);
  }
  http::Response Get(const std::string& target, http::HeaderList headers = {},
                     std::string method = "GET") {
    http::Request r;
    r.method = method;
    r.target = target;
    EXPECT_TRUE(http::ParseTarget(target, r));
    r.headers = std::move(headers);
    return gateway_.Handle(r);
  }
  static std::string Body(http::Response& r) {
    if (!r.stream) return r.body;
    std::string out;
    Bytes buf(4096);
    for (;;) {
      auto n = r.stream(buf);
      EXPECT_TRUE(n);
      if (!n || *n == 0) return out;
      out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
  }
  // The CIDs of a CAR body, in order; checks the header root and every block's hash.
  std::vector<mf::Cid> CarCids(const std::string& car, const mf::Cid& root) {
    SpanSource src(AsBytes(car));
    auto reader = car::CarReader::Open(src);
    EXPECT_TRUE(reader) << reader.error().ToString();
    if (!reader) return {};
    EXPECT_EQ((*reader)->roots(), std::vector<mf::Cid>{root});
    std::vector<mf::Cid> out;
    for (;;) {
      auto b = (*reader)->Next();
      EXPECT_TRUE(b) << b.error().ToString();
      if (!b || !*b) return out;
      out.push_back((*b)->cid);
    }
  }
  std::string R() const { return "/ipfs/" + root_.ToString(); }

  unixfs::ImportOptions opts_;
  blockstore::MemoryBlockstore store_;
  Gateway gateway_{store_};
  std::string big_;
  mf::Cid root_, big_cid_;
};

TEST_F(GatewayTest, ServesFilesWithTypesEtagsAndRanges) {
  auto r = Get(R() + "/docs/a.txt");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(*r.Header("Cache-Control"), "public, max-age=29030400, immutable");
  EXPECT_EQ(Body(r), "hello gateway\n");
  auto big = Get(R() + "/big.bin", {{"Range", "bytes=1020-1029"}});
  ASSERT_EQ(big.status, 206);
  EXPECT_EQ(*big.Header("Content-Range"), "bytes 1020-1029/5000");
  EXPECT_EQ(Body(big), big_.substr(1020, 10));
  auto tail = Get(R() + "/big.bin", {{"Range", "bytes=-3"}});
  EXPECT_EQ(Body(tail), big_.substr(4997));
  auto bad = Get(R() + "/big.bin", {{"Range", "bytes=9000-"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(*bad.Header("Content-Range"), "bytes */5000");
  auto whole = Get(R() + "/big.bin");
  EXPECT_EQ(Body(whole), big_);
  std::string etag(*whole.Header("Etag"));
  EXPECT_EQ(etag, "\"" + big_cid_.ToString() + "\"");
  EXPECT_EQ(Get(R() + "/big.bin", {{"If-None-Match", etag}}).status, 304);
}

TEST_F(GatewayTest, DirectoriesRedirectThenServeIndexOrAListing) {
  auto redirect = Get(R() + "/docs?x=1");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(*redirect.Header("Location"), R() + "/docs/?x=1");
  auto index = Get(R() + "/docs/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(Body(index), "<!doctype html><p>docs</p>");
  auto listing = Get(R() + "/");
  ASSERT_EQ(listing.status, 200);
  EXPECT_NE(listing.body.find("href=\"" + R() + "/big.bin\""), std::string::npos) << listing.body;
  EXPECT_NE(listing.body.find("docs/"), std::string::npos);
  EXPECT_NE(listing.Header("Etag")->find("DirIndex-"), std::string::npos);
}

TEST_F(GatewayTest, RawBlocksAndTheirHeaders) {
  auto r = Get(R() + "?format=raw");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(*r.Header("Content-Type"), "application/vnd.ipld.raw");
  EXPECT_TRUE(root_.hash().Verify(AsBytes(r.body)));
  auto via_accept = Get(R() + "/big.bin", {{"Accept", "application/vnd.ipld.raw"}});
  EXPECT_TRUE(big_cid_.hash().Verify(AsBytes(via_accept.body)));
  EXPECT_EQ(*via_accept.Header("Content-Location"), R() + "/big.bin?format=raw");
}

TEST_F(GatewayTest, CarScopesCarryExactlyTheNeededBlocks) {
  auto all = Get(R() + "?format=car");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(*all.Header("Content-Type"), "application/vnd.ipld.car; version=1; order=dfs; dups=n");
  auto cids = CarCids(Body(all), root_);
  size_t stored = 0;
  ASSERT_TRUE(store_.ForEach([&](const mf::Cid&, uint64_t) { return ++stored, true; }));
  EXPECT_EQ(cids.size(), stored);  // every block of the site, once
  EXPECT_EQ(cids.front(), root_);

  auto block = Get(R() + "/big.bin?format=car&dag-scope=block");
  auto bcids = CarCids(Body(block), root_);
  ASSERT_EQ(bcids.size(), 2u);  // the root directory, then the file's root
  EXPECT_EQ(bcids.back(), big_cid_);

  auto entity = Get(R() + "/big.bin?format=car&dag-scope=entity");
  EXPECT_EQ(CarCids(Body(entity), root_).size(), 2u + 5u);  // path, file root, 5 leaves

  auto range = Get(R() + "/big.bin?format=car&entity-bytes=1024:2047");
  EXPECT_EQ(CarCids(Body(range), root_).size(), 2u + 1u);  // only the second leaf
  EXPECT_EQ(Get(R() + "/big.bin?format=car&entity-bytes=6000:*").status, 400);
}

TEST_F(GatewayTest, ErrorsHaveTheSpecifiedStatuses) {
  auto missing =
      mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes("absent"))->ToString();
  EXPECT_EQ(Get("/ipfs/" + missing).status, 404);
  EXPECT_EQ(Get("/ipfs/" + missing, {{"Cache-Control", "only-if-cached"}}).status, 412);
  EXPECT_EQ(Get("/ipfs/not-a-cid").status, 400);
  EXPECT_EQ(Get(R() + "/nope.txt").status, 404);
  EXPECT_EQ(Get(R() + "?format=tar").status, 406);
  EXPECT_EQ(Get(R(), {}, "DELETE").status, 405);
  auto head = Get(R() + "/docs/a.txt", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(*head.content_length, 14u);
}

TEST_F(GatewayTest, IdentityProbeAnswers) {
  // trustless-gateway.md: GET /ipfs/bafkqaaa (the empty identity CID) must work for raw and CAR.
  auto raw = Get("/ipfs/bafkqaaa?format=raw");
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(raw.body, "");
  auto car = Get("/ipfs/bafkqaaa?format=car");
  EXPECT_EQ(car.status, 200);
  EXPECT_TRUE(CarCids(Body(car), *mf::Cid::Parse("bafkqaaa")).empty());
}

}  // namespace
}  // namespace cairn::gateway
