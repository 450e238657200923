#include "net/identify.hpp"

#include <gtest/gtest.h>

namespace cairn::net::identify {
namespace {

TEST(Identify, RoundTripsEveryField) {
  Message m;
  m.protocol_version = std::string(kProtocolVersion);
  m.agent_version = "cairn/0.1.0";
  m.public_key = Bytes{8, 1, 18, 0};
  m.listen_addrs = {Bytes{4, 127, 0, 0, 1, 6, 0x0f, 0xa1}};
  m.observed_addr = Bytes{4, 1, 2, 3, 4};
  m.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
  auto back = Message::Decode(m.Encode());
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->protocol_version, m.protocol_version);
  EXPECT_EQ(back->agent_version, m.agent_version);
  EXPECT_EQ(back->public_key, m.public_key);
  EXPECT_EQ(back->listen_addrs, m.listen_addrs);
  EXPECT_EQ(back->observed_addr, m.observed_addr);
  EXPECT_EQ(back->protocols, m.protocols);
}

TEST(Identify, SkipsUnknownFieldsAndRejectsWrongTypes) {
  // field 8 (signedPeerRecord, bytes) is skipped; field 3 as a varint is refused.
  auto ok =
      Message::Decode(*HexDecode("42020102"
                                 "2a0161"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->protocol_version, "a");
  EXPECT_FALSE(Message::Decode(*HexDecode("1801")));
}

TEST(Identify, LimitsTheNumberOfAddresses) {
  Message m;
  m.listen_addrs.assign(kMaxAddrs + 1, Bytes{4, 1, 1, 1, 1});
  auto r = Message::Decode(m.Encode());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("128"), std::string::npos);
}

}  // namespace
}  // namespace cairn::net::identify
