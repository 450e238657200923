// `cairn deals providers [--json] [--config PATH]`: the storage providers' deal statistics and
// scores (docs/filecoin.md "Provider scores"), read from the repo's metadata (fil_provider_stats;
// SQLite WAL, so it runs beside `cairn serve`). Listed in the order the deal engine asks them for
// the next deal: the configured providers (filecoin.providers of the configuration `cairn serve`
// reads) by score, configuration order breaking ties; then providers with statistics that are no
// longer configured, marked so. Text: one line per provider; --json: an array of the objects
// /healthz shows in cold_tier.providers.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "apps/cairn/cold_tier.hpp"
#include "apps/cairn/commands.hpp"
#include "apps/cairn/config.hpp"
#include "filecoin/deals/provider_score.hpp"
#include "filecoin/types/address.hpp"
#include "metadata/provider_stats.hpp"

namespace cairn::app {

namespace {

using filecoin::deals::ProviderView;

struct DealsFlags {
  std::string config_path;
  bool json = false;
};

Result<ServeConfig> LoadDealsConfig(const GlobalOptions& global, const DealsFlags& flags) {
  return LoadCommandConfig(global.repo, flags.config_path);
}

// Configured providers by score, then the others with statistics; `configured` counts the first.
Result<std::vector<ProviderView>> RankedProviders(const ServeConfig& config,
                                                  std::vector<metadata::ProviderStats> all,
                                                  size_t* configured) {
  const auto network =
      config.filecoin_testnet ? filecoin::Network::kTestnet : filecoin::Network::kMainnet;
  std::vector<metadata::ProviderStats> chosen;
  std::set<std::string> seen;
  for (const auto& text : config.filecoin_providers) {
    auto address = filecoin::Address::Parse(text);
    if (!address) return Err(address.error().WithContext("filecoin.providers: "));
    metadata::ProviderStats s;
    s.provider = address->ToString(network);
    for (const auto& known : all) {
      if (known.provider == s.provider) s = known;
    }
    if (seen.insert(s.provider).second) chosen.push_back(std::move(s));
  }
  std::vector<ProviderView> out;
  for (size_t i : filecoin::deals::OrderByScore(chosen)) {
    out.push_back(ProviderView{chosen[i].provider, "", filecoin::deals::ProviderScoreOf(chosen[i]),
                               chosen[i]});
  }
  *configured = out.size();
  for (auto& s : all) {
    if (seen.count(s.provider)) continue;
    const double score = filecoin::deals::ProviderScoreOf(s);
    out.push_back(ProviderView{s.provider, "", score, std::move(s)});
  }
  return out;
}

void PrintText(const std::vector<ProviderView>& views, size_t configured) {
  std::printf("%-10s %8s %9s %8s %8s %8s %8s %6s %14s\n", "provider", "score", "proposals",
              "accepted", "rejected", "timeouts", "failures", "active", "mean_to_active");
  for (size_t i = 0; i < views.size(); ++i) {
    const auto& s = views[i].stats;
    const int64_t failures = s.transfer_failures + s.never_published + s.not_activated +
                             s.mismatches + s.slashed + s.other_failures + s.retrieval_failures;
    std::string mean = "-";
    if (s.active > 0) mean = std::to_string(s.active_us_total / s.active / 1000000) + "s";
    std::printf("%-10s %8.4f %9lld %8lld %8lld %8lld %8lld %6lld %14s%s\n",
                views[i].provider.c_str(), views[i].score, static_cast<long long>(s.proposals),
                static_cast<long long>(s.accepted), static_cast<long long>(s.rejected),
                static_cast<long long>(s.timeouts), static_cast<long long>(failures),
                static_cast<long long>(s.active), mean.c_str(),
                i < configured ? "" : "  (not configured)");
  }
}

Result<void> DealsProviders(const GlobalOptions& global, const DealsFlags& flags) {
  ServeConfig config = CAIRN_TRY(LoadDealsConfig(global, flags));
  auto db = CAIRN_TRY(OpenRepoMetadata(global));
  metadata::ProviderStatsStore store(*db);
  size_t configured = 0;
  auto views = CAIRN_TRY(RankedProviders(config, CAIRN_TRY(store.All()), &configured));
  if (flags.json) {
    std::string out = "[";
    for (size_t i = 0; i < views.size(); ++i) {
      if (i > 0) out += ",";
      AppendProviderJson(out, views[i]);
    }
    std::printf("%s]\n", out.c_str());
  } else {
    PrintText(views, configured);
  }
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("writing to stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

void RegisterDealsProvidersCommand(CLI::App& deals, GlobalOptions& options) {
  auto flags = std::make_shared<DealsFlags>();
  auto* cmd = deals.add_subcommand(
      "providers", "Storage providers' deal statistics and scores, in the order deals go to them");
  cmd->add_flag("--json", flags->json,
                "print a JSON array (the /healthz cold_tier.providers items)");
  cmd->add_option("--config", flags->config_path,
                  "TOML configuration (default: <repo>/config.toml when present)");
  cmd->callback([&options, flags] { Finish(DealsProviders(options, *flags)); });
}

}  // namespace cairn::app
