// `cairn block put|get|stat|rm`: raw access to the repo's block store, shaped like Kubo's
// `ipfs block` commands.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "apps/cairn/commands.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::app {
namespace {

using multiformats::Cid;
namespace codec = multiformats::codec;

struct PutArgs {
  std::string file;
  std::string cid_codec;  // empty: raw (dag-pb for --cid-version 0)
  std::string mhtype = "sha2-256";
  int cid_version = 1;
};

Result<Bytes> ReadInput(const std::string& file) {
  FILE* f = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (f == nullptr) {
    return Err(ErrorCode::kNotFound, "block put: open " + file + ": " + std::strerror(errno));
  }
  Bytes data;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) return Err(ErrorCode::kIoError, "block put: read " + file + " failed");
  return data;
}

Result<void> Put(const GlobalOptions& options, const PutArgs& args) {
  std::string codec_name =
      args.cid_codec.empty() ? (args.cid_version == 0 ? "dag-pb" : "raw") : args.cid_codec;
  uint64_t codec_code = 0;
  if (codec_name == "raw") {
    codec_code = codec::kRaw;
  } else if (codec_name == "dag-pb") {
    codec_code = codec::kDagPb;
  } else if (codec_name == "dag-cbor") {
    codec_code = codec::kDagCbor;
  } else {
    return Err(ErrorCode::kInvalidArgument,
               "block put: --cid-codec must be raw, dag-pb or dag-cbor, not " + codec_name);
  }
  uint64_t hash_code = 0;
  if (args.mhtype == "sha2-256") {
    hash_code = codec::kSha2_256;
  } else if (args.mhtype == "sha2-512") {
    hash_code = codec::kSha2_512;
  } else if (args.mhtype == "blake2b-256") {
    hash_code = codec::kBlake2b256;
  } else {
    return Err(ErrorCode::kInvalidArgument,
               "block put: --mhtype must be sha2-256, sha2-512 or blake2b-256, not " + args.mhtype);
  }
  if (args.cid_version != 0 && args.cid_version != 1) {
    return Err(ErrorCode::kInvalidArgument, "block put: --cid-version must be 0 or 1");
  }
  Bytes data = CAIRN_TRY(ReadInput(args.file));
  Cid cid = CAIRN_TRY(Cid::Compute(args.cid_version, codec_code, hash_code, data));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  CAIRN_TRY(store->Put(cid, data));
  CAIRN_TRY(store->Sync());
  std::printf("%s\n", cid.ToString().c_str());
  return Ok();
}

Result<void> Get(const GlobalOptions& options, const std::string& text) {
  Cid cid = CAIRN_TRY(Cid::Parse(text));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  Bytes data = CAIRN_TRY(store->Get(cid));
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
    return Err(ErrorCode::kIoError, "block get: write to stdout failed");
  }
  if (std::fflush(stdout) != 0)
    return Err(ErrorCode::kIoError, "block get: write to stdout failed");
  return Ok();
}

Result<void> Stat(const GlobalOptions& options, const std::string& text) {
  Cid cid = CAIRN_TRY(Cid::Parse(text));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  uint64_t size = CAIRN_TRY(store->Size(cid));
  std::printf("Key: %s\nSize: %llu\n", cid.ToString().c_str(),
              static_cast<unsigned long long>(size));
  return Ok();
}

Result<void> Remove(const GlobalOptions& options, const std::string& text, bool force) {
  Cid cid = CAIRN_TRY(Cid::Parse(text));
  auto store = CAIRN_TRY(OpenRepoBlockstore(options));
  if (!force && !CAIRN_TRY(store->Has(cid))) {
    return Err(ErrorCode::kNotFound, "block rm: " + cid.ToString() + " is not in the block store");
  }
  CAIRN_TRY(store->Delete(cid));
  CAIRN_TRY(store->Sync());
  std::printf("removed %s\n", cid.ToString().c_str());
  return Ok();
}

}  // namespace

void RegisterBlockCommands(CLI::App& app, GlobalOptions& options) {
  auto* block = app.add_subcommand("block", "Raw blocks in the repo's block store");
  block->require_subcommand(1);

  auto put_args = std::make_shared<PutArgs>();
  auto* put = block->add_subcommand("put", "Store a file's bytes as one block; print its CID");
  put->add_option("file", put_args->file, "input file, or - for stdin")->required();
  put->add_option("--cid-codec", put_args->cid_codec, "raw (default), dag-pb or dag-cbor");
  put->add_option("--mhtype", put_args->mhtype, "sha2-256 (default), sha2-512 or blake2b-256");
  put->add_option("--cid-version", put_args->cid_version, "0 or 1 (default 1)");
  put->callback([&options, put_args] { Finish(Put(options, *put_args)); });

  auto get_cid = std::make_shared<std::string>();
  auto* get = block->add_subcommand("get", "Write a block's bytes to stdout (verified)");
  get->add_option("cid", *get_cid, "the block's CID")->required();
  get->callback([&options, get_cid] { Finish(Get(options, *get_cid)); });

  auto stat_cid = std::make_shared<std::string>();
  auto* stat = block->add_subcommand("stat", "Print a block's key and size");
  stat->add_option("cid", *stat_cid, "the block's CID")->required();
  stat->callback([&options, stat_cid] { Finish(Stat(options, *stat_cid)); });

  auto rm_cid = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* rm = block->add_subcommand("rm", "Remove a block");
  rm->add_option("cid", *rm_cid, "the block's CID")->required();
  rm->add_flag("--force,-f", *force, "succeed even when the block is absent");
  rm->callback([&options, rm_cid, force] { Finish(Remove(options, *rm_cid, *force)); });
}

}  // namespace cairn::app
