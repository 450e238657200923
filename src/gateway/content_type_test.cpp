#include "gateway/content_type.hpp"

#include <gtest/gtest.h>

namespace cairn::gateway {
namespace {

TEST(DetectContentType, ExtensionFirst) {
  EXPECT_EQ(DetectContentType("index.HTML", {}), "text/html; charset=utf-8");
  EXPECT_EQ(DetectContentType("pic.jpeg", AsBytes("not a jpeg")), "image/jpeg");
  EXPECT_EQ(DetectContentType("logo.svg", {}), "image/svg+xml");
}

TEST(DetectContentType, MagicBytesThenText) {
  EXPECT_EQ(DetectContentType("", AsBytes("\x89PNG\r\n\x1a\n....")), "image/png");
  EXPECT_EQ(DetectContentType("file", AsBytes("%PDF-1.7")), "application/pdf");
  EXPECT_EQ(DetectContentType("", AsBytes("  <!DOCTYPE html><p>x")), "text/html; charset=utf-8");
  EXPECT_EQ(DetectContentType("", AsBytes("<?xml version=\"1.0\"?><svg></svg>")), "image/svg+xml");
  EXPECT_EQ(DetectContentType("", AsBytes("hello world\n")), "text/plain; charset=utf-8");
  EXPECT_EQ(DetectContentType("", AsBytes("h\xc3\xa9llo")), "text/plain; charset=utf-8");
  Bytes binary = {0x00, 0x01, 0x02, 0xff};
  EXPECT_EQ(DetectContentType("", binary), "application/octet-stream");
  EXPECT_EQ(DetectContentType("", AsBytes("bad \xff utf8")), "application/octet-stream");
}

}  // namespace
}  // namespace cairn::gateway
