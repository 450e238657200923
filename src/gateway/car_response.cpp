#include "gateway/car_response.hpp"

#include <unordered_set>

#include "car/car_format.hpp"
#include "common/io.hpp"
#include "ipld/blocks.hpp"
#include "ipld/links.hpp"
#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"
#include "unixfs/exporter.hpp"

namespace cairn::gateway {
namespace {

namespace mf = multiformats;
using unixfs::NodeType;
using Getter = ipld::BlockGetterFor<blockstore::Blockstore>;

// Writes sections, skipping identity CIDs and (with dups=n) repeats.
class CarEmitter {
 public:
  CarEmitter(const http::PushSink& sink, bool dups) : sink_(sink), dups_(dups) {}

  Result<void> Header(const mf::Cid& root) {
    Bytes header = car::EncodeCarV1Header({root});
    Bytes out;
    mf::AppendVarint(out, header.size());
    out.insert(out.end(), header.begin(), header.end());
    return sink_(out);
  }

  Result<void> Block(const mf::Cid& cid, ByteSpan data) {
    if (cid.hash().code() == mf::codec::kIdentity) return Ok();
    if (!dups_ && !sent_.insert(cid).second) return Ok();
    section_.clear();
    car::AppendSection(section_, cid, data);
    return sink_(section_);
  }

  bool Sent(const mf::Cid& cid) const { return sent_.count(cid) > 0; }

 private:
  const http::PushSink& sink_;
  bool dups_;
  std::unordered_set<mf::Cid> sent_;
  Bytes section_;
};

Result<void> DiscardBytes(ByteSpan) { return Ok(); }

// Depth-first pre-order over every link below `start`.
Result<void> WalkAll(blockstore::Blockstore& blocks, const mf::Cid& start, bool start_sent,
                     CarEmitter& emit, bool dups) {
  std::vector<mf::Cid> stack = {start};
  std::unordered_set<mf::Cid> expanded;  // with dups=n, a block's children are walked once
  bool first = true;
  while (!stack.empty()) {
    mf::Cid cid = std::move(stack.back());
    stack.pop_back();
    if (!dups && !expanded.insert(cid).second) continue;
    auto data = blocks.Get(cid);
    if (!data) return Err(data.error().WithContext("car: "));
    if (!(first && start_sent)) CAIRN_TRY(emit.Block(cid, *data));
    first = false;
    auto links = ipld::Links(cid, *data);
    if (!links) return Err(links.error().WithContext("car: " + cid.ToString() + ": "));
    for (auto it = links->rbegin(); it != links->rend(); ++it) stack.push_back(std::move(*it));
  }
  return Ok();
}

}  // namespace

Result<void> PrecheckCar(blockstore::Blockstore& blocks, const GatewayRequest& g) {
  Getter getter(blocks);
  unixfs::Exporter exporter(getter);
  mf::Cid target = g.root;
  if (!g.segments.empty()) {
    auto resolved = exporter.Resolve(unixfs::ContentPath{g.root, g.segments});
    if (!resolved) {
      if (resolved.error().code() == ErrorCode::kInvalidArgument) {
        return Err(ErrorCode::kNotFound, resolved.error().message());
      }
      return Err(resolved.error());
    }
    target = resolved->cid;
  }
  if (g.car.entity_bytes) {
    auto stat = exporter.Stat(target);
    if (stat && stat->type == NodeType::kFile) {
      auto r = ResolveEntityBytes(*g.car.entity_bytes, stat->size);
      // Entirely outside (and decidable up front): 400, as the spec recommends.
      if (r.length == 0 && stat->size > 0 && g.car.entity_bytes->from >= 0 &&
          static_cast<uint64_t>(g.car.entity_bytes->from) >= stat->size) {
        return Err(ErrorCode::kInvalidArgument, "gateway: entity-bytes starts past the end of a " +
                                                    std::to_string(stat->size) + "-byte file");
      }
    }
  }
  return Ok();
}

Result<void> WriteCar(blockstore::Blockstore& blocks, const GatewayRequest& g,
                      const http::PushSink& sink) {
  CarEmitter emit(sink, g.car.dups);
  CAIRN_TRY(emit.Header(g.root));
  Getter getter(blocks);
  unixfs::Exporter exporter(getter);
  exporter.SetBlockObserver(
      [&emit](const mf::Cid& cid, ByteSpan data) { return emit.Block(cid, data); });

  // 1. The path, ending with the terminus' own block.
  mf::Cid target = g.root;
  if (!g.segments.empty()) {
    auto resolved = exporter.Resolve(unixfs::ContentPath{g.root, g.segments});
    if (!resolved) return Err(resolved.error());
    target = resolved->cid;
  } else {
    auto data = blocks.Get(target);
    if (!data) return Err(data.error().WithContext("car: "));
    CAIRN_TRY(emit.Block(target, *data));
  }

  // 2. The scope below the terminus.
  switch (g.car.scope) {
    case DagScope::kBlock:
      return Ok();
    case DagScope::kAll: {
      exporter.SetBlockObserver(nullptr);
      return WalkAll(blocks, target, /*start_sent=*/true, emit, g.car.dups);
    }
    case DagScope::kEntity:
      break;
  }
  // Entity: the observer records exactly what the exporter reads. The terminus' block was just
  // sent; with dups=y the exporter's re-read of it would repeat it, which the walk does not do.
  bool target_sent = true;
  exporter.SetBlockObserver(
      [&emit, &target, &target_sent](const mf::Cid& cid, ByteSpan data) -> Result<void> {
        if (target_sent && cid == target) {
          target_sent = false;  // skip the one re-read of the terminus
          return Ok();
        }
        return emit.Block(cid, data);
      });
  auto stat = exporter.Stat(target);
  if (!stat) {
    // Not UnixFS (dag-cbor, ...): entity is the block alone.
    if (stat.error().code() == ErrorCode::kNotSupported) return Ok();
    return Err(stat.error());
  }
  target_sent = true;
  switch (stat->type) {
    case NodeType::kFile: {
      FunctionSink discard(DiscardBytes);
      if (g.car.entity_bytes) {
        auto r = ResolveEntityBytes(*g.car.entity_bytes, stat->size);
        if (r.length == 0) return Ok();  // equivalent to dag-scope=block
        return exporter.ReadRange(target, r.offset, r.length, discard);
      }
      return exporter.ReadFile(target, discard);
    }
    case NodeType::kDirectory:
    case NodeType::kHamtDirectory:
      return exporter.ListDirectory(target,
                                    [](const unixfs::DirEntry&) -> Result<bool> { return true; });
    case NodeType::kSymlink:
      return Ok();
  }
  return Ok();
}

}  // namespace cairn::gateway
