#include "apps/cairn/piece_http.hpp"

#include "gateway/request.hpp"
#include "http/pushed_stream.hpp"
#include "ipld/blocks.hpp"

namespace cairn::app {

namespace {

// The blocks of a deal's piece, read intact (blockstore::Blockstore::GetIntact: the store's own
// record checksum, not SHA-256 against the CID) and so not hashed again by the CAR export. The
// provider computes the CommP of every byte it pulls and refuses a piece that does not match
// the proposal, so a wrong byte fails the deal and is never stored; damage on disk is still
// caught here, by the checksum, and cuts the transfer with the block named in the log. The
// piece's CommP itself was computed from verified reads when the pin was segmented.
class PieceBlockGetter final : public ipld::BlockGetter {
 public:
  explicit PieceBlockGetter(blockstore::Blockstore& blocks) : blocks_(blocks) {}
  Result<Bytes> Get(const multiformats::Cid& cid) override { return blocks_.GetIntact(cid); }
  Result<std::shared_ptr<const Bytes>> GetShared(const multiformats::Cid& cid) override {
    return std::make_shared<const Bytes>(CAIRN_TRY(blocks_.GetIntact(cid)));
  }
  bool VerifiesBlocks() const override { return true; }

 private:
  blockstore::Blockstore& blocks_;
};

// The response body as a ByteSink: blocks and zero runs are queued with their owners (no copy;
// the pushed stream's bound on buffered bytes still holds), everything else is copied.
class BodySink final : public ByteSink {
 public:
  explicit BodySink(const http::PushSink& sink) : sink_(sink) {}
  Result<void> Write(ByteSpan data) override { return sink_(data); }
  Result<void> WriteShared(ByteSpan data, const std::shared_ptr<const void>& owner) override {
    return sink_.Share(data, owner);
  }

 private:
  const http::PushSink& sink_;
};

}  // namespace

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
  r.stream = http::MakePushedStream([view = std::move(view), &blocks, offset,
                                     length](const http::PushSink& sink) -> Result<void> {
    PieceBlockGetter getter(blocks);
    BodySink body(sink);
    return view->WriteRange(offset, length, getter, body);
  });
  return r;
}

}  // namespace cairn::app
