// Fuzzes what a storage provider and the chain control in deal making (filecoin/deals): the
// mk12 client's handling of any answer body to ask, store and status (strict decoding, the UUID
// and miner checks), and the HTTP endpoint derived from on-chain multiaddrs. The first byte picks
// the path; whatever happens must be a value or a named error, never a crash.
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

 private:
  std::string body_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  BodyTransport transport(body);
  deals::Mk12Client client(transport);
  switch (data[0] % 4) {
    case 0: {
      auto ask = client.Ask("http://p:1", *Address::Id(1000));
      if (ask && *ask) CAIRN_CHECK((*ask)->miner == *Address::Id(1000));
      break;
    }
    case 1:
      (void)client.Propose("http://p:1", DealParams{});
      break;
    case 2: {
      DealStatusRequest req;
      req.deal_uuid[0] = 1;
      auto st = client.Status("http://p:1", req);
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
      break;
    }
  }
  return 0;
}
