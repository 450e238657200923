#include "pinning/pin_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "ipld/links.hpp"

namespace cairn::pinning {

using metadata::PinRecord;
using metadata::PinStatus;
using multiformats::Cid;

namespace {

bool Retryable(ErrorCode code) {
  return code == ErrorCode::kNotFound || code == ErrorCode::kUnavailable ||
         code == ErrorCode::kTimeout || code == ErrorCode::kResourceExhausted;
}

std::string Plural(uint64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

PinService::PinService(metadata::PinStore& pins, blockstore::Blockstore& blocks,
                       fetch::BlockSource& source, const Clock& clock, PinServiceOptions options)
    : pins_(pins), blocks_(blocks), source_(source), clock_(clock), options_(std::move(options)) {}

PinService::~PinService() { Stop(); }

Result<void> PinService::Start() {
  std::lock_guard lock(mu_);
  if (running_) return Ok();
  // Pins a previous run left `pinning` stay `pinning` (users never see a pin step back to
  // `queued`); they are resumed first, through the retry schedule, due now.
  auto left = CAIRN_TRY(pins_.ListPinning());
  int64_t now = clock_.MonotonicMicros();
  for (auto& pin : left) {
    retries_.push_back(Retry{std::move(pin), now, options_.retry_initial_us, std::string()});
  }
  if (!left.empty()) log::Info("pin.resumed", {{"pins", left.size()}});
  running_ = true;
  for (size_t i = 0; i < std::max<size_t>(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  return Ok();
}

void PinService::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
    for (auto& [id, flag] : active_) flag->store(true);
    cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void PinService::Notify() {
  std::lock_guard lock(mu_);
  wake_ = true;
  cv_.notify_one();
}

void PinService::Cancel(const std::string& requestid) {
  std::lock_guard lock(mu_);
  if (auto it = active_.find(requestid); it != active_.end()) it->second->store(true);
  retries_.erase(std::remove_if(retries_.begin(), retries_.end(),
                                [&](const Retry& r) { return r.pin.requestid == requestid; }),
                 retries_.end());
  cancelled_.insert(requestid);
  if (cancelled_.size() > 100000) cancelled_.clear();  // only races in flight matter
}

size_t PinService::retry_backlog() const {
  std::lock_guard lock(mu_);
  return retries_.size();
}

void PinService::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (running_) {
    // Fresh pins first; then retries that are due.
    lock.unlock();
    auto claimed = pins_.ClaimQueued(1);
    lock.lock();
    if (!running_) {
      // Claimed during shutdown: it stays `pinning` and is resumed at the next Start().
      return;
    }
    if (claimed && !claimed->empty()) {
      PinRecord pin = std::move(claimed->front());
      lock.unlock();
      Process(std::move(pin), options_.retry_initial_us);
      lock.lock();
      continue;
    }
    int64_t now = clock_.MonotonicMicros();
    auto due = std::min_element(retries_.begin(), retries_.end(),
                                [](const Retry& a, const Retry& b) { return a.due_us < b.due_us; });
    if (due != retries_.end() && due->due_us <= now) {
      Retry r = std::move(*due);
      retries_.erase(due);
      lock.unlock();
      stats_.retries++;
      Process(std::move(r.pin), std::min(r.delay_us * 2, options_.retry_max_us), r.last_error);
      lock.lock();
      continue;
    }
    int64_t wait = options_.poll_interval_us;
    if (due != retries_.end()) wait = std::min(wait, due->due_us - now);
    cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(wait, 1000)),
                 [&] { return !running_ || wake_; });
    wake_ = false;
  }
}

void PinService::Process(PinRecord pin, int64_t retry_delay_us, const std::string& last_error) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard lock(mu_);
    if (cancelled_.erase(pin.requestid)) return;  // deleted while waiting
    active_[pin.requestid] = cancel;
  }
  // The find deadline counts from the pin's creation (wall clock), mapped onto the monotonic one.
  int64_t remaining = pin.created_us + options_.find_deadline_us - clock_.WallMicros();
  // Held until the outcome is recorded: `pinning` reaches only blocks whose parents are present,
  // and a collection's mark may have passed before this walk stored them.
  blockstore::BlockLeases::Lease lease = leases_.Open();
  DagFetchOptions fo = FetchOptionsFor(pin, remaining, lease);

  int64_t last_report = 0;
  auto progress = [&](const DagFetchProgress& p) {
    int64_t now = clock_.MonotonicMicros();
    if (now - last_report < 1'000'000) return;  // at most one status write a second
    last_report = now;
    metadata::StringMap info = pin.info;
    info["status_details"] = "fetching: " + Plural(p.blocks, "block") + ", " +
                             std::to_string(p.bytes) + " bytes so far (" +
                             std::to_string(p.fetched_blocks) + " fetched)";
    WriteProgress(pin.requestid, info);
  };

  std::string deadline_passed =
      "pin: not found within the find deadline (" +
      std::to_string(options_.find_deadline_us / 1'000'000) + " s)" +
      (last_error.empty() ? std::string() : "; last error: " + last_error);
  auto result = remaining <= 0 ? Result<DagFetchResult>(Err(ErrorCode::kTimeout, deadline_passed))
                               : FetchDag(pin.cid, blocks_, source_, clock_, fo, *cancel, progress);
  if (result) {
    auto synced = blocks_.Sync();  // pinned means durable
    if (!synced) result = Err(synced.error());
  }
  {
    std::lock_guard lock(mu_);
    active_.erase(pin.requestid);
  }
  if (cancel->load()) return;  // deleted, replaced or shutting down: nothing to record
  if (result) {
    RecordPinned(pin, *result);
  } else {
    RecordFailure(std::move(pin), result.error(), retry_delay_us);
  }
}

DagFetchOptions PinService::FetchOptionsFor(const PinRecord& pin, int64_t remaining_us,
                                            blockstore::BlockLeases::Lease& lease) const {
  DagFetchOptions fo;
  fo.origins = pin.origins;
  for (const auto& origin : pin.origins) {
    if (auto url = fetch::OriginToGatewayUrl(origin)) fo.extra_gateways.push_back(*url);
  }
  fo.parallelism = options_.fetch_parallelism;
  fo.deadline_micros = clock_.MonotonicMicros() + std::max<int64_t>(remaining_us, 0);
  fo.max_dag_bytes = options_.max_dag_bytes;
  fo.on_visit = [&lease](const Cid& cid) { lease.Hold(cid); };
  return fo;
}

void PinService::RecordPinned(PinRecord& pin, const DagFetchResult& result) {
  metadata::StringMap info;
  info["status_details"] = "pinned: " + Plural(result.blocks, "block") + ", " +
                           std::to_string(result.dag_bytes) + " bytes";
  info["dag_size"] = std::to_string(result.dag_bytes);
  if (!WriteOutcome(pin, PinStatus::kPinned, info, static_cast<int64_t>(result.dag_bytes))) {
    return;  // rescheduled: the next attempt finds every block present and writes it again
  }
  stats_.pinned++;
  stats_.blocks_fetched += result.fetched_blocks;
  if (options_.on_pinned) options_.on_pinned(pin.cid);
  log::Info("pin.pinned", {{"requestid", pin.requestid},
                           {"cid", pin.cid.ToString()},
                           {"blocks", result.blocks},
                           {"fetched_blocks", result.fetched_blocks},
                           {"dag_bytes", result.dag_bytes}});
}

void PinService::RecordFailure(PinRecord pin, const Error& e, int64_t retry_delay_us) {
  // Retry until the deadline; the last retry is at the deadline itself (where it fails with this
  // attempt's reason), so a pin never fails before its deadline.
  // One reading of both clocks: the retry is due `delay` after the moment the deadline was
  // checked (read later, a clock that jumped in between would push the retry past it).
  const int64_t decided_mono_us = clock_.MonotonicMicros();
  int64_t until_deadline = pin.created_us + options_.find_deadline_us - clock_.WallMicros();
  if (Retryable(e.code()) && e.code() != ErrorCode::kResourceExhausted && until_deadline > 0) {
    int64_t delay = std::min(retry_delay_us, until_deadline);
    metadata::StringMap info;
    info["status_details"] =
        "retrying in " + std::to_string((delay + 999'999) / 1'000'000) + " s: " + e.message();
    WriteProgress(pin.requestid, info);
    log::Debug("pin.retry",
               {{"requestid", pin.requestid}, {"delay_us", delay}, {"error", e.message()}});
    std::lock_guard lock(mu_);
    if (!running_) return;
    retries_.push_back(Retry{std::move(pin), decided_mono_us + delay, retry_delay_us, e.message()});
    cv_.notify_one();
    return;
  }
  metadata::StringMap info;
  info["status_details"] = "failed: " + e.message();
  if (!WriteOutcome(pin, PinStatus::kFailed, info, std::nullopt)) return;
  stats_.failed++;
  log::Info("pin.failed",
            {{"requestid", pin.requestid}, {"cid", pin.cid.ToString()}, {"reason", e.message()}});
}

void PinService::WriteProgress(const std::string& requestid, const metadata::StringMap& info) {
  auto written = pins_.UpdateStatus(requestid, PinStatus::kPinning, info);
  if (!written && written.error().code() != ErrorCode::kNotFound) {
    // Progress is advisory: the pin stays `pinning` and its worker goes on.
    log::Warn("pin.progress_not_written",
              {{"requestid", requestid}, {"error", written.error().message()}});
  }
}

bool PinService::WriteOutcome(PinRecord& pin, PinStatus status, const metadata::StringMap& info,
                              std::optional<int64_t> dag_size) {
  auto written = pins_.UpdateStatus(pin.requestid, status, info, dag_size);
  if (written || written.error().code() == ErrorCode::kNotFound)
    return true;  // or deleted meanwhile
  // The pin would stay `pinning` with no worker on it: log, and try the whole step again later.
  log::Error("pin.outcome_not_written", {{"requestid", pin.requestid},
                                         {"status", metadata::PinStatusName(status)},
                                         {"error", written.error().message()}});
  std::lock_guard lock(mu_);
  if (!running_) return false;  // stays `pinning`: resumed by the next Start()
  int64_t due = clock_.MonotonicMicros() + options_.retry_initial_us;
  retries_.push_back(Retry{std::move(pin), due, options_.retry_initial_us,
                           "recording the outcome failed: " + written.error().message()});
  cv_.notify_one();
  return false;
}

Result<void> PinService::RunExclusive(const std::function<Result<void>()>& fn) {
  {
    std::lock_guard lock(gc_mu_);
    if (gc_running_) return Err(ErrorCode::kUnavailable, "gc: a collection or eviction is running");
    gc_running_ = true;
  }
  leases_.BeginCollection();
  struct Reset {
    PinService* s;
    ~Reset() {
      s->leases_.EndCollection();
      std::lock_guard lock(s->gc_mu_);
      s->gc_running_ = false;
    }
  } reset{this};
  return fn();
}

Result<GcResult> PinService::CollectGarbage() {
  GcResult result;
  CAIRN_TRY(RunExclusive([&]() -> Result<void> {
    result = CAIRN_TRY(Collect());
    return Ok();
  }));
  return result;
}

Result<GcResult> PinService::Collect() {
  // Mark: every block reachable (through present blocks) from any pin's root.
  std::unordered_set<std::string> live;  // multihash bytes
  // The extra live blocks are read first: a block they list that a read brings back during the
  // walk (after which they might no longer list it) is then already marked.
  if (options_.also_live) {
    CAIRN_TRY(
        options_.also_live([&](ByteSpan mh) { live.insert(std::string(mh.begin(), mh.end())); }));
  }
  const PinStatus keep[] = {PinStatus::kQueued, PinStatus::kPinning, PinStatus::kPinned};
  std::optional<Cid> after;
  for (;;) {
    auto roots = CAIRN_TRY(pins_.ListCids(keep, after, 1000));
    if (roots.empty()) break;
    after = roots.back();
    std::vector<Cid> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      Cid cid = std::move(stack.back());
      stack.pop_back();
      Bytes mh = cid.hash().Encode();
      if (!live.insert(std::string(mh.begin(), mh.end())).second) continue;
      auto data = blocks_.Get(cid);
      if (!data) continue;  // not present (yet): nothing below it to keep
      auto links = ipld::Links(cid, *data);
      if (!links) continue;  // unknown codec: keep the block, cannot see below it
      for (auto& l : *links) stack.push_back(std::move(l));
    }
  }
  // Sweep: everything else, unless a lease holds it (or held it since the collection began).
  GcResult result;
  result.live_blocks = live.size();
  std::vector<std::pair<Cid, uint64_t>> dead;
  CAIRN_TRY(blocks_.ForEach([&](const Cid& cid, uint64_t size) {
    Bytes mh = cid.hash().Encode();
    if (!live.count(std::string(mh.begin(), mh.end()))) dead.emplace_back(cid, size);
    return true;
  }));
  for (const auto& [dead_cid, size] : dead) {
    const Cid& cid = dead_cid;  // clang 14 cannot capture a structured binding in a lambda
    bool removed = CAIRN_TRY(leases_.DeleteUnlessHeld(cid, [&] { return blocks_.Delete(cid); }));
    if (!removed) continue;
    result.removed_blocks++;
    result.removed_bytes += size;
  }
  CAIRN_TRY(blocks_.Sync());
  stats_.gc_runs++;
  stats_.gc_blocks_removed += result.removed_blocks;
  return result;
}

}  // namespace cairn::pinning
