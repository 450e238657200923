// Fuzzes the wallet's on-disk parsers: the key file (Lotus KeyInfo JSON) and the pending message
// file. Any input gives a key / a message or an error, and what is accepted formats back to a
// file that parses to the same key / message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filecoin/chain/message_sender.hpp"
#include "filecoin/wallet/key_file.hpp"

using namespace cairn::filecoin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = wallet::ParseKeyFile(text);
  if (key) {
    auto again = wallet::ParseKeyFile(wallet::FormatKeyFile(*key));
    CAIRN_CHECK(again && again->secret() == key->secret());
  }
  if (auto pending = chain::ParsePendingMessage(text)) {
    CAIRN_CHECK(pending->message.GetCid() == pending->cid);
    auto again = chain::ParsePendingMessage(chain::FormatPendingMessage(*pending));
    CAIRN_CHECK(again && again->cid == pending->cid);
  }
  return 0;
}
