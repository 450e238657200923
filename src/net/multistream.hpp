// multistream-select 1.0 (../shared/specs/libp2p/connections.md, "Protocol Negotiation"): how the
// two ends of a connection or stream agree on a protocol. Every message is a line: an unsigned
// varint length (counting the trailing '\n'), the UTF-8 protocol id, '\n'. Both ends first send
// the header "/multistream/1.0.0"; the dialer proposes protocols one at a time, the listener
// echoes the one it accepts or answers "na". "ls" is answered "na" (listing is not supported).
//
// Pure: the negotiators below turn received lines into replies and never touch a socket, so the
// host drives them over TCP and over yamux streams alike, and the fuzzer drives them directly.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace cairn::net::multistream {

inline constexpr std::string_view kHeader = "/multistream/1.0.0";
inline constexpr std::string_view kNa = "na";
// Longest message accepted (length prefix value, '\n' included). Protocol ids are short; go and
// js implementations refuse far less than this.
inline constexpr size_t kMaxMessage = 1024;
// Proposals a listener answers "na" before it gives up on the dialer.
inline constexpr int kMaxProposals = 32;

// Appends one message carrying `line` (which must not contain '\n'; at most kMaxMessage - 1
// bytes — callers pass protocol ids they control).
void AppendMessage(Bytes& out, std::string_view line);
Bytes EncodeMessage(std::string_view line);

struct Decoded {
  std::string_view line;  // without the '\n'; a view into the input
  size_t consumed;        // bytes of the input the message took
};
// Decodes the first message of `in`. nullopt when `in` holds only a prefix of it (read more);
// InvalidArgument when the length is not a minimal varint, is 0 or over kMaxMessage, or the
// message does not end in '\n'.
Result<std::optional<Decoded>> DecodeMessage(ByteSpan in);

// The listener's side. Feed every line received, in order; each call returns the bytes to send
// (possibly none). Once `selected()` is set negotiation is over and later bytes belong to the
// selected protocol. Errors (a missing header, too many proposals) end the negotiation: the
// caller closes the stream or connection.
class Listener {
 public:
  // `supported` says whether a proposed protocol id is served here.
  explicit Listener(std::function<bool(std::string_view)> supported)
      : supported_(std::move(supported)) {}

  // The header, sent as soon as the stream opens.
  static Bytes Hello() { return EncodeMessage(kHeader); }
  Result<Bytes> OnLine(std::string_view line);
  const std::optional<std::string>& selected() const { return selected_; }

 private:
  std::function<bool(std::string_view)> supported_;
  bool got_header_ = false;
  int proposals_ = 0;
  std::optional<std::string> selected_;
};

// The dialer's side: proposes `protocols` in order. Start() gives the header and the first
// proposal (sent together, as go and js do). OnLine() returns bytes to send next (the following
// proposal after an "na"). NotSupported when the listener refused every protocol; InvalidArgument
// when it answers something that is neither the header, the proposal nor "na".
class Dialer {
 public:
  explicit Dialer(std::vector<std::string> protocols) : protocols_(std::move(protocols)) {}

  Bytes Start();
  Result<Bytes> OnLine(std::string_view line);
  const std::optional<std::string>& selected() const { return selected_; }

 private:
  std::vector<std::string> protocols_;
  size_t next_ = 0;
  bool got_header_ = false;
  std::optional<std::string> selected_;
};

}  // namespace cairn::net::multistream
