// /api/v0/add: multipart uploads imported like `ipfs add` (see kubo_rpc_internal.hpp).
#include <boost/json.hpp>
#include <map>
#include <set>

#include "api/kubo_rpc_internal.hpp"
#include "api/multipart.hpp"
#include "api/spool.hpp"
#include "common/log.hpp"

namespace cairn::api::kubo_detail {

namespace json = boost::json;
namespace mf = multiformats;

namespace {

// Splits "a/b/c" into segments; rejects absolute paths, "." and "..".
Result<std::vector<std::string>> SplitUploadPath(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path[0] == '/') {
    return Err(ErrorCode::kInvalidArgument,
               "rpc: upload path '" + std::string(path) + "' must be relative");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "." || seg == "..") {
      return Err(ErrorCode::kInvalidArgument,
                 "rpc: upload path '" + std::string(path) + "' contains " + std::string(seg));
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
      if (current_path_.empty())
        return Err(ErrorCode::kInvalidArgument, "rpc: a directory part needs a name");
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
      if (!data.empty())
        return Err(ErrorCode::kInvalidArgument, "rpc: a directory part has a body");
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
    if (nodes_.count(path))
      return Err(ErrorCode::kInvalidArgument, "rpc: '" + path + "' uploaded twice");
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
    if (order_.empty() && dirs_.empty())
      return Err(ErrorCode::kInvalidArgument, "rpc: no files in the upload");
    // Every file line, in upload order.
    for (const auto& path : order_)
      Line(path.empty() ? CidText(nodes_[path].cid) : path, nodes_[path]);
    // Directories: explicit ones and the parents of every entry, deepest first.
    std::set<std::string> all_dirs = dirs_;
    for (const auto& [path, node] : nodes_) {
      auto segs = CAIRN_TRY(SplitUploadPath(path));
      for (size_t i = 1; i < segs.size(); ++i) all_dirs.insert(Join(segs, i));
    }
    for (const auto& d : all_dirs) {
      if (nodes_.count(d))
        return Err(ErrorCode::kInvalidArgument, "rpc: '" + d + "' is both a file and a directory");
    }
    std::vector<std::string> by_depth(all_dirs.begin(), all_dirs.end());
    auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::stable_sort(
        by_depth.begin(), by_depth.end(),
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
      if (unnamed != nodes_.end())
        CAIRN_TRY(builder.Add(unnamed->second.cid.ToString(), unnamed->second));
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
    http::Response r = JsonOk(std::move(out_));
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

}  // namespace

Result<AddArgs> ParseAddArgs(const http::Request& req) {
  AddArgs a;
  unixfs::AddFlags flags;
  if (auto v = req.Query("cid-version")) {
    if (*v != "0" && *v != "1")
      return Err(ErrorCode::kInvalidArgument, "rpc: cid-version must be 0 or 1");
    flags.cid_version = *v == "1" ? 1 : 0;
  }
  flags.raw_leaves = CAIRN_TRY(BoolArg(req, "raw-leaves"));
  if (auto v = req.Query("chunker")) {
    if (auto size = unixfs::ParseChunker(*v); !size)
      return Err(size.error().WithContext("rpc: chunker: "));
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

std::unique_ptr<http::BodyConsumer> NewAddConsumer(KuboRpcContext& ctx, WorkerPool& pool,
                                                   AddArgs args, int64_t account,
                                                   std::string boundary) {
  return std::make_unique<AddConsumer>(ctx, pool, std::move(args), account, std::move(boundary));
}

}  // namespace cairn::api::kubo_detail
