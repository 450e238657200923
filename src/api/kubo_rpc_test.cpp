#include "api/kubo_rpc.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "api/internal/test_request.hpp"
#include "blockstore/memory_blockstore.hpp"
#include "car/car_writer.hpp"
#include "fetch/fake_http_getter.hpp"
#include "metadata/migrations.hpp"
#include "metadata/sqlite_database.hpp"
#include "multiformats/multicodec.hpp"
#include "pinning/pin_service.hpp"

namespace cairn::api {
namespace {

namespace json = boost::json;
namespace mf = multiformats;

// Well-known Kubo answers: `echo "hello world" | ipfs add`, the empty file, and the raw
// sha2-256 CID of "hello world".
constexpr const char* kHelloWorldNlV0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
constexpr const char* kEmptyFileV0 = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
constexpr const char* kHelloWorldRaw =
    "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
constexpr const char* kBoundary = "-----------------------------cairnTestBoundary";

struct CountingEvents : PinEvents {
  void OnQueued() override { ++queued; }
  void OnRemoved(const std::string&) override {}
  int queued = 0;
};

struct Part {
  std::string filename;  // already percent-encoded, as kubo-rpc-client sends it
  std::string content_type = "application/octet-stream";
  std::string body;
};

std::string Multipart(const std::vector<Part>& parts, const std::string& boundary = kBoundary) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "\r\n";
    out += "--" + boundary + "\r\n";
    out += "Content-Disposition: form-data; name=\"file" + (i ? "-" + std::to_string(i) : "") +
           "\"; filename=\"" + parts[i].filename + "\"\r\n";
    out += "Content-Type: " + parts[i].content_type + "\r\n\r\n";
    out += parts[i].body;
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

// NDJSON lines → objects.
std::vector<json::object> Lines(const std::string& body) {
  std::vector<json::object> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t eol = body.find('\n', start);
    if (eol == std::string::npos) eol = body.size();
    if (eol > start) out.push_back(json::parse(body.substr(start, eol - start)).as_object());
    start = eol + 1;
  }
  return out;
}

std::string Str(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_string() ? "" : std::string(it->value().as_string());
}

class KuboRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-kubo-rpc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(*metadata::SqliteDatabase::Open((dir_ / "db").string()));
    ASSERT_TRUE(metadata::Migrate(*db_, metadata::BuiltinMigrations(), clock_));
    accounts_ = std::make_unique<metadata::AccountStore>(*db_, clock_);
    pins_ = std::make_unique<metadata::PinStore>(*db_, clock_);
    Bytes seed(32, 7);
    identity_ = std::make_unique<net::Ed25519Identity>(net::Ed25519Identity::FromSeed(seed));
    rpc_ = std::make_unique<KuboRpc>(KuboRpcContext{blocks_,
                                                    leases_,
                                                    *pins_,
                                                    *accounts_,
                                                    events_,
                                                    clock_,
                                                    *identity_,
                                                    {"/ip4/127.0.0.1/tcp/4001"},
                                                    dir_ / "spool"});
    alice_ = accounts_->CreateAccount("alice")->id;
    token_ = accounts_->CreateToken(alice_, metadata::ScopeSet::Default(), std::nullopt)->secret;
  }
  void TearDown() override {
    rpc_.reset();
    pins_.reset();
    accounts_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string TokenWith(std::vector<std::string> scopes) {
    return accounts_->CreateToken(alice_, *metadata::ScopeSet::Parse(scopes), std::nullopt)->secret;
  }

  static http::Request MakeRequest(const std::string& target, const std::string& token) {
    return testing::AuthorizedRequest("POST", target, token);
  }

  // Streams `body` to the upload consumer in random-sized pieces, as the server does.
  http::Response Upload(const std::string& target, const std::string& body,
                        const std::string& token,
                        std::string content_type = std::string("multipart/form-data; boundary=") +
                                                   kBoundary) {
    http::Request r = MakeRequest(target, token);
    if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
    auto consumer = rpc_->StreamUpload(r);
    EXPECT_NE(consumer, nullptr);
    if (!consumer) return {};
    std::uniform_int_distribution<size_t> piece(1, 700);
    size_t at = 0;
    while (at < body.size()) {
      size_t n = std::min(piece(rng_), body.size() - at);
      auto ok = consumer->OnData(AsBytes(std::string_view(body).substr(at, n)));
      if (!ok) return KuboRpc::ErrorFor(ok.error());
      at += n;
    }
    return http::Resolve(consumer->Finish());
  }

  http::Response Call(const std::string& target, const std::string& token,
                      const std::string& method = "POST") {
    http::Request r = MakeRequest(target, token);
    r.method = method;
    return rpc_->Handle(r);
  }

  static std::string Drain(http::Response& r) {
    if (!r.stream) return r.body;
    std::string out;
    Bytes buf(4096);
    for (;;) {
      auto n = r.stream(MutableByteSpan(buf.data(), buf.size()));
      if (!n) return out + "<stream error: " + n.error().message() + ">";
      if (*n == 0) return out;
      out.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
  }

  uint64_t PinCount(const std::string& cid) {
    metadata::PinFilter f;
    f.cids.push_back(*mf::Cid::Parse(cid));
    return *pins_->Count(alice_, f);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  blockstore::MemoryBlockstore blocks_;
  blockstore::BlockLeases leases_;
  CountingEvents events_;
  std::unique_ptr<metadata::Database> db_;
  std::unique_ptr<metadata::AccountStore> accounts_;
  std::unique_ptr<metadata::PinStore> pins_;
  std::unique_ptr<net::Ed25519Identity> identity_;
  std::unique_ptr<KuboRpc> rpc_;
  int64_t alice_ = 0;
  std::string token_;
  std::mt19937 rng_{42};
};

TEST_F(KuboRpcTest, AddAnswersLikeKuboStoresAndPins) {
  auto r = Upload("/api/v0/add?stream-channels=true&progress=false",
                  Multipart({{"", "application/octet-stream", "hello world\n"}}), token_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = Lines(r.body);
  ASSERT_EQ(lines.size(), 1u) << r.body;
  EXPECT_EQ(Str(lines[0], "Hash"), kHelloWorldNlV0);
  EXPECT_EQ(Str(lines[0], "Name"), kHelloWorldNlV0);  // an unnamed file is named by its CID
  EXPECT_EQ(Str(lines[0], "Size"), "20");
  EXPECT_TRUE(*blocks_.Has(*mf::Cid::Parse(kHelloWorldNlV0)));
  EXPECT_EQ(PinCount(kHelloWorldNlV0), 1u);
  EXPECT_EQ(events_.queued, 1);
}

TEST_F(KuboRpcTest, UploadingTheSameContentAgainKeepsOnePin) {
  std::string body = Multipart({{"", "application/octet-stream", "hello world\n"}});
  ASSERT_EQ(Upload("/api/v0/add", body, token_).status, 200);
  ASSERT_EQ(Upload("/api/v0/add", body, token_).status, 200);
  EXPECT_EQ(PinCount(kHelloWorldNlV0), 1u);
  EXPECT_EQ(events_.queued, 1);
  // Another account gets its own pin.
  int64_t bob = accounts_->CreateAccount("bob")->id;
  std::string bob_token =
      accounts_->CreateToken(bob, metadata::ScopeSet::Default(), std::nullopt)->secret;
  ASSERT_EQ(Upload("/api/v0/add", body, bob_token).status, 200);
  metadata::PinFilter f;
  f.cids.push_back(*mf::Cid::Parse(kHelloWorldNlV0));
  EXPECT_EQ(*pins_->Count(bob, f), 1u);
  // A failed pin does not count: uploading again pins again.
  auto existing = pins_->List(alice_, f);
  ASSERT_TRUE(existing && existing->size() == 1u);
  ASSERT_TRUE(pins_->UpdateStatus((*existing)[0].requestid, metadata::PinStatus::kFailed, {}));
  ASSERT_EQ(Upload("/api/v0/add", body, token_).status, 200);
  EXPECT_EQ(PinCount(kHelloWorldNlV0), 2u);
}

TEST_F(KuboRpcTest, AddHonoursCidVersionRawLeavesAndOnlyHashAndPin) {
  auto v1 = Upload("/api/v0/add?cid-version=1&pin=false",
                   Multipart({{"hello.txt", "application/octet-stream", "hello world"}}), token_);
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(Str(Lines(v1.body)[0], "Hash"), kHelloWorldRaw);
  EXPECT_EQ(Str(Lines(v1.body)[0], "Name"), "hello.txt");
  EXPECT_EQ(PinCount(kHelloWorldRaw), 0u);
  EXPECT_TRUE(*blocks_.Has(*mf::Cid::Parse(kHelloWorldRaw)));

  auto empty = Upload("/api/v0/add?only-hash=true",
                      Multipart({{"", "application/octet-stream", ""}}), token_);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(Str(Lines(empty.body)[0], "Hash"), kEmptyFileV0);
  EXPECT_FALSE(*blocks_.Has(*mf::Cid::Parse(kEmptyFileV0)));
  EXPECT_EQ(PinCount(kEmptyFileV0), 0u);
}

TEST_F(KuboRpcTest, AddBuildsDirectoriesFromPathsAndWrapsThem) {
  std::string body = Multipart({{"tree", "application/x-directory", ""},
                                {"tree%2Fa.txt", "application/octet-stream", "a"},
                                {"tree%2Fsub%2Fb.txt", "application/octet-stream", "b"},
                                {"tree%2Fempty", "application/x-directory", ""}});
  auto r = Upload("/api/v0/add?cid-version=1", body, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = Lines(r.body);
  std::vector<std::string> names;
  for (const auto& l : lines) names.push_back(Str(l, "Name"));
  // Files first in upload order, then directories deepest first, the root last.
  EXPECT_EQ(names, (std::vector<std::string>{"tree/a.txt", "tree/sub/b.txt", "tree/empty",
                                             "tree/sub", "tree"}));
  std::string root = Str(lines.back(), "Hash");
  auto cat = Call("/api/v0/cat?arg=" + root + "/sub/b.txt", token_);
  ASSERT_EQ(cat.status, 200) << cat.body;
  EXPECT_EQ(Drain(cat), "b");
  EXPECT_EQ(PinCount(root), 1u);

  auto wrapped = Upload("/api/v0/add?wrap-with-directory=true",
                        Multipart({{"x.txt", "application/octet-stream", "x"}}), token_);
  ASSERT_EQ(wrapped.status, 200) << wrapped.body;
  auto wl = Lines(wrapped.body);
  ASSERT_EQ(wl.size(), 2u);
  EXPECT_EQ(Str(wl[1], "Name"), "");
  auto x = Call("/api/v0/cat?arg=/ipfs/" + Str(wl[1], "Hash") + "/x.txt", token_);
  EXPECT_EQ(Drain(x), "x");
  // block/get takes paths too: the block of x.txt is the one its own line names.
  auto block = Call("/api/v0/block/get?arg=/ipfs/" + Str(wl[1], "Hash") + "/x.txt", token_);
  ASSERT_EQ(block.status, 200) << block.body;
  auto direct = Call("/api/v0/block/get?arg=" + Str(wl[0], "Hash"), token_);
  EXPECT_EQ(block.body, direct.body);
  EXPECT_EQ(Call("/api/v0/block/get?arg=/ipfs/" + Str(wl[1], "Hash") + "/nope", token_).status,
            404);
  EXPECT_EQ(PinCount(Str(wl[1], "Hash")), 1u);
  EXPECT_EQ(PinCount(Str(wl[0], "Hash")), 0u);
}

TEST_F(KuboRpcTest, WrappingAnUnnamedFileNamesItByItsCid) {
  auto r = Upload("/api/v0/add?wrap-with-directory=true",
                  Multipart({{"", "application/octet-stream", "hello world\n"}}), token_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = Lines(r.body);
  ASSERT_EQ(lines.size(), 2u) << r.body;
  auto back = Call("/api/v0/cat?arg=" + Str(lines[1], "Hash") + "/" + kHelloWorldNlV0, token_);
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(Drain(back), "hello world\n");
}

TEST_F(KuboRpcTest, RejectsBadArgumentsWithTheArgumentsName) {
  std::string body = Multipart({{"", "application/octet-stream", "x"}});
  struct Case {
    std::string query;
    std::string needle;
  } cases[] = {{"cid-version=2", "cid-version"},
               {"raw-leaves=maybe", "raw-leaves"},
               {"chunker=size-0", "chunker"},
               {"chunker=rabin-1-2-3", "chunker"},
               {"chunker=size-99999999999", "chunker"},
               {"hash=md5", "hash"},
               {"cid-base=base1000", "base"},
               {"only-hash=yes", "only-hash"},
               {"pin=2", "pin"}};
  for (const auto& c : cases) {
    auto r = Upload("/api/v0/add?" + c.query, body, token_);
    EXPECT_EQ(r.status, 400) << c.query << ": " << r.body;
    EXPECT_NE(r.body.find(c.needle), std::string::npos) << c.query << ": " << r.body;
    // Kubo's error shape, which kubo-rpc-client shows to its caller.
    auto o = json::parse(r.body).as_object();
    EXPECT_NE(Str(o, "Message").find(c.needle), std::string::npos) << r.body;
    EXPECT_EQ(Str(o, "Type"), "error");
  }
  EXPECT_EQ(blocks_.BlockCount(), 0u);
  EXPECT_EQ(events_.queued, 0);
}

TEST_F(KuboRpcTest, RejectsMalformedMultipartBodies) {
  struct Case {
    std::string what;
    std::string body;
    std::string content_type;
  } cases[] = {
      {"no closing boundary",
       "--" + std::string(kBoundary) +
           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\nabc",
       ""},
      {"garbage after a boundary", "--" + std::string(kBoundary) + "xyz\r\n\r\n", ""},
      {"no Content-Disposition",
       "--" + std::string(kBoundary) + "\r\nContent-Type: text/plain\r\n\r\nabc\r\n--" + kBoundary +
           "--\r\n",
       ""},
      {"a path with ..", Multipart({{"a%2F..%2Fb", "application/octet-stream", "x"}}), ""},
      {"an absolute path", Multipart({{"%2Fetc%2Fpasswd", "application/octet-stream", "x"}}), ""},
      {"a file uploaded twice",
       Multipart({{"a", "application/octet-stream", "x"}, {"a", "application/octet-stream", "y"}}),
       ""},
      {"a directory with a body", Multipart({{"d", "application/x-directory", "oops"}}), ""},
      {"a file and a directory of the same name",
       Multipart(
           {{"d", "application/octet-stream", "x"}, {"d%2Fe", "application/octet-stream", "y"}}),
       ""},
      {"no parts at all", "--" + std::string(kBoundary) + "--\r\n", ""},
      {"part headers over 16 KiB",
       "--" + std::string(kBoundary) + "\r\nX-Pad: " + std::string(20000, 'p') + "\r\n", ""},
      {"a symlink target over 4096 bytes",
       Multipart({{"l", "application/symlink", std::string(5000, 'l')}}), ""},
      {"not multipart", "abc", "text/plain"},
      {"no boundary", "abc", "multipart/form-data"},
  };
  for (const auto& c : cases) {
    auto r = c.content_type.empty() ? Upload("/api/v0/add", c.body, token_)
                                    : Upload("/api/v0/add", c.body, token_, c.content_type);
    EXPECT_EQ(r.status, 400) << c.what << ": " << r.body;
  }
  EXPECT_EQ(events_.queued, 0);
  metadata::PinFilter any;
  EXPECT_EQ(*pins_->Count(alice_, any), 0u);
}

TEST_F(KuboRpcTest, UploadsNeedTheUploadScopeAndReadsNeedPinsRead) {
  std::string body = Multipart({{"", "application/octet-stream", "hello world\n"}});
  EXPECT_EQ(Upload("/api/v0/add", body, "").status, 401);
  EXPECT_EQ(Upload("/api/v0/add", body, "cairn_not_a_token").status, 401);
  EXPECT_EQ(Upload("/api/v0/add", body, TokenWith({"pins:read"})).status, 403);
  EXPECT_EQ(Upload("/api/v0/dag/import", body, TokenWith({"pins:read", "pins:write"})).status, 403);
  EXPECT_EQ(blocks_.BlockCount(), 0u);
  EXPECT_EQ(PinCount(kHelloWorldNlV0), 0u);

  std::string upload_only = TokenWith({"upload"});
  ASSERT_EQ(Upload("/api/v0/add", body, upload_only).status, 200);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + std::string(kHelloWorldNlV0), upload_only).status, 403);
  EXPECT_EQ(Call("/api/v0/block/get?arg=" + std::string(kHelloWorldNlV0), "").status, 401);
  auto ok = Call("/api/v0/cat?arg=" + std::string(kHelloWorldNlV0), TokenWith({"pins:read"}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Drain(ok), "hello world\n");
}

TEST_F(KuboRpcTest, CatHonoursOffsetAndLengthAndRefusesWhatIsNotAFile) {
  ASSERT_EQ(Upload("/api/v0/add", Multipart({{"d%2Ff", "application/octet-stream", "0123456789"}}),
                   token_)
                .status,
            200);
  auto lines =
      Lines(Upload("/api/v0/add?pin=false",
                   Multipart({{"d%2Ff", "application/octet-stream", "0123456789"}}), token_)
                .body);
  std::string dir = Str(lines.back(), "Hash");
  auto part = Call("/api/v0/cat?arg=" + dir + "/f&offset=3&length=4", token_);
  ASSERT_EQ(part.status, 200);
  EXPECT_EQ(Drain(part), "3456");
  auto tail = Call("/api/v0/cat?arg=" + dir + "/f&offset=8", token_);
  EXPECT_EQ(Drain(tail), "89");
  auto past = Call("/api/v0/cat?arg=" + dir + "/f&offset=80", token_);
  EXPECT_EQ(Drain(past), "");
  EXPECT_EQ(Call("/api/v0/cat?arg=" + dir, token_).status, 400);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + dir + "/f&offset=x", token_).status, 400);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + dir + "/f&length=-1", token_).status, 400);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + dir + "/missing", token_).status, 404);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + std::string(kHelloWorldRaw), token_).status, 404);
  EXPECT_EQ(Call("/api/v0/cat?arg=notacid", token_).status, 400);
  EXPECT_EQ(Call("/api/v0/cat", token_).status, 400);
  EXPECT_EQ(Call("/api/v0/cat?arg=" + dir, token_, "GET").status, 405);
  EXPECT_EQ(Call("/api/v0/nope", token_).status, 404);
}

class VectorSink final : public car::ByteSink {
 public:
  Result<void> Write(ByteSpan data) override {
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Ok();
  }
  std::string out;
};

std::string Car(const std::vector<mf::Cid>& roots,
                const std::vector<std::pair<mf::Cid, std::string>>& blocks) {
  VectorSink sink;
  auto w = car::CarWriter::Create(sink, roots);
  EXPECT_TRUE(w);
  for (const auto& [cid, data] : blocks) EXPECT_TRUE(w->Put(cid, AsBytes(data)));
  return sink.out;
}

mf::Cid RawCid(const std::string& data) {
  return *mf::Cid::Compute(1, mf::codec::kRaw, mf::codec::kSha2_256, AsBytes(data));
}

TEST_F(KuboRpcTest, DagImportVerifiesEveryBlockBeforeStoringAnything) {
  mf::Cid a = RawCid("block a"), b = RawCid("block b");
  std::string car = Car({a}, {{a, "block a"}, {b, "block b"}});
  // As kubo-rpc-client sends it (multipart) and as a bare CAR.
  auto r = Upload("/api/v0/dag/import", Multipart({{"", "application/octet-stream", car}}), token_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = Lines(r.body);
  ASSERT_EQ(lines.size(), 2u) << r.body;
  EXPECT_EQ(std::string(lines[0].at("Root").at("Cid").at("/").as_string()), a.ToString());
  EXPECT_EQ(lines[1].at("Stats").at("BlockCount").as_int64(), 2);
  EXPECT_EQ(PinCount(a.ToString()), 1u);
  auto got = Call("/api/v0/block/get?arg=" + b.ToString(), token_);
  EXPECT_EQ(got.body, "block b");

  mf::Cid c = RawCid("block c"), d = RawCid("block d");
  auto bare = Upload("/api/v0/dag/import?pin-roots=false", Car({c}, {{c, "block c"}}), token_,
                     "application/octet-stream");
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_TRUE(*blocks_.Has(c));
  EXPECT_EQ(PinCount(c.ToString()), 0u);

  // One block whose bytes do not hash to its CID: nothing of the CAR is stored or pinned.
  std::string bad = Car({d}, {{d, "block d"}, {RawCid("block e"), "tampered"}});
  auto refused =
      Upload("/api/v0/dag/import", Multipart({{"", "application/octet-stream", bad}}), token_);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_FALSE(*blocks_.Has(d));
  EXPECT_EQ(PinCount(d.ToString()), 0u);

  // A truncated CAR and a body that is no CAR at all.
  std::string good = Car({d}, {{d, "block d"}});
  EXPECT_EQ(
      Upload("/api/v0/dag/import",
             Multipart({{"", "application/octet-stream", good.substr(0, good.size() - 3)}}), token_)
          .status,
      400);
  EXPECT_EQ(Upload("/api/v0/dag/import", Multipart({{"", "application/octet-stream", "not a car"}}),
                   token_)
                .status,
            400);
  EXPECT_FALSE(*blocks_.Has(d));
  EXPECT_EQ(
      Upload("/api/v0/dag/import?pin-roots=maybe", good, token_, "application/octet-stream").status,
      400);
}

// The probe's defect: garbage collection ran between an upload storing its blocks and creating
// its pin, and acknowledged uploads lost blocks. Here a collector runs back to back beside adds
// and dag/imports; every acknowledged upload must read back whole, during and after.
TEST_F(KuboRpcTest, ContinuousGarbageCollectionLosesNoAcknowledgedUpload) {
  fetch::FakeHttpGetter http;
  fetch::GatewayBlockSource source(http, {});
  pinning::PinService collector(*pins_, blocks_, source, clock_);  // workers never started
  rpc_ = std::make_unique<KuboRpc>(KuboRpcContext{blocks_,
                                                  collector.leases(),
                                                  *pins_,
                                                  *accounts_,
                                                  events_,
                                                  clock_,
                                                  *identity_,
                                                  {},
                                                  dir_ / "spool"});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> collections{0}, removed{0};
  std::thread gc([&] {
    while (!stop) {
      auto r = collector.CollectGarbage();
      if (r) {
        ++collections;
        removed += r->removed_blocks;
      }
    }
  });
  std::vector<std::pair<std::string, std::string>> files;  // root CID → content
  std::vector<std::pair<mf::Cid, std::string>> imported;   // root → block
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 24; ++i) {
    if (i % 3 == 2) {
      std::vector<std::pair<mf::Cid, std::string>> blocks;
      std::vector<mf::Cid> roots;
      for (int k = 0; k < 3; ++k) {
        std::string data =
            "import " + std::to_string(i) + "/" + std::to_string(k) + " " + std::to_string(rng_());
        roots.push_back(RawCid(data));
        blocks.emplace_back(roots.back(), data);
      }
      auto r = Upload("/api/v0/dag/import", Car(roots, blocks), token_, "application/octet-stream");
      ASSERT_EQ(r.status, 200) << r.body;
      imported.insert(imported.end(), blocks.begin(), blocks.end());
    } else {
      std::string content(300 * 1024 + i, '\0');  // two 256 KiB chunks and a root
      for (auto& c : content) c = static_cast<char>(byte(rng_));
      auto r = Upload("/api/v0/add?cid-version=1",
                      Multipart({{"f", "application/octet-stream", content}}), token_);
      ASSERT_EQ(r.status, 200) << r.body;
      auto lines = Lines(r.body);
      ASSERT_FALSE(lines.empty());
      files.emplace_back(Str(lines.back(), "Hash"), std::move(content));
    }
  }
  // Read back while the collector still runs, then once more after a last full collection.
  auto verify = [&](const char* when) {
    for (const auto& [root, content] : files) {
      auto r = http::Resolve(Call("/api/v0/cat?arg=" + root, token_));
      ASSERT_EQ(r.status, 200) << when << " " << root << ": " << r.body;
      EXPECT_TRUE(Drain(r) == content) << when << ": " << root << " did not read back whole";
    }
    for (const auto& [cid, data] : imported) {
      auto got = Call("/api/v0/block/get?arg=" + cid.ToString(), token_);
      EXPECT_EQ(got.body, data) << when << ": block " << cid.ToString();
    }
  };
  verify("during collection");
  stop = true;
  gc.join();
  EXPECT_GT(collections.load(), 0u);
  ASSERT_TRUE(collector.CollectGarbage());
  verify("after collection");
  EXPECT_EQ(collector.leases().held_blocks(), 0u);  // every upload let go of its blocks
}

TEST_F(KuboRpcTest, DagImportRootsAreLinearBoundedAndCharged) {
  RateLimiter limiter({.per_second = 1, .burst = 5}, clock_);
  KuboRpcContext context{blocks_, leases_,    *pins_, *accounts_,    events_,
                         clock_,  *identity_, {},     dir_ / "spool"};
  context.max_import_roots = 50;
  context.pin_rate = &limiter;
  rpc_ = std::make_unique<KuboRpc>(std::move(context));
  auto import = [&](int roots, int first) {
    std::vector<std::pair<mf::Cid, std::string>> blocks;
    std::vector<mf::Cid> cids;
    for (int k = 0; k < roots; ++k) {
      std::string data = "root " + std::to_string(first + k);
      cids.push_back(RawCid(data));
      blocks.emplace_back(cids.back(), data);
    }
    cids.push_back(cids.front());  // a root listed twice is pinned once
    return Upload("/api/v0/dag/import", Car(cids, blocks), token_, "application/octet-stream");
  };
  auto over = import(51, 0);
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_NE(over.body.find("max_import_roots"), std::string::npos) << over.body;
  EXPECT_FALSE(*blocks_.Has(RawCid("root 0")));  // refused before anything was stored

  auto ok = import(50, 100);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Lines(ok.body).size(), 51u);  // 50 distinct roots and the stats line
  metadata::PinFilter all;
  all.statuses = {metadata::PinStatus::kQueued};
  EXPECT_EQ(*pins_->Count(alice_, all), 50u);
  // The 50 pins were charged to the account's pin-write bucket: the next upload that would pin
  // waits for the bucket to refill, and says how long.
  auto limited = import(1, 500);
  EXPECT_EQ(limited.status, 429) << limited.body;
  ASSERT_TRUE(limited.Header("Retry-After").has_value());
  EXPECT_GE(std::stoi(std::string(*limited.Header("Retry-After"))), 40);
  // An upload that creates no pin is not held back.
  auto unpinned =
      Upload("/api/v0/dag/import?pin-roots=false", Car({RawCid("x")}, {{RawCid("x"), "x"}}), token_,
             "application/octet-stream");
  EXPECT_EQ(unpinned.status, 200) << unpinned.body;
}

TEST_F(KuboRpcTest, SpoolFilesLeftByAKilledProcessAreRemovedAtStart) {
  std::filesystem::create_directories(dir_ / "spool");
  for (int i = 0; i < 3; ++i) {
    std::ofstream(dir_ / "spool" / ("upload-" + std::to_string(i))) << "half an upload";
  }
  std::ofstream(dir_ / "spool" / "keep-me") << "not a spool file";
  rpc_ = std::make_unique<KuboRpc>(KuboRpcContext{
      blocks_, leases_, *pins_, *accounts_, events_, clock_, *identity_, {}, dir_ / "spool"});
  size_t left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "spool")) {
    EXPECT_EQ(e.path().filename(), "keep-me");
    ++left;
  }
  EXPECT_EQ(left, 1u);
}

TEST_F(KuboRpcTest, VersionAndIdNeedNoToken) {
  auto v = Call("/api/v0/version", "");
  ASSERT_EQ(v.status, 200);
  EXPECT_FALSE(Str(json::parse(v.body).as_object(), "Version").empty());
  auto id = Call("/api/v0/id", "");
  ASSERT_EQ(id.status, 200);
  auto o = json::parse(id.body).as_object();
  EXPECT_EQ(Str(o, "ID"), identity_->peer_id().ToString());
  EXPECT_EQ(o.at("Addresses").as_array().size(), 1u);
}

}  // namespace
}  // namespace cairn::api
