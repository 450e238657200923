// The Kubo RPC subset Cairn serves (the shapes `kubo-rpc-client` uses; every call is POST with
// arguments in the query string, as Kubo's RPC):
//   /api/v0/add        multipart upload of files and directories, imported like `ipfs add`
//                      (cid-version, raw-leaves, chunker, trickle, hash, wrap-with-directory,
//                      only-hash, pin), answered with NDJSON lines {"Name","Hash","Size"}
//   /api/v0/dag/import CAR upload: every block verified, roots pinned
//   /api/v0/cat        ?arg=CID[/path]&offset&length: file bytes
//   /api/v0/block/get  ?arg=CID: the raw block
//   /api/v0/version, /api/v0/id
// Uploaded roots are pinned for the token's account like `ipfs add` pins them: idempotently (no
// second pin when the account already has a live one of that CID).
// Uploads (add, dag/import) need a token with the `upload` scope; reads need `pins:read`.
// Every block an upload stores is held for garbage collection (KuboRpcContext::leases) from
// before it is stored until the upload's pins are durable or the upload failed.
// Errors are answered with Kubo's error body (see ErrorFor). An upload that is refused or turns
// out malformed is still read to its end before the answer, so clients see the reason instead of
// a reset connection.
// Upload bodies stream: file parts are spooled to `<spool_dir>` as they arrive and imported when
// complete, so memory stays bounded whatever the upload size.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/pinning_api.hpp"
#include "api/rate_limiter.hpp"
#include "blockstore/blockstore.hpp"
#include "blockstore/leases.hpp"
#include "common/env.hpp"
#include "common/worker_pool.hpp"
#include "http/server.hpp"
#include "metadata/accounts.hpp"
#include "metadata/pins.hpp"
#include "net/identity.hpp"

namespace cairn::api {

struct KuboRpcContext {
  blockstore::Blockstore& blocks;
  // Garbage collection's leases: an upload holds every block it stores or reuses until its pins
  // have committed (or the request failed), so a collection in between cannot delete them.
  blockstore::BlockLeases& leases;
  metadata::PinStore& pins;
  metadata::AccountStore& accounts;
  PinEvents& events;
  const Clock& clock;
  const net::Ed25519Identity& identity;
  std::vector<std::string> addresses;  // for /api/v0/id
  std::filesystem::path spool_dir;
  // Threads that complete uploads (directory building, CAR verification and storing, sync,
  // pinning) off the I/O threads. Completions are scheduled fairly across accounts (see
  // WorkerPool): one account's imports never hold every thread.
  size_t completion_threads = 2;
  // Distinct roots one dag/import may carry; more is refused with 400 before anything is stored.
  size_t max_import_roots = 10000;
  // When set, pins created by uploads are charged to the account's pin-write bucket
  // (PinWriteBucket): an upload that would create pins is refused with 429 and Retry-After while
  // the bucket is empty, and each pin it creates takes a token.
  RateLimiter* pin_rate = nullptr;
  // The file system of the spool (tests inject faults with a MemEnv).
  Env* env = &Env::Default();
};

class KuboRpc {
 public:
  // Removes spool files (`upload-*` in spool_dir) left behind by a process killed mid-upload.
  explicit KuboRpc(KuboRpcContext context);
  ~KuboRpc();  // StopCompletions()

  // Runs the upload completions already queued and refuses new ones (their answer is 503).
  // A server that owns sessions waiting on completions must call this after HttpServer::Stop()
  // and before the server is destroyed: completions answer through the server's executor.
  void StopCompletions();

  static bool Handles(std::string_view path) { return path.rfind("/api/v0/", 0) == 0; }
  // Buffered calls (everything but uploads).
  http::Response Handle(const http::Request& request);
  // Streamed uploads: a consumer for /api/v0/add and /api/v0/dag/import, nullptr otherwise.
  // Authentication and argument errors are reported by the consumer's Finish (the body is
  // drained first so the client sees the answer).
  std::unique_ptr<http::BodyConsumer> StreamUpload(const http::Request& request);

  // The error response of every RPC call: the status of http::ErrorResponse, with Kubo's
  // {"Message","Code","Type"} added to the body so Kubo clients can show the reason.
  static http::Response ErrorFor(const Error& error);

 private:
  KuboRpcContext ctx_;
  WorkerPool completions_;
};

}  // namespace cairn::api
