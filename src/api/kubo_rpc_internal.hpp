// Internals shared by the Kubo RPC's upload commands (kubo_rpc.cpp, kubo_rpc_add.cpp,
// kubo_rpc_dag_import.cpp). Not an interface for anything outside src/api.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/kubo_rpc.hpp"
#include "multiformats/cid.hpp"
#include "multiformats/multibase.hpp"
#include "unixfs/importer.hpp"

namespace cairn::api::kubo_detail {

// 200 with a JSON (or NDJSON) body.
http::Response JsonOk(std::string body);

// "true"/"false"/"1"/"0"/"" (flag present) → bool; nullopt when absent.
Result<std::optional<bool>> BoolArg(const http::Request& req, std::string_view name);

// Pins an upload's roots (CID, the text it is shown as) for the account, as `ipfs add` pins:
// idempotently (a root the account already has a live pin of — queued, pinning or pinned — gets
// no second one, nor does a root listed twice). The creates share the pin store's group commits;
// returns once all are durable, with how many were created. Linear in the number of roots.
Result<size_t> PinUploads(KuboRpcContext& ctx, int64_t account,
                          const std::vector<std::pair<multiformats::Cid, std::string>>& roots,
                          const std::string& source);

// Answers with what `work` returns, computed on `pool` rather than on the I/O thread (an upload's
// completion builds directories, verifies and stores whole CARs, syncs and pins), in the
// account's turn (the pool is fair across accounts).
http::Response OnPool(WorkerPool& pool, int64_t account, std::function<http::Response()> work);

// The query arguments of /api/v0/add.
struct AddArgs {
  unixfs::ImportOptions import;
  bool wrap = false;
  bool only_hash = false;
  bool pin = true;
  std::optional<multiformats::Multibase> base;
};
Result<AddArgs> ParseAddArgs(const http::Request& req);

// The body of /api/v0/add: multipart files and directories (spooled per part, imported like
// `ipfs add`), answered with NDJSON lines {"Name","Hash","Size"}; roots pinned unless only-hash
// or pin=false.
std::unique_ptr<http::BodyConsumer> NewAddConsumer(KuboRpcContext& ctx, WorkerPool& pool,
                                                   AddArgs args, int64_t account,
                                                   std::string boundary);

// The body of /api/v0/dag/import: each CAR (each multipart part, or the whole body when
// `boundary` is nullopt) is spooled, then every block of every CAR is verified before anything
// is stored; only when all are valid are the blocks stored and the roots pinned (when `pin`).
std::unique_ptr<http::BodyConsumer> NewDagImportConsumer(KuboRpcContext& ctx, WorkerPool& pool,
                                                         int64_t account, bool pin,
                                                         std::optional<std::string> boundary);

}  // namespace cairn::api::kubo_detail
