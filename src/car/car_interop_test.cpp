// Cross-checks the CAR and dag-cbor code against @ipld/car 5.4.7 and @ipld/dag-cbor 10.0.2 through
// tests/interop/car_crosscheck.mjs: CARs we write (v1 from ExportDag, v2 with index) are read
// back by CarBlockIterator block for block; CARs the JS CarWriter writes are read by us; random
// dag-cbor values encoded on either side decode and re-encode to identical bytes on the other.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "car/car_reader.hpp"
#include "car/car_test_util.hpp"
#include "car/car_writer.hpp"
#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"

namespace cairn::car {
namespace {

namespace fs = std::filesystem;
using ipld::CborValue;
using testing::Block;
using testing::MapGetter;

// Runs node with `args`; returns stdout, fails the test on a non-zero exit.
std::string Node(const std::string& args) {
  cairn::testing::CommandResult run = cairn::testing::RunNodeDriver("car_crosscheck.mjs", args);
  EXPECT_EQ(run.exit_code, 0) << "node car_crosscheck.mjs " << args;
  return std::move(run.out);
}

void WriteFile(const fs::path& p, ByteSpan data) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}
Bytes ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

struct Listing {
  int version = 0;
  std::vector<std::string> roots;
  std::vector<std::pair<std::string, std::string>> blocks;  // cid text, hex
};

Listing ParseListing(const std::string& text) {
  Listing l;
  std::istringstream in(text);
  std::string kind;
  while (in >> kind) {
    if (kind == "version") {
      in >> l.version;
    } else if (kind == "root") {
      std::string c;
      in >> c;
      l.roots.push_back(c);
    } else if (kind == "block") {
      std::string c, h;
      in >> c >> h;
      l.blocks.emplace_back(c, h);
    }
  }
  return l;
}

Listing OurListing(ByteSpan car) {
  Listing l;
  SpanSource src(car);
  auto reader = CarReader::Open(src);
  EXPECT_TRUE(reader.has_value()) << reader.error().ToString();
  if (!reader) return l;
  l.version = (*reader)->version();
  for (const auto& r : (*reader)->roots()) l.roots.push_back(r.ToString());
  while (true) {
    auto b = (*reader)->Next();
    EXPECT_TRUE(b.has_value()) << b.error().ToString();
    if (!b || !*b) break;
    l.blocks.emplace_back((*b)->cid.ToString(), HexEncode((*b)->data));
  }
  return l;
}

// Random values the JS side round-trips exactly: floats are never whole numbers (JS would turn
// 2.0 into the integer 2), everything else is unrestricted.
CborValue RandomValue(std::mt19937_64& rng, int depth, const std::vector<Cid>& links) {
  const int kind = static_cast<int>(rng() % (depth > 2 ? 8 : 10));
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
      } while (!std::isfinite(d) || d == std::trunc(d));
      return CborValue::Float(d);
    }
    case 5: {
      Bytes b(rng() % 30);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      return CborValue::ByteString(std::move(b));
    }
    case 6: {
      std::string s(rng() % 12, 'a');
      for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
      if (rng() % 8 == 0) s += "é😀";
      return CborValue::String(s);
    }
    case 7:
      if (links.empty()) return CborValue::String("nolink");
      return CborValue::Link(links[rng() % links.size()]);
    case 8: {
      CborValue::List items(rng() % 4);
      for (auto& i : items) i = RandomValue(rng, depth + 1, links);
      return CborValue::MakeList(std::move(items));
    }
    default: {
      CborValue::Map m;
      const size_t n = rng() % 4;
      for (size_t i = 0; i < n; ++i) {
        std::string key = "k" + std::to_string(rng() % 1000);
        bool dup = false;
        for (const auto& e : m) dup = dup || e.first == key;
        if (!dup) m.emplace_back(key, RandomValue(rng, depth + 1, links));
      }
      return CborValue::MakeMap(std::move(m));
    }
  }
}

// A random DAG of raw, dag-pb and dag-cbor blocks (some shared, so export must dedupe); the last
// block links (transitively) to most of it.
std::vector<Block> RandomDag(std::mt19937_64& rng, int n) {
  std::vector<Block> blocks;
  for (int i = 0; i < n; ++i) {
    std::vector<Cid> links;
    for (const auto& b : blocks) {
      if (rng() % 4 == 0) links.push_back(b.cid);
    }
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 0 || blocks.empty()) {
      Bytes data(rng() % 5000);
      for (auto& x : data) x = static_cast<uint8_t>(rng());
      blocks.push_back(testing::MakeBlock(testing::codec::kRaw, std::move(data)));
    } else if (kind == 1) {
      blocks.push_back(testing::Pb(links, "node " + std::to_string(i)));
    } else {
      auto v = CborValue::MakeMap({{"i", CborValue::Int(i)},
                                   {"v", RandomValue(rng, 0, links)},
                                   {"links", [&] {
                                      CborValue::List l;
                                      for (const auto& c : links) l.push_back(CborValue::Link(c));
                                      return CborValue::MakeList(std::move(l));
                                    }()}});
      blocks.push_back(testing::MakeBlock(testing::codec::kDagCbor, *ipld::EncodeDagCbor(v)));
    }
  }
  std::vector<Cid> all;
  for (const auto& b : blocks) all.push_back(b.cid);
  blocks.push_back(testing::Pb(all, "root"));
  return blocks;
}

TEST(CarInterop, JsReadsOurExportedV1AndV2BlockForBlock) {
  const cairn::testing::TempDir dir("cairn-car-interop");
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    auto dag = RandomDag(rng, 40);
    MapGetter getter;
    for (const auto& b : dag) getter.Add(b);
    Bytes v1;
    BytesSink sink(v1);
    ASSERT_TRUE(ExportDag(dag.back().cid, getter, sink).has_value());
    Listing ours = OurListing(v1);
    ASSERT_EQ(ours.blocks.size(), dag.size());  // every block once
    WriteFile(dir / "v1.car", v1);
    Listing js1 = ParseListing(Node("read " + (dir / "v1.car")));
    EXPECT_EQ(js1.version, 1);
    EXPECT_EQ(js1.roots, ours.roots);
    EXPECT_EQ(js1.blocks, ours.blocks);

    // The same blocks as a CARv2 with an index.
    Bytes v2;
    BytesSink sink2(v2);
    auto w = CarV2Writer::Create(sink2, {dag.back().cid});
    ASSERT_TRUE(w.has_value());
    SpanSource src(v1);
    auto reader = CarReader::Open(src);
    ASSERT_TRUE(reader.has_value());
    while (true) {
      auto b = (*reader)->Next();
      ASSERT_TRUE(b.has_value());
      if (!*b) break;
      ASSERT_TRUE(w->Put((*b)->cid, (*b)->data).has_value());
    }
    ASSERT_TRUE(w->Finish().has_value());
    WriteFile(dir / "v2.car", v2);
    Listing js2 = ParseListing(Node("read " + (dir / "v2.car")));
    EXPECT_EQ(js2.version, 2);
    EXPECT_EQ(js2.roots, ours.roots);
    EXPECT_EQ(js2.blocks, ours.blocks);
  }
}

TEST(CarInterop, WeReadJsWrittenCarsBlockForBlock) {
  const cairn::testing::TempDir dir("cairn-car-interop");
  for (int seed = 1; seed <= 5; ++seed) {
    const fs::path car = dir / ("js" + std::to_string(seed) + ".car");
    Listing js = ParseListing(Node("write " + car.string() + " " + std::to_string(seed) + " 60"));
    ASSERT_EQ(js.blocks.size(), 60u);
    Listing ours = OurListing(ReadFile(car));
    EXPECT_EQ(ours.version, 1);
    EXPECT_EQ(ours.roots, js.roots);
    EXPECT_EQ(ours.blocks, js.blocks);
    // Every dag-cbor block JS wrote passes our strict decoder and re-encodes to the same bytes.
    for (const auto& [cid_text, hex] : js.blocks) {
      auto cid = Cid::Parse(cid_text);
      ASSERT_TRUE(cid.has_value());
      if (cid->codec() != testing::codec::kDagCbor) continue;
      auto v = ipld::DecodeDagCbor(*HexDecode(hex));
      ASSERT_TRUE(v.has_value()) << v.error().ToString() << " " << hex;
      EXPECT_EQ(HexEncode(*ipld::EncodeDagCbor(*v)), hex);
    }
  }
}

TEST(DagCborInterop, OurRandomValuesRoundTripThroughJs) {
  const cairn::testing::TempDir dir("cairn-car-interop");
  std::mt19937_64 rng(99);
  const std::vector<Cid> links = {
      *Cid::Parse("bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
      *Cid::Parse("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")};
  std::string lines;
  for (int i = 0; i < 1000; ++i) {
    auto bytes = ipld::EncodeDagCbor(RandomValue(rng, 0, links));
    ASSERT_TRUE(bytes.has_value());
    lines += HexEncode(*bytes) + "\n";
  }
  WriteFile(dir / "ours.txt", AsBytes(lines));
  Node("cbor-roundtrip " + (dir / "ours.txt") + " " + (dir / "back.txt"));
  const Bytes back = ReadFile(dir / "back.txt");
  EXPECT_EQ(std::string(AsString(back)), lines);
}

TEST(DagCborInterop, JsRandomValuesDecodeAndReencodeIdentically) {
  const cairn::testing::TempDir dir("cairn-car-interop");
  Node("cbor-gen " + (dir / "js.txt") + " 5 1000");
  std::istringstream in(std::string(AsString(ReadFile(dir / "js.txt"))));
  std::string hex;
  int n = 0;
  while (std::getline(in, hex)) {
    if (hex.empty()) continue;
    ++n;
    auto v = ipld::DecodeDagCbor(*HexDecode(hex));
    ASSERT_TRUE(v.has_value()) << v.error().ToString() << " " << hex;
    auto again = ipld::EncodeDagCbor(*v);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(HexEncode(*again), hex);
  }
  EXPECT_EQ(n, 1000);
}

}  // namespace
}  // namespace cairn::car
