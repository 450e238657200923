// `cairn add [flags] PATH...`: imports files and directories as UnixFS, with Kubo's `ipfs add`
// flags and output, into the repo's block store (or nowhere with --only-hash).
//
// Only `add` is registered here; `cat` and `ls` live in export_commands.cpp
// (RegisterExportCommands).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/cairn/commands.hpp"
#include "common/io.hpp"
#include "ipld/blocks.hpp"
#include "multiformats/multibase.hpp"
#include "unixfs/importer.hpp"

namespace cairn::app {
namespace {

namespace fs = std::filesystem;
using multiformats::Cid;
using unixfs::DirectoryBuilder;
using unixfs::EntryMeta;
using unixfs::ImportedNode;
using unixfs::ImportOptions;

struct AddArgs {
  std::vector<std::string> paths;
  bool quiet = false;
  bool quieter = false;
  bool only_hash = false;
  bool recursive = false;
  bool wrap = false;
  bool hidden = false;
  bool preserve_mode = false;
  bool preserve_mtime = false;
  std::optional<std::string> cid_base;
  unixfs::AddFlags flags;
  unsigned threads = 0;  // hashing threads per file; 0 = one per core
  // CLI11 fills these; copied into `flags` when given.
  int cid_version = 0;
  bool raw_leaves = false;
  std::string chunker;
  uint64_t max_file_links = 0;
  std::string hash;
  std::string profile;
  std::string base;
};

class Adder {
 public:
  Adder(const AddArgs& args, const ImportOptions& options, ipld::BlockSink& sink,
        std::optional<multiformats::Multibase> base)
      : args_(args), options_(options), sink_(sink), base_(base) {}

  // Imports one command-line path; `display` is the name printed for it.
  Result<ImportedNode> AddPath(const std::string& path, const std::string& display) {
    if (path == "-") {
      FileSource source = FileSource::Borrow(STDIN_FILENO, "stdin");
      ImportedNode node = CAIRN_TRY(unixfs::ImportFile(source, options_, sink_));
      Emit(node.cid, display.empty() ? Text(node.cid) : display);
      return node;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return Err(ErrorCode::kNotFound, "add: cannot stat " + path + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode) && !args_.recursive) {
      return Err(ErrorCode::kInvalidArgument,
                 "add: " + path + " is a directory, use -r to add directories");
    }
    return AddEntry(path, display, st);
  }

  // Directories are printed after everything else, children before parents, as Kubo does.
  void FlushDirectories() {
    for (const auto& [cid, name] : dirs_) {
      Emit(cid, name);
    }
    dirs_.clear();
  }

  void EmitDirectory(const Cid& cid, std::string name) { dirs_.emplace_back(cid, std::move(name)); }

  const std::optional<Cid>& last() const { return last_; }

  std::string Text(const Cid& cid) const { return base_ ? cid.ToString(*base_) : cid.ToString(); }

 private:
  EntryMeta MetaOf(const struct stat& st) const {
    EntryMeta meta;
    if (args_.preserve_mode) {
      meta.mode = static_cast<uint32_t>(st.st_mode & 07777);
    }
    if (args_.preserve_mtime) {
      unixfs::UnixTime t;
      t.seconds = static_cast<int64_t>(st.st_mtim.tv_sec);
      if (st.st_mtim.tv_nsec != 0) {
        t.nanos = static_cast<uint32_t>(st.st_mtim.tv_nsec);
      }
      meta.mtime = t;
    }
    return meta;
  }

  Result<ImportedNode> AddEntry(const std::string& path, const std::string& display,
                                const struct stat& st) {
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(path, ec);
      if (ec) {
        return Err(ErrorCode::kIoError, "add: reading link " + path + ": " + ec.message());
      }
      ImportedNode node =
          CAIRN_TRY(unixfs::ImportSymlink(target.string(), options_, sink_, MetaOf(st)));
      Emit(node.cid, display);
      return node;
    }
    if (S_ISREG(st.st_mode)) {
      auto source = FileSource::Open(path);
      if (!source) return Err(source.error().WithContext("add: "));
#ifdef POSIX_FADV_SEQUENTIAL
      ::posix_fadvise(source->fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
      ImportedNode node = CAIRN_TRY(unixfs::ImportFile(*source, options_, sink_, MetaOf(st)));
      Emit(node.cid, display);
      return node;
    }
    if (S_ISDIR(st.st_mode)) {
      std::vector<std::string> names;
      std::error_code ec;
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!args_.hidden && !name.empty() && name[0] == '.') {
          continue;
        }
        names.push_back(std::move(name));
      }
      if (ec) {
        return Err(ErrorCode::kIoError, "add: listing " + path + ": " + ec.message());
      }
      std::sort(names.begin(), names.end());
      DirectoryBuilder dir(options_, sink_, MetaOf(st));
      for (const std::string& name : names) {
        const std::string child = path + "/" + name;
        struct stat cst {};
        if (::lstat(child.c_str(), &cst) != 0) {
          return Err(ErrorCode::kIoError,
                     "add: cannot stat " + child + ": " + std::strerror(errno));
        }
        ImportedNode node = CAIRN_TRY(AddEntry(child, display + "/" + name, cst));
        CAIRN_TRY(dir.Add(name, node));
      }
      ImportedNode node = CAIRN_TRY(dir.Finish());
      EmitDirectory(node.cid, display);
      return node;
    }
    return Err(ErrorCode::kInvalidArgument,
               "add: " + path + " is not a regular file, directory or symlink");
  }

  void Emit(const Cid& cid, const std::string& name) {
    last_ = cid;
    if (args_.quieter) {
      return;
    }
    if (args_.quiet) {
      std::printf("%s\n", Text(cid).c_str());
    } else {
      std::printf("added %s %s\n", Text(cid).c_str(), name.c_str());
    }
  }

  const AddArgs& args_;
  const ImportOptions& options_;
  ipld::BlockSink& sink_;
  std::optional<multiformats::Multibase> base_;
  std::vector<std::pair<Cid, std::string>> dirs_;
  std::optional<Cid> last_;
};

std::string DisplayName(const std::string& path) {
  if (path == "-") {
    return "";
  }
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  const fs::path fp(p);
  std::string name = fp.filename().string();
  return name.empty() ? p : name;
}

Result<void> Add(const GlobalOptions& global, const AddArgs& args) {
  ImportOptions options = CAIRN_TRY(unixfs::ResolveAddFlags(args.flags));
  options.threads = args.threads;
  CAIRN_TRY(options.Validate());
  std::optional<multiformats::Multibase> base;
  if (args.cid_base) {
    base = CAIRN_TRY(multiformats::MultibaseFromName(*args.cid_base));
  }
  ipld::DiscardSink discard;
  std::unique_ptr<blockstore::Blockstore> store;
  std::unique_ptr<ipld::BlockSink> store_sink;
  ipld::BlockSink* sink = &discard;
  if (!args.only_hash) {
    store = CAIRN_TRY(OpenRepoBlockstore(global));
    store_sink = std::make_unique<ipld::StoreSink<blockstore::Blockstore>>(*store);
    sink = store_sink.get();
  }
  Adder adder(args, options, *sink, base);
  if (args.wrap) {
    DirectoryBuilder wrapper(options, *sink);
    for (const std::string& path : args.paths) {
      std::string name = DisplayName(path);
      const bool stdin_entry = path == "-";
      ImportedNode node = CAIRN_TRY(adder.AddPath(path, name));
      if (stdin_entry) {
        name = node.cid.ToString();
      }
      CAIRN_TRY(wrapper.Add(name, node));
    }
    ImportedNode root = CAIRN_TRY(wrapper.Finish());
    adder.EmitDirectory(root.cid, "");
  } else {
    for (const std::string& path : args.paths) {
      CAIRN_TRY(adder.AddPath(path, DisplayName(path)));
    }
  }
  adder.FlushDirectories();
  if (store) {
    CAIRN_TRY(store->Sync());
  }
  if (args.quieter && adder.last()) {
    std::printf("%s\n", adder.Text(*adder.last()).c_str());
  }
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("add: writing to stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

// Registers `add` only (see the file comment for `cat` and `ls`).
void RegisterUnixfsCommands(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<AddArgs>();
  auto* add = app.add_subcommand("add", "Import files or directories as UnixFS (like ipfs add)");
  add->add_option("paths", args->paths, "files or directories to add; - reads stdin")->required();
  add->add_flag("-q,--quiet", args->quiet, "print only the CIDs");
  add->add_flag("-Q,--quieter", args->quieter, "print only the final root CID");
  add->add_flag("-n,--only-hash", args->only_hash, "compute CIDs without storing blocks");
  add->add_flag("-r,--recursive", args->recursive, "add directories recursively");
  add->add_flag("-w,--wrap-with-directory", args->wrap, "wrap the added paths in a directory");
  add->add_flag("-H,--hidden", args->hidden, "include files whose names start with '.'");
  add->add_flag("--preserve-mode", args->preserve_mode, "store file permissions");
  add->add_flag("--preserve-mtime", args->preserve_mtime, "store modification times");
  auto* cid_version = add->add_option("--cid-version", args->cid_version, "CID version (0 or 1)");
  auto* raw_leaves =
      add->add_flag("--raw-leaves", args->raw_leaves, "raw leaves (--raw-leaves=false for dag-pb)");
  auto* chunker = add->add_option("--chunker,-s", args->chunker, "chunker: size-N");
  add->add_flag("--trickle,-t", args->flags.trickle, "trickle layout");
  auto* max_links = add->add_option("--max-file-links", args->max_file_links,
                                    "maximum links per file node (default 174)");
  auto* hash = add->add_option("--hash", args->hash, "sha2-256, sha2-512 or blake2b-256");
  auto* cid_base = add->add_option("--cid-base", args->base, "multibase for printed CIDs");
  auto* profile =
      add->add_option("--profile", args->profile, "unixfs-v0-2015 (default) or unixfs-v1-2025");
  add->add_option("--threads", args->threads,
                  "threads hashing a file's leaves (default 0 = one per core; same CIDs)");
  add->callback(
      [&options, args, cid_version, raw_leaves, chunker, max_links, hash, cid_base, profile] {
        if (cid_version->count() > 0) args->flags.cid_version = args->cid_version;
        if (raw_leaves->count() > 0) args->flags.raw_leaves = args->raw_leaves;
        if (chunker->count() > 0) args->flags.chunker = args->chunker;
        if (max_links->count() > 0) args->flags.max_file_links = args->max_file_links;
        if (hash->count() > 0) args->flags.hash = args->hash;
        if (cid_base->count() > 0) args->cid_base = args->base;
        if (profile->count() > 0) args->flags.profile = args->profile;
        Finish(Add(options, *args));
      });
}

}  // namespace cairn::app
