// `cairn receipt verify FILE [--rpc URL]`: checks a pin's receipt (GET /pins/{id}/receipt,
// docs/formats/receipt.md) without trusting the service that issued it.
//
// Offline: the segment's and the aggregate's piece CIDs agree with the sizes, and the FRC-0058
// inclusion proof leads from the segment, at its offset, to the aggregate's commitment with an
// index entry describing it (filecoin/deals/receipt.hpp). With --rpc, each published deal is read
// from the chain (StateMarketStorageDeal): its piece CID and size, provider, client and epochs
// must be the receipt's, and a deal the receipt calls active must be activated and not slashed.
//
// One line per check on stdout ("ok …", "FAIL …", "skip …"). Exit status: 0 every check passed;
// 1 the receipt could not be read or parsed, or the chain could not be asked; 2 the inclusion
// proof failed; 3 a deal on chain disagrees with the receipt (or is not there).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cairn/commands.hpp"
#include "apps/cairn/rpc_transport.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "filecoin/deals/receipt.hpp"

namespace cairn::app {

namespace {

using filecoin::deals::Receipt;

constexpr int kExitInclusionFailed = 2;
constexpr int kExitDealFailed = 3;

struct VerifyFlags {
  std::string file;
  std::string rpc;
  std::string rpc_token;
};

Result<std::string> ReadReceiptFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Err(ErrorCode::kNotFound,
               "receipt verify: cannot open " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > filecoin::deals::kMaxReceiptBytes) {
      return Err(ErrorCode::kInvalidArgument,
                 "receipt verify: " + path + " is larger than a receipt can be");
    }
  }
  return text;
}

// Checks every deal with a deal ID on chain; returns how many failed. Errors: the chain could not
// be asked at all.
Result<int> VerifyDeals(const Receipt& receipt, const VerifyFlags& flags) {
  BeastRpcTransport transport;
  filecoin::chain::ChainClient chain(transport, {.url = flags.rpc, .token = flags.rpc_token});
  CAIRN_TRY(chain.Head());  // reachable at all: else no deal result means anything
  int failed = 0;
  for (const auto& d : receipt.deals) {
    if (!d.deal_id) {
      std::printf("skip deal with %s: not published yet (recorded state %s)\n", d.provider.c_str(),
                  d.state.c_str());
      continue;
    }
    const std::string name = "deal " + std::to_string(*d.deal_id) + " (" + d.provider + ")";
    auto onchain = chain.StateMarketStorageDeal(static_cast<uint64_t>(*d.deal_id));
    if (!onchain) {
      std::printf("FAIL %s: %s\n", name.c_str(), onchain.error().message().c_str());
      ++failed;
      continue;
    }
    auto diffs = filecoin::deals::CheckDealOnChain(receipt, d, *onchain);
    for (const auto& diff : diffs) std::printf("FAIL %s: %s\n", name.c_str(), diff.c_str());
    if (!diffs.empty()) {
      ++failed;
      continue;
    }
    std::string active =
        onchain->state.sector_start_epoch == -1
            ? "not activated yet"
            : "active since epoch " + std::to_string(onchain->state.sector_start_epoch);
    std::printf("ok   %s: on chain with this piece, provider, client and epochs; %s\n",
                name.c_str(), active.c_str());
  }
  return failed;
}

Result<int> Verify(const VerifyFlags& flags) {
  auto text = CAIRN_TRY(ReadReceiptFile(flags.file));
  auto receipt = filecoin::deals::ParseReceipt(text);
  if (!receipt) return Err(receipt.error().WithContext("receipt verify: " + flags.file + ": "));
  if (auto shards = filecoin::deals::ShardsConsistent(*receipt); !shards) {
    std::printf("FAIL shards: %s\n", shards.error().message().c_str());
    std::fflush(stdout);
    return kExitInclusionFailed;
  }
  // Shard 0, then the others (docs/formats/car-shards.md): each is checked on its own.
  std::vector<const Receipt*> parts = {&*receipt};
  for (const auto& s : receipt->shards) parts.push_back(&s);
  for (const Receipt* part : parts) {
    const std::string which = part->shard_count > 1 ? "shard " + std::to_string(part->shard) + "/" +
                                                          std::to_string(part->shard_count) + " "
                                                    : std::string();
    auto inclusion = filecoin::deals::VerifyReceiptInclusion(*part);
    if (!inclusion) {
      std::printf("FAIL %sinclusion: %s\n", which.c_str(), inclusion.error().message().c_str());
      std::fflush(stdout);
      return kExitInclusionFailed;
    }
    std::printf(
        "ok   %sinclusion: segment %s (a CAR of %llu bytes rooted at %s) at offset %llu of "
        "aggregate %s (%llu padded bytes)\n",
        which.c_str(), part->segment_piece_cid.ToString().c_str(),
        static_cast<unsigned long long>(inclusion->segment_payload_size),
        part->cid.ToString().c_str(), static_cast<unsigned long long>(part->segment_offset),
        part->aggregate_piece_cid.ToString().c_str(),
        static_cast<unsigned long long>(part->aggregate_padded_size));
  }
  if (flags.rpc.empty()) {
    size_t deals = 0;
    for (const Receipt* part : parts) deals += part->deals.size();
    std::printf("skip deals: %zu listed; give --rpc URL to check them on chain\n", deals);
    std::fflush(stdout);
    return 0;
  }
  int failed = 0;
  for (const Receipt* part : parts) failed += CAIRN_TRY(VerifyDeals(*part, flags));
  std::fflush(stdout);
  if (failed > 0) {
    std::fprintf(stderr, "cairn: receipt verify: %d deal(s) disagree with the chain\n", failed);
    return kExitDealFailed;
  }
  return 0;
}

}  // namespace

void RegisterReceiptCommands(CLI::App& app, GlobalOptions& /*options*/) {
  auto* receipt =
      app.add_subcommand("receipt", "Pins' Filecoin receipts (docs/formats/receipt.md)");
  receipt->require_subcommand(1);
  auto flags = std::make_shared<VerifyFlags>();
  auto* verify = receipt->add_subcommand(
      "verify",
      "Check a receipt: the inclusion proof offline; with --rpc, each deal on chain. Exit 0 ok, "
      "1 unreadable, 2 inclusion failed, 3 a deal disagrees");
  verify->add_option("FILE", flags->file, "the receipt JSON (GET /pins/{requestid}/receipt)")
      ->required();
  verify->add_option("--rpc", flags->rpc, "Lotus JSON-RPC v1 endpoint to check the deals on");
  verify->add_option("--rpc-token", flags->rpc_token, "bearer token for --rpc");
  verify->callback([flags] {
    auto status = Verify(*flags);
    if (!status) Finish(Err(status.error()));
    if (*status != 0) throw CLI::RuntimeError(*status);
  });
}

}  // namespace cairn::app
