// Reading blocks back from Filecoin (issue 11 §1; DESIGN.md "Life of a pin" step 5;
// ../shared/FILECOIN.md §5 retrieval): when a block of a pinned DAG is not in the hot tier, the
// ColdReader finds the data segments that hold it (the block index recorded when each segment
// was made, metadata::DealStore::ColdLocations), the aggregate each segment is in and the
// providers with an active deal for it, and reads exactly that block's bytes:
//
//   GET <provider retrieval URL>/piece/<aggregate piece CID>
//   Range: bytes=<a>-<a + length - 1>,  a = UnpaddedSize(segment's padded offset) + block offset
//
// The providers serve the aggregate's *unpadded* payload (FRC-0066 /piece; the same bytes the
// deal's transfer carried, filecoin/deals/aggregate_view.hpp), in which a segment placed at
// padded offset P starts at unpadded offset P·127/128 (P is a multiple of 128) and begins with
// its CARv1 export. Only what is read is fetched: one block's bytes per request.
//
// Every block is verified against its CID. A provider that fails (unreachable, 404, wrong
// status or length), lies (bytes that do not hash to the CID) or is slow (past
// `provider_deadline`) is left and the next replica is tried; the reader remembers failures
// per provider and tries providers that failed recently last. The read fails with Unavailable
// (naming every provider and why) only when every replica failed, and with NotFound when no
// active deal holds the block.
//
// Thread-safe: Get may run on many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "filecoin/chain/chain_client.hpp"
#include "filecoin/deals/mk12_client.hpp"
#include "ipld/blocks.hpp"
#include "metadata/deals.hpp"
#include "metadata/events.hpp"

namespace cairn::filecoin::retrieval {

// Byte ranges of pieces from providers' HTTP retrieval (GET /piece/{piece CID} with Range).
// Implemented over the HTTP client by the app; a fake in tests. Thread-safe.
class PieceRangeFetcher {
 public:
  virtual ~PieceRangeFetcher() = default;
  // Exactly bytes [offset, offset + length) of the unpadded piece `piece_cid` served under
  // `base_url` ("http://127.0.0.1:4001"), within `deadline` for the whole exchange. Errors:
  // Timeout past the deadline; Unavailable when the provider cannot be reached or answers 429 or
  // 5xx; NotFound for a 404 (it does not hold the piece); Corruption for any other status (a
  // range answered with a 200 of the whole piece, a 416…), or a body that is not
  // exactly `length` bytes (a provider that ignores Range is cut off at `length` + 1 bytes,
  // never downloaded whole).
  virtual Result<Bytes> Fetch(const std::string& base_url, const std::string& piece_cid,
                              uint64_t offset, uint64_t length,
                              std::chrono::milliseconds deadline) = 0;
  // The same bytes, handed to `sink` in order as they arrive (so a reader can use the first
  // blocks of a long range before the last ones came). Same errors as Fetch, which a
  // fetcher reports before any byte reaches `sink` where it can (a status, a refused
  // connection); an error `sink` returns stops the exchange and is returned. Fewer than
  // `length` bytes in all is Corruption. The default fetches the whole range with Fetch first.
  using ByteSinkFn = std::function<Result<void>(ByteSpan)>;
  virtual Result<void> FetchTo(const std::string& base_url, const std::string& piece_cid,
                               uint64_t offset, uint64_t length, std::chrono::milliseconds deadline,
                               const ByteSinkFn& sink) {
    return sink(CAIRN_TRY(Fetch(base_url, piece_cid, offset, length, deadline)));
  }
};

// Where a provider serves retrievals. Thread-safe.
class RetrievalEndpoints {
 public:
  virtual ~RetrievalEndpoints() = default;
  // The base URL of `provider`'s /piece retrieval (no trailing '/'). NotFound when it
  // publishes none; the chain's errors otherwise.
  virtual Result<std::string> BaseUrl(const std::string& provider) = 0;
};

// From the provider's on-chain multiaddrs (StateMinerInfo): the HTTP(S) endpoint of its market
// (filecoin/deals HttpEndpointOf), where Curio serves /piece beside /market/mk12. A
// libp2p-only provider (Boost: booster-http's address is not on chain) is asked over libp2p
// (/fil/retrieval/transports/1.0.0, through `mk12`) and its "http"/"https" transport is used;
// without `mk12` (no libp2p host), when it offers none, does not support the protocol or answers
// nothing decodable, it has no endpoint (NotFound). Answers, including "none", are cached for
// `ttl`; a query that could not be made (unreachable, timeout, the chain) is not cached. Give
// `mk12` a timeout no longer than a read's deadline: a cold read may wait for this query.
class ChainRetrievalEndpoints final : public RetrievalEndpoints {
 public:
  // `chain`, `clock` and `mk12` (may be null) must outlive this.
  ChainRetrievalEndpoints(chain::ChainClient& chain, const Clock& clock,
                          deals::Mk12Client* mk12 = nullptr,
                          std::chrono::seconds ttl = std::chrono::seconds(600));
  Result<std::string> BaseUrl(const std::string& provider) override;

 private:
  struct Entry {
    std::optional<std::string> url;
    std::string why_none;  // when url is nullopt
    int64_t fetched_us = 0;
  };
  // Asks the chain (and the provider over libp2p when the chain names no HTTP endpoint).
  Result<Entry> Lookup(const std::string& provider);

  chain::ChainClient& chain_;
  const Clock& clock_;
  deals::Mk12Client* const mk12_;
  const int64_t ttl_us_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // GUARDED_BY(mu_)
};

struct ColdReaderOptions {
  // Per provider and block: a provider slower than this is left for the next replica.
  std::chrono::milliseconds provider_deadline{10000};
  // A block longer than this in the index is refused (Corruption): bitswap's limit is 2 MiB.
  uint64_t max_block_size = 4u << 20;
  // GetMany: blocks of one segment at most this far apart (the CAR section headers between
  // them: a varint and a CID) are read with one Range request, up to `max_run_bytes` per request.
  uint64_t max_gap = 1024;
  uint64_t max_run_bytes = 16u << 20;
  // At most one read_from_cold event per pin per interval (reading a large file touches
  // thousands of blocks).
  std::chrono::seconds event_interval{600};
  // Segments tried per block (a block shared by many pins is in many segments).
  size_t max_locations = 8;
};

// Counters since start, for /metrics.
struct ColdReadStats {
  uint64_t reads = 0;   // blocks read from the cold tier and verified
  uint64_t bytes = 0;   // their bytes
  uint64_t misses = 0;  // blocks no active deal holds
  std::map<std::string, uint64_t> reads_by_provider;
  std::map<std::string, uint64_t> failures_by_provider;  // failed, lied or too slow
};

class ColdReader final : public ipld::BlockGetter {
 public:
  // Everything must outlive the reader; `events` may be null (no read_from_cold events).
  ColdReader(metadata::DealStore& deals, metadata::EventStore* events,
             RetrievalEndpoints& endpoints, PieceRangeFetcher& fetcher, const Clock& clock,
             ColdReaderOptions options = {});

  // The block `cid` names, read from a provider and verified (see the header comment).
  Result<Bytes> Get(const multiformats::Cid& cid) override;
  // The block's size from the index, without fetching: NotFound unless an active deal holds it.
  Result<uint64_t> Size(const multiformats::Cid& cid) override;
  // Several blocks: those held in the same segment are grouped into runs of nearby blocks
  // (`max_gap`, `max_run_bytes`), and each run is read with one Range request and streamed, every
  // block verified and handed to `each` as soon as its bytes are in. A provider that fails or
  // lies part-way through a run is left (its score drops, as in Get) and the rest of the run is
  // read from the next replica. Blocks no run could give are read one by one as Get does
  // (another segment may hold them), unless they are in no other segment: they then get the
  // run's error. Each block is answered exactly once, on the calling thread.
  void GetMany(std::span<const multiformats::Cid> cids, const EachBlock& each) override;
  // Every block Get and GetMany return was verified against its CID.
  bool VerifiesBlocks() const override { return true; }

  ColdReadStats Stats() const;

 private:
  struct Wanted {
    const multiformats::Cid* cid = nullptr;
    metadata::ColdLocation where;  // the first location with an active deal
    bool elsewhere = false;        // another location could give it too
    bool answered = false;
  };
  // Reads the run `run` (blocks of one segment by increasing offset), provider after provider,
  // until every block was answered; the failures, "" when none.
  std::string ReadRun(std::span<Wanted*> run, const EachBlock& each);
  // One attempt at one provider; the bytes, verified.
  Result<Bytes> ReadFrom(const std::string& provider, const metadata::ColdLocation& where,
                         const multiformats::Cid& cid);
  // Providers of `where` in the order to try them: fewest recent failures first.
  std::vector<std::string> Ordered(const std::vector<std::string>& providers) const;
  void Succeeded(const std::string& provider, const metadata::ColdLocation& where,
                 const multiformats::Cid& cid, uint64_t bytes);
  void Failed(const std::string& provider);

  metadata::DealStore& deals_;
  metadata::EventStore* events_;
  RetrievalEndpoints& endpoints_;
  PieceRangeFetcher& fetcher_;
  const Clock& clock_;
  const ColdReaderOptions options_;

  mutable std::mutex mu_;
  ColdReadStats stats_;                                     // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> recent_failures_;         // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> last_event_us_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::filecoin::retrieval
