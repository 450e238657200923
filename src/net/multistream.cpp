#include "net/multistream.hpp"

#include "common/protobuf.hpp"

namespace cairn::net::multistream {

void AppendMessage(Bytes& out, std::string_view line) {
  CAIRN_CHECK(line.size() < kMaxMessage);  // callers send protocol ids they chose
  protobuf::AppendVarint(out, line.size() + 1);
  out.insert(out.end(), line.begin(), line.end());
  out.push_back('\n');
}

Bytes EncodeMessage(std::string_view line) {
  Bytes out;
  AppendMessage(out, line);
  return out;
}

Result<std::optional<Decoded>> DecodeMessage(ByteSpan in) {
  // A length over kMaxMessage needs at most two varint bytes to be recognized.
  size_t prefix = 0;
  while (prefix < in.size() && prefix < 2 && (in[prefix] & 0x80)) ++prefix;
  if (prefix == in.size()) return std::optional<Decoded>();
  if (prefix == 2) {
    return Err(ErrorCode::kInvalidArgument, "multistream: message length over 1024 bytes");
  }
  auto len = CAIRN_TRY(protobuf::DecodeVarint(in, "multistream message length"));
  if (len.value == 0) return Err(ErrorCode::kInvalidArgument, "multistream: empty message");
  if (len.value > kMaxMessage) {
    return Err(ErrorCode::kInvalidArgument,
               "multistream: message of " + std::to_string(len.value) + " bytes over 1024");
  }
  if (in.size() - len.size < len.value) return std::optional<Decoded>();
  ByteSpan body = in.subspan(len.size, len.value);
  if (body.back() != '\n') {
    return Err(ErrorCode::kInvalidArgument, "multistream: message does not end in a newline");
  }
  return std::optional<Decoded>(
      Decoded{AsString(body.first(body.size() - 1)), len.size + static_cast<size_t>(len.value)});
}

Result<Bytes> Listener::OnLine(std::string_view line) {
  if (selected_) return Err(ErrorCode::kInvalidArgument, "multistream: negotiation is over");
  if (!got_header_) {
    if (line != kHeader) {
      return Err(ErrorCode::kInvalidArgument,
                 "multistream: expected the header, got '" + std::string(line.substr(0, 64)) + "'");
    }
    got_header_ = true;
    return Bytes();
  }
  if (line != "ls" && supported_(line)) {
    selected_ = std::string(line);
    return EncodeMessage(line);
  }
  if (++proposals_ > kMaxProposals) {
    return Err(ErrorCode::kInvalidArgument, "multistream: too many refused proposals");
  }
  return EncodeMessage(kNa);
}

Bytes Dialer::Start() {
  CAIRN_CHECK(!protocols_.empty());  // the host never dials with an empty protocol list
  Bytes out = EncodeMessage(kHeader);
  AppendMessage(out, protocols_[0]);
  next_ = 1;
  return out;
}

Result<Bytes> Dialer::OnLine(std::string_view line) {
  if (selected_) return Err(ErrorCode::kInvalidArgument, "multistream: negotiation is over");
  if (!got_header_) {
    if (line != kHeader) {
      return Err(ErrorCode::kInvalidArgument,
                 "multistream: expected the header, got '" + std::string(line.substr(0, 64)) + "'");
    }
    got_header_ = true;
    return Bytes();
  }
  const std::string& proposed = protocols_[next_ - 1];
  if (line == proposed) {
    selected_ = proposed;
    return Bytes();
  }
  if (line != kNa) {
    return Err(ErrorCode::kInvalidArgument, "multistream: peer answered '" +
                                                std::string(line.substr(0, 64)) + "' to '" +
                                                proposed + "'");
  }
  if (next_ == protocols_.size()) {
    std::string all;
    for (const auto& p : protocols_) all += (all.empty() ? "" : ", ") + p;
    return Err(ErrorCode::kNotSupported, "multistream: peer supports none of " + all);
  }
  return EncodeMessage(protocols_[next_++]);
}

}  // namespace cairn::net::multistream
