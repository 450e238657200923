#include "http/http_types.hpp"

#include <gtest/gtest.h>

namespace cairn::http {
namespace {

TEST(ParseTarget, DecodesPathAndQuery) {
  Request r;
  ASSERT_TRUE(ParseTarget("/ipfs/bafy/a%20b/c?format=raw&x=1+2&flag&=v", r));
  EXPECT_EQ(r.path, "/ipfs/bafy/a b/c");
  ASSERT_EQ(r.query.size(), 4u);
  EXPECT_EQ(*r.Query("format"), "raw");
  EXPECT_EQ(*r.Query("x"), "1 2");
  EXPECT_EQ(*r.Query("flag"), "");
  EXPECT_FALSE(r.Query("missing"));
}

TEST(ParseTarget, RejectsMalformedEscapesAndRelativeTargets) {
  Request r;
  EXPECT_FALSE(ParseTarget("/a%2", r));
  EXPECT_FALSE(ParseTarget("/a%zz", r));
  EXPECT_FALSE(ParseTarget("/a?b=%", r));
  EXPECT_FALSE(ParseTarget("a/b", r));
  EXPECT_FALSE(ParseTarget("", r));
}

TEST(Request, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Accept", "application/vnd.ipld.raw"}};
  EXPECT_EQ(*r.Header("accept"), "application/vnd.ipld.raw");
  EXPECT_FALSE(r.Header("range"));
}

TEST(ErrorResponse, MapsCodesAndEscapesDetails) {
  auto r = ErrorResponse(Error(ErrorCode::kNotFound, "block \"x\"\n"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"error\":{\"reason\":\"NOT_FOUND\",\"details\":\"block \\\"x\\\"\\n\"}}\n");
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInsufficientFunds), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kCorruption), 500);
}

TEST(ErrorResponse, StorageFullIs507NeverA429) {
  auto r = ErrorResponse(
      Error(ErrorCode::kStorageFull, "metadata: insert pin: database or disk is full"));
  EXPECT_EQ(r.status, 507);
  EXPECT_FALSE(r.Header("Retry-After").has_value());
  EXPECT_NE(r.body.find("STORAGE_FULL"), std::string::npos);
}

TEST(ErrorResponse, ServerFaultsDoNotShowFilesystemPaths) {
  auto r =
      ErrorResponse(Error(ErrorCode::kIoError,
                          "rpc: cannot create spool file /var/lib/cairn/spool/upload-1: No space"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("/var/lib"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("spool file <path>: No space"), std::string::npos) << r.body;
  // Client errors keep their text: they name what the client sent.
  auto bad = ErrorResponse(Error(ErrorCode::kNotFound, "no route for /a/b/c"));
  EXPECT_NE(bad.body.find("/a/b/c"), std::string::npos);
  EXPECT_EQ(RedactPaths("open '/x/y': EIO, then /z"), "open '<path>': EIO, then /z");
}

TEST(ErrorResponse, InvalidUtf8InDetailsStillGivesValidJson) {
  auto r = ErrorResponse(Error(ErrorCode::kInvalidArgument, "bad cid '\xff\xfe'"));
  EXPECT_NE(r.body.find("bad cid '\\ufffd\\ufffd'"), std::string::npos) << r.body;
}

TEST(PercentEncodePath, KeepsUnreservedAndSlashes) {
  EXPECT_EQ(PercentEncodePath("/ipfs/a b/ü"), "/ipfs/a%20b/%C3%BC");
}

}  // namespace
}  // namespace cairn::http
