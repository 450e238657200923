// `cairn car export|import|ls`: CAR files in and out of the repo block store (src/car/).
//
//   cairn car export CID [-o FILE]   the DAG under CID as a CARv1, in `ipfs dag export` order
//                                    (stdout unless -o)
//   cairn car import FILE|-          verify every block, store them, Sync, print the roots
//   cairn car ls FILE|-              print every block's CID, verifying each
//
// Import never stores an unverified block. From a file it goes further: a first pass reads and
// verifies the whole CAR and stores nothing if any block is bad, so a bad CAR leaves the store
// untouched; the second pass stores and Syncs. From stdin (`-`), which cannot be read twice,
// each block is verified before it is stored and import stops at the first bad one without
// Sync: the blocks before it are valid, unreferenced blocks (nothing pins them) that garbage
// collection may remove. Either way the exit status is non-zero with the reason.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "apps/cairn/commands.hpp"
#include "car/car_reader.hpp"
#include "car/car_writer.hpp"
#include "common/io.hpp"
#include "ipld/blocks.hpp"

namespace cairn::app {
namespace {

using multiformats::Cid;

// FILE, or stdin for "-" (which cannot be rewound).
Result<FileSource> OpenInput(const std::string& path) {
  if (path == "-") return FileSource::Borrow(STDIN_FILENO, "stdin");
  auto source = FileSource::Open(path);
  if (!source) return Err(source.error().WithContext("car: "));
  return source;
}

Result<void> Export(const GlobalOptions& options, const std::string& cid_text,
                    const std::string& out_path) {
  Cid root = CAIRN_TRY(Cid::Parse(cid_text));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  ipld::BlockGetterFor<blockstore::Blockstore> getter(*store);
  FileSink sink = FileSink::Borrow(STDOUT_FILENO, "stdout");
  if (!out_path.empty() && out_path != "-") {
    auto created = FileSink::Create(out_path);
    if (!created) return Err(created.error().WithContext("car: "));
    sink = std::move(*created);
  }
  auto stats = car::ExportDag(root, getter, sink);
  auto closed = sink.Close();
  if (!stats) return Err(stats.error());
  if (!closed) return Err(closed.error().WithContext("car: "));
  std::fprintf(stderr, "exported %llu blocks, %llu bytes\n",
               static_cast<unsigned long long>(stats->blocks),
               static_cast<unsigned long long>(stats->bytes));
  return Ok();
}

// Reads every block of the CAR in `source`, verifying each, and hands it to `fn`.
template <typename Fn>
Result<std::vector<Cid>> ForEachBlock(ByteSource& source, Fn&& fn) {
  auto reader = CAIRN_TRY(car::CarReader::Open(source));
  while (true) {
    auto block = CAIRN_TRY(reader->Next());
    if (!block) break;
    CAIRN_TRY(fn(*block));
  }
  return reader->roots();
}

Result<void> Import(const GlobalOptions& options, const std::string& path) {
  FileSource source = CAIRN_TRY(OpenInput(path));
  if (path != "-") {
    // Pass 1: verify everything before storing anything.
    CAIRN_TRY(ForEachBlock(source, [](const car::CarBlock&) { return Ok(); }));
    auto rewound = source.Rewind();
    if (!rewound) return Err(rewound.error().WithContext("car: "));
  }
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  auto roots = CAIRN_TRY(ForEachBlock(source, [&](const car::CarBlock& b) -> Result<void> {
    // The reader verified the block against its CID before returning it.
    CAIRN_TRY(store->Put(b.cid, b.data));
    ++blocks;
    bytes += b.data.size();
    return Ok();
  }));
  CAIRN_TRY(store->Sync());
  for (const auto& root : roots) std::printf("%s\n", root.ToString().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "imported %llu blocks, %llu bytes\n",
               static_cast<unsigned long long>(blocks), static_cast<unsigned long long>(bytes));
  return Ok();
}

Result<void> Ls(const std::string& path) {
  FileSource source = CAIRN_TRY(OpenInput(path));
  auto roots = CAIRN_TRY(ForEachBlock(source, [](const car::CarBlock& b) -> Result<void> {
    std::printf("%s\n", b.cid.ToString().c_str());
    return Ok();
  }));
  (void)roots;
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("car: flushing stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

void RegisterCarCommands(CLI::App& app, GlobalOptions& options) {
  auto* car_cmd = app.add_subcommand("car", "CAR files: export, import, ls");
  car_cmd->require_subcommand(1);

  struct ExportArgs {
    std::string cid;
    std::string out;
  };
  auto export_args = std::make_shared<ExportArgs>();
  auto* exp = car_cmd->add_subcommand(
      "export", "Write the DAG under CID as a CARv1 (the order of `ipfs dag export`)");
  exp->add_option("cid", export_args->cid, "root CID")->required();
  exp->add_option("-o,--output", export_args->out, "output file (default: stdout)");
  exp->callback(
      [export_args, &options] { Finish(Export(options, export_args->cid, export_args->out)); });

  auto import_path = std::make_shared<std::string>();
  auto* imp = car_cmd->add_subcommand(
      "import", "Verify and store every block of a CARv1/v2, then print its roots");
  imp->add_option("file", *import_path, "CAR file, or - for stdin")->required();
  imp->callback([import_path, &options] { Finish(Import(options, *import_path)); });

  auto ls_path = std::make_shared<std::string>();
  auto* ls = car_cmd->add_subcommand("ls", "Print the CID of every block in a CAR, verifying each");
  ls->add_option("file", *ls_path, "CAR file, or - for stdin")->required();
  ls->callback([ls_path] { Finish(Ls(*ls_path)); });
}

}  // namespace cairn::app
