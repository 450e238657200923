// Fuzzes what a storage provider and the chain control in deal making (filecoin/deals): the
// mk12 client's handling of any answer body to ask, store and status, over HTTP and over a libp2p
// stream (strict decoding, the UUID and miner checks), and the endpoint derived from on-chain
// multiaddrs (HTTP, else libp2p). The first byte picks the path and, in its high bit, the
// transport; whatever happens must be a value or a named error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "filecoin/deals/mk12_client.hpp"

using namespace cairn;
using namespace cairn::filecoin;

namespace {

class BodyTransport : public deals::Mk12Transport {
 public:
  explicit BodyTransport(std::string body) : body_(std::move(body)) {}
  Result<deals::Mk12HttpReply> Send(const std::string&, const std::string&, const std::string&,
                                    std::chrono::milliseconds, uint64_t) override {
    return deals::Mk12HttpReply{200, body_};
  }
  Result<deals::Mk12StreamReply> Exchange(const std::string&, const std::vector<std::string>&,
                                          const std::vector<deals::Mk12StreamOffer>& offers,
                                          std::chrono::milliseconds, uint64_t) override {
    return deals::Mk12StreamReply{offers.back().protocol, body_};
  }

 private:
  std::string body_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  BodyTransport transport(body);
  deals::Mk12Client client(transport);
  const deals::Mk12Endpoint endpoint =
      (data[0] & 0x80) != 0
          ? deals::Mk12Endpoint::Libp2p("12D3KooW9tHTtS3inCZiYykw4u5G4frbjVFqhkmJX12gSNCVeH3e",
                                        {"/ip4/127.0.0.1/tcp/1"})
          : deals::Mk12Endpoint::Http("http://p:1");
  switch (data[0] % 4) {
    case 0: {
      auto ask = client.Ask(endpoint, *Address::Id(1000));
      if (ask && *ask) CAIRN_CHECK((*ask)->miner == *Address::Id(1000));
      break;
    }
    case 1:
      (void)client.Propose(endpoint, DealParams{});
      break;
    case 2: {
      DealStatusRequest req;
      req.deal_uuid[0] = 1;
      auto st = client.Status(endpoint, req);
      if (st) CAIRN_CHECK(st->deal_uuid == req.deal_uuid);
      break;
    }
    case 3: {
      // Multiaddrs: length-prefixed chunks.
      std::vector<Bytes> addrs;
      size_t i = 0;
      while (i < body.size()) {
        size_t n = static_cast<uint8_t>(body[i++]);
        n = std::min(n, body.size() - i);
        addrs.emplace_back(body.begin() + static_cast<std::ptrdiff_t>(i),
                           body.begin() + static_cast<std::ptrdiff_t>(i + n));
        i += n;
      }
      if (auto url = deals::HttpEndpointOf(addrs)) {
        CAIRN_CHECK(url->rfind("http://", 0) == 0 || url->rfind("https://", 0) == 0);
      }
      std::string why;
      auto e = deals::Mk12EndpointOf("12D3KooW9tHTtS3inCZiYykw4u5G4frbjVFqhkmJX12gSNCVeH3e", addrs,
                                     &why);
      if (e && e->kind == deals::Mk12Endpoint::Kind::kLibp2p) {
        CAIRN_CHECK(!e->addrs.empty());
      } else if (!e) {
        CAIRN_CHECK(!why.empty());
      }
      break;
    }
  }
  return 0;
}
