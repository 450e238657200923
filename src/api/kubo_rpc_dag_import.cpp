// /api/v0/dag/import: CARs verified whole before anything is stored (see kubo_rpc_internal.hpp).
#include <boost/json.hpp>
#include <unordered_set>

#include "api/kubo_rpc_internal.hpp"
#include "api/multipart.hpp"
#include "api/spool.hpp"
#include "car/car_reader.hpp"

namespace cairn::api::kubo_detail {

namespace json = boost::json;
namespace mf = multiformats;

namespace {

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
          MultipartParser::Callbacks{
              .on_part_begin = [this](const MultipartPart&) { return NewSpool(); },
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
    if (e.code() == ErrorCode::kCorruption)
      return Error(ErrorCode::kInvalidArgument, named.message());
    return named;
  }

  Result<http::Response> Complete() {
    if (parser_) CAIRN_TRY(parser_->Finish());
    if (spools_.empty())
      return Err(ErrorCode::kInvalidArgument, "rpc: dag/import needs a CAR file");
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
    return JsonOk(std::move(out));
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

std::unique_ptr<http::BodyConsumer> NewDagImportConsumer(KuboRpcContext& ctx, WorkerPool& pool,
                                                         int64_t account, bool pin,
                                                         std::optional<std::string> boundary) {
  return std::make_unique<DagImportConsumer>(ctx, pool, account, pin, std::move(boundary));
}

}  // namespace cairn::api::kubo_detail
