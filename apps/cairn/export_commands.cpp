// `cairn cat CID[/path] [--offset N] [--length N]` and `cairn ls CID[/path]`: read UnixFS content
// out of the repo's block store through the exporter (src/unixfs/exporter.hpp).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "apps/cairn/commands.hpp"
#include "common/io.hpp"
#include "ipld/blocks.hpp"
#include "unixfs/exporter.hpp"

namespace cairn::app {
namespace {

using ipld::BlockGetterFor;
using unixfs::Exporter;
using unixfs::NodeType;

Result<void> Cat(const GlobalOptions& options, const std::string& path, uint64_t offset,
                 std::optional<uint64_t> length) {
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  BlockGetterFor<blockstore::Blockstore> getter(*store);
  Exporter exporter(getter);
  unixfs::ResolvedPath resolved = CAIRN_TRY(exporter.Resolve(path));
  if (resolved.stat.type != NodeType::kFile) {
    return Err(ErrorCode::kInvalidArgument,
               "cat: " + path + " is a " + std::string(unixfs::NodeTypeName(resolved.stat.type)) +
                   ", not a file");
  }
  FileSink out = FileSink::Borrow(STDOUT_FILENO, "stdout");
  auto read = exporter.ReadRange(resolved.cid, offset, length, out);
  auto flushed = out.Close();
  if (!read) return Err(read.error());
  if (!flushed) return Err(flushed.error().WithContext("cat: "));
  return Ok();
}

// One line per entry, as `ipfs ls` prints them: "<cid> <size> <name>", where size is the file's
// length ("-" for directories, whose names get a trailing "/"), symlinks their target's length.
Result<void> Ls(const GlobalOptions& options, const std::string& path) {
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  BlockGetterFor<blockstore::Blockstore> getter(*store);
  Exporter exporter(getter);
  unixfs::ResolvedPath resolved = CAIRN_TRY(exporter.Resolve(path));
  if (resolved.stat.type == NodeType::kFile || resolved.stat.type == NodeType::kSymlink) {
    return Err(ErrorCode::kInvalidArgument,
               "ls: " + path + " is a " + std::string(unixfs::NodeTypeName(resolved.stat.type)) +
                   ", not a directory");
  }
  CAIRN_TRY(
      exporter.ListDirectory(resolved.cid, [&](const unixfs::DirEntry& entry) -> Result<bool> {
        auto stat = exporter.Stat(entry.cid);
        if (!stat) {
          return Err(stat.error().WithContext("ls: entry '" + entry.name + "': "));
        }
        bool dir = stat->type == NodeType::kDirectory || stat->type == NodeType::kHamtDirectory;
        std::string size = dir ? "-" : std::to_string(stat->size);
        std::printf("%s %s %s%s\n", entry.cid.ToString().c_str(), size.c_str(), entry.name.c_str(),
                    dir ? "/" : "");
        return true;
      }));
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("ls: flushing stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

void RegisterExportCommands(CLI::App& app, GlobalOptions& options) {
  struct CatArgs {
    std::string path;
    uint64_t offset = 0;
    std::optional<uint64_t> length;
  };
  auto cat_args = std::make_shared<CatArgs>();
  auto* cat = app.add_subcommand("cat", "Write a UnixFS file's bytes (or a byte range) to stdout");
  cat->add_option("path", cat_args->path, "CID[/path] or /ipfs/CID[/path]")->required();
  cat->add_option("--offset", cat_args->offset, "first byte to write")->capture_default_str();
  cat->add_option("--length", cat_args->length, "most bytes to write (default: to the end)");
  cat->callback([cat_args, &options] {
    Finish(Cat(options, cat_args->path, cat_args->offset, cat_args->length));
  });

  auto ls_path = std::make_shared<std::string>();
  auto* ls = app.add_subcommand("ls", "List a UnixFS directory: <cid> <size> <name> per entry");
  ls->add_option("path", *ls_path, "CID[/path] or /ipfs/CID[/path]")->required();
  ls->callback([ls_path, &options] { Finish(Ls(options, *ls_path)); });
}

}  // namespace cairn::app
