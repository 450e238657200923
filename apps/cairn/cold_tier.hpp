// The cold tier inside `cairn serve` (docs/filecoin.md "Deal engine"): builds the chain client,
// the wallet's message sender, the mk12 HTTP client and the deal engine from the [filecoin]
// configuration, and serves deal data to providers at
//   GET|HEAD /filecoin/piece/{DealUUID}   Authorization: Bearer <per-deal token>
// (docs/formats/piece-serving.md): the deal's aggregate payload, a single Range → 206.
// It also reads blocks back from the providers (filecoin/retrieval ColdReader): reader() is
// the fallback of the hot store for every read path (blockstore::FallbackBlockstore).
//
// Off (Create returns nullptr) when the configuration has no `filecoin.providers`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/cairn/commands.hpp"
#include "apps/cairn/config.hpp"
#include "blockstore/blockstore.hpp"
#include "common/result.hpp"
#include "filecoin/deals/deal_engine.hpp"
#include "http/http_types.hpp"
#include "ipld/blocks.hpp"
#include "metadata/database.hpp"
#include "metadata/events.hpp"
#include "metadata/pins.hpp"
#include "net/host.hpp"

namespace cairn::app {

class PrometheusText;

// One provider as a JSON object: {"provider","transport","score", one count per
// fil_provider_stats counter, "time_to_active_seconds_total"} (the /healthz `providers` items and
// `cairn deals providers --json`).
void AppendProviderJson(std::string& out, const filecoin::deals::ProviderView& view);

// The [filecoin] section's deal defaults (providers, replicas, duration_days, verified,
// max_price), against which account and pin policies are checked and resolved. InvalidArgument
// naming the key when a provider or max_price does not parse.
Result<filecoin::deals::ServicePolicy> ServicePolicyOf(const ServeConfig& config);

class ColdTier {
 public:
  // nullptr when the cold tier is off. InvalidArgument naming the missing key when providers
  // are set without filecoin.rpc or filecoin.public_url; NotFound when the wallet has no key
  // (create one with `cairn wallet new`); the wallet's and the database's errors. `host` (the
  // node's libp2p host, running on its own thread, outliving the cold tier) carries mk12 to
  // libp2p-only (Boost) providers; nullptr leaves them unreachable.
  static Result<std::unique_ptr<ColdTier>> Create(const GlobalOptions& global,
                                                  const ServeConfig& config, metadata::Database& db,
                                                  metadata::PinStore& pins,
                                                  metadata::EventStore& events,
                                                  blockstore::Blockstore& blocks, net::Host* host);
  ~ColdTier();

  void Start();
  void Stop();
  // Blocks read from the providers of active deals, verified (thread-safe; valid while this
  // lives). Pass it behind the hot store, never instead of it.
  ipld::BlockGetter& reader();
  // The same reader for the pin workers, who ask it first for every block they fetch: blocks no
  // active deal holds are NotFound at the cost of one index lookup, without being counted as
  // cold-read misses (most blocks a pin fetches were never on Filecoin).
  ipld::BlockGetter& held_reader();

  static bool Handles(std::string_view path);
  // GET|HEAD /filecoin/piece/{uuid}: 401 without the deal's token, 403 once the deal no longer
  // needs its data, 416 for an unsatisfiable range, 200/206 with the bytes otherwise.
  http::Response HandlePiece(const http::Request& request);

  // Lines for the start banner ("cairn: cold tier …").
  std::vector<std::string> BannerLines() const;
  // Adds the cold tier's gauges to /metrics: cairn_deals{state=…}, cairn_deal_aggregates,
  // cairn_deal_segments_waiting, and per configured provider cairn_provider_score{provider=…},
  // cairn_provider_deal_events_total{provider=…,event=…} and
  // cairn_provider_time_to_active_seconds_total{provider=…} (docs/filecoin.md "Provider scores");
  // and its retrieval counters: cairn_cold_reads_total,
  // cairn_cold_read_bytes_total, cairn_cold_read_misses_total,
  // cairn_cold_reads_by_provider_total{provider}, cairn_cold_read_failures_total{provider};
  // what it holds: cairn_cold_payload_bytes, cairn_cold_stored_bytes; the retrieval probes:
  // cairn_cold_probes_total{outcome}, cairn_cold_probe_replaced_deals_total; and the paying
  // wallet's funds (WriteFundsMetrics).
  void WriteMetrics(PrometheusText& m);
  // cairn_wallet_balance_attofil, cairn_market_escrow_attofil, cairn_market_locked_attofil and
  // cairn_datacap_bytes, labelled wallet="<address>", from the chain (Funds) at most every 30 s;
  // none until the chain has answered once.
  void WriteFundsMetrics(PrometheusText& m);
  // The /healthz member: {"state":"on","deals":{…},"skipped_providers":{…},"providers":[{
  // "provider","transport","score", one count per event, "time_to_active_seconds_total"}, …]
  // (configuration order)}.
  std::string HealthJson();

  struct Impl;

 private:
  explicit ColdTier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::app
