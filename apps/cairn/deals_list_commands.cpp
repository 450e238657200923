// `cairn deals list [--pin REQUESTID] [--json]`: the storage deals recorded in the repo's
// database (metadata::DealStore), for the operator: every account's deals, oldest first, or only
// those of the aggregate holding one pin's segment. Reads beside a running `cairn serve` (SQLite
// WAL). The table has one deal a line; --json prints one array of objects (docs/api.md "cairn
// deals list --json").
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "apps/cairn/commands.hpp"
#include "common/clock.hpp"
#include "metadata/deals.hpp"

namespace cairn::app {

namespace {

namespace json = boost::json;
using metadata::DealRecord;
using metadata::DealState;

struct ListFlags {
  std::string pin;
  bool json = false;
};

Result<std::vector<DealRecord>> SelectDeals(metadata::DealStore& store, const ListFlags& flags) {
  if (flags.pin.empty()) {
    std::array<DealState, 8> all = {
        DealState::kProposing, DealState::kAccepted, DealState::kPublished, DealState::kActive,
        DealState::kRejected,  DealState::kFailed,   DealState::kSlashed,   DealState::kExpired};
    return store.DealsInStates(all);
  }
  auto segments = CAIRN_TRY(store.SegmentsOfPin(flags.pin));
  if (segments.empty()) {
    return Err(ErrorCode::kNotFound, "deals list: pin " + flags.pin +
                                         " has no Filecoin segment (unknown, not pinned yet, or "
                                         "the cold tier has not reached it)");
  }
  // Every shard's aggregate (docs/formats/car-shards.md), each once, in shard order.
  std::vector<DealRecord> out;
  std::set<int64_t> seen;
  for (const auto& segment : segments) {
    if (!segment.aggregate_id || !seen.insert(*segment.aggregate_id).second) continue;
    for (auto& d : CAIRN_TRY(store.DealsOfAggregate(*segment.aggregate_id))) {
      out.push_back(std::move(d));
    }
  }
  return out;
}

json::object DealJson(const DealRecord& d, const std::string& piece_cid) {
  json::object o;
  o["uuid"] = d.uuid;
  o["provider"] = d.provider;
  o["state"] = std::string(metadata::DealStateName(d.state));
  if (d.deal_id) {
    o["dealId"] = *d.deal_id;
  } else {
    o["dealId"] = nullptr;
  }
  o["pieceCid"] = piece_cid;
  o["proposalCid"] = d.proposal_cid;
  o["publishCid"] = d.publish_cid;
  o["startEpoch"] = d.start_epoch;
  o["endEpoch"] = d.end_epoch;
  o["pricePerEpoch"] = d.price_per_epoch;
  o["providerCollateral"] = d.provider_collateral;
  o["clientCollateral"] = d.client_collateral;
  o["providerMessage"] = d.provider_message;
  o["lastError"] = d.last_error;
  o["createdUs"] = d.created_us;
  o["updatedUs"] = d.updated_us;
  return o;
}

// One line of the table: tabs between fields, no tab or newline inside one.
std::string Field(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "-" : text;
}

Result<void> DealsList(const GlobalOptions& options, const ListFlags& flags) {
  auto db = CAIRN_TRY(OpenRepoMetadata(options));
  metadata::DealStore store(*db, SystemClock::Instance());
  auto deals = CAIRN_TRY(SelectDeals(store, flags));
  std::map<int64_t, std::string> pieces;
  for (const auto& d : deals) {
    if (!pieces.count(d.aggregate_id)) {
      pieces[d.aggregate_id] = CAIRN_TRY(store.GetAggregate(d.aggregate_id)).piece_cid;
    }
  }
  if (flags.json) {
    json::array out;
    for (const auto& d : deals) out.push_back(DealJson(d, pieces[d.aggregate_id]));
    std::printf("%s\n", json::serialize(out).c_str());
  } else {
    std::printf("UUID\tPROVIDER\tSTATE\tDEAL_ID\tPIECE_CID\tSTART\tEND\tPRICE_PER_EPOCH\tERROR\n");
    for (const auto& d : deals) {
      std::printf("%s\t%s\t%s\t%s\t%s\t%lld\t%lld\t%s\t%s\n", d.uuid.c_str(), d.provider.c_str(),
                  std::string(metadata::DealStateName(d.state)).c_str(),
                  d.deal_id ? std::to_string(*d.deal_id).c_str() : "-",
                  pieces[d.aggregate_id].c_str(), static_cast<long long>(d.start_epoch),
                  static_cast<long long>(d.end_epoch), d.price_per_epoch.c_str(),
                  Field(d.last_error).c_str());
    }
  }
  if (std::fflush(stdout) != 0) {
    return Err(ErrorCode::kIoError,
               std::string("writing to stdout failed: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

void RegisterDealsListCommand(CLI::App& deals, GlobalOptions& options) {
  auto flags = std::make_shared<ListFlags>();
  auto* list = deals.add_subcommand(
      "list", "List deals (every account's, oldest first), or those holding one pin's data");
  list->add_option("--pin", flags->pin, "only the deals of this pin's aggregate (its requestid)");
  list->add_flag("--json", flags->json, "one JSON array instead of the table");
  list->callback([&options, flags] { Finish(DealsList(options, *flags)); });
}

}  // namespace cairn::app
