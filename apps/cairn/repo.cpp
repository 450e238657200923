// The repo's stores: <repo>/blocks, a LogBlockstore (docs/formats/blockstore.md), and
// <repo>/cairn.db, the SQLite metadata (docs/formats/metadata-schema.md).
#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "apps/cairn/commands.hpp"
#include "blockstore/log_blockstore.hpp"
#include "common/env.hpp"
#include "common/log.hpp"
#include "metadata/open.hpp"

namespace cairn::app {

namespace {

// A repo holds every tenant's blocks and token hashes: whatever the caller's umask, what the
// process creates from here on is private to its user (files 0600, directories 0700; SQLite's
// database, WAL and shm files take their mode from the umask), and the repo directory itself is
// made 0700, which also closes a repo created before this rule to other users.
Result<std::filesystem::path> PrepareRepo(const GlobalOptions& options) {
  ::umask(077);
  std::filesystem::path repo(options.repo);
  std::error_code ec;
  std::filesystem::create_directories(repo, ec);
  if (ec) return Err(ErrorCode::kIoError, "repo: create " + repo.string() + ": " + ec.message());
  std::filesystem::permissions(repo, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec)
    return Err(ErrorCode::kIoError, "repo: chmod 0700 " + repo.string() + ": " + ec.message());
  return repo;
}

}  // namespace

Result<std::unique_ptr<blockstore::LogBlockstore>> OpenRepoBlockstore(
    const GlobalOptions& options, blockstore::LogBlockstoreOptions store_options) {
  std::filesystem::path repo = CAIRN_TRY(PrepareRepo(options));
  auto store = CAIRN_TRY(blockstore::LogBlockstore::Open(repo / "blocks", store_options));
  // What recovery repaired is logged, never dropped silently: a torn tail cut after a crash
  // names the segment, the offset and how many bytes went.
  const auto& recovery = store->recovery();
  for (const auto& problem : recovery.problems) {
    log::Warn("blockstore.recovery",
              {{"problem", problem}, {"truncated_bytes", recovery.truncated_bytes}});
  }
  return store;
}

Result<std::unique_ptr<filecoin::wallet::Wallet>> OpenRepoWallet(const GlobalOptions& options) {
  std::filesystem::path repo = CAIRN_TRY(PrepareRepo(options));
  std::filesystem::path dir = repo / "wallet";
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    // A wallet copied in with a wider mode is closed to other users before any key is read.
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec)
      return Err(ErrorCode::kIoError, "wallet: chmod 0700 " + dir.string() + ": " + ec.message());
  }
  return filecoin::wallet::Wallet::Open(Env::Default(), dir);
}

Result<std::unique_ptr<metadata::SqliteDatabase>> OpenRepoMetadata(const GlobalOptions& options) {
  std::filesystem::path repo = CAIRN_TRY(PrepareRepo(options));
  return metadata::OpenSqliteMetadata((repo / "cairn.db").string());
}

}  // namespace cairn::app
