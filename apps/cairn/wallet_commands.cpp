// `cairn wallet new|list|default [ADDR]|balance [ADDR]`: the repo's Filecoin wallet
// (<repo>/wallet, docs/formats/wallet.md; docs/filecoin.md says how to fund it).
//
// `new` prints the new address alone on stdout (ADDR=$(cairn wallet new) works) and a funding
// hint on stderr. No command ever prints a key. `balance` asks the chain (filecoin.rpc in the
// configuration, CAIRN_FILECOIN_RPC, or --rpc) for the balance, the market escrow and DataCap, in
// one batched request.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "apps/cairn/commands.hpp"
#include "apps/cairn/config.hpp"
#include "apps/cairn/rpc_transport.hpp"
#include "filecoin/chain/chain_client.hpp"

namespace cairn::app {

namespace {

using filecoin::Address;
using filecoin::BigInt;
using filecoin::Network;

struct WalletFlags {
  std::string config_path;
  std::string rpc;
  std::string address;
};

Result<void> Flush() {
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("writing to stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

// The configuration as `cairn serve` reads it: defaults, TOML (--config, else <repo>/config.toml
// when present), environment; then --rpc.
Result<ServeConfig> LoadConfig(const GlobalOptions& global, const WalletFlags& flags) {
  ServeConfig config = CAIRN_TRY(LoadCommandConfig(global.repo, flags.config_path));
  if (!flags.rpc.empty()) config.filecoin_rpc = flags.rpc;
  return config;
}

Network NetworkOf(const ServeConfig& config) {
  return config.filecoin_testnet ? Network::kTestnet : Network::kMainnet;
}

Result<Address> ParseAddressArg(const std::string& text) {
  auto a = Address::Parse(text);
  if (!a) return Err(a.error().WithContext("wallet: "));
  return a;
}

// attoFIL as FIL: "1.5", "0.000000000000000001", "0".
std::string Fil(const BigInt& atto) {
  std::string digits = atto.ToString();
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (digits.size() <= 18) digits.insert(0, 19 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - 18);
  std::string frac = digits.substr(digits.size() - 18);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + whole + (frac.empty() ? "" : "." + frac);
}

Result<void> WalletNew(const GlobalOptions& options, const WalletFlags& flags) {
  auto config = CAIRN_TRY(LoadConfig(options, flags));
  auto wallet = CAIRN_TRY(OpenRepoWallet(options));
  Address address = CAIRN_TRY(wallet->New());
  const std::string text = address.ToString(NetworkOf(config));
  std::printf("%s\n", text.c_str());
  CAIRN_TRY(Flush());
  std::fprintf(stderr,
               "new secp256k1 key in %s%s\n"
               "fund it before Cairn can make deals (docs/filecoin.md); the key never leaves "
               "the repo: back up %s\n",
               wallet->dir().c_str(), wallet->Default() == address ? " (the default)" : "",
               wallet->dir().c_str());
  return Ok();
}

Result<void> WalletList(const GlobalOptions& options, const WalletFlags& flags) {
  auto config = CAIRN_TRY(LoadConfig(options, flags));
  auto wallet = CAIRN_TRY(OpenRepoWallet(options));
  auto def = wallet->Default();
  for (const auto& a : wallet->List()) {
    std::printf("%s%s\n", a.ToString(NetworkOf(config)).c_str(), def == a ? "\tdefault" : "");
  }
  return Flush();
}

Result<void> WalletDefault(const GlobalOptions& options, const WalletFlags& flags) {
  auto config = CAIRN_TRY(LoadConfig(options, flags));
  auto wallet = CAIRN_TRY(OpenRepoWallet(options));
  if (!flags.address.empty()) {
    Address a = CAIRN_TRY(ParseAddressArg(flags.address));
    CAIRN_TRY(wallet->SetDefault(a));
  }
  auto def = wallet->Default();
  if (!def) {
    return Err(ErrorCode::kNotFound, "wallet: empty (create a key with `cairn wallet new`)");
  }
  std::printf("%s\n", def->ToString(NetworkOf(config)).c_str());
  return Flush();
}

Result<void> WalletBalance(const GlobalOptions& options, const WalletFlags& flags) {
  auto config = CAIRN_TRY(LoadConfig(options, flags));
  if (config.filecoin_rpc.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "wallet balance: no chain endpoint: set filecoin.rpc in the configuration, "
               "CAIRN_FILECOIN_RPC, or --rpc URL");
  }
  std::optional<Address> wanted;
  if (!flags.address.empty()) {
    wanted = CAIRN_TRY(ParseAddressArg(flags.address));
  } else if (!config.filecoin_wallet.empty()) {
    wanted = CAIRN_TRY(ParseAddressArg(config.filecoin_wallet));
  }
  Address address;
  if (wanted && !flags.address.empty()) {
    address = *wanted;  // any address may be looked up, held here or not
  } else {
    auto wallet = CAIRN_TRY(OpenRepoWallet(options));
    address = CAIRN_TRY(wallet->Resolve(wanted));
  }
  BeastRpcTransport transport;
  filecoin::chain::ChainClient chain(transport, {.url = config.filecoin_rpc,
                                                 .token = config.filecoin_rpc_token,
                                                 .network = NetworkOf(config)});
  auto funds = CAIRN_TRY(chain.Funds(address));
  const auto& m = funds.market;
  std::printf("address: %s\n", address.ToString(NetworkOf(config)).c_str());
  std::printf("balance: %s FIL (%s attoFIL)\n", Fil(funds.balance).c_str(),
              funds.balance.ToString().c_str());
  std::printf("market escrow: %s FIL (available %s FIL, locked %s FIL)\n", Fil(m.escrow).c_str(),
              Fil(m.available()).c_str(), Fil(m.locked).c_str());
  if (funds.datacap) {
    std::printf("datacap: %s bytes\n", funds.datacap->ToString().c_str());
  } else {
    std::printf("datacap: none\n");
  }
  return Flush();
}

}  // namespace

void RegisterWalletCommands(CLI::App& app, GlobalOptions& options) {
  auto* wallet = app.add_subcommand("wallet", "The repo's Filecoin wallet (keys in <repo>/wallet)");
  wallet->require_subcommand(1);
  auto flags = std::make_shared<WalletFlags>();
  wallet->add_option("--config", flags->config_path,
                     "TOML configuration (default: <repo>/config.toml when present)");

  auto* create = wallet->add_subcommand("new", "Create a secp256k1 key; prints its address");
  create->callback([&options, flags] { Finish(WalletNew(options, *flags)); });

  auto* list = wallet->add_subcommand("list", "List the wallet's addresses (the default marked)");
  list->callback([&options, flags] { Finish(WalletList(options, *flags)); });

  auto* def = wallet->add_subcommand("default", "Print the default address, or set it to ADDR");
  def->add_option("ADDR", flags->address, "address to make the default");
  def->callback([&options, flags] { Finish(WalletDefault(options, *flags)); });

  auto* balance = wallet->add_subcommand(
      "balance",
      "Balance, market escrow and DataCap of ADDR (default: filecoin.wallet, else the "
      "wallet's default)");
  balance->add_option("ADDR", flags->address, "address to look up");
  balance->add_option("--rpc", flags->rpc, "Lotus JSON-RPC v1 endpoint (overrides filecoin.rpc)");
  balance->callback([&options, flags] { Finish(WalletBalance(options, *flags)); });
}

}  // namespace cairn::app
