#include "filecoin/retrieval/cold_reader.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "filecoin/aggregation/segment.hpp"
#include "filecoin/deals/mk12_client.hpp"

namespace cairn::filecoin::retrieval {

namespace {

constexpr size_t kMaxEventPins = 100000;  // bound on the per-pin event throttle's memory

}  // namespace

ChainRetrievalEndpoints::ChainRetrievalEndpoints(chain::ChainClient& chain, const Clock& clock,
                                                 deals::Mk12Client* mk12, std::chrono::seconds ttl)
    : chain_(chain),
      clock_(clock),
      mk12_(mk12),
      ttl_us_(std::chrono::duration_cast<std::chrono::microseconds>(ttl).count()) {}

Result<ChainRetrievalEndpoints::Entry> ChainRetrievalEndpoints::Lookup(
    const std::string& provider) {
  auto address = CAIRN_TRY(Address::Parse(provider));
  auto info = chain_.StateMinerInfo(address);
  if (!info) return Err(info.error().WithContext("retrieval: provider " + provider + ": "));
  Entry e;
  e.url = deals::HttpEndpointOf(info->multiaddrs);
  if (e.url) return e;
  std::string why;
  auto libp2p = deals::Mk12EndpointOf(info->peer_id, info->multiaddrs, &why);
  if (!libp2p) {
    e.why_none = "no HTTP endpoint among its on-chain multiaddrs, and " + why;
    return e;
  }
  if (mk12_ == nullptr) {
    e.why_none =
        "no HTTP endpoint among its on-chain multiaddrs, and no libp2p host here to ask it "
        "for its retrieval transports";
    return e;
  }
  auto transports = mk12_->Transports(*libp2p);
  if (!transports) {
    const ErrorCode code = transports.error().code();
    if (code == ErrorCode::kNotSupported || code == ErrorCode::kInvalidArgument) {
      // It does not speak the protocol, or answers nothing usable: a fact about it, cached.
      e.why_none = "no HTTP endpoint on chain, and its retrieval transports query failed: " +
                   transports.error().message();
      return e;
    }
    return Err(transports.error().WithContext("retrieval: provider " + provider + ": "));
  }
  e.url = deals::HttpRetrievalUrlOf(*transports);
  if (!e.url) {
    e.why_none = "its retrieval transports (" + std::string(deals::kRetrievalTransportsProtocol) +
                 ") offer no usable http or https address";
  }
  return e;
}

Result<std::string> ChainRetrievalEndpoints::BaseUrl(const std::string& provider) {
  const int64_t now = clock_.WallMicros();
  std::optional<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(provider);
    if (it != cache_.end() && now - it->second.fetched_us < ttl_us_) entry = it->second;
  }
  if (!entry) {
    entry = CAIRN_TRY(Lookup(provider));
    entry->fetched_us = now;
    std::lock_guard lock(mu_);
    cache_[provider] = *entry;
  }
  if (!entry->url) {
    return Err(ErrorCode::kNotFound, "retrieval: provider " + provider + ": " + entry->why_none);
  }
  return *entry->url;
}

ColdReader::ColdReader(metadata::DealStore& deals, metadata::EventStore* events,
                       RetrievalEndpoints& endpoints, PieceRangeFetcher& fetcher,
                       const Clock& clock, ColdReaderOptions options)
    : deals_(deals),
      events_(events),
      endpoints_(endpoints),
      fetcher_(fetcher),
      clock_(clock),
      options_(options) {}

// The error for a block no active deal holds: Unavailable naming the pin when a live pin's segment
// lists it (the pin had a cold copy and lost it, or its deals are not active yet: with no hot
// copy, it is at risk), NotFound otherwise.
static Error NoActiveDeal(const multiformats::Cid& cid,
                          const std::vector<metadata::ColdLocation>& where) {
  for (const auto& l : where) {
    if (!l.pin_exists) continue;
    return Error(ErrorCode::kUnavailable,
                 "cold: block " + cid.ToString() + " of pin " + l.pin_requestid + " is in piece " +
                     l.piece_cid +
                     ", but no deal of that piece is active: with no hot copy either, the pin is "
                     "at risk");
  }
  return Error(ErrorCode::kNotFound, "cold: no active deal holds " + cid.ToString());
}

Result<uint64_t> ColdReader::Size(const multiformats::Cid& cid) {
  auto where = CAIRN_TRY(deals_.ColdLocations(cid.hash().Encode(), options_.max_locations));
  for (const auto& l : where) {
    if (!l.providers.empty()) return l.block_length;
  }
  return Err(NoActiveDeal(cid, where));
}

Result<Bytes> ColdReader::Get(const multiformats::Cid& cid) {
  auto where = CAIRN_TRY(deals_.ColdLocations(cid.hash().Encode(), options_.max_locations));
  std::string failures;
  for (const auto& l : where) {
    for (const auto& provider : Ordered(l.providers)) {
      auto got = ReadFrom(provider, l, cid);
      if (got) {
        Succeeded(provider, l, cid, got->size());
        return got;
      }
      Failed(provider);
      log::Warn("cold.read_failed", {{"cid", cid.ToString()},
                                     {"provider", provider},
                                     {"piece", l.piece_cid},
                                     {"error", got.error().message()}});
      failures += (failures.empty() ? "" : "; ") + provider + ": " + got.error().message();
    }
  }
  if (failures.empty()) {
    std::lock_guard lock(mu_);
    ++stats_.misses;
    return Err(NoActiveDeal(cid, where));
  }
  return Err(ErrorCode::kUnavailable,
             "cold: every replica of " + cid.ToString() + " failed: " + failures);
}

void ColdReader::GetMany(std::span<const multiformats::Cid> cids, const EachBlock& each) {
  std::vector<Wanted> wanted;
  wanted.reserve(cids.size());
  std::vector<const multiformats::Cid*> alone;  // read one by one, as Get does
  for (const auto& cid : cids) {
    auto where = deals_.ColdLocations(cid.hash().Encode(), options_.max_locations);
    const metadata::ColdLocation* usable = nullptr;
    size_t usable_count = 0;
    if (where) {
      for (const auto& l : *where) {
        if (l.providers.empty() || l.block_length == 0 ||
            l.block_length > options_.max_block_size) {
          continue;
        }
        if (usable == nullptr) usable = &l;
        ++usable_count;
      }
    }
    if (usable == nullptr) {
      alone.push_back(&cid);  // Get gives the error (no active deal, the index failing...)
      continue;
    }
    Wanted w;
    w.cid = &cid;
    w.where = *usable;
    w.elsewhere = usable_count > 1;
    wanted.push_back(std::move(w));
  }
  // Runs: blocks of one segment by offset, split where they are too far apart or too long.
  std::vector<Wanted*> order;
  order.reserve(wanted.size());
  for (auto& w : wanted) order.push_back(&w);
  std::sort(order.begin(), order.end(), [](const Wanted* a, const Wanted* b) {
    if (a->where.segment_id != b->where.segment_id) {
      return a->where.segment_id < b->where.segment_id;
    }
    return a->where.block_offset < b->where.block_offset;
  });
  size_t begin = 0;
  while (begin < order.size()) {
    size_t end = begin + 1;
    while (end < order.size()) {
      const auto& prev = order[end - 1]->where;
      const auto& next = order[end]->where;
      const uint64_t prev_end = prev.block_offset + prev.block_length;
      if (next.segment_id != prev.segment_id || next.block_offset < prev_end ||
          next.block_offset - prev_end > options_.max_gap ||
          next.block_offset + next.block_length - order[begin]->where.block_offset >
              options_.max_run_bytes) {
        break;
      }
      ++end;
    }
    std::span<Wanted*> run(order.data() + begin, end - begin);
    const std::string failures = ReadRun(run, each);
    for (Wanted* w : run) {
      if (w->answered) continue;
      if (w->elsewhere) {
        alone.push_back(w->cid);
        continue;
      }
      w->answered = true;
      each(*w->cid, Err(ErrorCode::kUnavailable,
                        "cold: every replica of " + w->cid->ToString() + " failed: " + failures));
    }
    begin = end;
  }
  for (const auto* cid : alone) each(*cid, Get(*cid));
}

std::string ColdReader::ReadRun(std::span<Wanted*> run, const EachBlock& each) {
  std::string failures;
  const metadata::ColdLocation& segment = run.front()->where;
  // The segment's CAR starts at the unpadded image of its padded offset (a multiple of 128).
  const uint64_t car_at = aggregation::UnpaddedSize(segment.piece_offset);
  for (const auto& provider : Ordered(segment.providers)) {
    size_t next = 0;  // the first block not answered yet
    while (next < run.size() && run[next]->answered) ++next;
    if (next == run.size()) break;
    const uint64_t from = run[next]->where.block_offset;
    const uint64_t to = run.back()->where.block_offset + run.back()->where.block_length;
    // Streams the range: skips the bytes between blocks, gathers each block, verifies it and
    // hands it out as soon as it is complete.
    uint64_t at = from;  // offset in the segment's CAR of the next byte to arrive
    Bytes block;
    auto sink = [&](ByteSpan data) -> Result<void> {
      while (!data.empty() && next < run.size()) {
        Wanted& w = *run[next];
        if (at < w.where.block_offset) {  // a section header between blocks
          const uint64_t skip = std::min<uint64_t>(w.where.block_offset - at, data.size());
          data = data.subspan(skip);
          at += skip;
          continue;
        }
        if (block.empty()) block.reserve(w.where.block_length);
        const uint64_t take = std::min<uint64_t>(w.where.block_length - block.size(), data.size());
        block.insert(block.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
        data = data.subspan(take);
        at += take;
        if (block.size() < w.where.block_length) continue;
        auto ok = w.cid->hash().Verify(block);
        if (!ok) {
          return Err(ErrorCode::kCorruption, "piece " + w.where.piece_cid + " bytes " +
                                                 std::to_string(car_at + w.where.block_offset) +
                                                 "+" + std::to_string(w.where.block_length) +
                                                 " do not hash to " + w.cid->ToString());
        }
        Succeeded(provider, w.where, *w.cid, block.size());
        w.answered = true;
        each(*w.cid, std::move(block));
        block = Bytes{};
        ++next;
      }
      return Ok();
    };
    auto fetched = [&]() -> Result<void> {
      const std::string base = CAIRN_TRY(endpoints_.BaseUrl(provider));
      CAIRN_TRY(fetcher_.FetchTo(base, segment.piece_cid, car_at + from, to - from,
                                 options_.provider_deadline, sink));
      if (next < run.size()) {
        return Err(ErrorCode::kCorruption, "returned " + std::to_string(at - from) +
                                               " bytes for a range of " +
                                               std::to_string(to - from));
      }
      return Ok();
    }();
    if (fetched) break;
    Failed(provider);
    log::Warn("cold.read_failed", {{"cid", run[std::min(next, run.size() - 1)]->cid->ToString()},
                                   {"provider", provider},
                                   {"piece", segment.piece_cid},
                                   {"blocks", static_cast<uint64_t>(run.size())},
                                   {"error", fetched.error().message()}});
    failures += (failures.empty() ? "" : "; ") + provider + ": " + fetched.error().message();
  }
  return failures;
}

Result<Bytes> ColdReader::ReadFrom(const std::string& provider, const metadata::ColdLocation& l,
                                   const multiformats::Cid& cid) {
  if (l.block_length > options_.max_block_size) {
    return Err(ErrorCode::kCorruption, "the index gives block " + cid.ToString() + " " +
                                           std::to_string(l.block_length) + " bytes");
  }
  const std::string base = CAIRN_TRY(endpoints_.BaseUrl(provider));
  // The segment's CAR starts at the unpadded image of its padded offset (a multiple of 128).
  const uint64_t offset = aggregation::UnpaddedSize(l.piece_offset) + l.block_offset;
  Bytes bytes = CAIRN_TRY(
      fetcher_.Fetch(base, l.piece_cid, offset, l.block_length, options_.provider_deadline));
  if (bytes.size() != l.block_length) {
    return Err(ErrorCode::kCorruption, "returned " + std::to_string(bytes.size()) +
                                           " bytes for a range of " +
                                           std::to_string(l.block_length));
  }
  auto ok = cid.hash().Verify(bytes);
  if (!ok) {
    return Err(ErrorCode::kCorruption, "piece " + l.piece_cid + " bytes " + std::to_string(offset) +
                                           "+" + std::to_string(l.block_length) +
                                           " do not hash to " + cid.ToString());
  }
  return bytes;
}

std::vector<std::string> ColdReader::Ordered(const std::vector<std::string>& providers) const {
  std::vector<std::pair<uint64_t, std::string>> keyed;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : providers) {
      auto it = recent_failures_.find(p);
      keyed.emplace_back(it == recent_failures_.end() ? 0 : it->second, p);
    }
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(keyed.size());
  for (auto& [failures, p] : keyed) out.push_back(std::move(p));
  return out;
}

void ColdReader::Failed(const std::string& provider) {
  std::lock_guard lock(mu_);
  ++stats_.failures_by_provider[provider];
  ++recent_failures_[provider];
}

void ColdReader::Succeeded(const std::string& provider, const metadata::ColdLocation& l,
                           const multiformats::Cid& cid, uint64_t bytes) {
  const int64_t now = clock_.WallMicros();
  bool record = false;
  {
    std::lock_guard lock(mu_);
    ++stats_.reads;
    stats_.bytes += bytes;
    ++stats_.reads_by_provider[provider];
    recent_failures_.erase(provider);  // a provider that answers right is trusted again
    if (events_) {
      if (last_event_us_.size() >= kMaxEventPins) last_event_us_.clear();
      auto [it, inserted] = last_event_us_.try_emplace(l.pin_requestid, now);
      const int64_t interval_us =
          std::chrono::duration_cast<std::chrono::microseconds>(options_.event_interval).count();
      if (inserted || now - it->second >= interval_us) {
        it->second = now;
        record = true;
      }
    }
  }
  log::Info(
      "cold.read",
      {{"cid", cid.ToString()}, {"provider", provider}, {"piece", l.piece_cid}, {"bytes", bytes}});
  if (!record) return;
  auto r = events_->AddPinEvent(
      l.pin_requestid, metadata::kEventReadFromCold,
      {{"provider", provider}, {"piece_cid", l.piece_cid}, {"cid", cid.ToString()}});
  if (!r)
    log::Warn("cold.event_failed", {{"pin", l.pin_requestid}, {"error", r.error().message()}});
}

ColdReadStats ColdReader::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::filecoin::retrieval
