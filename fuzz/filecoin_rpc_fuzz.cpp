// Fuzzes the chain client's reading of a JSON-RPC endpoint's answers: ParseRpcResponse for a
// batch of three calls, then every Lotus JSON reader on each result. Any input gives values or
// named errors; nothing crashes, and the parse never holds more than the input's worth of JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filecoin/chain/lotus_json.hpp"
#include "filecoin/chain/rpc.hpp"

using namespace cairn::filecoin::chain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> methods = {"Filecoin.ChainHead", "Filecoin.StateMarketStorageDeal",
                                            "Filecoin.StateSearchMsg"};
  auto answers = ParseRpcResponse(body, methods, 1);
  if (!answers) return 0;
  CAIRN_CHECK(answers->size() == methods.size());
  for (const auto& answer : *answers) {
    if (!answer) {
      // Every call error names its method and stays short.
      CAIRN_CHECK(answer.error().message().rfind("chain: Filecoin.", 0) == 0);
      CAIRN_CHECK(answer.error().message().size() < kMaxRpcMessage + 200);
      continue;
    }
    (void)TipSetFromJson(*answer);
    (void)MarketDealFromJson(*answer);
    (void)MessageLookupFromJson(*answer);
    (void)MinerInfoFromJson(*answer);
    (void)MarketBalanceFromJson(*answer);
    if (auto m = MessageFromJson(*answer)) {
      // A message read from JSON writes back to JSON that reads as the same message.
      auto again = MessageFromJson(MessageToJson(*m, cairn::filecoin::Network::kMainnet));
      CAIRN_CHECK(again && *again == *m);
    }
  }
  return 0;
}
