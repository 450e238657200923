// Bridges a push-style producer (a function that writes bytes to a sink, such as
// unixfs::Exporter::ReadRange) to the pull-style BodyStream the server reads from.
// The producer runs on its own thread and blocks when `max_buffered` bytes are waiting, so memory
// stays bounded; when the consumer goes away (the stream is destroyed before the end, e.g. the
// client disconnected), the producer's next write fails with Cancelled and the thread is joined.
// Bytes pushed with their owner (PushSink::Share) are not copied: the stream hands the same
// memory to the server, which writes it to the socket and then lets go of the owner.
#pragma once

#include <functional>
#include <memory>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "http/http_types.hpp"

namespace cairn::http {

namespace internal {
class Channel;
}

// Where a producer writes. Copyable and cheap; valid while the producer runs.
class PushSink {
 public:
  explicit PushSink(internal::Channel* channel) : channel_(channel) {}
  // Copies `data` into the stream.
  Result<void> operator()(ByteSpan data) const;
  // Queues `data` without copying it: `owner` keeps it alive until it has been sent. With no
  // owner, copies like operator().
  Result<void> Share(ByteSpan data, std::shared_ptr<const void> owner) const;

 private:
  internal::Channel* channel_;
};

using Producer = std::function<Result<void>(const PushSink&)>;

// Returns a BodyStream that yields what `producer` writes, in order. An error from the producer
// surfaces from the stream (the server then cuts the connection: the status line is long gone).
BodyStream MakePushedStream(Producer producer, size_t max_buffered = 4u << 20);

}  // namespace cairn::http
