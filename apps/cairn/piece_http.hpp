// Serving a deal's piece over HTTP (docs/formats/piece-serving.md): Range handling over the
// aggregate view (filecoin/deals/aggregate_view.hpp). Authentication is the caller's
// (ColdTier::HandlePiece checks the per-deal token first).
#pragma once

#include <memory>

#include "blockstore/blockstore.hpp"
#include "filecoin/deals/aggregate_view.hpp"
#include "http/http_types.hpp"

namespace cairn::app {

// The answer to GET|HEAD of a deal's piece, given its view (authentication already done): the
// whole payload (200) or a single Range (206 with Content-Range; 416 with "bytes */size" when
// unsatisfiable; other Range forms are ignored and get 200), streamed from the block store with
// bounded memory. Content-Length is always set (Boost's HEAD needs it). Pure but for reading
// `blocks` while the body streams.
http::Response PieceResponse(const http::Request& request,
                             std::shared_ptr<const filecoin::deals::AggregateView> view,
                             blockstore::Blockstore& blocks);

}  // namespace cairn::app
