// The deal side of the cold tier, measured against what the same bytes cost as a plain file
// (issue 10 §11; docs/benchmarks.md "Deal data (issue 10 §11)"). Three modes:
//
//   deal_bench seed --repo DIR --out DIR [--pins 64] [--min-kib 256] [--max-kib 4096]
//                   [--piece-mib 256] [--seed 1]
//     Writes a repo `cairn serve` can open: --pins random files imported as UnixFS (CIDv1, raw
//     leaves, 1 MiB chunks: unixfs-v1-2025) into the repo's block store (blocks/, the
//     LogBlockstore the service uses), pinned through metadata::PinStore, then segmented and
//     packed by the real deal engine (DealEngine::Tick with FakeLotus as the chain; the clock
//     is moved past batch_wait once every pin has its segment, so the segments share one
//     aggregate of at most --piece-mib padded MiB), and one deal of the first aggregate in
//     `accepted` (the provider would now pull the data) with a random data token, written with
//     a proposal signed by the repo's wallet (wallet/, created here). Output in --out:
//       deal.uuid, deal.token    the deal and its token (Authorization: Bearer <token>)
//       piece.cid                the aggregate's piece CID (v1)
//       payload.bin              the deal's payload, written through DealEngine::OpenPiece and
//                                AggregateView (what /filecoin/piece/<uuid> serves), checked to
//                                have the piece CID as its CommP
//       provider                 the provider of the deal (f01000)
//
//   deal_bench commp --repo DIR --out DIR [--rounds 5] [--threads 1] [--only aggregate]
//     CommP over stored pins against CommP over a file with the same bytes, side by side in one
//     process, sides alternating within each round, process CPU time and wall time:
//       aggregate, store  DealEngine::OpenPiece → AggregateView::WriteRange of the whole payload
//                         (every block read from the repo's LogBlockstore and verified by the
//                         exporter) → piece::CommPBuilder; the result must be piece.cid;
//       aggregate, file   piece::ComputeCommP over payload.bin (FileSource), what
//                         `cairn piece commp --threads N payload.bin` runs;
//       segments, store   dealdata::ComputeCarPiece of every segment's DAG from the block store,
//                         what the engine's Segment step runs; each must equal the recorded
//                         commitment;
//       segments, file    piece::ComputeCommP over each segment's CAR bytes, read from where
//                         they sit in payload.bin.
//     With --only aggregate, runs the aggregate-from-store side once and prints its piece CID,
//     for a process-level comparison with `cairn piece commp` (scripts/bench-deals.sh).
//
//   deal_bench plan [--pins 100000] [--kib 4] [--piece-mib 1024]
//     100,000 pinned pins of 4 KiB random bytes (one raw block each, CIDv1: real blocks in a
//     LogBlockstore, real SQLite metadata with the service's migrations and triggers) planned by
//     the deal engine: Tick runs back to back (the engine's loop when Notify keeps waking it)
//     until every pin has its segment (the Segment step: the CommP of each DAG's CARv1 export),
//     then the clock is moved past batch_wait and Tick runs until every segment is in an
//     aggregate. Reports wall and process CPU time of each phase against the goal (10 s).
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "blockstore/log_blockstore.hpp"
#include "common/clock.hpp"
#include "common/env.hpp"
#include "common/io.hpp"
#include "filecoin/aggregation/segment.hpp"
#include "filecoin/chain/test_fake_lotus.hpp"
#include "filecoin/dealdata/car_piece.hpp"
#include "filecoin/deals/deal_engine.hpp"
#include "filecoin/piece/commp.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "filecoin/wallet/wallet.hpp"
#include "ipld/blocks.hpp"
#include "metadata/deals.hpp"
#include "metadata/open.hpp"
#include "metadata/pins.hpp"
#include "metadata/provider_stats.hpp"
#include "multiformats/multihash.hpp"
#include "unixfs/importer.hpp"

namespace {

using namespace cairn;
namespace fs = std::filesystem;
namespace chain = cairn::filecoin::chain;
namespace deals = cairn::filecoin::deals;
namespace piece = cairn::filecoin::piece;
using filecoin::Address;

using bench::Die;
using bench::Must;
using bench::ProcessCpuSeconds;

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Cost {
  double wall = 0;
  double cpu = 0;
};

template <typename Fn>
Cost Timed(const Fn& fn) {
  const double w = WallSeconds();
  const double c = ProcessCpuSeconds();
  fn();
  return {WallSeconds() - w, ProcessCpuSeconds() - c};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  if (!in && text.empty()) Die("cannot read " + path.string());
  return text;
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  if (!out) Die("cannot write " + path.string());
}

std::string RandomHex(size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) Die("RAND_bytes failed");
  return HexEncode(b);
}

std::string RandomUuid() {
  Bytes b(16);
  if (RAND_bytes(b.data(), 16) != 1) Die("RAND_bytes failed");
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// No provider is reached: the engine's MakeDeals finds none with an endpoint (FakeLotus does
// not answer StateMinerInfo), and the benches never need one.
class NoProviders final : public deals::Mk12Transport {
 public:
  Result<deals::Mk12HttpReply> Send(const std::string&, const std::string& url, const std::string&,
                                    std::chrono::milliseconds, uint64_t) override {
    return Err(ErrorCode::kUnavailable, "bench: no provider at " + url);
  }
  Result<deals::Mk12StreamReply> Exchange(const std::string& peer, const std::vector<std::string>&,
                                          const std::vector<deals::Mk12StreamOffer>&,
                                          std::chrono::milliseconds, uint64_t) override {
    return Err(ErrorCode::kUnavailable, "bench: no provider " + peer);
  }
};

// The engine as `cairn serve` wires it (apps/cairn/cold_tier.cpp), over FakeLotus.
struct EngineParts {
  EngineParts(metadata::Database& db, blockstore::Blockstore& blocks,
              const filecoin::wallet::Wallet& wallet, const Address& client, const fs::path& dir,
              const Clock& clock, uint64_t piece_size)
      : deal_store(db, clock),
        stats(db),
        pins(db, clock),
        chain_client(lotus, chain::ChainClientOptions{.url = chain::testing::FakeLotus::kUrl,
                                                      .head_ttl = std::chrono::milliseconds(0)}),
        sender(chain_client, wallet, Env::Default(), dir / "pending", {}),
        mk12(transport) {
    lotus.height = 10000;
    lotus.finality_lag = 900;
    deals::DealEngineConfig config;
    config.providers = {*Address::Id(1000)};
    config.replicas = 1;
    config.client = client;
    config.piece_size = piece_size;
    config.public_url = "http://127.0.0.1:9";
    engine = std::make_unique<deals::DealEngine>(config, deal_store, stats, pins, blocks,
                                                 chain_client, sender, wallet, mk12, clock);
  }
  chain::testing::FakeLotus lotus;  // NOLINT(misc-const-correctness): answers through Post
  metadata::DealStore deal_store;
  metadata::ProviderStatsStore stats;
  metadata::PinStore pins;
  chain::ChainClient chain_client;
  chain::MessageSender sender;
  NoProviders transport;
  deals::Mk12Client mk12;
  std::unique_ptr<deals::DealEngine> engine;
};

// Ticks until no pin waits for a segment; returns the number of ticks.
int SegmentAll(EngineParts& parts) {
  int ticks = 0;
  while (true) {
    auto waiting = Must(parts.deal_store.UnsegmentedPins(1), "unsegmented pins");
    if (waiting.empty()) return ticks;
    // The engine's MakeDeals fails without a provider endpoint; Segment's own errors are fatal.
    (void)parts.engine->Tick();
    ++ticks;
    if (ticks > 1'000'000) Die("segmenting does not end");
  }
}

// Ticks until no segment waits for an aggregate; returns the number of ticks.
int AggregateAll(EngineParts& parts) {
  int ticks = 0;
  while (true) {
    auto waiting = Must(parts.deal_store.UnaggregatedSegments(1), "unaggregated segments");
    if (waiting.empty()) return ticks;
    (void)parts.engine->Tick();
    ++ticks;
    if (ticks > 100'000) Die("aggregating does not end");
  }
}

using Flags = std::map<std::string, std::string>;

Flags ParseFlags(int argc, char** argv, int first) {
  Flags flags;
  for (int i = first; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument " + flag);
    flags[flag.substr(2)] = argv[i + 1];
  }
  return flags;
}

std::string Flag(const Flags& flags, const std::string& name, const std::string& fallback) {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

int64_t IntFlag(const Flags& flags, const std::string& name, int64_t fallback) {
  return std::atoll(Flag(flags, name, std::to_string(fallback)).c_str());
}

// ---- seed ----------------------------------------------------------------------------------

int Seed(const Flags& flags) {
  const fs::path repo = Flag(flags, "repo", "");
  const fs::path out = Flag(flags, "out", "");
  const int64_t n_pins = IntFlag(flags, "pins", 64);
  const int64_t min_kib = IntFlag(flags, "min-kib", 256);
  const int64_t max_kib = IntFlag(flags, "max-kib", 4096);
  const uint64_t piece_size = static_cast<uint64_t>(IntFlag(flags, "piece-mib", 256)) << 20;
  if (repo.empty() || out.empty() || n_pins < 1 || min_kib < 1 || max_kib < min_kib ||
      (piece_size & (piece_size - 1)) != 0) {
    Die("usage: deal_bench seed --repo DIR --out DIR [--pins N] [--min-kib N] [--max-kib N] "
        "[--piece-mib POWER_OF_TWO] [--seed N]");
  }
  if (fs::exists(repo / "cairn.db")) Die(repo.string() + " already has a cairn.db");
  fs::create_directories(repo);
  fs::create_directories(out);
  FakeClock clock;
  auto db = Must(metadata::OpenSqliteMetadata((repo / "cairn.db").string()), "open metadata");
  auto blocks = Must(blockstore::LogBlockstore::Open(repo / "blocks"), "open block store");
  auto wallet = Must(filecoin::wallet::Wallet::Open(Env::Default(), repo / "wallet"), "wallet");
  const Address client = Must(wallet->New(), "new wallet address");
  EngineParts parts(*db, *blocks, *wallet, client, repo / "bench-pending", clock, piece_size);

  Must(db->Write([](metadata::SqlSession& s) -> Result<void> {
    std::array<metadata::SqlValue, 1> name = {std::string("deal-bench")};
    CAIRN_TRY(s.Exec("INSERT INTO accounts (name, created_at) VALUES (?, 0)", name));
    return Ok();
  }),
       "account");
  const int64_t account = 1;

  // Pins: random files imported as the service's /api/v0/add does with the v1 profile.
  std::mt19937_64 rng(static_cast<uint64_t>(IntFlag(flags, "seed", 1)));
  std::uniform_int_distribution<int64_t> kib(min_kib, max_kib);
  auto options = Must(unixfs::ImportOptions::FromProfile("unixfs-v1-2025"), "profile");
  options.threads = 1;
  ipld::StoreSink<blockstore::LogBlockstore> sink(*blocks);
  uint64_t file_bytes = 0;
  const double start = WallSeconds();
  for (int64_t i = 0; i < n_pins; ++i) {
    Bytes data(static_cast<size_t>(kib(rng)) * 1024);
    for (size_t j = 0; j + 8 <= data.size(); j += 8) {
      const uint64_t r = rng();
      std::memcpy(data.data() + j, &r, 8);
    }
    file_bytes += data.size();
    SpanSource source(data);
    auto node = Must(unixfs::ImportFile(source, options, sink), "import");
    auto pin = Must(parts.pins.Create(
                        account, {.cid = node.cid.ToString(), .name = "file-" + std::to_string(i)}),
                    "create pin");
    Must(parts.pins.UpdateStatus(pin.requestid, metadata::PinStatus::kPinned, {},
                                 static_cast<int64_t>(node.tsize)),
         "pinned");
    clock.Advance(1000);
  }
  Must(blocks->Sync(), "sync blocks");

  // The engine: every pin gets its segment, then (batch_wait passed) its aggregate.
  const int seg_ticks = SegmentAll(parts);
  clock.Advance(
      std::chrono::duration_cast<std::chrono::microseconds>(parts.engine->config().batch_wait)
          .count() +
      1);
  const int agg_ticks = AggregateAll(parts);
  auto aggregates = Must(parts.deal_store.Aggregates(), "aggregates");
  if (aggregates.empty()) Die("no aggregate was made");
  const metadata::AggregateRecord& agg = aggregates.front();
  const auto segments = Must(parts.deal_store.Segments(agg.id), "segments");

  // One deal of the first aggregate, accepted by its provider, which will now pull the data.
  filecoin::DealProposal p;
  p.piece_cid = Must(multiformats::Cid::Parse(agg.piece_cid), "piece cid");
  p.piece_size = agg.padded_size;
  p.client = client;
  p.provider = *Address::Id(1000);
  p.label = agg.piece_cid;
  p.start_epoch = parts.lotus.height + 5760;
  p.end_epoch = p.start_epoch + 180 * deals::kEpochsPerDay;
  p.storage_price_per_epoch = filecoin::BigInt::FromUint(1000);
  p.provider_collateral = filecoin::BigInt::FromUint(2000);
  auto sig = Must(wallet->SignBytes(client, p.Encode()), "sign");
  const std::string token = RandomHex(32);
  metadata::DealRecord d;
  d.uuid = RandomUuid();
  d.aggregate_id = agg.id;
  d.provider = p.provider.ToString();
  d.signed_proposal = filecoin::ClientDealProposal{p, sig}.Encode();
  d.proposal_cid = p.GetCid().ToString();
  d.price_per_epoch = "1000";
  d.provider_collateral = "2000";
  d.client_collateral = "0";
  d.start_epoch = p.start_epoch;
  d.end_epoch = p.end_epoch;
  const auto digest = multiformats::Sha256(AsBytes(token));
  d.token_hash = Bytes(digest.begin(), digest.end());
  Must(parts.deal_store.CreateDeal(d), "create deal");
  d.state = metadata::DealState::kAccepted;
  d.provider_message = "accepted (deal_bench seed)";
  Must(parts.deal_store.UpdateDeal(d, metadata::ProviderEvent::kAccepted), "accept deal");

  // The payload, as the piece endpoint serves it, and its CommP.
  auto opened = Must(parts.engine->OpenPiece(d.uuid, token), "open piece");
  auto file = Must(FileSink::Create((out / "payload.bin").string()), "payload file");
  piece::CommPBuilder commp;
  ipld::BlockGetterFor<blockstore::LogBlockstore> getter(*blocks);
  Must(opened.view->WriteRange(0, opened.view->payload_size(), getter,
                               [&](ByteSpan b) -> Result<void> {
                                 CAIRN_TRY(file.Write(b));
                                 return commp.Update(b);
                               }),
       "write payload");
  Must(file.Close(), "close payload file");
  auto info = Must(commp.Finish(), "commp of the payload");
  if (piece::PieceCidV1(info.root).ToString() != agg.piece_cid) {
    Die("the payload's CommP is not the aggregate's piece CID");
  }
  WriteText(out / "deal.uuid", d.uuid);
  WriteText(out / "deal.token", token);
  WriteText(out / "piece.cid", agg.piece_cid);
  WriteText(out / "provider", d.provider);
  uint64_t car_bytes = 0;
  for (const auto& s : segments) car_bytes += s.car_size;
  std::printf(
      "seeded %lld pins (%.1f MiB of files) in %.1f s; %d segment ticks, %d aggregate ticks, "
      "%zu aggregates; deal %s of aggregate %lld: %zu segments, %.1f MiB of CARs, payload %.1f "
      "MiB (%s)\n",
      static_cast<long long>(n_pins), static_cast<double>(file_bytes) / 1048576,
      WallSeconds() - start, seg_ticks, agg_ticks, aggregates.size(), d.uuid.c_str(),
      static_cast<long long>(agg.id), segments.size(), static_cast<double>(car_bytes) / 1048576,
      static_cast<double>(opened.view->payload_size()) / 1048576, agg.piece_cid.c_str());
  return 0;
}

// ---- commp ---------------------------------------------------------------------------------

// Bytes [offset, offset + length) of a file, read with pread in large pieces.
class RegionSource final : public ByteSource {
 public:
  RegionSource(int fd, uint64_t offset, uint64_t length)
      : fd_(fd), offset_(offset), end_(offset + length) {}
  Result<size_t> Read(MutableByteSpan out) override {
    if (offset_ == end_ || out.empty()) return size_t{0};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), end_ - offset_));
    const ssize_t n = ::pread(fd_, out.data(), want, static_cast<off_t>(offset_));
    if (n < 0) return Err(ErrorCode::kIoError, "pread of the payload failed");
    if (n == 0) return Err(ErrorCode::kIoError, "the payload file is shorter than recorded");
    offset_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

 private:
  int fd_;
  uint64_t offset_;
  uint64_t end_;
};

int CommP(const Flags& flags) {
  const fs::path repo = Flag(flags, "repo", "");
  const fs::path out = Flag(flags, "out", "");
  const int rounds = static_cast<int>(IntFlag(flags, "rounds", 5));
  const auto threads = static_cast<unsigned>(IntFlag(flags, "threads", 1));
  const std::string only = Flag(flags, "only", "");
  if (repo.empty() || out.empty() || rounds < 1 || (!only.empty() && only != "aggregate")) {
    Die("usage: deal_bench commp --repo DIR --out DIR [--rounds N] [--threads N] "
        "[--only aggregate]");
  }
  const Clock& clock = SystemClock::Instance();
  auto db = Must(metadata::OpenSqliteMetadata((repo / "cairn.db").string()), "open metadata");
  auto blocks = Must(blockstore::LogBlockstore::Open(repo / "blocks"), "open block store");
  auto wallet = Must(filecoin::wallet::Wallet::Open(Env::Default(), repo / "wallet"), "wallet");
  const Address client = Must(wallet->Resolve(std::nullopt), "wallet address");
  const fs::path scratch = fs::temp_directory_path() / ("deal-bench-" + std::to_string(getpid()));
  EngineParts parts(*db, *blocks, *wallet, client, scratch, clock, 1ull << 30);
  const std::string uuid = ReadText(out / "deal.uuid");
  const std::string token = ReadText(out / "deal.token");
  const std::string piece_cid = ReadText(out / "piece.cid");
  const std::string payload_path = (out / "payload.bin").string();
  const auto deal = Must(parts.deal_store.GetDeal(uuid), "deal");
  const auto segments = Must(parts.deal_store.Segments(deal.aggregate_id), "segments");
  ipld::BlockGetterFor<blockstore::LogBlockstore> getter(*blocks);

  auto aggregate_store = [&] {
    auto opened = Must(parts.engine->OpenPiece(uuid, token), "open piece");
    piece::CommPBuilder commp({.threads = threads});
    Must(opened.view->WriteRange(0, opened.view->payload_size(), getter,
                                 [&](ByteSpan b) { return commp.Update(b); }),
         "aggregate from the store");
    auto info = Must(commp.Finish(), "commp");
    if (piece::PieceCidV1(info.root).ToString() != piece_cid) Die("aggregate CommP differs");
    return info.payload_size();
  };
  if (only == "aggregate") {
    const uint64_t size = aggregate_store();
    std::printf("{\"pieceCidV1\":\"%s\",\"payloadSize\":%llu}\n", piece_cid.c_str(),
                static_cast<unsigned long long>(size));
    fs::remove_all(scratch);
    return 0;
  }
  auto aggregate_file = [&] {
    auto source = Must(FileSource::Open(payload_path), "payload");
    auto info = Must(piece::ComputeCommP(source, {.threads = threads}), "commp of the file");
    if (piece::PieceCidV1(info.root).ToString() != piece_cid) Die("file CommP differs");
  };
  auto segments_store = [&] {
    for (const auto& s : segments) {
      auto root = Must(multiformats::Cid::FromBytes(s.root_cid), "root");
      auto p = Must(filecoin::dealdata::ComputeCarPiece(root, *blocks, {.threads = threads}),
                    "segment from the store");
      if (!std::equal(s.comm_p.begin(), s.comm_p.end(), p.piece.root.begin())) {
        Die("segment CommP differs");
      }
    }
  };
  const int fd = ::open(payload_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("cannot open " + payload_path);
  auto segments_file = [&] {
    for (const auto& s : segments) {
      RegionSource source(fd, filecoin::aggregation::UnpaddedSize(s.piece_offset), s.car_size);
      auto info = Must(piece::ComputeCommP(source, {.threads = threads}), "segment from the file");
      if (!std::equal(s.comm_p.begin(), s.comm_p.end(), info.root.begin())) {
        Die("segment CommP of the file differs");
      }
    }
  };
  uint64_t car_bytes = 0;
  for (const auto& s : segments) car_bytes += s.car_size;
  const uint64_t payload = aggregate_store();  // warm the page cache for both sides
  aggregate_file();
  std::vector<double> as_cpu, af_cpu, ss_cpu, sf_cpu, as_wall, af_wall, ss_wall, sf_wall;
  for (int r = 0; r < rounds; ++r) {
    // Alternate which side goes first, so a burst of load hits both alike.
    auto run = [&](bool store_first) {
      if (store_first) {
        auto a = Timed([&] { aggregate_store(); });
        auto b = Timed(aggregate_file);
        auto c = Timed(segments_store);
        auto d = Timed(segments_file);
        return std::array<Cost, 4>{a, b, c, d};
      }
      auto b = Timed(aggregate_file);
      auto a = Timed([&] { aggregate_store(); });
      auto d = Timed(segments_file);
      auto c = Timed(segments_store);
      return std::array<Cost, 4>{a, b, c, d};
    };
    auto costs = run(r % 2 == 0);
    as_cpu.push_back(costs[0].cpu), af_cpu.push_back(costs[1].cpu);
    ss_cpu.push_back(costs[2].cpu), sf_cpu.push_back(costs[3].cpu);
    as_wall.push_back(costs[0].wall), af_wall.push_back(costs[1].wall);
    ss_wall.push_back(costs[2].wall), sf_wall.push_back(costs[3].wall);
    std::printf(
        "round %d: aggregate store %.3f s CPU (%.3f wall), file %.3f (%.3f); segments store "
        "%.3f (%.3f), file %.3f (%.3f)\n",
        r + 1, costs[0].cpu, costs[0].wall, costs[1].cpu, costs[1].wall, costs[2].cpu,
        costs[2].wall, costs[3].cpu, costs[3].wall);
  }
  ::close(fd);
  const double mb = static_cast<double>(payload) / 1e6;
  const double car_mb = static_cast<double>(car_bytes) / 1e6;
  std::printf(
      "payload %.1f MB in %zu segments (%.1f MB of CARs), %u hashing thread(s), medians "
      "of %d rounds:\n",
      mb, segments.size(), car_mb, threads, rounds);
  std::printf("aggregate from the store: %.0f MB per CPU-second, %.0f MB/s wall\n",
              mb / Median(as_cpu), mb / Median(as_wall));
  std::printf("aggregate from the file:  %.0f MB per CPU-second, %.0f MB/s wall\n",
              mb / Median(af_cpu), mb / Median(af_wall));
  std::printf("segments from the store:  %.0f MB per CPU-second, %.0f MB/s wall\n",
              car_mb / Median(ss_cpu), car_mb / Median(ss_wall));
  std::printf("segments from the file:   %.0f MB per CPU-second, %.0f MB/s wall\n",
              car_mb / Median(sf_cpu), car_mb / Median(sf_wall));
  std::printf("ratio aggregate store/file: %.2f (CPU), %.2f (wall)  (goal >= 0.8)\n",
              Median(af_cpu) / Median(as_cpu), Median(af_wall) / Median(as_wall));
  std::printf("ratio segments store/file:  %.2f (CPU), %.2f (wall)  (goal >= 0.8)\n",
              Median(sf_cpu) / Median(ss_cpu), Median(sf_wall) / Median(ss_wall));
  fs::remove_all(scratch);
  return 0;
}

// ---- plan ----------------------------------------------------------------------------------

int Plan(const Flags& flags) {
  const int64_t n_pins = IntFlag(flags, "pins", 100'000);
  const int64_t kib = IntFlag(flags, "kib", 4);
  const uint64_t piece_size = static_cast<uint64_t>(IntFlag(flags, "piece-mib", 1024)) << 20;
  if (n_pins < 1 || kib < 1 || kib > 1024 || (piece_size & (piece_size - 1)) != 0) {
    Die("usage: deal_bench plan [--pins N] [--kib 1..1024] [--piece-mib POWER_OF_TWO]");
  }
  const fs::path dir = fs::temp_directory_path() / ("deal-plan-" + std::to_string(getpid()));
  fs::create_directories(dir);
  FakeClock clock;
  auto db = Must(metadata::OpenSqliteMetadata((dir / "cairn.db").string()), "open metadata");
  auto blocks = Must(blockstore::LogBlockstore::Open(dir / "blocks"), "open block store");
  auto wallet = Must(filecoin::wallet::Wallet::Open(Env::Default(), dir / "wallet"), "wallet");
  const Address client = Must(wallet->New(), "new wallet address");
  EngineParts parts(*db, *blocks, *wallet, client, dir, clock, piece_size);

  // Seed: real blocks, then the pins as the pin workers leave them (pinned), in one transaction.
  const double seed_start = WallSeconds();
  std::mt19937_64 rng(1);
  std::vector<multiformats::Cid> cids;
  cids.reserve(static_cast<size_t>(n_pins));
  Bytes data(static_cast<size_t>(kib) * 1024);
  for (int64_t i = 0; i < n_pins; ++i) {
    for (size_t j = 0; j + 8 <= data.size(); j += 8) {
      const uint64_t r = rng();
      std::memcpy(data.data() + j, &r, 8);
    }
    auto cid = Must(multiformats::Cid::Compute(1, 0x55, 0x12, data), "cid");
    Must(blocks->Put(cid, data), "put");
    cids.push_back(std::move(cid));
  }
  Must(blocks->Sync(), "sync");
  const int64_t now = clock.WallMicros();
  Must(db->Write([&](metadata::SqlSession& s) -> Result<void> {
    std::array<metadata::SqlValue, 1> name = {std::string("plan")};
    CAIRN_TRY(s.Exec("INSERT INTO accounts (name, created_at) VALUES (?, 0)", name));
    for (int64_t i = 0; i < n_pins; ++i) {
      const auto& cid = cids[static_cast<size_t>(i)];
      std::array<metadata::SqlValue, 5> row = {RandomUuid(), cid.ToString(), cid.ToBytes(),
                                               now - n_pins + i, now - n_pins + i};
      CAIRN_TRY(
          s.Exec("INSERT INTO pins (requestid, account_id, cid_text, cid, origins, meta, status, "
                 "created, updated_at, info, dag_size) VALUES (?1, 1, ?2, ?3, '[]', '{}', "
                 "'pinned', ?4, ?5, '{}', " +
                     std::to_string(kib * 1024) + ")",
                 row));
    }
    return Ok();
  }),
       "seed pins");
  std::printf("seeded %lld pinned pins of %lld KiB (real blocks, one per pin) in %.1f s\n",
              static_cast<long long>(n_pins), static_cast<long long>(kib),
              WallSeconds() - seed_start);

  int seg_ticks = 0;
  int agg_ticks = 0;
  const Cost seg = Timed([&] { seg_ticks = SegmentAll(parts); });
  clock.Advance(
      std::chrono::duration_cast<std::chrono::microseconds>(parts.engine->config().batch_wait)
          .count() +
      1);
  const Cost agg = Timed([&] { agg_ticks = AggregateAll(parts); });
  auto aggregates = Must(parts.deal_store.Aggregates(), "aggregates");
  uint64_t placed = 0;
  for (const auto& a : aggregates) placed += Must(parts.deal_store.Segments(a.id), "segs").size();
  if (placed != static_cast<uint64_t>(n_pins)) {
    Die("only " + std::to_string(placed) + " of the pins are in an aggregate");
  }
  const double total = seg.wall + agg.wall;
  std::printf("segment: %d ticks, %.2f s wall, %.2f s CPU (%.0f pins/s)\n", seg_ticks, seg.wall,
              seg.cpu, static_cast<double>(n_pins) / seg.wall);
  std::printf("aggregate: %d ticks, %.2f s wall, %.2f s CPU, %zu aggregates\n", agg_ticks, agg.wall,
              agg.cpu, aggregates.size());
  std::printf("planned %lld pins in %.2f s wall (%.2f s CPU) = %.2f of the 10 s goal\n",
              static_cast<long long>(n_pins), total, seg.cpu + agg.cpu, total / 10.0);
  db.reset();
  blocks.reset();
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cairn::bench::ProgramName() = "deal_bench";
  setenv("CAIRN_LOG_LEVEL", "error", 0);  // before the first log line
  const std::string mode = argc > 1 ? argv[1] : "";
  const Flags flags = ParseFlags(argc, argv, 2);
  if (mode == "seed") return Seed(flags);
  if (mode == "commp") return CommP(flags);
  if (mode == "plan") return Plan(flags);
  Die("usage: deal_bench seed|commp|plan [--flag value]... (see bench/deal_bench.cpp)");
}
