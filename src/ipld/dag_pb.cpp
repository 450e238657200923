// DAG-PB codec: strict decoder and canonical encoder (see dag_pb.hpp for the rules).
#include "ipld/dag_pb.hpp"

#include <string>

#include "common/protobuf.hpp"

namespace cairn::ipld {
namespace {

using multiformats::Cid;

// Protobuf wire types used by dag-pb.
constexpr uint8_t kWireVarint = 0;
constexpr uint8_t kWireBytes = 2;

// A cursor over untrusted bytes; every error names the absolute offset.
class Reader {
 public:
  Reader(ByteSpan bytes, size_t base) : bytes_(bytes), base_(base) {}

  bool done() const { return pos_ == bytes_.size(); }
  size_t offset() const { return base_ + pos_; }

  // A protobuf varint: at most 10 bytes, at most 64 bits, minimal (no trailing zero groups).
  Result<uint64_t> Varint(const char* what) {
    const size_t start = offset();
    uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ == bytes_.size()) {
        return Fail(start, std::string("truncated varint in ") + what);
      }
      const uint8_t b = bytes_[pos_++];
      if (i == 9 && b > 1) {
        return Fail(start, std::string("varint overflows 64 bits in ") + what);
      }
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) {
          return Fail(start, std::string("non-minimal varint in ") + what);
        }
        return value;
      }
    }
    return Fail(start, std::string("varint longer than 10 bytes in ") + what);
  }

  // A length-delimited payload (length varint, then that many bytes).
  Result<ByteSpan> Delimited(const char* what) {
    const size_t start = offset();
    const uint64_t len = CAIRN_TRY(Varint(what));
    if (len > bytes_.size() - pos_) {
      return Fail(start, std::string(what) + " length " + std::to_string(len) +
                             " exceeds the remaining " + std::to_string(bytes_.size() - pos_) +
                             " bytes");
    }
    ByteSpan out = bytes_.subspan(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return out;
  }

  static tl::unexpected<Error> Fail(size_t at, const std::string& why) {
    return Err(ErrorCode::kInvalidArgument, "dag-pb: at offset " + std::to_string(at) + ": " + why);
  }

 private:
  ByteSpan bytes_;
  size_t base_;
  size_t pos_ = 0;
};

struct Key {
  uint64_t field;
  uint8_t wire;
  size_t at;
};

Result<Key> ReadKey(Reader& r, const char* what) {
  const size_t at = r.offset();
  const uint64_t key = CAIRN_TRY(r.Varint(what));
  return Key{key >> 3, static_cast<uint8_t>(key & 7), at};
}

Result<PbLink> DecodeLink(ByteSpan bytes, size_t base) {
  Reader r(bytes, base);
  PbLink link;
  bool have_hash = false;
  uint64_t last_field = 0;
  while (!r.done()) {
    const Key k = CAIRN_TRY(ReadKey(r, "PBLink field key"));
    if (k.field < 1 || k.field > 3) {
      return Reader::Fail(k.at, "unknown PBLink field " + std::to_string(k.field));
    }
    if (k.field == last_field) {
      return Reader::Fail(k.at, "duplicate PBLink field " + std::to_string(k.field));
    }
    if (k.field < last_field) {
      return Reader::Fail(
          k.at, "PBLink field " + std::to_string(k.field) + " out of order (Hash, Name, Tsize)");
    }
    last_field = k.field;
    const uint8_t want_wire = k.field == 3 ? kWireVarint : kWireBytes;
    if (k.wire != want_wire) {
      return Reader::Fail(k.at, "PBLink field " + std::to_string(k.field) + " has wire type " +
                                    std::to_string(k.wire) + ", expected " +
                                    std::to_string(want_wire));
    }
    if (k.field == 1) {
      const size_t at = r.offset();
      ByteSpan cid_bytes = CAIRN_TRY(r.Delimited("PBLink Hash"));
      auto cid = Cid::FromBytes(cid_bytes);
      if (!cid) {
        return Reader::Fail(at, "PBLink Hash is not a valid CID: " + cid.error().message());
      }
      link.hash = std::move(*cid);
      have_hash = true;
    } else if (k.field == 2) {
      ByteSpan name = CAIRN_TRY(r.Delimited("PBLink Name"));
      link.name = std::string(AsString(name));
    } else {
      link.tsize = CAIRN_TRY(r.Varint("PBLink Tsize"));
    }
  }
  if (!have_hash) {
    return Reader::Fail(base, "PBLink without Hash");
  }
  return link;
}

size_t LinkBodySize(const PbLink& link) {
  size_t n = 0;
  const size_t cid_len = link.hash.ToBytes().size();
  n += 1 + protobuf::VarintSize(cid_len) + cid_len;
  if (link.name) {
    n += 1 + protobuf::VarintSize(link.name->size()) + link.name->size();
  }
  if (link.tsize) {
    n += 1 + protobuf::VarintSize(*link.tsize);
  }
  return n;
}

}  // namespace

Result<PbNode> DecodeDagPb(ByteSpan bytes, std::optional<ByteSpan>* data_view) {
  Reader r(bytes, 0);
  PbNode node;
  if (data_view) data_view->reset();
  bool have_data = false;
  while (!r.done()) {
    const Key k = CAIRN_TRY(ReadKey(r, "PBNode field key"));
    if (k.field != 1 && k.field != 2) {
      return Reader::Fail(k.at, "unknown PBNode field " + std::to_string(k.field));
    }
    if (k.wire != kWireBytes) {
      return Reader::Fail(k.at, "PBNode field " + std::to_string(k.field) + " has wire type " +
                                    std::to_string(k.wire) + ", expected 2");
    }
    if (k.field == 1) {
      if (have_data) {
        return Reader::Fail(k.at, "duplicate PBNode Data");
      }
      ByteSpan data = CAIRN_TRY(r.Delimited("PBNode Data"));
      have_data = true;
      if (data_view) {
        *data_view = data;
      } else {
        node.data = Bytes(data.begin(), data.end());
      }
    } else {
      if (have_data) {
        return Reader::Fail(k.at, "PBNode Links after Data (links must come first)");
      }
      ByteSpan body = CAIRN_TRY(r.Delimited("PBNode Links"));
      // The payload starts after the length varint; recompute its absolute offset.
      const size_t payload_at = r.offset() - body.size();
      node.links.push_back(CAIRN_TRY(DecodeLink(body, payload_at)));
    }
  }
  return node;
}

size_t EncodedDagPbSize(const PbNode& node) {
  size_t n = 0;
  for (const PbLink& link : node.links) {
    const size_t body = LinkBodySize(link);
    n += 1 + protobuf::VarintSize(body) + body;
  }
  if (node.data) {
    n += 1 + protobuf::VarintSize(node.data->size()) + node.data->size();
  }
  return n;
}

Bytes EncodeDagPb(const PbNode& node) {
  Bytes out;
  out.reserve(EncodedDagPbSize(node));
  Bytes cid_bytes;
  for (const PbLink& link : node.links) {
    cid_bytes.clear();
    link.hash.AppendTo(cid_bytes);
    size_t body = 1 + protobuf::VarintSize(cid_bytes.size()) + cid_bytes.size();
    if (link.name) {
      body += 1 + protobuf::VarintSize(link.name->size()) + link.name->size();
    }
    if (link.tsize) {
      body += 1 + protobuf::VarintSize(*link.tsize);
    }
    out.push_back(0x12);  // field 2 (Links), wire type 2
    protobuf::AppendVarint(out, body);
    out.push_back(0x0a);  // PBLink field 1 (Hash)
    protobuf::AppendVarint(out, cid_bytes.size());
    out.insert(out.end(), cid_bytes.begin(), cid_bytes.end());
    if (link.name) {
      out.push_back(0x12);  // PBLink field 2 (Name)
      protobuf::AppendVarint(out, link.name->size());
      out.insert(out.end(), link.name->begin(), link.name->end());
    }
    if (link.tsize) {
      out.push_back(0x18);  // PBLink field 3 (Tsize), varint
      protobuf::AppendVarint(out, *link.tsize);
    }
  }
  if (node.data) {
    out.push_back(0x0a);  // field 1 (Data), wire type 2
    protobuf::AppendVarint(out, node.data->size());
    out.insert(out.end(), node.data->begin(), node.data->end());
  }
  return out;
}

}  // namespace cairn::ipld
