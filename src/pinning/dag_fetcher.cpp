#include "pinning/dag_fetcher.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "ipld/links.hpp"

namespace cairn::pinning {
namespace {

using multiformats::Cid;

// Shared state of one walk. Workers take CIDs from `queue`; the walk ends when the queue is empty
// and nobody is working, or at the first error.
struct Walk {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Cid> queue;         // GUARDED_BY(mu)
  std::unordered_set<Cid> seen;  // GUARDED_BY(mu)
  size_t working = 0;            // GUARDED_BY(mu)
  std::optional<Error> error;    // GUARDED_BY(mu)
  DagFetchProgress progress;     // GUARDED_BY(mu)
};

}  // namespace

Result<DagFetchResult> FetchDag(const Cid& root, blockstore::Blockstore& blocks,
                                fetch::BlockSource& source, const Clock& clock,
                                const DagFetchOptions& options, const std::atomic<bool>& cancel,
                                const ProgressFn& progress) {
  Walk walk;
  std::unique_ptr<fetch::FetchSession> session = source.OpenSession(fetch::SessionParams{
      root, options.origins, options.extra_gateways, options.deadline_micros, &cancel});
  walk.queue.push_back(root);
  walk.seen.insert(root);

  auto fail = [&walk](Error e) {  // REQUIRES(walk.mu)
    if (!walk.error) walk.error = std::move(e);
    walk.cv.notify_all();
  };

  auto worker = [&]() {
    std::unique_lock lock(walk.mu);
    for (;;) {
      walk.cv.wait(lock, [&] { return walk.error || !walk.queue.empty() || walk.working == 0; });
      if (walk.error || (walk.queue.empty() && walk.working == 0)) {
        walk.cv.notify_all();
        return;
      }
      Cid cid = std::move(walk.queue.front());
      walk.queue.pop_front();
      ++walk.working;
      lock.unlock();

      Result<Bytes> data = Err(ErrorCode::kInternal, "unset");
      bool fetched = false;
      if (cancel.load()) {
        data = Err(ErrorCode::kCancelled, "pin: cancelled");
      } else if (options.deadline_micros != 0 &&
                 clock.MonotonicMicros() > options.deadline_micros) {
        data = Err(ErrorCode::kTimeout, "pin: deadline passed before the DAG was complete");
      } else {
        if (options.on_visit) options.on_visit(cid);
        auto has = blocks.Has(cid);
        if (!has) {
          data = Err(has.error());
        } else if (*has) {
          data = blocks.Get(cid);  // verified by the store
        } else {
          data = session->Fetch(cid);
          if (data) {
            auto put = blocks.Put(cid, *data);
            if (!put) data = Err(put.error());
            fetched = true;
          }
        }
      }
      Result<std::vector<Cid>> links = Err(ErrorCode::kInternal, "unset");
      if (data) links = ipld::Links(cid, *data);

      lock.lock();
      --walk.working;
      if (!data) {
        fail(data.error());
        continue;
      }
      if (!links) {
        fail(links.error().WithContext("pin: block " + cid.ToString() + ": "));
        continue;
      }
      walk.progress.blocks += 1;
      walk.progress.bytes += data->size();
      walk.progress.fetched_blocks += fetched ? 1 : 0;
      if (options.max_dag_bytes != 0 && walk.progress.bytes > options.max_dag_bytes) {
        fail(Error(ErrorCode::kResourceExhausted, "pin: DAG is larger than the limit of " +
                                                      std::to_string(options.max_dag_bytes) +
                                                      " bytes"));
        continue;
      }
      for (auto& link : *links) {
        if (walk.seen.insert(link).second) walk.queue.push_back(std::move(link));
      }
      if (progress && walk.progress.blocks % 64 == 1) progress(walk.progress);
      walk.cv.notify_all();
    }
  };

  size_t n = std::max<size_t>(1, options.parallelism);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  if (walk.error) return Err(*walk.error);
  if (progress) progress(walk.progress);
  return DagFetchResult{walk.progress.blocks, walk.progress.bytes, walk.progress.fetched_blocks};
}

}  // namespace cairn::pinning
