// UnixFS Data protobuf codec (see unixfs_pb.hpp). The wire format is proto2 as Kubo (boxo) and
// js-ipfs-unixfs write it: `blocksizes` is a repeated, *unpacked* uint64 (one tag per value),
// `mtime` an embedded message whose `FractionalNanoseconds` is a fixed32.
#include "unixfs/unixfs_pb.hpp"

#include <limits>
#include <string>

#include "common/protobuf.hpp"

namespace cairn::unixfs {
namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLengthDelimited = 2;
constexpr uint32_t kFixed32 = 5;

constexpr uint32_t kMaxNanos = 999'999'999;

// Protobuf varints: up to 10 bytes (a negative int64 takes 10). Unlike multiformats varints,
// non-minimal encodings are valid protobuf and are accepted when decoding.

void PutTag(Bytes& out, uint32_t field, uint32_t wire_type) {
  protobuf::AppendVarint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

// A cursor over untrusted protobuf bytes; every read is bounds-checked.
class Reader {
 public:
  Reader(ByteSpan bytes, size_t base) : bytes_(bytes), base_(base) {}

  bool done() const { return pos_ == bytes_.size(); }
  size_t offset() const { return base_ + pos_; }

  Result<uint64_t> Varint(const char* what) {
    uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= bytes_.size()) {
        return Fail(std::string("truncated varint in ") + what);
      }
      uint8_t b = bytes_[pos_++];
      if (i == 9 && b > 1) {
        return Fail(std::string("varint in ") + what + " overflows 64 bits");
      }
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    return Fail(std::string("varint in ") + what + " is longer than 10 bytes");
  }

  Result<ByteSpan> Take(size_t n, const char* what) {
    if (n > bytes_.size() - pos_) {
      return Fail(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end");
    }
    ByteSpan s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  Result<ByteSpan> LengthDelimited(const char* what) {
    uint64_t n = CAIRN_TRY(Varint(what));
    if (n > bytes_.size() - pos_) {
      return Fail(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end");
    }
    return Take(static_cast<size_t>(n), what);
  }

  // Skips a field of an unknown number (protobuf readers must tolerate them).
  Result<void> Skip(uint32_t wire_type, uint64_t field) {
    switch (wire_type) {
      case kVarint:
        CAIRN_TRY(Varint("unknown field"));
        return Ok();
      case kFixed64:
        CAIRN_TRY(Take(8, "unknown fixed64 field"));
        return Ok();
      case kLengthDelimited:
        CAIRN_TRY(LengthDelimited("unknown field"));
        return Ok();
      case kFixed32:
        CAIRN_TRY(Take(4, "unknown fixed32 field"));
        return Ok();
      default:
        return Fail("field " + std::to_string(field) + " has unsupported wire type " +
                    std::to_string(wire_type));
    }
  }

  tl::unexpected<Error> Fail(const std::string& why) const {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: bad Data message at offset " + std::to_string(offset()) + ": " + why);
  }

 private:
  ByteSpan bytes_;
  size_t base_;
  size_t pos_ = 0;
};

struct Tag {
  uint64_t field;
  uint32_t wire_type;
};

Result<Tag> ReadTag(Reader& r) {
  uint64_t key = CAIRN_TRY(r.Varint("field key"));
  Tag tag{key >> 3, static_cast<uint32_t>(key & 7)};
  if (tag.field == 0 || tag.field > 0x1fffffff) {
    return r.Fail("invalid field number " + std::to_string(tag.field));
  }
  return tag;
}

Result<void> ExpectWireType(Reader& r, const Tag& tag, uint32_t want, const char* name) {
  if (tag.wire_type != want) {
    return r.Fail(std::string(name) + " has wire type " + std::to_string(tag.wire_type) +
                  ", expected " + std::to_string(want));
  }
  return Ok();
}

// Decodes a UnixTime message into `time`, merging into what an earlier occurrence set (protobuf
// semantics for a repeated embedded message field).
Result<void> DecodeUnixTime(ByteSpan bytes, size_t base, UnixTime& time, bool& have_seconds) {
  Reader r(bytes, base);
  while (!r.done()) {
    Tag tag = CAIRN_TRY(ReadTag(r));
    if (tag.field == 1) {
      CAIRN_TRY(ExpectWireType(r, tag, kVarint, "mtime.Seconds"));
      time.seconds = static_cast<int64_t>(CAIRN_TRY(r.Varint("mtime.Seconds")));
      have_seconds = true;
    } else if (tag.field == 2) {
      CAIRN_TRY(ExpectWireType(r, tag, kFixed32, "mtime.FractionalNanoseconds"));
      ByteSpan b = CAIRN_TRY(r.Take(4, "mtime.FractionalNanoseconds"));
      uint32_t nanos = GetU32Le(b.data());
      if (nanos == 0 || nanos > kMaxNanos) {
        return r.Fail("mtime.FractionalNanoseconds " + std::to_string(nanos) +
                      " is outside [1, 999999999]");
      }
      time.nanos = nanos;
    } else {
      CAIRN_TRY(r.Skip(tag.wire_type, tag.field));
    }
  }
  return Ok();
}

}  // namespace

Bytes EncodeUnixfsData(const UnixfsData& d) {
  Bytes out;
  out.reserve(16 + (d.data ? d.data->size() : 0) + 11 * d.blocksizes.size());
  PutTag(out, 1, kVarint);
  protobuf::AppendVarint(out, static_cast<uint64_t>(d.type));
  if (d.data) {
    PutTag(out, 2, kLengthDelimited);
    protobuf::AppendVarint(out, d.data->size());
    out.insert(out.end(), d.data->begin(), d.data->end());
  }
  if (d.filesize) {
    PutTag(out, 3, kVarint);
    protobuf::AppendVarint(out, *d.filesize);
  }
  for (uint64_t size : d.blocksizes) {  // proto2 repeated scalar: unpacked, one tag per value
    PutTag(out, 4, kVarint);
    protobuf::AppendVarint(out, size);
  }
  if (d.hash_type) {
    PutTag(out, 5, kVarint);
    protobuf::AppendVarint(out, *d.hash_type);
  }
  if (d.fanout) {
    PutTag(out, 6, kVarint);
    protobuf::AppendVarint(out, *d.fanout);
  }
  if (d.mode) {
    PutTag(out, 7, kVarint);
    protobuf::AppendVarint(out, *d.mode);
  }
  if (d.mtime) {
    Bytes time;
    PutTag(time, 1, kVarint);
    protobuf::AppendVarint(time, static_cast<uint64_t>(d.mtime->seconds));
    // A fractional part of 0 is not valid on the wire: the spec says encoders strip it.
    if (d.mtime->nanos && *d.mtime->nanos != 0) {
      PutTag(time, 2, kFixed32);
      size_t at = time.size();
      time.resize(at + 4);
      PutU32Le(time.data() + at, *d.mtime->nanos);
    }
    PutTag(out, 8, kLengthDelimited);
    protobuf::AppendVarint(out, time.size());
    out.insert(out.end(), time.begin(), time.end());
  }
  return out;
}

// One `blocksizes` field: a single varint, or the packed form (not what Kubo writes, but a valid
// encoding readers must accept). `message` is the whole Data message, for error offsets.
Result<void> DecodeBlocksize(Reader& r, const Tag& tag, ByteSpan message,
                             std::vector<uint64_t>& out) {
  if (tag.wire_type == kVarint) {
    out.push_back(CAIRN_TRY(r.Varint("blocksizes")));
    return Ok();
  }
  if (tag.wire_type != kLengthDelimited) {
    return r.Fail("blocksizes has wire type " + std::to_string(tag.wire_type));
  }
  ByteSpan packed = CAIRN_TRY(r.LengthDelimited("blocksizes"));
  Reader p(packed, static_cast<size_t>(packed.data() - message.data()));
  while (!p.done()) out.push_back(CAIRN_TRY(p.Varint("packed blocksizes")));
  return Ok();
}

Result<UnixfsData> DecodeUnixfsData(ByteSpan bytes, std::optional<ByteSpan>* data_view) {
  Reader r(bytes, 0);
  UnixfsData d;
  if (data_view) data_view->reset();
  bool have_type = false;
  bool have_seconds = false;
  while (!r.done()) {
    Tag tag = CAIRN_TRY(ReadTag(r));
    switch (tag.field) {
      case 1: {
        CAIRN_TRY(ExpectWireType(r, tag, kVarint, "Type"));
        uint64_t type = CAIRN_TRY(r.Varint("Type"));
        if (type > static_cast<uint64_t>(DataType::kHamtShard)) {
          return r.Fail("unknown DataType " + std::to_string(type));
        }
        d.type = static_cast<DataType>(type);
        have_type = true;
        break;
      }
      case 2: {
        CAIRN_TRY(ExpectWireType(r, tag, kLengthDelimited, "Data"));
        ByteSpan data = CAIRN_TRY(r.LengthDelimited("Data"));
        if (data_view) {
          *data_view = data;
        } else {
          d.data = Bytes(data.begin(), data.end());
        }
        break;
      }
      case 3:
        CAIRN_TRY(ExpectWireType(r, tag, kVarint, "filesize"));
        d.filesize = CAIRN_TRY(r.Varint("filesize"));
        break;
      case 4:
        CAIRN_TRY(DecodeBlocksize(r, tag, bytes, d.blocksizes));
        break;
      case 5:
        CAIRN_TRY(ExpectWireType(r, tag, kVarint, "hashType"));
        d.hash_type = CAIRN_TRY(r.Varint("hashType"));
        break;
      case 6:
        CAIRN_TRY(ExpectWireType(r, tag, kVarint, "fanout"));
        d.fanout = CAIRN_TRY(r.Varint("fanout"));
        break;
      case 7: {
        CAIRN_TRY(ExpectWireType(r, tag, kVarint, "mode"));
        uint64_t mode = CAIRN_TRY(r.Varint("mode"));
        if (mode > std::numeric_limits<uint32_t>::max()) {
          return r.Fail("mode " + std::to_string(mode) + " does not fit in uint32");
        }
        d.mode = static_cast<uint32_t>(mode);
        break;
      }
      case 8: {
        CAIRN_TRY(ExpectWireType(r, tag, kLengthDelimited, "mtime"));
        ByteSpan time = CAIRN_TRY(r.LengthDelimited("mtime"));
        if (!d.mtime) {
          d.mtime = UnixTime{};
        }
        size_t base = static_cast<size_t>(time.data() - bytes.data());
        CAIRN_TRY(DecodeUnixTime(time, base, *d.mtime, have_seconds));
        break;
      }
      default:
        CAIRN_TRY(r.Skip(tag.wire_type, tag.field));
        break;
    }
  }
  if (!have_type) {
    return Err(ErrorCode::kInvalidArgument, "unixfs: bad Data message: required Type is missing");
  }
  if (d.mtime && !have_seconds) {
    return Err(ErrorCode::kInvalidArgument,
               "unixfs: bad Data message: mtime lacks its required Seconds");
  }
  return d;
}

}  // namespace cairn::unixfs
