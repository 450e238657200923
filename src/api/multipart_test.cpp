#include "api/multipart.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace cairn::api {
namespace {

struct Collected {
  std::vector<MultipartPart> parts;
  std::vector<std::string> data;
  int ends = 0;
};

Result<Collected> ParseInChunks(const std::string& boundary, const std::string& body,
                                size_t chunk) {
  Collected c;
  MultipartParser p(boundary, {
                                  .on_part_begin = [&](const MultipartPart& part) -> Result<void> {
                                    c.parts.push_back(part);
                                    c.data.emplace_back();
                                    return Ok();
                                  },
                                  .on_part_data = [&](ByteSpan b) -> Result<void> {
                                    c.data.back().append(AsString(b));
                                    return Ok();
                                  },
                                  .on_part_end = [&]() -> Result<void> {
                                    ++c.ends;
                                    return Ok();
                                  },
                              });
  for (size_t i = 0; i < body.size(); i += chunk) {
    CAIRN_TRY(p.Feed(AsBytes(std::string_view(body).substr(i, chunk))));
  }
  CAIRN_TRY(p.Finish());
  return c;
}

// The shape kubo-rpc-client sends for `add` of a directory with one file.
const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"dir\"\r\n"
    "Content-Type: application/x-directory\r\n\r\n"
    "\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"dir%2Fa%20b.txt\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "hello\r\n-XyZ is not a boundary\r\n--XY\r\n"
    "\r\n--XyZ--\r\n";

TEST(Multipart, ParsesPartsAtEveryChunkSize) {
  for (size_t chunk : {1, 2, 3, 7, 16, 64, 4096}) {
    auto c = ParseInChunks("XyZ", kBody, chunk);
    ASSERT_TRUE(c) << chunk << ": " << c.error().ToString();
    ASSERT_EQ(c->parts.size(), 2u) << chunk;
    EXPECT_EQ(c->parts[0].filename, "dir");
    EXPECT_EQ(c->parts[0].content_type, "application/x-directory");
    EXPECT_EQ(c->data[0], "");
    EXPECT_EQ(c->parts[1].filename, "dir/a b.txt");
    EXPECT_EQ(c->parts[1].name, "file");
    EXPECT_EQ(c->data[1], "hello\r\n-XyZ is not a boundary\r\n--XY\r\n") << chunk;
    EXPECT_EQ(c->ends, 2);
  }
}

TEST(Multipart, RandomBinaryDataSurvives) {
  std::mt19937 rng(3);
  std::string data(100000, '\0');
  for (auto& ch : data) ch = static_cast<char>(rng());
  std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n" + data +
      "\r\n--b0undary--";
  auto c = ParseInChunks("b0undary", body, 997);
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_EQ(c->data.size(), 1u);
  EXPECT_EQ(c->data[0], data);
}

TEST(Multipart, RejectsMalformedBodies) {
  EXPECT_FALSE(
      ParseInChunks("b", "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nabc", 5));
  EXPECT_FALSE(ParseInChunks("b", "--b\r\nNoColonHere\r\n\r\nabc\r\n--b--", 5));
  EXPECT_FALSE(ParseInChunks("b", "--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--", 5));
  EXPECT_FALSE(ParseInChunks("b", "no boundary at all", 5));
  EXPECT_FALSE(ParseInChunks("b", "--bjunk\r\n", 5));
  std::string huge = "--b\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n\r\n--b--";
  EXPECT_FALSE(ParseInChunks("b", huge, 1000));
  EXPECT_FALSE(ParseInChunks(
      "b", "--b\r\nContent-Disposition: form-data; filename=\"%zz\"\r\n\r\n\r\n--b--", 5));
}

// Limits hold the same whether a header block or a boundary line arrives whole or in pieces
// (found by fuzz/multipart_fuzz: a header block past the limit used to pass when fed at once).
TEST(Multipart, LimitsDoNotDependOnChunking) {
  const size_t kLimit = 16 * 1024;  // the parser's default
  auto body_with_headers = [](size_t header_bytes) {
    std::string headers = "Content-Disposition: form-data; name=\"file\"\r\nX-Pad: ";
    headers += std::string(header_bytes - headers.size(), 'p');
    return "--XyZ\r\n" + headers + "\r\n\r\ndata\r\n--XyZ--\r\n";
  };
  for (size_t header_bytes : {kLimit - 1, kLimit, kLimit + 1, kLimit + 4}) {
    std::string body = body_with_headers(header_bytes);
    bool whole = ParseInChunks("XyZ", body, body.size()).has_value();
    for (size_t chunk : {1u, 7u, 4096u}) {
      EXPECT_EQ(ParseInChunks("XyZ", body, chunk).has_value(), whole)
          << header_bytes << " header bytes, chunk " << chunk;
    }
    EXPECT_EQ(whole, header_bytes <= kLimit) << header_bytes;
  }
  for (size_t pad : {255u, 256u, 257u, 300u}) {
    std::string body = "--XyZ" + std::string(pad, ' ') +
                       "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--XyZ--";
    bool whole = ParseInChunks("XyZ", body, body.size()).has_value();
    EXPECT_EQ(ParseInChunks("XyZ", body, 1).has_value(), whole) << pad;
    EXPECT_EQ(whole, pad <= 256) << pad;
  }
}

TEST(Multipart, CallbackErrorsStopParsing) {
  MultipartParser p("b", {.on_part_begin = [](const MultipartPart&) -> Result<void> {
                      return Err(ErrorCode::kPermissionDenied, "no uploads");
                    }});
  auto r = p.Feed(AsBytes("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kPermissionDenied);
}

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(*BoundaryFromContentType("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*BoundaryFromContentType("Multipart/Form-Data; charset=x; boundary=\"a b\""), "a b");
  EXPECT_FALSE(BoundaryFromContentType("application/json"));
  EXPECT_FALSE(BoundaryFromContentType("multipart/form-data"));
}

}  // namespace
}  // namespace cairn::api
