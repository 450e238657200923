#include "ipld/links.hpp"

#include <cstdio>
#include <string>

#include "ipld/dag_cbor.hpp"
#include "ipld/dag_pb.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::ipld {

namespace codec = multiformats::codec;
using multiformats::Cid;

namespace {
std::string CodeHex(uint64_t code) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(code));
  return buf;
}
}  // namespace

Result<std::vector<Cid>> Links(const Cid& cid, ByteSpan block) {
  std::vector<Cid> out;
  switch (cid.codec()) {
    case codec::kRaw:
      return out;
    case codec::kDagPb: {
      auto node = DecodeDagPb(block);
      if (!node) return Err(node.error().WithContext("links: " + cid.ToString() + ": "));
      out.reserve(node->links.size());
      for (auto& link : node->links) out.push_back(std::move(link.hash));
      return out;
    }
    case codec::kDagCbor: {
      auto value = DecodeDagCbor(block);
      if (!value) return Err(value.error().WithContext("links: " + cid.ToString() + ": "));
      ForEachLink(*value, [&](const Cid& link) { out.push_back(link); });
      return out;
    }
    default:
      break;
  }
  auto name = multiformats::CodecName(cid.codec());
  return Err(ErrorCode::kNotSupported, "links: cannot decode codec " +
                                           (name ? std::string(*name) : CodeHex(cid.codec())) +
                                           " of " + cid.ToString());
}

}  // namespace cairn::ipld
