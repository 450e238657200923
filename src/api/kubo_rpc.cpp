#include "api/kubo_rpc.hpp"

#include <strings.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_set>

#include "api/kubo_rpc_internal.hpp"
#include "api/multipart.hpp"
#include "api/spool.hpp"
#include "common/log.hpp"
#include "http/pushed_stream.hpp"
#include "multiformats/multibase.hpp"
#include "unixfs/exporter.hpp"

namespace cairn::api {

namespace json = boost::json;
namespace mf = multiformats;

namespace kubo_detail {

http::Response JsonOk(std::string body) { return http::JsonResponse(200, std::move(body)); }

Result<std::optional<bool>> BoolArg(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<bool>();
  if (*v == "" || *v == "true" || *v == "1") return std::optional<bool>(true);
  if (*v == "false" || *v == "0") return std::optional<bool>(false);
  return Err(ErrorCode::kInvalidArgument, "rpc: " + std::string(name) + " must be true or false");
}

Result<size_t> PinUploads(KuboRpcContext& ctx, int64_t account,
                          const std::vector<std::pair<mf::Cid, std::string>>& roots,
                          const std::string& source) {
  std::vector<const std::pair<mf::Cid, std::string>*> to_create;
  std::unordered_set<std::string> seen;
  for (const auto& root : roots) {
    Bytes key = root.first.ToBytes();
    if (!seen.insert(std::string(key.begin(), key.end())).second) continue;
    metadata::PinFilter live;
    live.cids.push_back(root.first);
    live.statuses = {metadata::PinStatus::kQueued, metadata::PinStatus::kPinning,
                     metadata::PinStatus::kPinned};
    if (CAIRN_TRY(ctx.pins.Count(account, live)) > 0) continue;
    to_create.push_back(&root);
  }
  if (to_create.empty()) return size_t{0};
  // The request took one token when it was admitted; the other pins are charged now.
  if (ctx.pin_rate && to_create.size() > 1) {
    ctx.pin_rate->Charge(PinWriteBucket(account), static_cast<double>(to_create.size() - 1));
  }
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = to_create.size();
  std::optional<Error> first_error;
  for (const auto* root : to_create) {
    metadata::NewPin pin;
    pin.cid = root->second;
    pin.meta["source"] = source;
    ctx.pins.CreateAsync(account, std::move(pin), [&](Result<metadata::PinRecord> r) {
      std::lock_guard lock(mu);
      if (!r && !first_error) first_error = r.error();
      if (--pending == 0) cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  if (first_error) return Err(*first_error);
  return to_create.size();
}

http::Response OnPool(WorkerPool& pool, int64_t account, std::function<http::Response()> work) {
  http::Response deferred;
  deferred.deferred = [&pool, account,
                       work = std::move(work)](std::function<void(http::Response)> complete) {
    if (!pool.Submit("account:" + std::to_string(account),
                     [work, complete] { complete(work()); })) {
      complete(KuboRpc::ErrorFor(Error(ErrorCode::kUnavailable, "rpc: shutting down")));
    }
  };
  return deferred;
}

}  // namespace kubo_detail

using kubo_detail::BoolArg;
using kubo_detail::JsonOk;

// Kubo's error body is {"Message","Code","Type":"error"}; kubo-rpc-client (and `ipfs`) show
// `Message` to their caller. The status and the project's own {"error":{...}} object come from
// http::ErrorResponse, the one mapping of error codes to HTTP.
http::Response KuboRpc::ErrorFor(const Error& error) {
  http::Response r = http::ErrorResponse(error);
  json::object body;
  try {
    body = json::parse(r.body).as_object();
  } catch (const std::exception&) {
    // ErrorResponse always writes an object; keep its status even if that ever changes.
  }
  // The same text as the details (already stripped of server paths for 5xx).
  std::string message = error.message();
  if (auto* e = body.if_contains("error"); e && e->is_object()) {
    if (auto* d = e->as_object().if_contains("details"); d && d->is_string()) {
      message = std::string(d->as_string());
    }
  }
  body["Message"] = message;
  body["Code"] = 0;
  body["Type"] = "error";
  r.body = json::serialize(body) + "\n";
  r.SetHeader("Content-Type", "application/json");
  return r;
}

namespace {

// Kubo's argument convention: ?arg=value.
Result<std::string> Arg(const http::Request& req) {
  auto a = req.Query("arg");
  if (!a || a->empty())
    return Err(ErrorCode::kInvalidArgument, "rpc: argument \"arg\" is required");
  return std::string(*a);
}

// A non-negative decimal count (cat's offset and length); nullopt when absent.
Result<std::optional<uint64_t>> CountArg(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<uint64_t>();
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
    return Err(ErrorCode::kInvalidArgument, "rpc: " + std::string(name) +
                                                " must be a non-negative integer, not '" +
                                                std::string(*v) + "'");
  }
  return std::optional<uint64_t>(n);
}
// Drains and discards the body, then answers with `error` (used when the request is refused
// before its body was read: auth, bad arguments).
class RefusingConsumer final : public http::BodyConsumer {
 public:
  explicit RefusingConsumer(Error e, int64_t retry_after_s = 0)
      : error_(std::move(e)), retry_after_s_(retry_after_s) {}
  Result<void> OnData(ByteSpan) override { return Ok(); }
  http::Response Finish() override {
    http::Response r = KuboRpc::ErrorFor(error_);
    if (retry_after_s_ > 0) r.SetHeader("Retry-After", std::to_string(retry_after_s_));
    return r;
  }

 private:
  Error error_;
  int64_t retry_after_s_;
};

}  // namespace

KuboRpc::KuboRpc(KuboRpcContext context)
    : ctx_(std::move(context)), completions_(ctx_.completion_threads) {
  // Spool files belong to uploads in progress; any found now were left by a process that was
  // killed mid-upload (their uploads were never acknowledged).
  if (auto cleaned = RemoveStaleSpools(*ctx_.env, ctx_.spool_dir); !cleaned) {
    log::Warn("rpc.spool_clean_failed", {{"error", cleaned.error().message()}});
  } else if (cleaned->files > 0) {
    log::Info("rpc.spool_cleaned", {{"files", cleaned->files}, {"bytes", cleaned->bytes}});
  }
}

KuboRpc::~KuboRpc() { StopCompletions(); }

void KuboRpc::StopCompletions() { completions_.Stop(); }

std::unique_ptr<http::BodyConsumer> KuboRpc::StreamUpload(const http::Request& req) {
  if (req.method != "POST") return nullptr;
  bool add = req.path == "/api/v0/add";
  bool import = req.path == "/api/v0/dag/import";
  if (!add && !import) return nullptr;
  auto who = Authorize(ctx_.accounts, ctx_.clock, req, metadata::Scope::kUpload);
  if (!who) return std::make_unique<RefusingConsumer>(who.error());
  // An upload that will create pins needs a token from the account's pin-write bucket.
  auto admit = [&](bool creates_pins) -> std::unique_ptr<http::BodyConsumer> {
    if (!creates_pins || !ctx_.pin_rate) return nullptr;
    int64_t wait = ctx_.pin_rate->Acquire(PinWriteBucket(who->account.id));
    if (wait == 0) return nullptr;
    return std::make_unique<RefusingConsumer>(
        Error(ErrorCode::kResourceExhausted,
              "rpc: pin rate limit exceeded; retry in " + std::to_string(wait) + " s"),
        wait);
  };
  if (import) {
    auto pin = BoolArg(req, "pin-roots");
    if (!pin) return std::make_unique<RefusingConsumer>(pin.error());
    if (auto refused = admit(pin->value_or(true))) return refused;
    // kubo-rpc-client sends multipart/form-data; anything else is taken as one bare CAR.
    std::string_view type = req.Header("Content-Type").value_or("");
    std::optional<std::string> boundary;
    if (type.size() >= 10 && strncasecmp(type.data(), "multipart/", 10) == 0) {
      auto b = BoundaryFromContentType(type);
      if (!b) return std::make_unique<RefusingConsumer>(b.error());
      boundary = std::move(*b);
    }
    return kubo_detail::NewDagImportConsumer(ctx_, completions_, who->account.id,
                                             pin->value_or(true), std::move(boundary));
  }
  auto args = kubo_detail::ParseAddArgs(req);
  if (!args) return std::make_unique<RefusingConsumer>(args.error());
  if (auto refused = admit(args->pin && !args->only_hash)) return refused;
  auto boundary = BoundaryFromContentType(req.Header("Content-Type").value_or(""));
  if (!boundary) return std::make_unique<RefusingConsumer>(boundary.error());
  return kubo_detail::NewAddConsumer(ctx_, completions_, std::move(*args), who->account.id,
                                     std::move(*boundary));
}

namespace {

http::Response Version() {
  json::object o;
  o["Version"] = "0.1.0";
  o["Commit"] = "";
  o["Repo"] = "cairn";
  o["System"] = "amd64/linux";
  o["Golang"] = "";
  return JsonOk(json::serialize(o) + "\n");
}

http::Response Id(const KuboRpcContext& ctx) {
  json::object o;
  o["ID"] = ctx.identity.peer_id().ToString();
  std::string b64 = mf::EncodeBase(mf::Multibase::kBase64, ctx.identity.PublicKeyProto());
  while (b64.size() % 4 != 0) b64.push_back('=');  // Kubo prints padded standard base64
  o["PublicKey"] = b64;
  json::array addrs;
  for (const auto& d : ctx.addresses) addrs.emplace_back(d);
  o["Addresses"] = std::move(addrs);
  o["AgentVersion"] = "cairn/0.1.0";
  o["Protocols"] = json::array();
  return JsonOk(json::serialize(o) + "\n");
}

// `arg`: a CID, or (as `ipfs block get` takes) a path such as /ipfs/CID/a/b to a UnixFS entry.
Result<http::Response> BlockGet(KuboRpcContext& ctx, const std::string& arg) {
  unixfs::BlockGetterFor<blockstore::Blockstore> getter(ctx.blocks);
  unixfs::Exporter exporter(getter);
  mf::Cid cid = arg.find('/') == std::string::npos ? CAIRN_TRY(mf::Cid::Parse(arg))
                                                   : CAIRN_TRY(exporter.Resolve(arg)).cid;
  Bytes data = CAIRN_TRY(ctx.blocks.Get(cid));
  http::Response r;
  r.SetHeader("Content-Type", "application/octet-stream");
  r.body.assign(data.begin(), data.end());
  return r;
}

// The file at `arg` (CID[/path]), from ?offset for ?length bytes, streamed from the store.
Result<http::Response> Cat(KuboRpcContext& ctx, const http::Request& req, const std::string& arg) {
  unixfs::BlockGetterFor<blockstore::Blockstore> getter(ctx.blocks);
  unixfs::Exporter exporter(getter);
  auto resolved = CAIRN_TRY(exporter.Resolve(arg));
  if (resolved.stat.type != unixfs::NodeType::kFile) {
    return Err(ErrorCode::kInvalidArgument, "rpc: " + arg + " is not a file");
  }
  uint64_t offset = CAIRN_TRY(CountArg(req, "offset")).value_or(0);
  std::optional<uint64_t> length = CAIRN_TRY(CountArg(req, "length"));
  uint64_t size = resolved.stat.size;
  if (offset > size) offset = size;
  uint64_t n = std::min(length.value_or(size - offset), size - offset);
  http::Response r;
  r.SetHeader("Content-Type", "text/plain");
  r.SetHeader("X-Stream-Output", "1");
  r.content_length = n;
  auto& blocks = ctx.blocks;
  mf::Cid cid = resolved.cid;
  r.stream =
      http::MakePushedStream([&blocks, cid, offset, n](const http::PushSink& sink) -> Result<void> {
        if (n == 0) return Ok();
        unixfs::BlockGetterFor<blockstore::Blockstore> g(blocks);
        unixfs::Exporter e(g);
        return e.ReadRangeShared(cid, offset, n, [&sink](ByteSpan data, const auto& owner) {
          return sink.Share(data, owner);
        });
      });
  return r;
}

}  // namespace

http::Response KuboRpc::Handle(const http::Request& req) {
  if (req.method != "POST")
    return http::MethodNotAllowed("rpc", req.method, "POST", &KuboRpc::ErrorFor);
  if (req.path == "/api/v0/version") return Version();
  if (req.path == "/api/v0/id") return Id(ctx_);
  if (req.path == "/api/v0/cat" || req.path == "/api/v0/block/get") {
    auto who = Authorize(ctx_.accounts, ctx_.clock, req, metadata::Scope::kPinsRead);
    if (!who) return KuboRpc::ErrorFor(who.error());
    auto arg = Arg(req);
    if (!arg) return KuboRpc::ErrorFor(arg.error());
    auto r = req.path == "/api/v0/cat" ? Cat(ctx_, req, *arg) : BlockGet(ctx_, *arg);
    return r ? std::move(*r) : KuboRpc::ErrorFor(r.error());
  }
  if (req.path == "/api/v0/add" || req.path == "/api/v0/dag/import") {
    // Reached only when the server did not stream the body (it always does for these).
    return KuboRpc::ErrorFor(Error(ErrorCode::kInternal, "rpc: upload was not streamed"));
  }
  return KuboRpc::ErrorFor(Error(ErrorCode::kNotFound, "rpc: no command " + req.path));
}

}  // namespace cairn::api
