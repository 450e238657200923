// The cold tier's standing cost at scale (issue 11 §8, docs/benchmarks.md "Health checks at 1M
// pins"): the CPU the deal engine's tick (filecoin/deals DealEngine::Tick: track deals, segment,
// aggregate, renew/repair, show the state on the pins) and the retrieval prober's pass
// (filecoin/retrieval RetrievalProber::Pass) take when nothing changes, over a metadata database
// of --pins pinned pins, all segmented and packed into aggregates of --per-aggregate pins, each
// aggregate with --replicas active deals, while users delete a pin between two ticks. Reported as
// shares of one core at the service's default schedule (a tick every filecoin.poll_seconds = 30 s,
// a probe pass every filecoin.probe_interval_seconds = 300 s): CPU seconds of the work ÷ seconds
// between runs.
//
//   health_bench [--pins 1000000] [--per-aggregate 32768] [--replicas 2] [--ticks 5]
//                [--deleted 0.001] [--accepted 0] [--published 0]
//
// 10,000 tracked deals (issue 10 §11): `--pins 1000000 --per-aggregate 200` gives 5,000
// aggregates × 2 deals. `--accepted F` and `--published F` leave those shares of the deals (the
// first of each aggregate's, in turn) still being made: `accepted` ones are asked about at their
// provider's mk12 status endpoint every tick (an HTTP provider answering from memory, "still
// transferring"; the time spent inside that fake provider is measured and taken out of the
// engine's CPU), `published` ones are read on chain every tick (FakeLotus: published, not yet
// in a sector). Their start epoch lies ahead of the head, so they stay in their state.
//
// The database is the real SQLite metadata (the service's migrations and triggers), seeded with
// SQL in large transactions. The chain is filecoin/chain's FakeLotus (every deal active at the
// head and at finality); providers answer probes from memory. After the seed, `--deleted` of the
// pins are deleted, and two ticks are reported apart: the first one (every pin is shown its
// aggregate's state: what happens when an aggregate's state changes, for its pins) and the first
// one of a restarted engine. The steady ticks that follow are the standing cost.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>

#include "bench/bench_support.hpp"
#include "blockstore/memory_blockstore.hpp"
#include "common/clock.hpp"
#include "common/env.hpp"
#include "filecoin/aggregation/segment.hpp"
#include "filecoin/chain/test_fake_lotus.hpp"
#include "filecoin/deals/deal_engine.hpp"
#include "filecoin/piece/piece_cid.hpp"
#include "filecoin/retrieval/prober.hpp"
#include "filecoin/wallet/wallet.hpp"
#include "metadata/deals.hpp"
#include "metadata/open.hpp"
#include "metadata/pins.hpp"
#include "metadata/provider_stats.hpp"
#include "multiformats/multihash.hpp"
#include "net/identity.hpp"
#include "net/multiaddr.hpp"

namespace {

using namespace cairn;
namespace fs = std::filesystem;
namespace chain = cairn::filecoin::chain;
namespace wallet = cairn::filecoin::wallet;
using filecoin::Address;

using bench::Die;
using bench::Must;
using bench::ProcessCpuSeconds;

// CPU seconds of the calling thread.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

constexpr uint64_t kBlockLength = 1024;  // every indexed block: 1 KiB of zeros

// The chain: FakeLotus, plus StateMinerInfo (which it does not answer): every provider f0<id> is
// an HTTP mk12 endpoint (as Curio), so deals in `accepted` are asked about at its status URL.
class BenchChain final : public chain::RpcTransport {
 public:
  Result<chain::RpcHttpReply> Post(const std::string& url, const std::string& body,
                                   const std::string& token, std::chrono::milliseconds timeout,
                                   uint64_t max_bytes) override {
    if (body.find("\"Filecoin.StateMinerInfo\"") != std::string::npos) {
      auto doc = boost::json::parse(body);
      auto id = Address::Parse(doc.at("params").at(0).as_string())->id();
      Bytes seed(32, 0);
      seed[0] = static_cast<uint8_t>(id);
      seed[1] = static_cast<uint8_t>(id >> 8);
      const std::string peer = net::Ed25519Identity::FromSeed(seed).peer_id().ToString();
      const std::string ma = "/ip4/127.0.0.1/tcp/" + std::to_string(id) + "/http";
      boost::json::object result{
          {"Owner", "f0100"},
          {"Worker", "f0100"},
          {"PeerId", peer},
          {"Multiaddrs",
           boost::json::array{filecoin::Base64Encode(net::Multiaddr::Parse(ma)->ToBytes())}},
          {"SectorSize", 34359738368}};
      return chain::RpcHttpReply{
          200, boost::json::serialize(boost::json::object{
                   {"jsonrpc", "2.0"}, {"id", doc.at("id")}, {"result", result}})};
    }
    const double start = ThreadCpuSeconds();
    auto reply = lotus.Post(url, body, token, timeout, max_bytes);
    lotus_cpu += ThreadCpuSeconds() - start;
    return reply;
  }
  chain::testing::FakeLotus lotus;
  double lotus_cpu = 0;  // inside FakeLotus: the chain node's work, not Cairn's
};

// mk12 over HTTP: no ask (an empty answer, as real Curio's stub), and the status of every deal
// it was given: accepted, still transferring. What a status call costs the provider (decoding
// the request, encoding the answer) is counted apart (provider_cpu), not as the engine's.
class BenchProviders final : public filecoin::deals::Mk12Transport {
 public:
  Result<filecoin::deals::Mk12HttpReply> Send(const std::string&, const std::string& url,
                                              const std::string& body, std::chrono::milliseconds,
                                              uint64_t) override {
    const double start = ThreadCpuSeconds();
    auto reply = Handle(url, body);
    provider_cpu += ThreadCpuSeconds() - start;
    return reply;
  }
  Result<filecoin::deals::Mk12StreamReply> Exchange(
      const std::string& peer, const std::vector<std::string>&,
      const std::vector<filecoin::deals::Mk12StreamOffer>&, std::chrono::milliseconds,
      uint64_t) override {
    return Err(ErrorCode::kUnavailable, "bench: no libp2p provider " + peer);
  }
  std::map<std::string, filecoin::ClientDealProposal> deals;  // by UUID hex (32 digits)
  double provider_cpu = 0;
  uint64_t status_calls = 0;

 private:
  Result<filecoin::deals::Mk12HttpReply> Handle(const std::string& url, const std::string& body) {
    if (url.ends_with("/market/mk12/ask")) return filecoin::deals::Mk12HttpReply{200, ""};
    if (!url.ends_with("/market/mk12/status")) return filecoin::deals::Mk12HttpReply{404, ""};
    ++status_calls;
    auto req = filecoin::DealStatusRequest::Decode(AsBytes(body));
    if (!req) return filecoin::deals::Mk12HttpReply{400, ""};
    filecoin::DealStatusResponse resp;
    resp.deal_uuid = req->deal_uuid;
    auto it = deals.find(HexEncode(ByteSpan(req->deal_uuid.data(), req->deal_uuid.size())));
    if (it == deals.end()) {
      resp.error = "no storage deal found";
    } else {
      filecoin::DealStatus st;
      st.status = "Transferring";
      st.proposal = it->second.proposal;
      st.signed_proposal_cid = it->second.SignedProposalCid();
      resp.deal_status = st;
      resp.transfer_size = it->second.proposal.piece_size / 128 * 127;
      resp.n_bytes_received = resp.transfer_size / 2;
    }
    const Bytes encoded = resp.Encode();
    return filecoin::deals::Mk12HttpReply{200, std::string(AsString(encoded))};
  }
};

// Every provider serves /piece: the block asked for is 1 KiB of zeros (what the index says).
class ZeroPieces final : public filecoin::retrieval::PieceRangeFetcher,
                         public filecoin::retrieval::RetrievalEndpoints {
 public:
  Result<Bytes> Fetch(const std::string&, const std::string&, uint64_t, uint64_t length,
                      std::chrono::milliseconds) override {
    ++fetches;
    return Bytes(length, 0);
  }
  Result<std::string> BaseUrl(const std::string& provider) override {
    return "http://" + provider + ".invalid";
  }
  uint64_t fetches = 0;
};

}  // namespace

int main(int argc, char** argv) {
  cairn::bench::ProgramName() = "health_bench";
  int64_t n_pins = 1'000'000;
  int64_t per_aggregate = 32768;
  int replicas = 2;
  int ticks = 5;
  double deleted = 0.001;
  double accepted_share = 0;
  double published_share = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pins") {
      n_pins = std::atoll(argv[i + 1]);
    } else if (flag == "--per-aggregate") {
      per_aggregate = std::atoll(argv[i + 1]);
    } else if (flag == "--replicas") {
      replicas = std::atoi(argv[i + 1]);
    } else if (flag == "--ticks") {
      ticks = std::atoi(argv[i + 1]);
    } else if (flag == "--deleted") {
      deleted = std::atof(argv[i + 1]);
    } else if (flag == "--accepted") {
      accepted_share = std::atof(argv[i + 1]);
    } else if (flag == "--published") {
      published_share = std::atof(argv[i + 1]);
    } else {
      Die("unknown flag " + flag);
    }
  }
  if (n_pins < 1 || per_aggregate < 1 || replicas < 1 || replicas > 8 || ticks < 1 || deleted < 0 ||
      deleted >= 1 || accepted_share < 0 || published_share < 0 ||
      accepted_share + published_share > 1) {
    Die("usage: health_bench [--pins N] [--per-aggregate N] [--replicas 1..8] [--ticks N] "
        "[--deleted 0..1) [--accepted F] [--published F] (F: shares of the deals, sum <= 1)");
  }
  setenv("CAIRN_LOG_LEVEL", "error", 0);  // before the first log line
  const fs::path dir = fs::temp_directory_path() / ("health-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const Clock& clock = SystemClock::Instance();
  auto seed_start = std::chrono::steady_clock::now();
  auto db =
      Must(metadata::OpenSqliteMetadata((dir / "cairn.db").string(), {.synchronous_full = false}),
           "open metadata");
  auto wallet = Must(wallet::Wallet::Open(Env::Default(), dir / "wallet"), "wallet");
  const Address client = Must(wallet->New(), "new address");

  // The chain: head at 10000, every deal active since its start at 5000, ending in a year.
  BenchChain bench_chain;  // NOLINT(misc-const-correctness): answers through Post
  chain::testing::FakeLotus& lotus = bench_chain.lotus;
  lotus.height = 10000;
  lotus.finality_lag = 900;
  const int64_t start_epoch = 5000;
  // Deals still being made start after the head (they could not be published otherwise).
  const int64_t later_start = lotus.height + 5760;
  BenchProviders bench_providers;

  // Seed: pins, their segments (one 1 KiB indexed block each), aggregates and active deals.
  const int64_t n_aggregates = (n_pins + per_aggregate - 1) / per_aggregate;
  std::vector<Address> providers;
  providers.reserve(static_cast<size_t>(replicas));
  for (int r = 0; r < replicas; ++r) providers.push_back(*Address::Id(1000 + r));
  const Bytes zero_hash =
      Must(multiformats::Multihash::Sum(0x12, Bytes(kBlockLength, 0)), "hash").Encode();
  std::mt19937_64 rng(1);
  uint64_t next_deal_id = 1;
  std::vector<metadata::DealRecord> deal_rows;
  std::vector<metadata::DealState> deal_states;  // what each row is set to after its creation
  Must(db->Write([&](metadata::SqlSession& s) -> Result<void> {
    std::array<metadata::SqlValue, 1> name = {std::string("bench")};
    CAIRN_TRY(s.Exec("INSERT INTO accounts (name, created_at) VALUES (?, 0)", name));
    for (int64_t a = 0; a < n_aggregates; ++a) {
      std::array<uint8_t, 32> commitment{};
      for (auto& b : commitment) b = static_cast<uint8_t>(rng());
      commitment[31] &= 0x3f;
      const std::string piece_cid = filecoin::piece::PieceCidV1(commitment).ToString();
      const uint64_t padded = uint64_t{32} << 30;
      std::array<metadata::SqlValue, 3> agg = {piece_cid, static_cast<int64_t>(padded),
                                               static_cast<int64_t>(padded / 128 * 127)};
      CAIRN_TRY(
          s.Exec("INSERT INTO fil_aggregates (piece_cid, padded_size, payload_size, created_at) "
                 "VALUES (?, ?, ?, 0)",
                 agg));
      for (const auto& provider : providers) {
        // Deals still being made are spread evenly: of every 1000, the first are accepted, the
        // next published, the rest active.
        const double pos = static_cast<double>((next_deal_id - 1) % 1000) / 1000;
        const metadata::DealState state = pos < accepted_share ? metadata::DealState::kAccepted
                                          : pos < accepted_share + published_share
                                              ? metadata::DealState::kPublished
                                              : metadata::DealState::kActive;
        const bool made = state == metadata::DealState::kActive;
        filecoin::DealProposal p;
        p.piece_cid = *multiformats::Cid::Parse(piece_cid);
        p.piece_size = padded;
        p.client = client;
        p.provider = provider;
        p.label = piece_cid;
        p.start_epoch = made ? start_epoch : later_start;
        p.end_epoch = p.start_epoch + 365 * filecoin::deals::kEpochsPerDay;
        p.storage_price_per_epoch = filecoin::BigInt::FromUint(1000);
        p.provider_collateral = filecoin::BigInt::FromUint(2000);
        auto sig = CAIRN_TRY(wallet->SignBytes(client, p.Encode()));
        metadata::DealRecord d;
        char uuid[40];
        std::snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012llx",
                      static_cast<unsigned long long>(next_deal_id));
        d.uuid = uuid;
        d.aggregate_id = a + 1;
        d.provider = provider.ToString();
        d.signed_proposal = filecoin::ClientDealProposal{p, sig}.Encode();
        d.proposal_cid = p.GetCid().ToString();
        d.price_per_epoch = "1000";
        d.provider_collateral = "2000";
        d.client_collateral = "0";
        d.start_epoch = p.start_epoch;
        d.end_epoch = p.end_epoch;
        d.token_hash = Bytes(32, 0);
        if (state == metadata::DealState::kAccepted) {
          std::string hex = uuid;
          std::erase(hex, '-');
          bench_providers.deals[hex] = filecoin::ClientDealProposal{p, sig};
        } else {
          d.deal_id = static_cast<int64_t>(next_deal_id);
          lotus.deals[next_deal_id] =
              chain::testing::MarketDealJson(p, made ? p.start_epoch : int64_t{-1});
        }
        ++next_deal_id;
        deal_rows.push_back(std::move(d));
        deal_states.push_back(state);
      }
    }
    // Generated inside SQLite (recursive CTEs): pins (CIDs are never parsed here), one segment
    // each, placed 2048 padded bytes apart, and one indexed block each.
    std::array<metadata::SqlValue, 2> sizes = {n_pins, per_aggregate};
    CAIRN_TRY(s.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) "
        "INSERT INTO pins (requestid, account_id, cid_text, cid, origins, meta, status, created, "
        "updated_at, info) SELECT 'pin-' || i, 1, 'cid-' || i, CAST('cid-' || i AS BLOB), '[]', "
        "'{}', 'pinned', i + 1, i + 1, '{}' FROM n",
        std::span(sizes).first(1)));
    CAIRN_TRY(s.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) "
        "INSERT INTO fil_segments (id, pin_requestid, root_cid, car_size, comm_p, padded_size, "
        "aggregate_id, piece_offset, created_at) SELECT i + 1, 'pin-' || i, "
        "CAST('cid-' || i AS BLOB), 1124, zeroblob(32), 2048, i / ?2 + 1, (i % ?2) * 2048, 0 "
        "FROM n",
        sizes));
    std::array<metadata::SqlValue, 1> hash = {zero_hash};
    CAIRN_TRY(
        s.Exec("INSERT INTO fil_segment_blocks (multihash, segment_id, data_offset, length) "
               "SELECT ?1, id, 59, 1024 FROM fil_segments",
               hash));
    return Ok();
  }),
       "seed");
  metadata::DealStore deal_store(*db, clock);
  for (size_t i = 0; i < deal_rows.size(); ++i) {
    metadata::DealRecord d = deal_rows[i];
    Must(deal_store.CreateDeal(d), "create deal");
    d.state = deal_states[i];
    std::optional<metadata::ProviderEvent> event;
    if (d.state == metadata::DealState::kActive) event = metadata::ProviderEvent::kActive;
    if (d.state == metadata::DealState::kAccepted) event = metadata::ProviderEvent::kAccepted;
    Must(deal_store.UpdateDeal(d, event), "set the deal's state");
  }
  const auto n_in = [&](metadata::DealState state) {
    return std::count(deal_states.begin(), deal_states.end(), state);
  };
  std::printf(
      "seeded %lld pinned pins, %lld aggregates, %zu deals (%ld active, %ld accepted, %ld "
      "published) in %.1f s\n",
      static_cast<long long>(n_pins), static_cast<long long>(n_aggregates), deal_rows.size(),
      static_cast<long>(n_in(metadata::DealState::kActive)),
      static_cast<long>(n_in(metadata::DealState::kAccepted)),
      static_cast<long>(n_in(metadata::DealState::kPublished)),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - seed_start).count());

  // The service's parts, as cairn serve wires them (apps/cairn/cold_tier.cpp).
  metadata::PinStore pins(*db, clock);
  metadata::ProviderStatsStore stats(*db);
  blockstore::MemoryBlockstore blocks;
  chain::ChainClient chain_client(
      bench_chain, chain::ChainClientOptions{.url = chain::testing::FakeLotus::kUrl,
                                             .head_ttl = std::chrono::milliseconds(0)});
  chain::MessageSender sender(chain_client, *wallet, Env::Default(), dir / "pending", {});
  filecoin::deals::Mk12Client mk12(bench_providers);
  filecoin::deals::DealEngineConfig config;
  config.providers = providers;
  config.replicas = replicas;
  config.client = client;
  config.public_url = "http://127.0.0.1:9";
  filecoin::deals::DealEngine engine(config, deal_store, stats, pins, blocks, chain_client, sender,
                                     *wallet, mk12, clock);
  ZeroPieces pieces;
  filecoin::retrieval::RetrievalProber prober(deal_store, pieces, pieces, {}, 1);

  auto timed = [](const auto& fn) {
    const double before = ProcessCpuSeconds();
    fn();
    return ProcessCpuSeconds() - before;
  };
  // Users delete some pins; the first tick then also shows every pin its state (a restart).
  const auto n_deleted = static_cast<int64_t>(static_cast<double>(n_pins) * deleted);
  std::vector<int64_t> order(static_cast<size_t>(n_pins));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  auto delete_next = [&, next = size_t{0}]() mutable {
    if (next == order.size()) Die("no pin left to delete");
    Must(pins.Delete(1, "pin-" + std::to_string(order[next++])), "delete pin");
  };
  for (int64_t i = 0; i < n_deleted; ++i) delete_next();
  // A tick's CPU less what the fake provider spent answering status calls and FakeLotus spent
  // answering chain calls (the provider's and the chain node's work, not the engine's).
  auto timed_tick = [&](filecoin::deals::DealEngine& e, const char* what) {
    const double provider_before = bench_providers.provider_cpu;
    const double lotus_before = bench_chain.lotus_cpu;
    const double cpu = timed([&] { Must(e.Tick(), what); });
    return cpu - (bench_providers.provider_cpu - provider_before) -
           (bench_chain.lotus_cpu - lotus_before);
  };
  const double first = timed_tick(engine, "first tick");
  // A restart: a new engine over the same database.
  filecoin::deals::DealEngine restarted(config, deal_store, stats, pins, blocks, chain_client,
                                        sender, *wallet, mk12, clock);
  const double after_restart = timed_tick(restarted, "tick after restart");
  // Steady: between two ticks, a user deletes a pin (1000 a day is one per 86 s; one per tick
  // is more), so each tick also re-reads one aggregate.
  std::vector<double> steady;
  steady.reserve(static_cast<size_t>(ticks));
  const uint64_t calls_before = bench_providers.status_calls;
  const double provider_cpu_before = bench_providers.provider_cpu;
  const double lotus_cpu_before = bench_chain.lotus_cpu;
  for (int t = 0; t < ticks; ++t) {
    delete_next();
    steady.push_back(timed_tick(restarted, "tick"));
  }
  const double calls_per_tick =
      static_cast<double>(bench_providers.status_calls - calls_before) / ticks;
  const double provider_cpu_per_tick = (bench_providers.provider_cpu - provider_cpu_before) / ticks;
  const double lotus_cpu_per_tick = (bench_chain.lotus_cpu - lotus_cpu_before) / ticks;
  std::vector<double> passes;
  passes.reserve(static_cast<size_t>(ticks));
  for (int t = 0; t < ticks; ++t) {
    passes.push_back(timed([&] { Must(prober.Pass({}), "probe pass"); }));
  }
  const auto probe_stats = prober.Stats();
  if (probe_stats.ok != probe_stats.probes || probe_stats.probes == 0) {
    Die("the probes did not all verify: " + std::to_string(probe_stats.ok) + " of " +
        std::to_string(probe_stats.probes));
  }
  for (auto state : {metadata::DealState::kActive, metadata::DealState::kAccepted,
                     metadata::DealState::kPublished}) {
    auto in_state = Must(deal_store.DealsInStates(std::array{state}), "deals");
    if (static_cast<int64_t>(in_state.size()) != n_in(state)) {
      Die(std::string("a deal left `") + std::string(metadata::DealStateName(state)) +
          "` during the run");
    }
  }
  std::sort(steady.begin(), steady.end());
  std::sort(passes.begin(), passes.end());
  const double tick = steady[steady.size() / 2];
  const double pass = passes[passes.size() / 2];
  const double poll_s = 30, probe_s = 300;
  std::printf(
      "pins %lld (%lld deleted), aggregates %lld, deals %zu (%ld accepted, %ld published)\n",
      static_cast<long long>(n_pins), static_cast<long long>(n_deleted),
      static_cast<long long>(n_aggregates), deal_rows.size(),
      static_cast<long>(n_in(metadata::DealState::kAccepted)),
      static_cast<long>(n_in(metadata::DealState::kPublished)));
  std::printf(
      "provider status calls per tick: %.0f; not counted as the engine's: the fake "
      "provider's CPU %.4f s and FakeLotus' %.4f s per tick\n",
      calls_per_tick, provider_cpu_per_tick, lotus_cpu_per_tick);
  std::printf("first tick (every pin shown its aggregate's state): %.3f CPU s\n", first);
  std::printf("first tick after a restart: %.3f CPU s\n", after_restart);
  std::printf("deal engine tick, median of %d: %.4f CPU s = %.3f%% of one core at poll 30 s\n",
              ticks, tick, 100 * tick / poll_s);
  std::printf("probe pass (16 deals), median of %d: %.4f CPU s = %.4f%% of one core at 300 s\n",
              ticks, pass, 100 * pass / probe_s);
  std::printf("health checks: %.3f%% of one core (goal < 2%%)\n",
              100 * (tick / poll_s + pass / probe_s));
  db.reset();
  fs::remove_all(dir);
  return 0;
}
