// A pin's Filecoin receipt (issue 10 §8; docs/formats/receipt.md): what a user needs to check,
// without trusting Cairn, that their DAG sits in a piece that providers store — the segment (the
// CARv1 export of the pin's DAG, FRC-0058 data segment), the aggregate it was packed into, the
// PoDSI inclusion proof (FRC-0058 "Proof of Data Segment Inclusion") that ties the two, and the
// storage deals made for the aggregate.
//
// Three parts:
// - BuildReceipt reads the recorded state (metadata::DealStore) and rebuilds the aggregate's
//   tree from its segments to prove the pin's segment; it never shows a deal in a state other
//   than the one recorded (a deal is `active` only once the engine saw it active at the finalized
//   tipset).
// - RenderReceipt / ParseReceipt: the JSON form. ParseReceipt reads untrusted text (a receipt
//   handed to `cairn receipt verify`): strict, bounded, fuzzed (fuzz/receipt_fuzz.cpp).
// - VerifyReceiptInclusion (offline, pure) and CheckDealOnChain (given the chain's answer, pure)
//   are the checks `cairn receipt verify` runs; each failure names what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "filecoin/chain/lotus_json.hpp"
#include "filecoin/types/address.hpp"
#include "metadata/deals.hpp"
#include "multiformats/cid.hpp"

namespace cairn::filecoin::deals {

// Receipts larger than this are refused by ParseReceipt (a receipt lists a handful of deals).
inline constexpr size_t kMaxReceiptBytes = 8u << 20;
inline constexpr size_t kMaxReceiptDeals = 1024;
inline constexpr size_t kMaxReceiptHistory = 64;
inline constexpr size_t kMaxReceiptShards = 4096;

struct ReceiptDeal {
  std::string provider;            // f0… as recorded (the network's spelling)
  std::string client;              // the wallet address that signed the proposal
  std::optional<int64_t> deal_id;  // the on-chain deal ID once published
  std::string proposal_cid;        // the proposal's CID (the market actor's key)
  std::string publish_cid;         // the PublishStorageDeals message; "" before publishing
  int64_t start_epoch = 0;
  int64_t end_epoch = 0;
  std::string state;  // metadata::DealStateName as recorded

  friend bool operator==(const ReceiptDeal&, const ReceiptDeal&) = default;
};

struct Receipt {
  multiformats::Cid cid;                     // the DAG root = the CAR's only root (CIDv1)
  multiformats::Cid segment_piece_cid;       // v2 piece CID of the CAR (FRC-0069: carries its size)
  uint64_t segment_offset = 0;               // padded offset of the segment in the aggregate
  uint64_t segment_size = 0;                 // padded size of the segment piece
  multiformats::Cid aggregate_piece_cid;     // v1 (baga…), the deals' PieceCID
  multiformats::Cid aggregate_piece_cid_v2;  // v2 of the same piece (payload = its capacity)
  uint64_t aggregate_padded_size = 0;        // the deals' PieceSize
  Bytes inclusion_proof;                     // DAG-CBOR PoDSI proof (aggregation::InclusionProof)
  std::vector<ReceiptDeal> deals;            // every deal not rejected or failed, oldest first
  // Earlier placements of the same segment, oldest first: aggregates a re-aggregation moved it
  // out of (docs/formats/receipt.md "History"). Each is a complete receipt of its own (same cid
  // and segment, its aggregate, proof and deals) with no history.
  std::vector<Receipt> history;
  // Which CAR shard of the DAG the segment is (docs/formats/car-shards.md): `shard` of
  // `shard_count`, holding the sections [first_section, first_section + sections) of the DAG's
  // export (`sections` absent: through its end). 0 of 1 for a DAG whose export fits one piece.
  uint32_t shard = 0;
  uint32_t shard_count = 1;
  uint64_t first_section = 0;
  std::optional<uint64_t> sections;
  // In shard 0's receipt of a DAG in several shards: the receipts of shards 1 … count − 1, in
  // order, each complete (with its history) and with no shards of its own. The user's DAG is
  // every shard's blocks together.
  std::vector<Receipt> shards;

  friend bool operator==(const Receipt&, const Receipt&) = default;
};

// The receipt of pin `requestid` from the recorded state (shard 0's, with the other shards'
// receipts in `shards`). The caller has checked that the pin is the requester's. NotFound with
// the reason while there is none to give ("…has no segment yet", "…is waiting to be aggregated",
// also while any of its shards is); Corruption when the recorded aggregate cannot be
// rebuilt from its segments (a segment's offset differs, or the rebuilt root is not the recorded
// piece CID); the database's errors.
Result<Receipt> BuildReceipt(metadata::DealStore& deals, std::string_view requestid);

// The JSON of docs/formats/receipt.md (one object, no trailing newline).
std::string RenderReceipt(const Receipt& receipt);

// Strict parse of that JSON: every field present with its type (deals' dealId may be null,
// unknown members are ignored), CIDs that parse, a hex proof, at most kMaxReceiptBytes and
// kMaxReceiptDeals. InvalidArgument naming the field ("receipt: segment.offset: not an unsigned
// integer").
Result<Receipt> ParseReceipt(std::string_view json);

// What the inclusion check established, for the report.
struct VerifiedInclusion {
  uint64_t segment_payload_size = 0;  // the CAR's length, from the segment's v2 CID
  uint64_t aggregate_payload_size = 0;
};

// Offline checks of one receipt (not of its `shards`: ShardsConsistent, then each shard's own):
// the segment's v2 CID is a valid piece of `segment.size` padded bytes; the
// aggregate's v1 and v2 CIDs name the same root and `paddedSize`; the proof decodes and leads
// from the segment's commitment, at `segment.offset`, to exactly the aggregate's root and size,
// with an index entry describing the segment. InvalidArgument naming the failed check.
Result<VerifiedInclusion> VerifyReceiptInclusion(const Receipt& receipt);

// That the shards of shard 0's receipt `r` describe one DAG cut into consecutive shards: the
// same cid, shard i + 1 at index i + 1 of the same count, each starting where the one before
// ends. InvalidArgument naming the first inconsistency.
Result<void> ShardsConsistent(const Receipt& r);

// Compares one receipt deal with the chain's answer for its deal ID: piece CID and size
// (the receipt's aggregate), provider, client, start and end epochs; for a deal the receipt calls
// `active`, the chain must show it activated and not slashed. Returns the list of differences
// ("provider: on chain t01002, receipt t01000"), empty when the chain agrees.
std::vector<std::string> CheckDealOnChain(const Receipt& receipt, const ReceiptDeal& deal,
                                          const chain::MarketDeal& onchain);

}  // namespace cairn::filecoin::deals
