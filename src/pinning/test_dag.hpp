// Test helper: builds DAGs of dag-cbor nodes over raw leaves and serves them from a fake gateway.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fetch/fake_http_getter.hpp"
#include "ipld/dag_cbor.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::pinning::testing {

namespace mf = multiformats;

struct TestDag {
  mf::Cid root;
  std::map<mf::Cid, Bytes> blocks;
  uint64_t bytes = 0;
};

// A root dag-cbor node linking to `fanout` dag-cbor nodes, each linking to `leaves` raw leaves.
// `seed` makes the content (and so the CIDs) distinct per DAG; `shared` leaves are the same in
// every DAG (content shared between pins).
inline TestDag MakeDag(const std::string& seed, int fanout, int leaves, int shared = 0) {
  TestDag dag;
  auto add = [&](uint64_t codec, Bytes data) {
    auto cid = *mf::Cid::Compute(1, codec, mf::codec::kSha2_256, data);
    dag.bytes += dag.blocks.count(cid) ? 0 : data.size();
    dag.blocks[cid] = std::move(data);
    return cid;
  };
  ipld::CborValue::List mids;
  for (int i = 0; i < fanout; ++i) {
    ipld::CborValue::List links;
    for (int j = 0; j < leaves; ++j) {
      std::string text = (j < shared ? std::string("shared") : seed) + "/" + std::to_string(i) +
                         "/" + std::to_string(j) + std::string(100, 'x');
      links.push_back(ipld::CborValue::Link(add(mf::codec::kRaw, ToBytes(text))));
    }
    auto node = *ipld::EncodeDagCbor(ipld::CborValue::MakeList(std::move(links)));
    mids.push_back(ipld::CborValue::Link(add(mf::codec::kDagCbor, std::move(node))));
  }
  ipld::CborValue::Map root;
  root.emplace_back("children", ipld::CborValue::MakeList(std::move(mids)));
  root.emplace_back("name", ipld::CborValue::String(seed));
  dag.root =
      add(mf::codec::kDagCbor, *ipld::EncodeDagCbor(ipld::CborValue::MakeMap(std::move(root))));
  return dag;
}

// Serves every block of `dag` at `base` + /ipfs/<cid>?format=raw.
inline void Serve(fetch::FakeHttpGetter& http, const std::string& base, const TestDag& dag) {
  for (const auto& [cid, data] : dag.blocks) {
    http.Set(base + "/ipfs/" + cid.ToString() + "?format=raw", 200,
             std::string(data.begin(), data.end()));
  }
}

}  // namespace cairn::pinning::testing
