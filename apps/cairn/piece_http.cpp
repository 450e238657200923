#include "apps/cairn/piece_http.hpp"

#include "gateway/request.hpp"
#include "http/pushed_stream.hpp"
#include "ipld/blocks.hpp"

namespace cairn::app {

http::Response PieceResponse(const http::Request& request,
                             std::shared_ptr<const filecoin::deals::AggregateView> view,
                             blockstore::Blockstore& blocks) {
  const uint64_t size = view->payload_size();
  uint64_t offset = 0;
  uint64_t length = size;
  http::Response r;
  r.SetHeader("Content-Type", "application/octet-stream");
  r.SetHeader("Accept-Ranges", "bytes");
  r.SetHeader("Cache-Control", "no-store");
  if (auto range_header = request.Header("Range")) {
    if (auto range = gateway::ParseRangeHeader(*range_header)) {
      auto resolved = gateway::ResolveRange(*range, size);
      if (!resolved) {
        http::Response bad = http::ErrorResponse(
            Error(ErrorCode::kInvalidArgument, "filecoin piece: range not satisfiable"));
        bad.status = 416;
        bad.SetHeader("Content-Range", "bytes */" + std::to_string(size));
        return bad;
      }
      offset = resolved->offset;
      length = resolved->length;
      r.status = 206;
      r.SetHeader("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                       std::to_string(offset + length - 1) + "/" +
                                       std::to_string(size));
    }
  }
  r.content_length = length;
  if (request.method == "HEAD") {
    r.stream = http::BodyStream([](MutableByteSpan) -> Result<size_t> { return size_t{0}; });
    return r;
  }
  r.stream = http::MakePushedStream(
      [view, &blocks, offset, length](const http::PushSink& sink) -> Result<void> {
        ipld::BlockGetterFor<blockstore::Blockstore> getter(blocks);
        return view->WriteRange(offset, length, getter,
                                [&sink](ByteSpan b) -> Result<void> { return sink(b); });
      });
  return r;
}

}  // namespace cairn::app
