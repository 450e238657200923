// Helpers shared by the CAR unit tests: small DAGs of raw, dag-pb and dag-cbor blocks.
#pragma once

#include <map>
#include <random>
#include <vector>

#include "car/car_writer.hpp"
#include "ipld/dag_cbor.hpp"
#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::car::testing {

namespace codec = multiformats::codec;

struct Block {
  Cid cid;
  Bytes data;
};

inline Block MakeBlock(uint64_t block_codec, Bytes data, uint64_t hash = codec::kSha2_256) {
  Cid cid = *Cid::Compute(1, block_codec, hash, data);
  return {cid, std::move(data)};
}

inline Block Raw(std::string_view s) { return MakeBlock(codec::kRaw, ToBytes(s)); }

inline Block Pb(const std::vector<Cid>& links, std::string_view data) {
  ipld::PbNode node;
  for (const auto& l : links) node.links.push_back({l, std::string(""), 1});
  node.data = ToBytes(data);
  Bytes bytes = ipld::EncodeDagPb(node);
  Cid cid = *Cid::Compute(0, codec::kDagPb, codec::kSha2_256, bytes);
  return {cid, std::move(bytes)};
}

inline Block Cbor(const std::vector<Cid>& links, int64_t tag) {
  ipld::CborValue::List items;
  for (const auto& l : links) items.push_back(ipld::CborValue::Link(l));
  auto v = ipld::CborValue::MakeMap(
      {{"links", ipld::CborValue::MakeList(std::move(items))}, {"n", ipld::CborValue::Int(tag)}});
  return MakeBlock(codec::kDagCbor, *ipld::EncodeDagCbor(v));
}

// An in-memory getter that counts requests.
class MapGetter final : public ipld::BlockGetter {
 public:
  void Add(const Block& b) { blocks_[b.cid] = b.data; }
  Result<Bytes> Get(const Cid& cid) override {
    ++gets;
    auto it = blocks_.find(cid);
    if (it == blocks_.end()) return Err(ErrorCode::kNotFound, "no block " + cid.ToString());
    return it->second;
  }
  std::map<Cid, Bytes> blocks_;
  int gets = 0;
};

}  // namespace cairn::car::testing
