#include "net/multistream.hpp"

#include <gtest/gtest.h>

namespace cairn::net::multistream {
namespace {

std::vector<std::string> Lines(ByteSpan in) {
  std::vector<std::string> out;
  while (!in.empty()) {
    auto d = DecodeMessage(in);
    EXPECT_TRUE(d && *d);
    if (!d || !*d) break;
    out.emplace_back((*d)->line);
    in = in.subspan((*d)->consumed);
  }
  return out;
}

TEST(Multistream, EncodesTheKnownHeaderBytes) {
  // 0x13 = 19 = len("/multistream/1.0.0\n")
  EXPECT_EQ(HexEncode(EncodeMessage(kHeader)), "132f6d756c746973747265616d2f312e302e300a");
  EXPECT_EQ(HexEncode(EncodeMessage("na")), "036e610a");
}

TEST(Multistream, DecodesPartialInputAsIncomplete) {
  Bytes msg = EncodeMessage("/noise");
  for (size_t n = 0; n < msg.size(); ++n) {
    auto d = DecodeMessage(ByteSpan(msg).first(n));
    ASSERT_TRUE(d);
    EXPECT_FALSE(*d) << n;
  }
  auto d = DecodeMessage(msg);
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->line, "/noise");
  EXPECT_EQ((*d)->consumed, msg.size());
}

TEST(Multistream, RejectsBadMessages) {
  struct Case {
    const char* hex;
    const char* reason;
  } cases[] = {
      {"00", "empty message"},
      {"0361620b", "newline"},
      {"8110", "over 1024"},    // 2049
      {"ffff01", "over 1024"},  // three-byte length
  };
  for (const auto& c : cases) {
    auto d = DecodeMessage(*HexDecode(c.hex));
    ASSERT_FALSE(d) << c.hex;
    EXPECT_NE(d.error().message().find(c.reason), std::string::npos) << d.error().message();
  }
  Bytes max = *HexDecode("8008");  // 1024, the largest allowed
  max.resize(2 + 1024, 'a');
  max.back() = '\n';
  auto d = DecodeMessage(max);
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->line.size(), 1023u);
  auto non_minimal = DecodeMessage(*HexDecode("8300"));
  EXPECT_FALSE(non_minimal);
}

TEST(Multistream, DialerAndListenerAgreeAfterARefusal) {
  Listener listener([](std::string_view p) { return p == "/yamux/1.0.0"; });
  Dialer dialer({"/mplex/6.7.0", "/yamux/1.0.0"});
  Bytes to_listener = dialer.Start();
  Bytes to_dialer = Listener::Hello();
  for (const auto& line : Lines(to_listener)) {
    auto reply = listener.OnLine(line);
    ASSERT_TRUE(reply) << reply.error().ToString();
    to_dialer.insert(to_dialer.end(), reply->begin(), reply->end());
  }
  EXPECT_EQ(Lines(to_dialer), (std::vector<std::string>{std::string(kHeader), "na"}));
  Bytes next;
  for (const auto& line : Lines(to_dialer)) {
    auto out = dialer.OnLine(line);
    ASSERT_TRUE(out) << out.error().ToString();
    next.insert(next.end(), out->begin(), out->end());
  }
  EXPECT_EQ(Lines(next), std::vector<std::string>{"/yamux/1.0.0"});
  auto echo = listener.OnLine("/yamux/1.0.0");
  ASSERT_TRUE(echo);
  EXPECT_EQ(listener.selected(), "/yamux/1.0.0");
  ASSERT_TRUE(dialer.OnLine("/yamux/1.0.0"));
  EXPECT_EQ(dialer.selected(), "/yamux/1.0.0");
}

TEST(Multistream, DialerFailsWhenEverythingIsRefused) {
  Dialer dialer({"/a"});
  (void)dialer.Start();
  ASSERT_TRUE(dialer.OnLine(kHeader));
  auto r = dialer.OnLine("na");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotSupported);
  Dialer other({"/a"});
  (void)other.Start();
  EXPECT_FALSE(other.OnLine("/b"));  // not the header
}

TEST(Multistream, ListenerRequiresTheHeaderAndLimitsProposals) {
  Listener l([](std::string_view) { return false; });
  EXPECT_FALSE(l.OnLine("/noise"));
  Listener m([](std::string_view) { return false; });
  ASSERT_TRUE(m.OnLine(kHeader));
  EXPECT_EQ(Lines(*m.OnLine("ls")), std::vector<std::string>{"na"});
  for (int i = 1; i < kMaxProposals; ++i) ASSERT_TRUE(m.OnLine("/x"));
  EXPECT_FALSE(m.OnLine("/x"));
}

}  // namespace
}  // namespace cairn::net::multistream
