#include "car/car_reader.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "multiformats/multicodec.hpp"
#include "multiformats/varint.hpp"

namespace cairn::car {

namespace {

tl::unexpected<Error> Invalid(const std::string& what) {
  return Err(ErrorCode::kInvalidArgument, "car: " + what);
}

constexpr size_t kChunk = 64 * 1024;

}  // namespace

Result<std::unique_ptr<CarReader>> CarReader::Open(ByteSource& source, CarReaderOptions options) {
  std::unique_ptr<CarReader> r(new CarReader(source, options));
  CAIRN_TRY(r->ReadHeaders());
  return r;
}

Result<size_t> CarReader::ReadSome(MutableByteSpan out) {
  if (payload_end_) {
    const uint64_t left = *payload_end_ - pos_;
    if (out.size() > left) out = out.first(static_cast<size_t>(left));
  }
  if (out.empty()) return size_t{0};
  const size_t n = CAIRN_TRY(source_.Read(out));
  if (n > out.size()) return Err(ErrorCode::kInternal, "car: source returned more than asked");
  pos_ += n;
  return n;
}

Result<void> CarReader::ReadExact(MutableByteSpan out, const char* what) {
  size_t got = 0;
  while (got < out.size()) {
    const size_t n = CAIRN_TRY(ReadSome(out.subspan(got)));
    if (n == 0) {
      return Invalid(std::string("unexpected end of input in ") + what + " at offset " +
                     std::to_string(pos_));
    }
    got += n;
  }
  return Ok();
}

Result<void> CarReader::Skip(uint64_t n, const char* what) {
  uint8_t buf[4096];
  while (n > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n, sizeof buf));
    CAIRN_TRY(ReadExact(MutableByteSpan(buf, want), what));
    n -= want;
  }
  return Ok();
}

Result<std::optional<uint64_t>> CarReader::ReadVarint(const char* what) {
  const uint64_t start = pos_;
  uint8_t buf[multiformats::kMaxVarintSize];
  size_t len = 0;
  while (true) {
    const size_t n = CAIRN_TRY(ReadSome(MutableByteSpan(buf + len, 1)));
    if (n == 0) {
      if (len == 0) return std::optional<uint64_t>();
      return Invalid(std::string("truncated ") + what + " varint at offset " +
                     std::to_string(start));
    }
    ++len;
    if ((buf[len - 1] & 0x80) == 0 || len == sizeof buf) break;
  }
  auto v = multiformats::DecodeVarint(ByteSpan(buf, len));
  if (!v) {
    return Invalid(std::string("bad ") + what + " varint at offset " + std::to_string(start) +
                   ": " + v.error().message());
  }
  return std::optional<uint64_t>(v->value);
}

Result<void> CarReader::ReadHeaders() {
  auto len = CAIRN_TRY(ReadVarint("header length"));
  if (!len) return Invalid("empty input: no CAR header");
  if (*len == 0 || *len > options_.max_header_size) {
    return Invalid("header length " + std::to_string(*len) + " out of range");
  }
  Bytes header(static_cast<size_t>(*len));
  CAIRN_TRY(ReadExact(header, "header"));

  if (pos_ == kCarV2Pragma.size() &&
      std::equal(header.begin(), header.end(), kCarV2Pragma.begin() + 1)) {
    // CARv2: fixed header, then the CARv1 payload at data_offset.
    Bytes fixed(kCarV2HeaderSize);
    CAIRN_TRY(ReadExact(fixed, "CARv2 header"));
    v2_ = CAIRN_TRY(CarV2Header::Decode(fixed));
    CAIRN_TRY(Skip(v2_->data_offset - pos_, "CARv2 padding before the data payload"));
    payload_start_ = pos_;
    payload_end_ = v2_->data_offset + v2_->data_size;
    version_ = 2;
    auto inner_len = CAIRN_TRY(ReadVarint("inner header length"));
    if (!inner_len) return Invalid("CARv2 data payload is empty");
    if (*inner_len == 0 || *inner_len > options_.max_header_size) {
      return Invalid("inner header length " + std::to_string(*inner_len) + " out of range");
    }
    Bytes inner(static_cast<size_t>(*inner_len));
    CAIRN_TRY(ReadExact(inner, "inner CARv1 header"));
    auto roots = DecodeCarV1Header(inner);
    if (!roots) return Err(roots.error().WithContext("CARv2 payload: "));
    roots_ = std::move(*roots);
    return Ok();
  }

  // A CARv1 header, or some other version (reported with its number).
  auto roots = DecodeCarV1Header(header);
  if (!roots) return Err(roots.error());
  version_ = 1;
  payload_start_ = 0;
  roots_ = std::move(*roots);
  return Ok();
}

Result<std::optional<CarBlock>> CarReader::Next() {
  if (failed_) return Err(*failed_);
  auto r = ReadSection();
  if (!r) failed_ = r.error();
  return r;
}

Result<std::optional<CarBlock>> CarReader::ReadSection() {
  const uint64_t at = pos_;
  const std::string where = "section at offset " + std::to_string(at) + ": ";
  auto len = ReadVarint("section length");
  if (!len) return Err(len.error());
  if (!*len) {
    if (payload_end_ && pos_ < *payload_end_) {
      return Invalid("CARv2 data payload ends at offset " + std::to_string(pos_) +
                     " but the header says " + std::to_string(*payload_end_));
    }
    return std::optional<CarBlock>();  // clean end of the payload
  }
  const uint64_t size = **len;
  if (size == 0) return Invalid(where + "zero-length section");
  if (size > options_.max_section_size) {
    return Invalid(where + "length " + std::to_string(size) + " exceeds the limit " +
                   std::to_string(options_.max_section_size));
  }
  if (payload_end_ && size > *payload_end_ - pos_) {
    return Invalid(where + "length " + std::to_string(size) +
                   " runs past the end of the CARv2 data payload");
  }
  // Grow the buffer as bytes arrive, so a claimed length costs nothing until the bytes exist.
  Bytes section;
  while (section.size() < size) {
    const size_t old = section.size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - old, kChunk));
    section.resize(old + want);
    size_t got = 0;
    while (got < want) {
      const size_t n = CAIRN_TRY(ReadSome(MutableByteSpan(section.data() + old + got, want - got)));
      if (n == 0) {
        return Invalid(where + "length " + std::to_string(size) + " runs past the end of input (" +
                       std::to_string(old + got) + " bytes present)");
      }
      got += n;
    }
  }
  auto cid = Cid::DecodePrefix(section);
  if (!cid) return Invalid(where + "bad CID: " + cid.error().message());
  CarBlock block;
  block.cid = std::move(cid->cid);
  block.offset = at - payload_start_;
  block.data.assign(section.begin() + static_cast<ptrdiff_t>(cid->size), section.end());
  if (options_.verify) {
    auto ok = block.cid.hash().Verify(block.data);
    if (!ok) {
      if (ok.error().code() == ErrorCode::kNotSupported) {
        return Err(ErrorCode::kNotSupported, "car: " + where + "cannot verify " +
                                                 block.cid.ToString() + ": " +
                                                 ok.error().message());
      }
      return Err(ErrorCode::kCorruption,
                 "car: " + where + "block does not match its CID " + block.cid.ToString());
    }
  }
  return std::optional<CarBlock>(std::move(block));
}

Result<std::optional<CarIndex>> CarReader::ReadIndex() {
  if (failed_) return Err(*failed_);
  if (!v2_ || v2_->index_offset == 0) return std::optional<CarIndex>();
  if (index_read_) return Invalid("index already read");
  index_read_ = true;
  if (pos_ > v2_->index_offset) return Invalid("index offset is behind the read position");
  payload_end_.reset();
  CAIRN_TRY(Skip(v2_->index_offset - pos_, "CARv2 bytes before the index"));
  Bytes index;
  Bytes buf(kChunk);
  while (true) {
    const size_t n = CAIRN_TRY(ReadSome(buf));
    if (n == 0) break;
    if (index.size() + n > options_.max_index_size) {
      return Err(ErrorCode::kResourceExhausted,
                 "car: index larger than the limit " + std::to_string(options_.max_index_size));
    }
    index.insert(index.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
  }
  auto decoded = DecodeCarIndex(index);
  if (!decoded) {
    return Err(decoded.error().code(), "car: index at offset " + std::to_string(v2_->index_offset) +
                                           ": " + decoded.error().message());
  }
  return std::optional<CarIndex>(std::move(*decoded));
}

}  // namespace cairn::car
