// yamux (../shared/specs/libp2p/yamux.md, protocol id "/yamux/1.0.0"): many streams over one
// secured connection. Frames are a 12-byte big-endian header {version 0, type, flags, stream id,
// length} and, for DATA, `length` payload bytes. Types: DATA, WINDOW_UPDATE, PING, GO_AWAY; flags
// SYN, ACK, FIN, RST. The dialer of the connection (client) opens odd stream ids, the listener
// even ones; 0 is the session. Each stream starts with a 256 KiB receive window in each direction
// and only DATA payload counts against it.
//
// Session is the pure state machine of one connection: received bytes in (any split), frames out
// (TakeOutput), per-stream buffers and windows in between. It never touches a socket; the host
// (net/host.hpp) moves bytes and wakes the coroutines waiting on the streams Receive touched.
//
// Protocol violations end the session (Receive returns InvalidArgument and a GO_AWAY with
// "protocol error" is queued): DATA beyond the receive window, a window that would exceed
// 2^32-1, SYN on an id of the wrong parity or in use, an unknown frame type or version. Streams
// beyond `max_streams` are refused with RST (not an error). Memory is bounded: a stream buffers
// at most its receive window, the session at most max_streams streams, and a peer that floods
// pings or SYNs without reading our answers is cut off when the queued output exceeds
// `max_control_backlog`.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
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
  // Frames queued to send, in order; the caller writes them all.
  Bytes TakeOutput();
  // TakeOutput into `buffer` (cleared first), whose storage the session keeps for the next output:
  // a writer that passes the same buffer back each time reuses two allocations in steady traffic.
  void SwapOutput(Bytes& buffer);
  size_t pending_output() const { return output_.size(); }

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
  // again once half of it was consumed.
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
  struct Stream {
    uint32_t send_window = kInitialWindow;
    uint32_t recv_window = kInitialWindow;  // what the peer may still send
    uint32_t consumed = 0;                  // read since the last window update
    Bytes buffer;
    size_t read_pos = 0;
    bool local_fin = false;
    bool remote_fin = false;
    bool reset = false;
  };

  Result<void> HandleFrame(const Header& h, Events& events);
  Result<void> ProtocolError(std::string why);
  void Frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length);
  bool IsRemoteId(uint32_t id) const;

  Role role_;
  Options options_;
  uint32_t next_id_;
  bool local_go_away_ = false;
  bool remote_go_away_ = false;
  bool dead_ = false;
  std::unordered_map<uint32_t, Stream> streams_;
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
