// The repo's persistent block store: <repo>/blocks, a LogBlockstore (docs/formats/blockstore.md).
#include <filesystem>
#include <system_error>

#include "apps/cairn/commands.hpp"
#include "blockstore/log_blockstore.hpp"

namespace cairn::app {

Result<std::unique_ptr<blockstore::Blockstore>> OpenRepoBlockstore(const GlobalOptions& options) {
  std::filesystem::path repo(options.repo);
  std::error_code ec;
  std::filesystem::create_directories(repo, ec);
  if (ec) return Err(ErrorCode::kIoError, "repo: create " + repo.string() + ": " + ec.message());
  auto store = CAIRN_TRY(blockstore::LogBlockstore::Open(repo / "blocks"));
  return std::unique_ptr<blockstore::Blockstore>(std::move(store));
}

}  // namespace cairn::app
