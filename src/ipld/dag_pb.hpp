// DAG-PB codec (../shared/specs/ipld/dag-pb.md): the protobuf PBNode/PBLink format UnixFS uses.
//
// Decoding is strict, as the spec's "Strictness" section requires: fields in canonical order
// (Links before Data; inside a link Hash, Name, Tsize), no unknown fields, no duplicate Data,
// wire types as specified, Hash required in every link and a valid CID, varints minimal and in
// range, no trailing bytes. Encoding is canonical: the same node always gives the same bytes,
// links in the order given (callers sort directory entries themselves, as UnixFS requires).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "multiformats/cid.hpp"

namespace cairn::ipld {

struct PbLink {
  multiformats::Cid hash;
  std::optional<std::string> name;  // absent vs. empty are different encodings
  std::optional<uint64_t> tsize;

  friend bool operator==(const PbLink&, const PbLink&) = default;
};

struct PbNode {
  std::vector<PbLink> links;
  std::optional<Bytes> data;  // absent vs. empty are different encodings

  friend bool operator==(const PbNode&, const PbNode&) = default;
};

// Strict decode of one dag-pb block. Errors are InvalidArgument with the offset and reason.
// With `data_view`, the Data field is not copied: it is set there instead (a view into `bytes`,
// nullopt when absent) and the node's `data` stays empty — for readers that keep `bytes` alive
// and would otherwise copy every file leaf's content.
Result<PbNode> DecodeDagPb(ByteSpan bytes, std::optional<ByteSpan>* data_view = nullptr);

// Canonical encoding of `node`.
Bytes EncodeDagPb(const PbNode& node);
// Exact size EncodeDagPb(node) would produce (for building parents without re-encoding).
size_t EncodedDagPbSize(const PbNode& node);

}  // namespace cairn::ipld
