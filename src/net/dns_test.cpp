#include "net/dns.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cairn::net {
namespace {

constexpr const char* kPeerA = "QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN";
constexpr const char* kPeerB = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

// Answers from maps; counts the lookups.
class FakeResolver : public DnsResolver {
 public:
  Result<std::vector<std::string>> Addresses(const std::string& name, int family) override {
    ++lookups;
    auto it = ips.find(name + "/" + std::to_string(family));
    if (it == ips.end()) return Err(ErrorCode::kNotFound, "dns: " + name + " has no address");
    return it->second;
  }
  Result<std::vector<std::string>> Txt(const std::string& name) override {
    ++lookups;
    auto it = txt.find(name);
    if (it == txt.end()) return Err(ErrorCode::kNotFound, "dns: no TXT record at " + name);
    return it->second;
  }
  std::map<std::string, std::vector<std::string>> ips;
  std::map<std::string, std::vector<std::string>> txt;
  int lookups = 0;
};

std::vector<std::string> Texts(const Result<std::vector<Multiaddr>>& r) {
  std::vector<std::string> out;
  if (r) {
    for (const auto& a : *r) out.push_back(a.ToString());
  }
  return out;
}

Multiaddr Addr(const std::string& text) {
  auto a = Multiaddr::Parse(text);
  EXPECT_TRUE(a) << text;
  return *a;
}

TEST(Dns, NonDnsAddressesComeBackAsTheyAre) {
  FakeResolver dns;
  const std::string text = std::string("/ip4/1.2.3.4/tcp/4001/p2p/") + kPeerA;
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr(text))), std::vector<std::string>{text});
  EXPECT_EQ(dns.lookups, 0);
  EXPECT_FALSE(IsDnsMultiaddr(Addr(text)));
  EXPECT_TRUE(IsDnsMultiaddr(Addr("/dnsaddr/bootstrap.libp2p.io")));
}

TEST(Dns, Dns4AndDns6KeepTheRestOfTheAddress) {
  FakeResolver dns;
  dns.ips["node.example/4"] = {"203.0.113.1", "203.0.113.2"};
  dns.ips["node.example/6"] = {"2001:db8::1"};
  dns.ips["node.example/0"] = {"203.0.113.1", "2001:db8::1"};
  const std::string tail = std::string("/tcp/4001/p2p/") + kPeerB;
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dns4/node.example" + tail))),
            (std::vector<std::string>{"/ip4/203.0.113.1" + tail, "/ip4/203.0.113.2" + tail}));
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dns6/node.example" + tail))),
            (std::vector<std::string>{"/ip6/2001:db8::1" + tail}));
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dns/node.example" + tail))),
            (std::vector<std::string>{"/ip4/203.0.113.1" + tail, "/ip6/2001:db8::1" + tail}));
  auto none = ResolveMultiaddr(dns, Addr("/dns4/missing.example/tcp/1"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(none.error().message().find("missing.example"), std::string::npos);
}

TEST(Dns, DnsaddrFollowsTxtRecordsRecursivelyAndKeepsTheNamedPeer) {
  FakeResolver dns;
  // Kubo's bootstrap shape: a TXT per address, for several peers, one level of indirection.
  dns.txt["_dnsaddr.bootstrap.example"] = {
      "dnsaddr=/dnsaddr/sv15.bootstrap.example/p2p/" + std::string(kPeerA),
      "dnsaddr=/dnsaddr/ny5.bootstrap.example/p2p/" + std::string(kPeerB),
      "v=spf1 -all",              // another TXT record: ignored
      "dnsaddr=not a multiaddr",  // ignored
  };
  dns.txt["_dnsaddr.sv15.bootstrap.example"] = {
      "dnsaddr=/ip4/145.40.118.135/tcp/4001/p2p/" + std::string(kPeerA),
      "dnsaddr=/ip4/145.40.118.135/udp/4001/quic-v1/p2p/" + std::string(kPeerA),
      "dnsaddr=/dns4/sv15.example/tcp/4001/p2p/" + std::string(kPeerA)};
  dns.ips["sv15.example/4"] = {"145.40.118.136"};
  dns.txt["_dnsaddr.ny5.bootstrap.example"] = {"dnsaddr=/ip4/147.75.87.27/tcp/4001/p2p/" +
                                               std::string(kPeerB)};
  const std::string a = std::string("/p2p/") + kPeerA;
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dnsaddr/bootstrap.example" + a))),
            (std::vector<std::string>{"/ip4/145.40.118.135/tcp/4001" + a,
                                      "/ip4/145.40.118.135/udp/4001/quic-v1" + a,
                                      "/ip4/145.40.118.136/tcp/4001" + a}));
  // Without /p2p/: every peer's addresses.
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dnsaddr/bootstrap.example"))).size(), 4u);
  // A peer the records do not name: nothing.
  auto other = ResolveMultiaddr(
      dns, Addr("/dnsaddr/bootstrap.example/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kNotFound);
}

TEST(Dns, DnsaddrLoopsAndFanOutAreBounded) {
  FakeResolver dns;
  dns.txt["_dnsaddr.loop.example"] = {"dnsaddr=/dnsaddr/loop.example"};
  auto loop = ResolveMultiaddr(dns, Addr("/dnsaddr/loop.example"));
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().message().find("nests more than 4 levels"), std::string::npos)
      << loop.error().message();
  EXPECT_LE(dns.lookups, kMaxDnsaddrDepth + 1);
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i)
    many.push_back("dnsaddr=/ip4/198.51.100." + std::to_string(i) + "/tcp/1");
  dns.txt["_dnsaddr.many.example"] = many;
  EXPECT_EQ(Texts(ResolveMultiaddr(dns, Addr("/dnsaddr/many.example"))).size(), kMaxResolved);
}

TEST(Dns, SystemResolverAnswersLocalhostFromTheHostsFile) {
  auto dns = SystemDnsResolver();
  auto r = ResolveMultiaddr(*dns, Addr("/dns4/localhost/tcp/4001"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Texts(r), std::vector<std::string>{"/ip4/127.0.0.1/tcp/4001"});
}

// A response with header `flags`, one question and the given answer records (type, rdata).
Bytes Response(uint16_t flags, const std::vector<std::pair<uint16_t, Bytes>>& answers) {
  Bytes m = {0x12,
             0x34,
             static_cast<uint8_t>(flags >> 8),
             static_cast<uint8_t>(flags),
             0,
             1,
             0,
             static_cast<uint8_t>(answers.size()),
             0,
             0,
             0,
             0};
  const Bytes name = {8, '_', 'd', 'n', 's', 'a', 'd', 'd', 'r', 1, 'x', 0};
  m.insert(m.end(), name.begin(), name.end());
  m.insert(m.end(), {0, 16, 0, 1});
  for (const auto& [type, rdata] : answers) {
    m.insert(m.end(), {0xc0, 12});  // the question's name, compressed
    m.insert(m.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1});
    m.insert(m.end(), {0, 0, 0x0e, 0x10});  // TTL
    m.insert(m.end(),
             {static_cast<uint8_t>(rdata.size() >> 8), static_cast<uint8_t>(rdata.size())});
    m.insert(m.end(), rdata.begin(), rdata.end());
  }
  return m;
}

Bytes Strings(std::initializer_list<std::string> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.push_back(static_cast<uint8_t>(p.size()));
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

TEST(Dns, TxtResponsesParseAndMalformedOnesAreRefused) {
  auto ok =
      ParseTxtResponse(Response(0x8180, {{5, Strings({"x.example"})},  // a CNAME's rdata: skipped
                                         {16, Strings({"dnsaddr=/ip4/1.2.3.4", "/tcp/1"})},
                                         {16, Strings({"v=spf1"})}}));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, (std::vector<std::string>{"dnsaddr=/ip4/1.2.3.4/tcp/1", "v=spf1"}));
  auto nxdomain = ParseTxtResponse(Response(0x8183, {}));
  ASSERT_TRUE(nxdomain);
  EXPECT_TRUE(nxdomain->empty());
  EXPECT_EQ(ParseTxtResponse(Response(0x8182, {})).error().code(), ErrorCode::kUnavailable);

  Bytes overrun = Response(0x8180, {{16, Bytes{5, 'a', 'b'}}});
  EXPECT_EQ(ParseTxtResponse(overrun).error().code(), ErrorCode::kInvalidArgument);
  Bytes whole = Response(0x8180, {{16, Strings({"abc"})}});
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    auto r = ParseTxtResponse(ByteSpan(whole.data(), cut));
    EXPECT_FALSE(r) << "cut at " << cut;
  }
  EXPECT_FALSE(ParseTxtResponse(Response(0x0100, {})));  // a query, not a response
  Bytes bad_label = Response(0x8180, {});
  bad_label[12] = 0x80;  // a reserved label type
  EXPECT_FALSE(ParseTxtResponse(bad_label));
}

}  // namespace
}  // namespace cairn::net
