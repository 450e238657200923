#include "gateway/dir_listing.hpp"

#include <gtest/gtest.h>

namespace cairn::gateway {
namespace {

TEST(DirectoryListing, EscapesHostileNamesAndLinksEachEntry) {
  std::vector<ListingEntry> entries = {
      {"a b.txt", "bafkfile", 2048, false},
      {"<script>alert(1)</script>", "bafkevil", std::nullopt, false},
      {"sub", "bafydir", std::nullopt, true},
  };
  std::string html = RenderDirectoryListing("/ipfs/bafyroot/docs/", "bafyroot", entries);
  EXPECT_NE(html.find("href=\"/ipfs/bafyroot/docs/a%20b.txt\""), std::string::npos) << html;
  EXPECT_NE(html.find("2.0 KiB"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("href=\"/ipfs/bafyroot/docs/sub/\""), std::string::npos);
  EXPECT_NE(html.find("href=\"..\""), std::string::npos);
}

TEST(DirectoryListing, RootHasNoParentLink) {
  std::string html = RenderDirectoryListing("/ipfs/bafyroot/", "bafyroot", {});
  EXPECT_EQ(html.find("href=\"..\""), std::string::npos);
}

}  // namespace
}  // namespace cairn::gateway
