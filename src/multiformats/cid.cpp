#include "multiformats/cid.hpp"

#include <string>

#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::multiformats {
namespace {

// Longest CID text accepted; bounds the quadratic base-N decoders on hostile input.
constexpr size_t kMaxCidText = 512;

bool IsV0Hash(const Multihash& mh) {
  return mh.code() == codec::kSha2_256 && mh.digest().size() == 32;
}

}  // namespace

Result<Cid> Cid::V0(Multihash hash) {
  if (!IsV0Hash(hash)) {
    return Err(ErrorCode::kInvalidArgument, "cid: version 0 requires a sha2-256 multihash");
  }
  Cid c;
  c.version_ = 0;
  c.codec_ = codec::kDagPb;
  c.hash_ = std::move(hash);
  return c;
}

Cid Cid::V1(uint64_t codec, Multihash hash) {
  Cid c;
  c.version_ = 1;
  c.codec_ = codec;
  c.hash_ = std::move(hash);
  return c;
}

Result<Cid> Cid::Make(int version, uint64_t codec, Multihash hash) {
  if (version == 0) {
    if (codec != codec::kDagPb) {
      return Err(ErrorCode::kInvalidArgument, "cid: version 0 only supports dag-pb");
    }
    return V0(std::move(hash));
  }
  if (version == 1) return V1(codec, std::move(hash));
  return Err(ErrorCode::kInvalidArgument,
             "cid: version " + std::to_string(version) + " is not supported");
}

Result<Cid> Cid::Compute(int version, uint64_t codec, uint64_t hash_code, ByteSpan data) {
  Multihash mh = CAIRN_TRY(Multihash::Sum(hash_code, data));
  return Make(version, codec, std::move(mh));
}

Result<Cid::Prefixed> Cid::DecodePrefix(ByteSpan bytes) {
  if (bytes.size() >= 2 && bytes[0] == 0x12 && bytes[1] == 0x20) {
    auto mh = Multihash::DecodePrefix(bytes);
    if (!mh) return Err(mh.error().WithContext("cid: "));
    Cid c = CAIRN_TRY(V0(std::move(mh->hash)));
    return Prefixed{std::move(c), mh->size};
  }
  auto version = DecodeVarint(bytes);
  if (!version) return Err(version.error().WithContext("cid: version: "));
  if (version->value != 1) {
    return Err(ErrorCode::kInvalidArgument,
               "cid: version " + std::to_string(version->value) + " is not supported");
  }
  size_t pos = version->size;
  auto codec = DecodeVarint(bytes.subspan(pos));
  if (!codec) return Err(codec.error().WithContext("cid: codec: "));
  pos += codec->size;
  auto mh = Multihash::DecodePrefix(bytes.subspan(pos));
  if (!mh) return Err(mh.error().WithContext("cid: "));
  pos += mh->size;
  return Prefixed{V1(codec->value, std::move(mh->hash)), pos};
}

Result<Cid> Cid::FromBytes(ByteSpan bytes) {
  Prefixed p = CAIRN_TRY(DecodePrefix(bytes));
  if (p.size != bytes.size()) {
    return Err(ErrorCode::kInvalidArgument,
               "cid: " + std::to_string(bytes.size() - p.size) + " trailing bytes");
  }
  return std::move(p.cid);
}

Result<Cid> Cid::Parse(std::string_view text) {
  if (text.empty()) return Err(ErrorCode::kInvalidArgument, "cid: empty string");
  if (text.size() > kMaxCidText) {
    return Err(ErrorCode::kInvalidArgument,
               "cid: " + std::to_string(text.size()) + " characters is too long");
  }
  if (text.size() >= 2 && text[0] == 'Q' && text[1] == 'm') {
    if (text.size() != 46) {
      return Err(
          ErrorCode::kInvalidArgument,
          "cid: a version 0 CID (Qm...) has 46 characters, got " + std::to_string(text.size()));
    }
    auto bytes = DecodeBase(Multibase::kBase58Btc, text);
    if (!bytes) return Err(bytes.error().WithContext("cid: "));
    auto mh = Multihash::Decode(*bytes);
    if (!mh) return Err(mh.error().WithContext("cid: "));
    return V0(std::move(*mh));
  }
  auto bytes = MultibaseDecode(text);
  if (!bytes) return Err(bytes.error().WithContext("cid: "));
  if (bytes->size() >= 2 && (*bytes)[0] == 0x12 && (*bytes)[1] == 0x20) {
    return Err(ErrorCode::kInvalidArgument,
               "cid: a version 0 CID must be written in bare base58btc");
  }
  return FromBytes(*bytes);
}

void Cid::AppendTo(Bytes& out) const {
  if (version_ == 1) {
    AppendVarint(out, 1);
    AppendVarint(out, codec_);
  }
  hash_.AppendTo(out);
}

Bytes Cid::ToBytes() const {
  Bytes out;
  out.reserve(hash_.EncodedSize() + 8);
  AppendTo(out);
  return out;
}

std::string Cid::ToString() const {
  if (version_ == 0) return EncodeBase(Multibase::kBase58Btc, ToBytes());
  return MultibaseEncode(Multibase::kBase32, ToBytes());
}

std::string Cid::ToString(Multibase base) const {
  if (version_ == 0) {
    if (base == Multibase::kBase58Btc) return ToString();
    return ToV1().ToString(base);
  }
  return MultibaseEncode(base, ToBytes());
}

Cid Cid::ToV1() const {
  if (version_ == 1) return *this;
  return V1(codec_, hash_);
}

Result<Cid> Cid::ToV0() const {
  if (codec_ != codec::kDagPb) {
    return Err(ErrorCode::kInvalidArgument, "cid: only dag-pb CIDs have a version 0 form");
  }
  return V0(hash_);
}

size_t CidHash::operator()(const Cid& cid) const {
  // The digest is a cryptographic hash for every code that matters; mix in codec and version.
  ByteSpan d = cid.hash().digest();
  size_t h = 1469598103934665603ull ^ cid.codec() ^ (static_cast<size_t>(cid.version()) << 40) ^
             (cid.hash().code() << 20);
  for (size_t i = 0; i < d.size() && i < 16; ++i) h = (h ^ d[i]) * 1099511628211ull;
  return h;
}

}  // namespace cairn::multiformats
