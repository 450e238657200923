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

void Session::ChunkQueue::Append(ByteSpan data) {
  if (data.empty()) return;
  if (chunks_.empty() || chunks_.back().capacity() - chunks_.back().size() < data.size()) {
    chunks_.emplace_back().reserve(std::max(data.size(), kMinChunk));
  }
  Bytes& last = chunks_.back();
  last.insert(last.end(), data.begin(), data.end());
  size_ += data.size();
}

size_t Session::ChunkQueue::ReadInto(MutableByteSpan out) {
  size_t done = 0;
  while (done < out.size() && !chunks_.empty()) {
    const Bytes& front = chunks_.front();
    size_t n = std::min(out.size() - done, front.size() - front_pos_);
    std::memcpy(out.data() + done, front.data() + front_pos_, n);
    done += n;
    front_pos_ += n;
    if (front_pos_ == front.size()) {
      chunks_.pop_front();
      front_pos_ = 0;
    }
  }
  size_ -= done;
  return done;
}

void Session::ChunkQueue::Clear() {
  chunks_ = std::deque<Bytes>();
  front_pos_ = 0;
  size_ = 0;
}

Session::Session(Role role, Options options)
    : role_(role), options_(options), next_id_(role == Role::kClient ? 1 : 2) {
  options_.receive_window = std::max(options_.receive_window, kInitialWindow);
  options_.max_receive_window = std::max(options_.max_receive_window, options_.receive_window);
  options_.max_data_frame = std::max<uint32_t>(options_.max_data_frame, 1);
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
}

void Session::StartRttMeasurement() {
  if (dead_) return;
  measure_rtt_ = true;
  ping_seq_ = ping_seq_ == UINT32_MAX ? 1 : ping_seq_ + 1;
  ping_id_ = ping_seq_;
  ping_sent_micros_ = Now();
  UrgentFrame(FrameType::kPing, kSyn, 0, ping_id_);
}

uint32_t Session::ReceiveWindow(uint32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? 0 : it->second.window;
}

bool Session::IsRemoteId(uint32_t id) const {
  bool odd = (id & 1) != 0;
  return role_ == Role::kClient ? !odd : odd;
}

void Session::Frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length) {
  AppendHeader(output_, Header{type, flags, id, length});
}

void Session::UrgentFrame(FrameType type, uint16_t flags, uint32_t id, uint32_t length) {
  AppendHeader(urgent_, Header{type, flags, id, length});
}

Result<void> Session::ProtocolError(const std::string& why) {
  dead_ = true;
  if (!local_go_away_) {
    local_go_away_ = true;
    Frame(FrameType::kGoAway, 0, 0, static_cast<uint32_t>(GoAwayCode::kProtocolError));
  }
  return Err(ErrorCode::kInvalidArgument, "yamux: " + why);
}

Bytes Session::TakeOutput() {
  Bytes out;
  out.swap(urgent_);
  out.insert(out.end(), output_.begin(), output_.end());
  output_.clear();
  return out;
}

void Session::SwapOutput(Bytes& urgent, Bytes& rest) {
  urgent.clear();
  urgent.swap(urgent_);
  rest.clear();
  rest.swap(output_);
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
  s.window = options_.receive_window;
  s.recv_window = options_.receive_window;
  s.epoch_micros = Now();
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
  return it == streams_.end() ? 0 : it->second.buffer.size();
}

size_t Session::Read(uint32_t id, MutableByteSpan out) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  Stream& s = it->second;
  size_t n = s.buffer.ReadInto(out);
  if (n == 0) return 0;
  s.consumed += static_cast<uint32_t>(n);
  if (!s.remote_fin && !s.reset && s.consumed >= s.window / 2) {
    // Auto-tuning: half the window consumed within 4 RTTs of the last update means the sender
    // waits on the window, not on our reader: double it (the update grants the difference).
    int64_t now = Now();
    uint32_t grow = 0;
    if (rtt_micros_ > 0 && !receive_backlog_ && now - s.epoch_micros < 4 * rtt_micros_) {
      uint32_t target = static_cast<uint32_t>(
          std::min<uint64_t>(uint64_t{s.window} * 2, options_.max_receive_window));
      grow = static_cast<uint32_t>(
          std::min<size_t>(target - s.window, options_.max_window_growth - window_growth_));
    }
    s.window += grow;
    window_growth_ += grow;
    UrgentFrame(FrameType::kWindowUpdate, 0, id, s.consumed + grow);
    s.recv_window += s.consumed + grow;
    s.consumed = 0;
    s.epoch_micros = now;
    if (measure_rtt_ && ping_id_ == 0) StartRttMeasurement();
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
  // Room for all of it at once (what the window and the output limit allow): growing the output
  // by doubling would copy it again each time.
  size_t room = std::min<size_t>(data.size(), s.send_window);
  size_t want = output_.size() + room + (room / options_.max_data_frame + 1) * kHeaderSize;
  want = std::min(want, options_.max_pending_output + options_.max_data_frame + kHeaderSize);
  if (want > output_.capacity()) output_.reserve(want);
  size_t taken = 0;
  while (taken < data.size() && s.send_window > 0 && output_.size() < options_.max_pending_output) {
    size_t n = std::min<size_t>({data.size() - taken, s.send_window, options_.max_data_frame});
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
  s.buffer.Clear();
}

void Session::Release(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  // After our FIN the stream is just forgotten (later frames for it are dropped): a RST would
  // make the peer discard the answer it has not read yet.
  if (!it->second.reset && !it->second.local_fin) Reset(id);
  window_growth_ -= it->second.window - options_.receive_window;
  streams_.erase(it);
}

Result<void> Session::Receive(ByteSpan data, Events& events) {
  if (dead_) return Err(ErrorCode::kInvalidArgument, "yamux: session already failed");
  size_t pos = 0;
  while (pos < data.size()) {
    if (data_left_ > 0) {
      size_t n = std::min<size_t>(data_left_, data.size() - pos);
      auto it = data_discard_ ? streams_.end() : streams_.find(data_stream_);
      if (it != streams_.end()) it->second.buffer.Append(data.subspan(pos, n));
      pos += n;
      data_left_ -= static_cast<uint32_t>(n);
      if (data_left_ == 0 && it != streams_.end()) {
        Stream& s = it->second;
        if (data_flags_ & kFin) s.remote_fin = true;
        if (data_flags_ & kRst) {
          s.reset = true;
          s.buffer.Clear();
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
  if (pending_output() > options_.max_control_backlog) {
    dead_ = true;
    return Err(ErrorCode::kResourceExhausted, "yamux: peer does not read what it asks for");
  }
  return Ok();
}

Result<void> Session::HandleFrame(const Header& h, Events& events) {
  if (h.type == FrameType::kPing) {
    if (h.stream_id != 0) return ProtocolError("ping on a stream");
    if (h.flags & kSyn) UrgentFrame(FrameType::kPing, kAck, 0, h.length);
    if ((h.flags & kAck) && ping_id_ != 0 && h.length == ping_id_) {
      int64_t sample = std::max<int64_t>(Now() - ping_sent_micros_, 1);
      rtt_micros_ = rtt_micros_ == 0 ? sample : std::min(rtt_micros_, sample);
      ping_id_ = 0;
    }
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
    if (it != streams_.end()) {
      return ProtocolError("SYN for stream " + std::to_string(h.stream_id) + " already open");
    }
    it = CAIRN_TRY(AcceptStream(h, events));
  }
  if (it == streams_.end()) {
    // A stream we released, reset or refused: the peer may not have seen our RST yet. Its
    // payload is read and dropped (a refused stream had only the initial window).
    const uint32_t window = (h.flags & kSyn) ? kInitialWindow : options_.max_receive_window;
    if (h.type == FrameType::kData && h.length > 0) {
      if (h.length > window) return ProtocolError("DATA beyond the receive window");
      data_left_ = h.length;
      data_discard_ = true;
    }
    return Ok();
  }
  if (h.type == FrameType::kWindowUpdate) return HandleWindowUpdate(h, it->second, events);
  return HandleData(h, it->second, events);
}

Result<Session::StreamMap::iterator> Session::AcceptStream(const Header& h, Events& events) {
  if (!IsRemoteId(h.stream_id)) {
    auto failed = ProtocolError("SYN for stream " + std::to_string(h.stream_id) + " of our parity");
    return Err(failed.error());
  }
  if (streams_.size() >= options_.max_streams || going_away()) {
    Frame(FrameType::kWindowUpdate, kRst, h.stream_id, 0);  // refused, not an error
    return streams_.end();
  }
  auto it = streams_.try_emplace(h.stream_id).first;
  it->second.window = options_.receive_window;
  it->second.recv_window = options_.receive_window;
  it->second.epoch_micros = Now();
  Frame(FrameType::kWindowUpdate, kAck, h.stream_id, options_.receive_window - kInitialWindow);
  events.opened.push_back(h.stream_id);
  return it;
}

Result<void> Session::HandleWindowUpdate(const Header& h, Stream& s, Events& events) {
  if (uint64_t{s.send_window} + h.length > UINT32_MAX) {
    return ProtocolError("window update beyond 2^32-1 on stream " + std::to_string(h.stream_id));
  }
  s.send_window += h.length;
  if (h.flags & kFin) s.remote_fin = true;
  if (h.flags & kRst) {
    s.reset = true;
    s.buffer.Clear();
  }
  events.touched.push_back(h.stream_id);
  return Ok();
}

Result<void> Session::HandleData(const Header& h, Stream& s, Events& events) {
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
