// cairn: the one binary. Subcommands are registered by area (see commands.hpp).
#include <malloc.h>

#include <cstdio>

#include "apps/cairn/commands.hpp"

namespace cairn::app {

void Finish(const Result<void>& result) {
  if (!result) {
    std::fprintf(stderr, "cairn: %s\n", result.error().ToString().c_str());
    throw CLI::RuntimeError(1);
  }
}

}  // namespace cairn::app

int main(int argc, char** argv) {
  // Blocks (up to 2 MiB) are read into fresh buffers on every hot path (gateway, bitswap, a
  // deal's piece). glibc maps allocations above its dynamic mmap threshold afresh, and trims
  // freed memory at the top of a thread's heap, so each such read paid page faults for its
  // buffer: 56 % of cairn's CPU when a provider pulled a piece (docs/benchmarks.md "Deal data").
  // Fixed thresholds keep buffers up to 4 MiB in the heap and up to 32 MiB of freed memory per
  // heap for reuse: CPU per pull 0.68 s -> 0.245 s in the same run (scripts/bench-deals.sh).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  using namespace cairn::app;
  CLI::App app{"cairn: a Filecoin-backed IPFS pinning service"};
  app.require_subcommand(1);
  GlobalOptions options;
  if (argc > 0 && argv[0] && *argv[0]) options.program = argv[0];
  app.add_option("--repo", options.repo, "repository directory")->capture_default_str();
  // Global options are accepted after a subcommand's name too (`cairn account create alice
  // --repo DIR`): an option a subcommand does not know falls through to its parent, up to here.
  // Subcommands inherit the setting when they are created, so it is set before any is added.
  app.fallthrough();

  RegisterServeCommands(app, options);
  RegisterCidCommands(app, options);
  RegisterBlockCommands(app, options);
  RegisterUnixfsCommands(app, options);
  RegisterExportCommands(app, options);
  RegisterCarCommands(app, options);
  RegisterAccountCommands(app, options);
  RegisterGcCommands(app, options);
  RegisterWalletCommands(app, options);
  RegisterReceiptCommands(app, options);
  auto* piece = app.add_subcommand("piece", "Filecoin pieces: CommP, aggregates, inclusion proofs");
  piece->require_subcommand(1);
  RegisterPieceCommands(*piece, options);
  RegisterAggregateCommands(*piece, options);
  auto* deals = app.add_subcommand("deals", "Filecoin storage deals recorded in the repo");
  deals->require_subcommand(1);
  RegisterDealsListCommand(*deals, options);
  RegisterDealsProvidersCommand(*deals, options);

  CLI11_PARSE(app, argc, argv);
  return 0;
}
