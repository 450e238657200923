// The repo's stores: <repo>/blocks, a LogBlockstore (docs/formats/blockstore.md), and
// <repo>/cairn.db, the SQLite metadata (docs/formats/metadata-schema.md).
#include <filesystem>
#include <system_error>

#include "apps/cairn/commands.hpp"
#include "blockstore/log_blockstore.hpp"
#include "metadata/open.hpp"

namespace cairn::app {

Result<std::unique_ptr<blockstore::LogBlockstore>> OpenRepoBlockstore(const GlobalOptions& options) {
  std::filesystem::path repo(options.repo);
  std::error_code ec;
  std::filesystem::create_directories(repo, ec);
  if (ec) return Err(ErrorCode::kIoError, "repo: create " + repo.string() + ": " + ec.message());
  return blockstore::LogBlockstore::Open(repo / "blocks");
}

Result<std::unique_ptr<metadata::SqliteDatabase>> OpenRepoMetadata(const GlobalOptions& options) {
  std::filesystem::path repo(options.repo);
  std::error_code ec;
  std::filesystem::create_directories(repo, ec);
  if (ec) return Err(ErrorCode::kIoError, "repo: create " + repo.string() + ": " + ec.message());
  return metadata::OpenSqliteMetadata((repo / "cairn.db").string());
}

}  // namespace cairn::app
