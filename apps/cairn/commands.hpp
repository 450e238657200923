// The `cairn` command line: each area registers its subcommands here. main.cpp is the
// composition root; commands reach the repo only through the helpers below.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "blockstore/log_blockstore.hpp"
#include "common/result.hpp"
#include "filecoin/wallet/wallet.hpp"
#include "metadata/sqlite_database.hpp"

namespace cairn::app {

struct GlobalOptions {
  std::string repo = "cairn-data";  // --repo DIR
  std::string program = "cairn";    // how the binary was invoked (argv[0]), for hints
};

// Opens (creating if needed) the persistent block store of the repo at `options.repo`.
// The repo directory is made private to the user (0700) and everything the process creates after
// this is 0600/0700 whatever the umask.
Result<std::unique_ptr<blockstore::LogBlockstore>> OpenRepoBlockstore(
    const GlobalOptions& options, blockstore::LogBlockstoreOptions store_options = {});

// Opens (creating and migrating if needed) the metadata database <repo>/cairn.db. SQLite in WAL
// mode: operator commands may run beside `cairn serve` on the same repo.
Result<std::unique_ptr<metadata::SqliteDatabase>> OpenRepoMetadata(const GlobalOptions& options);

// Opens (creating if needed) the repo's wallet, <repo>/wallet (docs/formats/wallet.md), made
// 0700 even when it existed wider.
Result<std::unique_ptr<filecoin::wallet::Wallet>> OpenRepoWallet(const GlobalOptions& options);

// Ends a command: on error prints "cairn: <message>" to stderr and exits with status 1 (through
// CLI11's exception, so main's destructors run).
void Finish(const Result<void>& result);

void RegisterCidCommands(CLI::App& app, GlobalOptions& options);
void RegisterBlockCommands(CLI::App& app, GlobalOptions& options);
void RegisterUnixfsCommands(CLI::App& app, GlobalOptions& options);  // add
void RegisterExportCommands(CLI::App& app, GlobalOptions& options);  // cat, ls
void RegisterServeCommands(CLI::App& app, GlobalOptions& options);
void RegisterCarCommands(CLI::App& app, GlobalOptions& options);
void RegisterAccountCommands(CLI::App& app, GlobalOptions& options);  // account, token
void RegisterGcCommands(CLI::App& app, GlobalOptions& options);       // gc
void RegisterWalletCommands(CLI::App& app, GlobalOptions& options);   // wallet
void RegisterReceiptCommands(CLI::App& app, GlobalOptions& options);  // receipt verify
void RegisterPieceCommands(CLI::App& piece, GlobalOptions& options);  // piece commp
void RegisterAggregateCommands(CLI::App& piece,
                               GlobalOptions& options);  // piece aggregate, verify-inclusion
void RegisterDealsListCommand(CLI::App& deals, GlobalOptions& options);       // deals list
void RegisterDealsProvidersCommand(CLI::App& deals, GlobalOptions& options);  // deals providers

}  // namespace cairn::app
