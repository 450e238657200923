#include "car/car_format.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "ipld/dag_cbor.hpp"
#include "multiformats/varint.hpp"

namespace cairn::car {

namespace {

tl::unexpected<Error> Invalid(const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, "car: " + what);
}

// Widths are bounded like go-car's (32 MiB) so a hostile index cannot claim absurd records.
constexpr uint32_t kMaxIndexWidth = 32u << 20;

bool DigestLess(const IndexEntry& a, const IndexEntry& b) {
  return std::lexicographical_compare(a.digest.begin(), a.digest.end(), b.digest.begin(),
                                      b.digest.end());
}

// Writes the width buckets of `entries` (all with the same code group).
void AppendWidthBuckets(Bytes& out, std::vector<IndexEntry>& entries) {
  std::map<size_t, std::vector<IndexEntry*>> by_len;
  for (auto& e : entries) by_len[e.digest.size()].push_back(&e);
  uint8_t buf[8];
  PutU32Le(buf, static_cast<uint32_t>(by_len.size()));
  out.insert(out.end(), buf, buf + 4);
  for (auto& [len, list] : by_len) {
    std::stable_sort(list.begin(), list.end(),
                     [](const IndexEntry* a, const IndexEntry* b) { return DigestLess(*a, *b); });
    const uint32_t width = static_cast<uint32_t>(len + 8);
    PutU32Le(buf, width);
    out.insert(out.end(), buf, buf + 4);
    PutU64Le(buf, static_cast<uint64_t>(width) * list.size());
    out.insert(out.end(), buf, buf + 8);
    for (const IndexEntry* e : list) {
      out.insert(out.end(), e->digest.begin(), e->digest.end());
      PutU64Le(buf, e->offset);
      out.insert(out.end(), buf, buf + 8);
    }
  }
}

class IndexParser {
 public:
  explicit IndexParser(ByteSpan in) : in_(in) {}

  size_t pos() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

  Result<uint32_t> U32() {
    if (in_.size() - pos_ < 4) return Invalid("index truncated at byte " + std::to_string(pos_));
    const uint32_t v = GetU32Le(in_.data() + pos_);
    pos_ += 4;
    return v;
  }
  Result<uint64_t> U64() {
    if (in_.size() - pos_ < 8) return Invalid("index truncated at byte " + std::to_string(pos_));
    const uint64_t v = GetU64Le(in_.data() + pos_);
    pos_ += 8;
    return v;
  }

  // Reads `count` width buckets, appending their entries with `code`.
  Result<void> WidthBuckets(std::optional<uint64_t> code, std::vector<IndexEntry>& out) {
    const uint32_t buckets = CAIRN_TRY(U32());
    uint32_t prev_width = 0;
    for (uint32_t b = 0; b < buckets; ++b) {
      const size_t at = pos_;
      const uint32_t width = CAIRN_TRY(U32());
      const uint64_t length = CAIRN_TRY(U64());
      if (width <= 8 || width > kMaxIndexWidth) {
        return Invalid("index bucket at byte " + std::to_string(at) + " has invalid width " +
                       std::to_string(width));
      }
      if (width <= prev_width) {
        return Invalid("index buckets at byte " + std::to_string(at) + " not ordered by width");
      }
      prev_width = width;
      if (length % width != 0) {
        return Invalid("index bucket at byte " + std::to_string(at) +
                       " length is not a multiple of its width");
      }
      if (length > in_.size() - pos_) {
        return Invalid("index bucket at byte " + std::to_string(at) + " runs past the end");
      }
      const size_t n = static_cast<size_t>(length / width);
      const size_t digest_len = width - 8;
      const size_t first = out.size();
      for (size_t i = 0; i < n; ++i) {
        IndexEntry e;
        e.hash_code = code;
        e.digest.assign(in_.begin() + static_cast<ptrdiff_t>(pos_),
                        in_.begin() + static_cast<ptrdiff_t>(pos_ + digest_len));
        e.offset = GetU64Le(in_.data() + pos_ + digest_len);
        pos_ += width;
        if (out.size() > first && DigestLess(e, out.back())) {
          return Invalid("index bucket at byte " + std::to_string(at) + " is not sorted");
        }
        out.push_back(std::move(e));
      }
    }
    return Ok();
  }

 private:
  ByteSpan in_;
  size_t pos_ = 0;
};

}  // namespace

Bytes CarV2Header::Encode() const {
  Bytes out(kCarV2HeaderSize);
  std::memcpy(out.data(), characteristics.data(), 16);
  PutU64Le(out.data() + 16, data_offset);
  PutU64Le(out.data() + 24, data_size);
  PutU64Le(out.data() + 32, index_offset);
  return out;
}

Result<CarV2Header> CarV2Header::Decode(ByteSpan bytes) {
  if (bytes.size() != kCarV2HeaderSize) return Invalid("CARv2 header must be 40 bytes");
  CarV2Header h;
  std::memcpy(h.characteristics.data(), bytes.data(), 16);
  h.data_offset = GetU64Le(bytes.data() + 16);
  h.data_size = GetU64Le(bytes.data() + 24);
  h.index_offset = GetU64Le(bytes.data() + 32);
  if (h.data_offset < kCarV2DataOffset) {
    return Invalid("CARv2 data offset " + std::to_string(h.data_offset) +
                   " points inside the header");
  }
  if (h.data_size > UINT64_MAX - h.data_offset) return Invalid("CARv2 data size overflows");
  if (h.index_offset != 0 && h.index_offset < h.data_offset + h.data_size) {
    return Invalid("CARv2 index offset " + std::to_string(h.index_offset) +
                   " is inside the data payload");
  }
  return h;
}

Bytes EncodeCarV1Header(const std::vector<Cid>& roots) {
  Bytes out;
  ipld::CborWriter w(out);
  w.WriteMapHeader(2);
  w.WriteString("roots");  // canonical order: "roots" (5) before "version" (7)
  w.WriteArrayHeader(roots.size());
  for (const auto& r : roots) w.WriteCid(r);
  w.WriteString("version");
  w.WriteUint(1);
  return out;
}

Result<std::vector<Cid>> DecodeCarV1Header(ByteSpan block) {
  auto value = ipld::DecodeDagCbor(block);
  if (!value) return Err(value.error().WithContext("car: header: "));
  if (value->kind() != ipld::CborKind::kMap) return Invalid("header is not a map");
  const ipld::CborValue* version = value->Find("version");
  if (version == nullptr) return Invalid("header has no version");
  auto v = version->GetUint64();
  if (!v) return Invalid("header version is not an unsigned integer");
  if (*v != 1) {
    return Invalid("unsupported CAR version " + std::to_string(*v) + " in a CARv1 header");
  }
  const ipld::CborValue* roots = value->Find("roots");
  if (roots == nullptr) return Invalid("header has no roots");
  if (roots->kind() != ipld::CborKind::kList) return Invalid("header roots is not a list");
  std::vector<Cid> out;
  for (const auto& r : roots->AsList()) {
    if (r.kind() != ipld::CborKind::kLink) return Invalid("header root is not a CID");
    out.push_back(r.AsLink());
  }
  return out;
}

Result<CarIndex> DecodeCarIndex(ByteSpan bytes) {
  auto format = multiformats::DecodeVarint(bytes);
  if (!format) return Err(format.error().WithContext("car: index format: "));
  CarIndex index;
  index.format = format->value;
  IndexParser p(bytes.subspan(format->size));
  if (format->value == kIndexSorted) {
    CAIRN_TRY(p.WidthBuckets(std::nullopt, index.entries));
  } else if (format->value == kMultihashIndexSorted) {
    const uint32_t groups = CAIRN_TRY(p.U32());
    std::optional<uint64_t> prev;
    for (uint32_t g = 0; g < groups; ++g) {
      const uint64_t code = CAIRN_TRY(p.U64());
      if (prev && code <= *prev) return Invalid("index code groups not in ascending order");
      prev = code;
      CAIRN_TRY(p.WidthBuckets(code, index.entries));
    }
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(format->value));
    return Err(ErrorCode::kNotSupported, std::string("car: unsupported index format ") + buf);
  }
  if (!p.done()) return Invalid("trailing bytes after the index");
  return index;
}

Bytes EncodeMultihashIndexSorted(std::vector<IndexEntry> entries) {
  Bytes out;
  multiformats::AppendVarint(out, kMultihashIndexSorted);
  std::map<uint64_t, std::vector<IndexEntry>> groups;
  for (auto& e : entries) groups[e.hash_code.value_or(0)].push_back(std::move(e));
  uint8_t buf[8];
  PutU32Le(buf, static_cast<uint32_t>(groups.size()));
  out.insert(out.end(), buf, buf + 4);
  for (auto& [code, list] : groups) {
    PutU64Le(buf, code);
    out.insert(out.end(), buf, buf + 8);
    AppendWidthBuckets(out, list);
  }
  return out;
}

Bytes EncodeIndexSorted(std::vector<IndexEntry> entries) {
  Bytes out;
  multiformats::AppendVarint(out, kIndexSorted);
  AppendWidthBuckets(out, entries);
  return out;
}

void AppendSection(Bytes& out, const Cid& cid, ByteSpan data) {
  const Bytes cid_bytes = cid.ToBytes();
  multiformats::AppendVarint(out, cid_bytes.size() + data.size());
  out.insert(out.end(), cid_bytes.begin(), cid_bytes.end());
  out.insert(out.end(), data.begin(), data.end());
}

}  // namespace cairn::car
