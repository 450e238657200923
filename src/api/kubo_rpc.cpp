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

#include "api/multipart.hpp"
#include "api/spool.hpp"
#include "car/car_reader.hpp"
#include "common/log.hpp"
#include "http/pushed_stream.hpp"
#include "multiformats/multibase.hpp"
#include "unixfs/exporter.hpp"
#include "unixfs/importer.hpp"

namespace cairn::api {

namespace json = boost::json;
namespace mf = multiformats;

namespace {

http::Response JsonResponse(std::string body) { return http::JsonResponse(200, std::move(body)); }

}  // namespace

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
  if (!a || a->empty()) return Err(ErrorCode::kInvalidArgument, "rpc: argument \"arg\" is required");
  return std::string(*a);
}

// "true"/"false"/"1"/"0"/"" (flag present) → bool.
Result<std::optional<bool>> BoolArg(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<bool>();
  if (*v == "" || *v == "true" || *v == "1") return std::optional<bool>(true);
  if (*v == "false" || *v == "0") return std::optional<bool>(false);
  return Err(ErrorCode::kInvalidArgument, "rpc: " + std::string(name) + " must be true or false");
}

// A non-negative decimal count (cat's offset and length); nullopt when absent.
Result<std::optional<uint64_t>> CountArg(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<uint64_t>();
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size()) {
    return Err(ErrorCode::kInvalidArgument,
               "rpc: " + std::string(name) + " must be a non-negative integer, not '" + std::string(*v) + "'");
  }
  return std::optional<uint64_t>(n);
}

// Splits "a/b/c" into segments; rejects absolute paths, "." and "..".
Result<std::vector<std::string>> SplitUploadPath(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path[0] == '/') {
    return Err(ErrorCode::kInvalidArgument, "rpc: upload path '" + std::string(path) + "' must be relative");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "." || seg == "..") {
      return Err(ErrorCode::kInvalidArgument, "rpc: upload path '" + std::string(path) + "' contains " + std::string(seg));
    }
    if (!seg.empty()) out.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& segs, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i ? "/" : "") + segs[i];
  return out;
}

// Pins an upload's roots for the account, as `ipfs add` pins: idempotently (a root the account
// already has a live pin of — queued, pinning or pinned — gets no second one, nor does a root
// listed twice). The creates share the pin store's group commits; returns once all are durable,
// with how many were created. Linear in the number of roots.
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

// Holds every block put through it in `lease` (before the put, as BlockLeases requires).
class LeasedSink final : public ipld::BlockSink {
 public:
  LeasedSink(ipld::BlockSink& inner, blockstore::BlockLeases::Lease& lease)
      : inner_(inner), lease_(lease) {}
  Result<void> Put(const mf::Cid& cid, ByteSpan bytes) override {
    lease_.Hold(cid);
    return inner_.Put(cid, bytes);
  }
  bool WantsBytes() const override { return inner_.WantsBytes(); }

 private:
  ipld::BlockSink& inner_;
  blockstore::BlockLeases::Lease& lease_;
};

struct AddArgs {
  unixfs::ImportOptions import;
  bool wrap = false;
  bool only_hash = false;
  bool pin = true;
  std::optional<mf::Multibase> base;
};

Result<AddArgs> ParseAddArgs(const http::Request& req) {
  AddArgs a;
  unixfs::AddFlags flags;
  if (auto v = req.Query("cid-version")) {
    if (*v != "0" && *v != "1") return Err(ErrorCode::kInvalidArgument, "rpc: cid-version must be 0 or 1");
    flags.cid_version = *v == "1" ? 1 : 0;
  }
  flags.raw_leaves = CAIRN_TRY(BoolArg(req, "raw-leaves"));
  if (auto v = req.Query("chunker")) {
    if (auto size = unixfs::ParseChunker(*v); !size) return Err(size.error().WithContext("rpc: chunker: "));
    flags.chunker = std::string(*v);
  }
  flags.trickle = CAIRN_TRY(BoolArg(req, "trickle")).value_or(false);
  if (auto v = req.Query("hash")) flags.hash = std::string(*v);
  a.import = CAIRN_TRY(unixfs::ResolveAddFlags(flags));
  a.wrap = CAIRN_TRY(BoolArg(req, "wrap-with-directory")).value_or(false);
  a.only_hash = CAIRN_TRY(BoolArg(req, "only-hash")).value_or(false);
  a.pin = CAIRN_TRY(BoolArg(req, "pin")).value_or(true);
  if (auto v = req.Query("cid-base")) a.base = CAIRN_TRY(mf::MultibaseFromName(*v));
  return a;
}

// Answers with what `work` returns, computed on `pool` rather than on the I/O thread (an upload's
// completion builds directories, verifies and stores whole CARs, syncs and pins), in the
// account's turn (the pool is fair across accounts).
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

class AddConsumer final : public http::BodyConsumer {
 public:
  AddConsumer(KuboRpcContext& ctx, WorkerPool& pool, AddArgs args, int64_t account,
              std::string boundary)
      : ctx_(ctx),
        pool_(pool),
        args_(std::move(args)),
        account_(account),
        lease_(ctx.leases.Open()),
        store_sink_(ctx.blocks),
        leased_sink_(store_sink_, lease_),
        parser_(std::move(boundary),
                {.on_part_begin = [this](const MultipartPart& p) { return Begin(p); },
                 .on_part_data = [this](ByteSpan b) { return Data(b); },
                 .on_part_end = [this]() { return End(); }}) {}

  // After the first error the rest of the body is read and dropped; Finish reports the error.
  Result<void> OnData(ByteSpan chunk) override {
    if (failed_) return Ok();
    if (auto fed = parser_.Feed(chunk); !fed) failed_ = fed.error();
    return Ok();
  }

  http::Response Finish() override {
    spool_.reset();
    if (failed_) return KuboRpc::ErrorFor(*failed_);
    return OnPool(pool_, account_, [this] {
      auto r = Complete();
      return r ? std::move(*r) : KuboRpc::ErrorFor(r.error());
    });
  }

 private:
  ipld::BlockSink& sink() {
    if (args_.only_hash) return discard_;
    return leased_sink_;
  }

  std::string CidText(const mf::Cid& cid) const {
    return args_.base ? cid.ToString(*args_.base) : cid.ToString();
  }

  Result<void> Begin(const MultipartPart& part) {
    current_path_ = CAIRN_TRY(SplitUploadPath(part.filename));
    current_kind_ = part.content_type;
    if (current_kind_ == "application/x-directory") {
      if (current_path_.empty()) return Err(ErrorCode::kInvalidArgument, "rpc: a directory part needs a name");
      dirs_.insert(Join(current_path_, current_path_.size()));
      return Ok();
    }
    symlink_target_.clear();
    if (current_kind_ != "application/symlink")
      spool_ = CAIRN_TRY(SpoolFile::Create(*ctx_.env, ctx_.spool_dir));
    return Ok();
  }

  Result<void> Data(ByteSpan data) {
    if (current_kind_ == "application/x-directory") {
      if (!data.empty()) return Err(ErrorCode::kInvalidArgument, "rpc: a directory part has a body");
      return Ok();
    }
    if (current_kind_ == "application/symlink") {
      if (symlink_target_.size() + data.size() > 4096) {
        return Err(ErrorCode::kInvalidArgument, "rpc: symlink target longer than 4096 bytes");
      }
      symlink_target_.append(AsString(data));
      return Ok();
    }
    return spool_->Write(data);
  }

  Result<void> End() {
    if (current_kind_ == "application/x-directory") return Ok();
    unixfs::ImportedNode node;
    if (current_kind_ == "application/symlink") {
      node = CAIRN_TRY(unixfs::ImportSymlink(symlink_target_, args_.import, sink()));
    } else {
      CAIRN_TRY(spool_->Rewind());
      node = CAIRN_TRY(unixfs::ImportFile(*spool_, args_.import, sink()));
      spool_.reset();
    }
    std::string path = Join(current_path_, current_path_.size());
    if (nodes_.count(path)) return Err(ErrorCode::kInvalidArgument, "rpc: '" + path + "' uploaded twice");
    nodes_[path] = node;
    order_.push_back(path);
    return Ok();
  }

  void Line(const std::string& name, const unixfs::ImportedNode& node) {
    json::object o;
    o["Name"] = name;
    o["Hash"] = CidText(node.cid);
    o["Size"] = std::to_string(node.tsize);
    out_ += json::serialize(o) + "\n";
  }

  Result<http::Response> Complete() {
    CAIRN_TRY(parser_.Finish());
    if (order_.empty() && dirs_.empty()) return Err(ErrorCode::kInvalidArgument, "rpc: no files in the upload");
    // Every file line, in upload order.
    for (const auto& path : order_) Line(path.empty() ? CidText(nodes_[path].cid) : path, nodes_[path]);
    // Directories: explicit ones and the parents of every entry, deepest first.
    std::set<std::string> all_dirs = dirs_;
    for (const auto& [path, node] : nodes_) {
      auto segs = CAIRN_TRY(SplitUploadPath(path));
      for (size_t i = 1; i < segs.size(); ++i) all_dirs.insert(Join(segs, i));
    }
    for (const auto& d : all_dirs) {
      if (nodes_.count(d)) return Err(ErrorCode::kInvalidArgument, "rpc: '" + d + "' is both a file and a directory");
    }
    std::vector<std::string> by_depth(all_dirs.begin(), all_dirs.end());
    auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::stable_sort(by_depth.begin(), by_depth.end(),
                     [&](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
    auto children_of = [&](const std::string& dir) {
      std::vector<std::pair<std::string, unixfs::ImportedNode>> kids;
      std::string prefix = dir.empty() ? "" : dir + "/";
      for (const auto& [path, node] : nodes_) {
        if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
            path.find('/', prefix.size()) == std::string::npos) {
          kids.emplace_back(path.substr(prefix.size()), node);
        }
      }
      return kids;
    };
    for (const auto& dir : by_depth) {
      unixfs::DirectoryBuilder builder(args_.import, sink());
      for (auto& [name, node] : children_of(dir)) CAIRN_TRY(builder.Add(name, node));
      nodes_[dir] = CAIRN_TRY(builder.Finish());
      Line(dir, nodes_[dir]);
    }
    std::vector<unixfs::ImportedNode> roots;
    auto unnamed = nodes_.find("");  // a file sent without a name (`ipfs add < file`)
    if (args_.wrap) {
      unixfs::DirectoryBuilder builder(args_.import, sink());
      for (auto& [name, node] : children_of("")) CAIRN_TRY(builder.Add(name, node));
      // Kubo names an unnamed file by its CID inside the wrapping directory.
      if (unnamed != nodes_.end()) CAIRN_TRY(builder.Add(unnamed->second.cid.ToString(), unnamed->second));
      unixfs::ImportedNode wrapper = CAIRN_TRY(builder.Finish());
      Line("", wrapper);
      roots.push_back(wrapper);
    } else {
      for (auto& [name, node] : children_of("")) roots.push_back(node);
      if (unnamed != nodes_.end()) roots.push_back(unnamed->second);
    }
    if (!args_.only_hash) {
      CAIRN_TRY(ctx_.blocks.Sync());
      if (args_.pin) {
        std::vector<std::pair<mf::Cid, std::string>> pins;
        for (const auto& root : roots) pins.emplace_back(root.cid, CidText(root.cid));
        if (CAIRN_TRY(PinUploads(ctx_, account_, pins, "api/v0/add")) > 0) ctx_.events.OnQueued();
      }
    }
    lease_.Release();  // the pins are durable: they keep the blocks from now on
    http::Response r = JsonResponse(std::move(out_));
    r.SetHeader("X-Chunked-Output", "1");
    return r;
  }

  KuboRpcContext& ctx_;
  WorkerPool& pool_;
  AddArgs args_;
  int64_t account_;
  blockstore::BlockLeases::Lease lease_;
  ipld::StoreSink<blockstore::Blockstore> store_sink_;
  LeasedSink leased_sink_;
  ipld::DiscardSink discard_;
  MultipartParser parser_;
  std::vector<std::string> current_path_;
  std::string current_kind_;
  std::string symlink_target_;
  std::unique_ptr<SpoolFile> spool_;
  std::set<std::string> dirs_;
  std::map<std::string, unixfs::ImportedNode> nodes_;
  std::vector<std::string> order_;
  std::string out_;
  std::optional<Error> failed_;
};

// dag/import: each CAR (each multipart part, as kubo-rpc-client and `ipfs dag import` send them,
// or the whole body when it is not multipart) is spooled, then every block of every CAR is
// verified before anything is stored; only when all are valid are the blocks stored and the roots
// pinned.
class DagImportConsumer final : public http::BodyConsumer {
 public:
  // `boundary`: the multipart boundary, or nullopt for a bare CAR body.
  DagImportConsumer(KuboRpcContext& ctx, WorkerPool& pool, int64_t account, bool pin,
                    std::optional<std::string> boundary)
      : ctx_(ctx), pool_(pool), account_(account), pin_(pin), lease_(ctx.leases.Open()) {
    if (boundary) {
      parser_ = std::make_unique<MultipartParser>(
          std::move(*boundary),
          MultipartParser::Callbacks{.on_part_begin = [this](const MultipartPart&) { return NewSpool(); },
                                     .on_part_data = [this](ByteSpan b) { return spools_.back()->Write(b); }});
    }
  }

  // After the first error the rest of the body is read and dropped; Finish reports the error.
  Result<void> OnData(ByteSpan chunk) override {
    if (failed_) return Ok();
    Result<void> r = Ok();
    if (parser_) {
      r = parser_->Feed(chunk);
    } else {
      if (spools_.empty()) r = NewSpool();
      if (r) r = spools_.back()->Write(chunk);
    }
    if (!r) failed_ = r.error();
    return Ok();
  }

  http::Response Finish() override {
    if (failed_) return KuboRpc::ErrorFor(*failed_);
    return OnPool(pool_, account_, [this] {
      auto r = Complete();
      return r ? std::move(*r) : KuboRpc::ErrorFor(r.error());
    });
  }

 private:
  Result<void> NewSpool() {
    spools_.push_back(CAIRN_TRY(SpoolFile::Create(*ctx_.env, ctx_.spool_dir)));
    return Ok();
  }

  // A CAR that does not parse or holds a block that does not match its CID is the client's
  // error (400), not corruption of ours; I/O errors of the spool stay what they are.
  static Error BadCar(const Error& e, size_t index) {
    Error named = e.WithContext("rpc: CAR " + std::to_string(index + 1) + ": ");
    if (e.code() == ErrorCode::kCorruption) return Error(ErrorCode::kInvalidArgument, named.message());
    return named;
  }

  Result<http::Response> Complete() {
    if (parser_) CAIRN_TRY(parser_->Finish());
    if (spools_.empty()) return Err(ErrorCode::kInvalidArgument, "rpc: dag/import needs a CAR file");
    // Pass 1: verify everything and collect the roots. Pass 2: store. A bad CAR stores nothing.
    std::vector<mf::Cid> roots;  // distinct, in order of first appearance
    std::unordered_set<std::string> root_keys;
    uint64_t blocks = 0;
    for (int pass = 0; pass < 2; ++pass) {
      blocks = 0;
      for (size_t i = 0; i < spools_.size(); ++i) {
        CAIRN_TRY(spools_[i]->Rewind());
        auto opened = car::CarReader::Open(*spools_[i]);
        if (!opened) return Err(BadCar(opened.error(), i));
        auto& reader = *opened;
        if (pass == 0) {
          for (const auto& root : reader->roots()) {
            Bytes key = root.ToBytes();
            if (root_keys.insert(std::string(key.begin(), key.end())).second) roots.push_back(root);
          }
          if (roots.size() > ctx_.max_import_roots) {
            return Err(ErrorCode::kInvalidArgument,
                       "rpc: dag/import carries more than " +
                           std::to_string(ctx_.max_import_roots) +
                           " distinct roots (the limit per import, kubo_rpc.max_import_roots); "
                           "split the CARs into several imports");
          }
        }
        for (;;) {
          auto block = reader->Next();
          if (!block) return Err(BadCar(block.error(), i));
          if (!*block) break;
          ++blocks;
          if (pass == 1) {
            lease_.Hold((*block)->cid);
            CAIRN_TRY(ctx_.blocks.Put((*block)->cid, (*block)->data));
          }
        }
      }
    }
    CAIRN_TRY(ctx_.blocks.Sync());
    if (pin_) {
      std::vector<std::pair<mf::Cid, std::string>> pins;
      pins.reserve(roots.size());
      for (const auto& root : roots) pins.emplace_back(root, root.ToString());
      if (CAIRN_TRY(PinUploads(ctx_, account_, pins, "api/v0/dag/import")) > 0) {
        ctx_.events.OnQueued();
      }
    }
    lease_.Release();  // the pins are durable: they keep the blocks from now on
    std::string out;
    for (const auto& root : roots) {
      json::object o, rootobj, cidobj;
      cidobj["/"] = root.ToString();
      rootobj["Cid"] = cidobj;
      rootobj["PinErrorMsg"] = "";
      o["Root"] = rootobj;
      out += json::serialize(o) + "\n";
    }
    json::object stats, st;
    st["BlockCount"] = blocks;
    stats["Stats"] = st;
    out += json::serialize(stats) + "\n";
    return JsonResponse(std::move(out));
  }

  KuboRpcContext& ctx_;
  WorkerPool& pool_;
  int64_t account_;
  bool pin_;
  blockstore::BlockLeases::Lease lease_;
  std::unique_ptr<MultipartParser> parser_;
  std::vector<std::unique_ptr<SpoolFile>> spools_;
  std::optional<Error> failed_;
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
    return std::make_unique<DagImportConsumer>(ctx_, completions_, who->account.id, pin->value_or(true), std::move(boundary));
  }
  auto args = ParseAddArgs(req);
  if (!args) return std::make_unique<RefusingConsumer>(args.error());
  if (auto refused = admit(args->pin && !args->only_hash)) return refused;
  auto boundary = BoundaryFromContentType(req.Header("Content-Type").value_or(""));
  if (!boundary) return std::make_unique<RefusingConsumer>(boundary.error());
  return std::make_unique<AddConsumer>(ctx_, completions_, std::move(*args), who->account.id, std::move(*boundary));
}

http::Response KuboRpc::Handle(const http::Request& req) {
  if (req.method != "POST")
    return http::MethodNotAllowed("rpc", req.method, "POST", &KuboRpc::ErrorFor);
  if (req.path == "/api/v0/version") {
    json::object o;
    o["Version"] = "0.1.0";
    o["Commit"] = "";
    o["Repo"] = "cairn";
    o["System"] = "amd64/linux";
    o["Golang"] = "";
    return JsonResponse(json::serialize(o) + "\n");
  }
  if (req.path == "/api/v0/id") {
    json::object o;
    o["ID"] = ctx_.identity.peer_id().ToString();
    std::string b64 = mf::EncodeBase(mf::Multibase::kBase64, ctx_.identity.PublicKeyProto());
    while (b64.size() % 4 != 0) b64.push_back('=');  // Kubo prints padded standard base64
    o["PublicKey"] = b64;
    json::array addrs;
    for (const auto& d : ctx_.addresses) addrs.emplace_back(d);
    o["Addresses"] = std::move(addrs);
    o["AgentVersion"] = "cairn/0.1.0";
    o["Protocols"] = json::array();
    return JsonResponse(json::serialize(o) + "\n");
  }
  if (req.path == "/api/v0/cat" || req.path == "/api/v0/block/get") {
    auto who = Authorize(ctx_.accounts, ctx_.clock, req, metadata::Scope::kPinsRead);
    if (!who) return KuboRpc::ErrorFor(who.error());
    auto arg = Arg(req);
    if (!arg) return KuboRpc::ErrorFor(arg.error());
    unixfs::BlockGetterFor<blockstore::Blockstore> getter(ctx_.blocks);
    unixfs::Exporter exporter(getter);
    if (req.path == "/api/v0/block/get") {
      // A CID, or (as `ipfs block get` takes) a path such as /ipfs/CID/a/b to a UnixFS entry.
      Result<mf::Cid> cid = arg->find('/') == std::string::npos
                                ? mf::Cid::Parse(*arg)
                                : exporter.Resolve(*arg).map([](const auto& r) { return r.cid; });
      if (!cid) return KuboRpc::ErrorFor(cid.error());
      auto data = ctx_.blocks.Get(*cid);
      if (!data) return KuboRpc::ErrorFor(data.error());
      http::Response r;
      r.SetHeader("Content-Type", "application/octet-stream");
      r.body.assign(data->begin(), data->end());
      return r;
    }
    auto resolved = exporter.Resolve(*arg);
    if (!resolved) return KuboRpc::ErrorFor(resolved.error());
    if (resolved->stat.type != unixfs::NodeType::kFile) {
      return KuboRpc::ErrorFor(Error(ErrorCode::kInvalidArgument, "rpc: " + *arg + " is not a file"));
    }
    uint64_t offset = 0;
    std::optional<uint64_t> length;
    auto offset_arg = CountArg(req, "offset");
    if (!offset_arg) return KuboRpc::ErrorFor(offset_arg.error());
    if (*offset_arg) offset = **offset_arg;
    auto length_arg = CountArg(req, "length");
    if (!length_arg) return KuboRpc::ErrorFor(length_arg.error());
    length = *length_arg;
    uint64_t size = resolved->stat.size;
    if (offset > size) offset = size;
    uint64_t n = std::min(length.value_or(size - offset), size - offset);
    http::Response r;
    r.SetHeader("Content-Type", "text/plain");
    r.SetHeader("X-Stream-Output", "1");
    r.content_length = n;
    auto& blocks = ctx_.blocks;
    mf::Cid cid = resolved->cid;
    r.stream = http::MakePushedStream([&blocks, cid, offset, n](const http::PushSink& sink) -> Result<void> {
      if (n == 0) return Ok();
      unixfs::BlockGetterFor<blockstore::Blockstore> g(blocks);
      unixfs::Exporter e(g);
      return e.ReadRangeShared(cid, offset, n, [&sink](ByteSpan data, const auto& owner) {
        return sink.Share(data, owner);
      });
    });
    return r;
  }
  if (req.path == "/api/v0/add" || req.path == "/api/v0/dag/import") {
    // Reached only when the server did not stream the body (it always does for these).
    return KuboRpc::ErrorFor(Error(ErrorCode::kInternal, "rpc: upload was not streamed"));
  }
  return KuboRpc::ErrorFor(Error(ErrorCode::kNotFound, "rpc: no command " + req.path));
}

}  // namespace cairn::api
