// Bridges a push-style producer (a function that writes bytes to a sink, such as
// unixfs::Exporter::ReadRange) to the pull-style BodyStream the server reads from.
// The producer runs on its own thread and blocks when `max_buffered` bytes are waiting, so memory
// stays bounded; when the consumer goes away (the stream is destroyed before the end, e.g. the
// client disconnected), the producer's next write fails with Cancelled and the thread is joined.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "http/http_types.hpp"

namespace cairn::http {

using PushSink = std::function<Result<void>(ByteSpan)>;
using Producer = std::function<Result<void>(const PushSink&)>;

// Returns a BodyStream that yields what `producer` writes, in order. An error from the producer
// surfaces from the stream (the server then cuts the connection: the status line is long gone).
BodyStream MakePushedStream(Producer producer, size_t max_buffered = 4u << 20);

}  // namespace cairn::http
