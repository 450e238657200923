// Fuzzes the receipt parser and the offline checks (filecoin/deals/receipt.hpp), what `cairn
// receipt verify` runs on a file a user was handed: any input must give a receipt or an error; a
// parsed receipt must render to JSON that parses back to the same receipt, and checking its
// inclusion proof (whatever it claims) must not crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filecoin/deals/receipt.hpp"

using namespace cairn::filecoin::deals;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto receipt = ParseReceipt(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!receipt) return 0;
  auto again = ParseReceipt(RenderReceipt(*receipt));
  CAIRN_CHECK(again && *again == *receipt);  // rendering keeps every field
  (void)VerifyReceiptInclusion(*receipt);
  return 0;
}
