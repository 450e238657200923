// yamux (../shared/specs/libp2p/yamux.md, protocol id "/yamux/1.0.0"): many streams over one
// secured connection. Frames are a 12-byte big-endian header {version 0, type, flags, stream id,
// length} and, for DATA, `length` payload bytes. Types: DATA, WINDOW_UPDATE, PING, GO_AWAY; flags
// SYN, ACK, FIN, RST. The dialer of the connection (client) opens odd stream ids, the listener
// even ones; 0 is the session. Each stream starts with a 256 KiB receive window in each direction
// and only DATA payload counts against it.
//
// Receive-window auto-tuning (as go-yamux and rust-yamux do; not in the spec, which only says
// the window may grow with WINDOW_UPDATE): StartRttMeasurement() sends one PING and its answer
// gives the connection's round-trip time. When a stream's reader has consumed half its window and
// a window update is due, and that half was consumed less than 4 RTTs after the previous update,
// the sender was limited by the window rather than the reader: the window doubles (the update
// grants the extra), up to max_receive_window per stream and max_window_growth for the session's
// streams together. A slow reader never takes that long to consume half, so its window stays;
// nor does it grow while the caller reports a receive backlog (SetReceiveBacklog).
//
// Session is the pure state machine of one connection: received bytes in (any split), frames out
// (TakeOutput), per-stream buffers and windows in between. It never touches a socket; the host
// (net/host.hpp) moves bytes and wakes the coroutines waiting on the streams Receive touched.
//
// Buffered DATA is kept per stream as a queue of chunks (no regrowing or memmove of one buffer).
//
// Protocol violations end the session (Receive returns InvalidArgument and a GO_AWAY with
// "protocol error" is queued): DATA beyond the receive window, a window that would exceed
// 2^32-1, SYN on an id of the wrong parity or in use, an unknown frame type or version. Streams
// beyond `max_streams` are refused with RST (not an error). Memory is bounded: a stream buffers
// at most its receive window (at most max_receive_window, and all streams' growth together at
// most max_window_growth), the session at most max_streams streams, and a peer that floods
// pings or SYNs without reading our answers is cut off when the queued output exceeds
// `max_control_backlog`.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"

namespace cairn::net::yamux {

inline constexpr std::string_view kProtocolId = "/yamux/1.0.0";
inline constexpr uint32_t kInitialWindow = 256 * 1024;
inline constexpr size_t kHeaderSize = 12;

enum class FrameType : uint8_t { kData = 0, kWindowUpdate = 1, kPing = 2, kGoAway = 3 };
inline constexpr uint16_t kSyn = 0x1, kAck = 0x2, kFin = 0x4, kRst = 0x8;
enum class GoAwayCode : uint32_t { kNormal = 0, kProtocolError = 1, kInternalError = 2 };

struct Header {
  FrameType type = FrameType::kData;
  uint16_t flags = 0;
  uint32_t stream_id = 0;
  uint32_t length = 0;
};
void AppendHeader(Bytes& out, const Header& header);
// Decodes exactly kHeaderSize bytes; InvalidArgument for a version other than 0 or an unknown
// type.
Result<Header> DecodeHeader(ByteSpan twelve);

enum class Role { kClient, kServer };

struct Options {
  uint32_t max_streams = 256;  // streams open at once, both directions, until Release()
  // Receive window each stream advertises (>= 256 KiB; the excess is granted in the SYN/ACK).
  uint32_t receive_window = kInitialWindow;
  // Auto-tuning (see above): a stream's window grows up to this (never below receive_window),
  // and all streams' growth beyond receive_window together stays within max_window_growth.
  uint32_t max_receive_window = 16 << 20;
  size_t max_window_growth = 64 << 20;
  // Largest DATA payload Write() puts in one frame.
  uint32_t max_data_frame = 16 * 1024;
  // Time for RTT and auto-tuning; null is SystemClock::Instance(). Must outlive the session.
  const Clock* clock = nullptr;
  // Write() queues DATA only while less than this is waiting to be sent.
  size_t max_pending_output = 1 << 20;
  // Receive() fails when more than this is queued unsent (the peer does not read).
  size_t max_control_backlog = 8 << 20;
};

// What one Receive() call changed.
struct Events {
  std::vector<uint32_t> opened;   // new inbound streams, accepted (ACK queued)
  std::vector<uint32_t> touched;  // streams with new data, FIN, RST or send window
  bool go_away = false;           // the peer sent GO_AWAY (no new streams either way)
  void Clear() {
    opened.clear();
    touched.clear();
    go_away = false;
  }
};

class Session {
 public:
  Session(Role role, Options options = {});

  // Processes received bytes. After an error the session is dead: send TakeOutput() (a GO_AWAY)
  // and close the connection.
  Result<void> Receive(ByteSpan data, Events& events);
  // Frames queued to send, in order; the caller writes them all. Ping answers, RTT pings and
  // window updates without flags come first, ahead of queued DATA (they commute with it; queued
  // behind a megabyte of DATA they would stall the peer's sender and inflate the RTT).
  Bytes TakeOutput();
  // TakeOutput as two buffers, to be written `urgent` first: each is cleared, then swapped with
  // the session's, which keeps their storage for the next output (a writer that passes the same
  // buffers back each time reuses their allocations in steady traffic).
  void SwapOutput(Bytes& urgent, Bytes& rest);
  size_t pending_output() const { return urgent_.size() + output_.size(); }

  // Queues a PING whose answer measures the round-trip time (auto-tuning needs it; without a
  // measurement windows never grow), and from then on one more with each window update while
  // none is in flight: the first sample, taken while the connection is being set up, can be many
  // times the real RTT.
  void StartRttMeasurement();
  // The caller tells whether received bytes are waiting that it has not passed to Receive yet
  // (its last socket read filled the buffer it offered): then this side, not the window, is
  // what limits the peer, and windows do not grow. Bytes would only queue up in the kernel's
  // buffers, out of the CPU caches.
  void SetReceiveBacklog(bool behind) { receive_backlog_ = behind; }
  // The smallest round-trip time measured, in microseconds; 0 before the first answer.
  int64_t rtt_micros() const { return rtt_micros_; }
  // A stream's current receive window (what it grants when its buffer is empty); 0 when unknown.
  uint32_t ReceiveWindow(uint32_t id) const;

  // Opens an outbound stream (SYN queued). ResourceExhausted at max_streams; Unavailable after
  // either side's GO_AWAY.
  Result<uint32_t> Open();
  // Queues GO_AWAY: no new streams; existing ones go on.
  void GoAway(GoAwayCode code);
  bool going_away() const { return local_go_away_ || remote_go_away_; }

  // Stream operations take ids from Open() or Events::opened. An id that is not (or no longer)
  // known behaves like a reset stream.
  bool Exists(uint32_t id) const { return streams_.count(id) != 0; }
  size_t Readable(uint32_t id) const;
  // Moves up to out.size() buffered bytes into `out`; returns how many. Grants the peer window
  // again once half of it was consumed (and grows it, see auto-tuning above).
  size_t Read(uint32_t id, MutableByteSpan out);
  bool RemoteClosed(uint32_t id) const;  // FIN received (after the buffer drains: EOF)
  bool IsReset(uint32_t id) const;       // RST either way, or unknown id
  uint32_t SendWindow(uint32_t id) const;
  // Queues as much of `data` as the stream's send window and max_pending_output allow, as DATA
  // frames; returns the bytes taken (0 when it must wait for a window update or for the output
  // to drain). Nothing is taken after CloseWrite or a reset.
  size_t Write(uint32_t id, ByteSpan data);
  // Half-close: FIN queued; reads go on.
  void CloseWrite(uint32_t id);
  // RST queued (unless already reset or fully closed); the stream reads as reset.
  void Reset(uint32_t id);
  // The application is done with the stream: forgets it (frees its slot). Resets it first unless
  // this side already sent FIN (then what the peer still sends is dropped).
  void Release(uint32_t id);
  size_t stream_count() const { return streams_.size(); }

 private:
  // Received bytes of one stream, in the pieces they arrived in (each piece is appended to the
  // last chunk while it has room, else starts a chunk of at least kMinChunk bytes).
  class ChunkQueue {
   public:
    size_t size() const { return size_; }
    void Append(ByteSpan data);
    size_t ReadInto(MutableByteSpan out);
    void Clear();

   private:
    static constexpr size_t kMinChunk = 4096;
    std::deque<Bytes> chunks_;
    size_t front_pos_ = 0;  // bytes of chunks_.front() already read
    size_t size_ = 0;
  };

  struct Stream {
    uint32_t send_window = kInitialWindow;
    uint32_t window = kInitialWindow;       // the receive window granted when all is consumed
    uint32_t recv_window = kInitialWindow;  // what the peer may still send
    uint32_t consumed = 0;                  // read since the last window update
    int64_t epoch_micros = 0;               // when the last window update was sent
    ChunkQueue buffer;
    bool local_fin = false;
    bool remote_fin = false;
    bool reset = false;
  };

  using StreamMap = std::unordered_map<uint32_t, Stream>;

  Result<void> HandleFrame(const Header& h, Events& events);
  // A SYN for a stream not open: the new stream, or end() when refused (stream limit, going
  // away; the RST is queued). A SYN of our own parity is a protocol error.
  Result<StreamMap::iterator> AcceptStream(const Header& h, Events& events);
  Result<void> HandleWindowUpdate(const Header& h, Stream& s, Events& events);
  // A DATA header: checks the window; its payload follows (data_left_) or, when empty, its flags
  // apply now.
  Result<void> HandleData(const Header& h, Stream& s, Events& events);
  Result<void> ProtocolError(const std::string& why);
  void Frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length);
  void UrgentFrame(FrameType type, uint16_t flags, uint32_t id, uint32_t length);
  bool IsRemoteId(uint32_t id) const;

  int64_t Now() const { return options_.clock->MonotonicMicros(); }

  Role role_;
  Options options_;
  uint32_t next_id_;
  size_t window_growth_ = 0;  // sum over streams of window - receive_window
  int64_t rtt_micros_ = 0;
  int64_t ping_sent_micros_ = 0;
  uint32_t ping_id_ = 0;  // opaque value of the RTT ping in flight; 0 when none
  uint32_t ping_seq_ = 0;
  bool measure_rtt_ = false;  // StartRttMeasurement() was called
  bool receive_backlog_ = false;
  bool local_go_away_ = false;
  bool remote_go_away_ = false;
  bool dead_ = false;
  StreamMap streams_;
  Bytes urgent_;  // sent before output_ (see TakeOutput)
  Bytes output_;

  // Receive parsing state: header bytes gathered, or DATA payload bytes still due to a stream.
  uint8_t header_buf_[kHeaderSize];
  size_t header_have_ = 0;
  uint32_t data_left_ = 0;
  uint32_t data_stream_ = 0;
  bool data_discard_ = false;  // payload of a stream we do not know: read and dropped
  uint16_t data_flags_ = 0;    // flags of the DATA frame in progress (FIN/RST applied at its end)
};

}  // namespace cairn::net::yamux
