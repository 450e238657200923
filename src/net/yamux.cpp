#include "net/yamux.hpp"

#include <algorithm>
#include <cstring>

namespace cairn::net::yamux {
namespace {

void PutU32Be(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t GetU32Be(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

void AppendHeader(Bytes& out, const Header& h) {
  size_t at = out.size();
  out.resize(at + kHeaderSize);
  uint8_t* p = out.data() + at;
  p[0] = 0;
  p[1] = static_cast<uint8_t>(h.type);
  p[2] = static_cast<uint8_t>(h.flags >> 8);
  p[3] = static_cast<uint8_t>(h.flags);
  PutU32Be(p + 4, h.stream_id);
  PutU32Be(p + 8, h.length);
}

Result<Header> DecodeHeader(ByteSpan b) {
  CAIRN_CHECK(b.size() == kHeaderSize);  // the session gathers exactly one header
  if (b[0] != 0) {
    return Err(ErrorCode::kInvalidArgument, "yamux: unsupported version " + std::to_string(b[0]));
  }
  if (b[1] > 3) {
    return Err(ErrorCode::kInvalidArgument, "yamux: unknown frame type " + std::to_string(b[1]));
  }
  Header h;
  h.type = static_cast<FrameType>(b[1]);
  h.flags = static_cast<uint16_t>((b[2] << 8) | b[3]);
  h.stream_id = GetU32Be(b.data() + 4);
  h.length = GetU32Be(b.data() + 8);
  return h;
}

Session::Session(Role role, Options options)
    : role_(role), options_(options), next_id_(role == Role::kClient ? 1 : 2) {
  options_.receive_window = std::max(options_.receive_window, kInitialWindow);
}

bool Session::IsRemoteId(uint32_t id) const {
  bool odd = (id & 1) != 0;
  return role_ == Role::kClient ? !odd : odd;
}

void Session::Frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length) {
  AppendHeader(output_, Header{type, flags, id, length});
}

Result<void> Session::ProtocolError(std::string why) {
  dead_ = true;
  if (!local_go_away_) {
    local_go_away_ = true;
    Frame(FrameType::kGoAway, 0, 0, static_cast<uint32_t>(GoAwayCode::kProtocolError));
  }
  return Err(ErrorCode::kInvalidArgument, "yamux: " + why);
}

Bytes Session::TakeOutput() {
  Bytes out;
  out.swap(output_);
  return out;
}

void Session::SwapOutput(Bytes& buffer) {
  buffer.clear();
  buffer.swap(output_);
}

Result<uint32_t> Session::Open() {
  if (going_away() || dead_) {
    return Err(ErrorCode::kUnavailable, "yamux: session is going away");
  }
  if (streams_.size() >= options_.max_streams) {
    return Err(ErrorCode::kResourceExhausted,
               "yamux: " + std::to_string(options_.max_streams) + " streams already open");
  }
  if (next_id_ > UINT32_MAX - 2) {
    return Err(ErrorCode::kResourceExhausted, "yamux: stream ids exhausted");
  }
  uint32_t id = next_id_;
  next_id_ += 2;
  Stream& s = streams_[id];
  s.recv_window = options_.receive_window;
  Frame(FrameType::kWindowUpdate, kSyn, id, options_.receive_window - kInitialWindow);
  return id;
}

void Session::GoAway(GoAwayCode code) {
  if (local_go_away_) return;
  local_go_away_ = true;
  Frame(FrameType::kGoAway, 0, 0, static_cast<uint32_t>(code));
}

size_t Session::Readable(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? 0 : it->second.buffer.size() - it->second.read_pos;
}

size_t Session::Read(uint32_t id, MutableByteSpan out) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  Stream& s = it->second;
  size_t n = std::min(out.size(), s.buffer.size() - s.read_pos);
  if (n == 0) return 0;
  std::memcpy(out.data(), s.buffer.data() + s.read_pos, n);
  s.read_pos += n;
  if (s.read_pos == s.buffer.size()) {
    s.buffer.clear();
    s.read_pos = 0;
    if (s.buffer.capacity() > 64 * 1024) s.buffer.shrink_to_fit();
  } else if (s.read_pos > s.buffer.size() / 2 && s.read_pos > 4096) {
    s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<ptrdiff_t>(s.read_pos));
    s.read_pos = 0;
  }
  s.consumed += static_cast<uint32_t>(n);
  if (!s.remote_fin && !s.reset && s.consumed >= options_.receive_window / 2) {
    Frame(FrameType::kWindowUpdate, 0, id, s.consumed);
    s.recv_window += s.consumed;
    s.consumed = 0;
  }
  return n;
}

bool Session::RemoteClosed(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() || it->second.remote_fin;
}

bool Session::IsReset(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() || it->second.reset;
}

uint32_t Session::SendWindow(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? 0 : it->second.send_window;
}

size_t Session::Write(uint32_t id, ByteSpan data) {
  auto it = streams_.find(id);
  if (it == streams_.end() || dead_) return 0;
  Stream& s = it->second;
  if (s.reset || s.local_fin) return 0;
  size_t taken = 0;
  while (taken < data.size() && s.send_window > 0 && output_.size() < options_.max_pending_output) {
    size_t n = std::min<size_t>({data.size() - taken, s.send_window, 16 * 1024});
    Frame(FrameType::kData, 0, id, static_cast<uint32_t>(n));
    output_.insert(output_.end(), data.begin() + static_cast<ptrdiff_t>(taken),
                   data.begin() + static_cast<ptrdiff_t>(taken + n));
    s.send_window -= static_cast<uint32_t>(n);
    taken += n;
  }
  return taken;
}

void Session::CloseWrite(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.reset || it->second.local_fin) return;
  it->second.local_fin = true;
  if (!dead_) Frame(FrameType::kWindowUpdate, kFin, id, 0);
}

void Session::Reset(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.reset) return;
  Stream& s = it->second;
  s.reset = true;
  if (!(s.local_fin && s.remote_fin) && !dead_) Frame(FrameType::kWindowUpdate, kRst, id, 0);
  s.buffer = Bytes();
  s.read_pos = 0;
}

void Session::Release(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  // After our FIN the stream is just forgotten (later frames for it are dropped): a RST would
  // make the peer discard the answer it has not read yet.
  if (!it->second.reset && !it->second.local_fin) Reset(id);
  streams_.erase(it);
}

Result<void> Session::Receive(ByteSpan data, Events& events) {
  if (dead_) return Err(ErrorCode::kInvalidArgument, "yamux: session already failed");
  size_t pos = 0;
  while (pos < data.size()) {
    if (data_left_ > 0) {
      size_t n = std::min<size_t>(data_left_, data.size() - pos);
      auto it = data_discard_ ? streams_.end() : streams_.find(data_stream_);
      if (it != streams_.end()) {
        it->second.buffer.insert(it->second.buffer.end(),
                                 data.begin() + static_cast<ptrdiff_t>(pos),
                                 data.begin() + static_cast<ptrdiff_t>(pos + n));
      }
      pos += n;
      data_left_ -= static_cast<uint32_t>(n);
      if (data_left_ == 0 && it != streams_.end()) {
        Stream& s = it->second;
        if (data_flags_ & kFin) s.remote_fin = true;
        if (data_flags_ & kRst) {
          s.reset = true;
          s.buffer = Bytes();
          s.read_pos = 0;
        }
        events.touched.push_back(data_stream_);
      }
      continue;
    }
    size_t n = std::min(kHeaderSize - header_have_, data.size() - pos);
    std::memcpy(header_buf_ + header_have_, data.data() + pos, n);
    header_have_ += n;
    pos += n;
    if (header_have_ < kHeaderSize) break;
    header_have_ = 0;
    auto header = DecodeHeader(ByteSpan(header_buf_, kHeaderSize));
    if (!header) return ProtocolError(header.error().message().substr(7));
    CAIRN_TRY(HandleFrame(*header, events));
  }
  if (output_.size() > options_.max_control_backlog) {
    dead_ = true;
    return Err(ErrorCode::kResourceExhausted, "yamux: peer does not read what it asks for");
  }
  return Ok();
}

Result<void> Session::HandleFrame(const Header& h, Events& events) {
  if (h.type == FrameType::kPing) {
    if (h.stream_id != 0) return ProtocolError("ping on a stream");
    if (h.flags & kSyn) Frame(FrameType::kPing, kAck, 0, h.length);
    return Ok();
  }
  if (h.type == FrameType::kGoAway) {
    if (h.stream_id != 0) return ProtocolError("go-away on a stream");
    remote_go_away_ = true;
    events.go_away = true;
    return Ok();
  }
  if (h.stream_id == 0) return ProtocolError("data or window update on stream 0");

  auto it = streams_.find(h.stream_id);
  if (h.flags & kSyn) {
    if (!IsRemoteId(h.stream_id)) {
      return ProtocolError("SYN for stream " + std::to_string(h.stream_id) + " of our parity");
    }
    if (it != streams_.end()) {
      return ProtocolError("SYN for stream " + std::to_string(h.stream_id) + " already open");
    }
    if (streams_.size() >= options_.max_streams || going_away()) {
      // Refused, not an error: the payload (if any) is read and dropped.
      Frame(FrameType::kWindowUpdate, kRst, h.stream_id, 0);
      if (h.type == FrameType::kData && h.length > 0) {
        if (h.length > kInitialWindow) return ProtocolError("DATA beyond the receive window");
        data_left_ = h.length;
        data_discard_ = true;
      }
      return Ok();
    }
    it = streams_.emplace(h.stream_id, Stream{}).first;
    it->second.recv_window = options_.receive_window;
    Frame(FrameType::kWindowUpdate, kAck, h.stream_id, options_.receive_window - kInitialWindow);
    events.opened.push_back(h.stream_id);
  }
  if (it == streams_.end()) {
    // A stream we released or reset: the peer may not have seen our RST yet. Drop its payload.
    if (h.type == FrameType::kData && h.length > 0) {
      if (h.length > options_.receive_window)
        return ProtocolError("DATA beyond the receive window");
      data_left_ = h.length;
      data_discard_ = true;
    }
    return Ok();
  }
  Stream& s = it->second;
  if (h.type == FrameType::kWindowUpdate) {
    if (uint64_t{s.send_window} + h.length > UINT32_MAX) {
      return ProtocolError("window update beyond 2^32-1 on stream " + std::to_string(h.stream_id));
    }
    s.send_window += h.length;
    if (h.flags & kFin) s.remote_fin = true;
    if (h.flags & kRst) {
      s.reset = true;
      s.buffer = Bytes();
      s.read_pos = 0;
    }
    events.touched.push_back(h.stream_id);
    return Ok();
  }
  // DATA
  if (s.remote_fin && h.length > 0) {
    return ProtocolError("DATA after FIN on stream " + std::to_string(h.stream_id));
  }
  if (h.length > s.recv_window) {
    return ProtocolError("DATA of " + std::to_string(h.length) + " bytes beyond the window of " +
                         std::to_string(s.recv_window) + " on stream " +
                         std::to_string(h.stream_id));
  }
  s.recv_window -= h.length;
  data_flags_ = h.flags;
  data_stream_ = h.stream_id;
  data_discard_ = s.reset;  // a stream we reset still counts the peer's window, drops the bytes
  if (h.length > 0) {
    data_left_ = h.length;
    return Ok();
  }
  if (h.flags & kFin) s.remote_fin = true;
  if (h.flags & kRst) s.reset = true;
  events.touched.push_back(h.stream_id);
  return Ok();
}

}  // namespace cairn::net::yamux
