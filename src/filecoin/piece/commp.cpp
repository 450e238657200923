// CommP in batches: the payload is cut into batches of kBatchRaw bytes (a full height-15 subtree
// once padded). Each full batch is fr32-padded and reduced to its subtree root, on the caller's
// thread (threads == 1) or by a worker. Roots are collected strictly in batch order and merged
// like a binary counter (a stack of roots with strictly decreasing heights). Finish reduces the
// last, partial batch with zero nodes, then folds the stack up to the piece height with ZeroComm.
#include "filecoin/piece/commp.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "filecoin/piece/fr32.hpp"
#include "filecoin/piece/zero_comm.hpp"

namespace cairn::filecoin::piece {
namespace {

constexpr int kBatchHeight = 15;                                  // 2^15 leaves
constexpr size_t kBatchChunks = size_t{1} << (kBatchHeight - 2);  // 127-byte chunks per batch
constexpr size_t kBatchRaw = kBatchChunks * 127;
constexpr size_t kBatchPadded = kBatchChunks * 128;
// Payloads larger than this would need a piece above kMaxPieceHeight.
constexpr uint64_t kMaxPayload = (uint64_t{1} << 63) / 128 * 127;
// Each thread holds up to 3 MiB (two batch slots and a padding buffer).
constexpr unsigned kMaxThreads = 64;

// Pads `raw_size` bytes (zero-extended to whole chunks) into `padded` (room for kBatchPadded + 32
// bytes) and reduces them to the root of a subtree of `height` whose missing leaves are zero.
Node ReduceBatch(const uint8_t* raw, size_t raw_size, uint8_t* padded, int height) {
  const size_t full = raw_size / 127;
  Fr32Pad(raw, padded, full);
  size_t chunks = full;
  if (raw_size % 127 != 0) {
    uint8_t tail[127] = {};
    std::memcpy(tail, raw + 127 * full, raw_size % 127);
    Fr32PadChunk(tail, padded + 128 * full);
    ++chunks;
  }
  size_t count = chunks * 4;  // leaves
  for (int level = 0; level < height; ++level) {
    if (count % 2 == 1) {
      // The right sibling of the last node is an all-zero subtree. count < 2^(height-level) here,
      // so the buffer (2^height nodes + 1) has room.
      std::memcpy(padded + kNodeSize * count, ZeroComm(level).data(), kNodeSize);
      ++count;
    }
    HashNodePairs(padded, padded, count / 2);
    count /= 2;
  }
  Node root;
  std::memcpy(root.data(), padded, kNodeSize);
  return root;
}

}  // namespace

class CommPBuilder::Impl {
 public:
  explicit Impl(CommPOptions options) {
    threads_ =
        options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    threads_ = std::min(threads_, kMaxThreads);
    // Buffers grow on demand (see WritableUnchecked), so a small payload costs small buffers.
    slots_.resize(threads_ == 1 ? 1 : 2 * threads_);
  }

  ~Impl() { StopWorkers(); }

  Result<void> Update(ByteSpan data) {
    CAIRN_TRY(CheckOpen(data.size()));
    while (!data.empty()) {
      MutableByteSpan w = WritableUnchecked();
      const size_t n = std::min(w.size(), data.size());
      std::memcpy(w.data(), data.data(), n);
      CommitUnchecked(n);
      data = data.subspan(n);
    }
    return Ok();
  }

  MutableByteSpan Writable() { return WritableUnchecked(); }

  // Like Update, but whole batches are hashed straight from `data` instead of being copied. The
  // caller keeps `data` alive and unchanged until Finish returns (ComputeCommP(ByteSpan) does).
  Result<void> UpdateBorrowed(ByteSpan data) {
    CAIRN_TRY(CheckOpen(data.size()));
    while (!data.empty()) {
      Slot& s = Current();
      if (s.fill == 0 && data.size() >= kBatchRaw) {
        s.data = data.data();
        CommitUnchecked(kBatchRaw);
        data = data.subspan(kBatchRaw);
        continue;
      }
      MutableByteSpan w = WritableUnchecked();
      const size_t n = std::min(w.size(), data.size());
      std::memcpy(w.data(), data.data(), n);
      CommitUnchecked(n);
      data = data.subspan(n);
    }
    return Ok();
  }

  Result<void> Commit(size_t n) {
    CAIRN_TRY(CheckOpen(n));
    if (n > Current().raw.size() - Current().fill) {
      return Err(ErrorCode::kInvalidArgument,
                 "commp: commit of " + std::to_string(n) + " bytes exceeds the writable buffer");
    }
    CommitUnchecked(n);
    return Ok();
  }

  Result<PieceInfo> Finish() {
    if (finished_) return Err(ErrorCode::kInvalidArgument, "commp: Finish called twice");
    finished_ = true;
    // Collect every outstanding batch, oldest first.
    while (collected_ < submitted_) CollectOldest();
    StopWorkers();
    const uint64_t padded =
        *PaddedSizeForPayload(total_);  // total_ ≤ kMaxPayload, checked on input
    const int height = HeightOfPaddedSize(padded);
    Slot& last = Current();
    if (total_ == 0) {
      PieceInfo info;
      info.root = ZeroComm(kMinPieceHeight);
      info.height = kMinPieceHeight;
      info.padding = kMinUnpaddedPieceSize;
      return info;
    }
    if (last.fill > 0) {
      // Room for the padded chunks plus the one zero node ReduceBatch may append.
      const size_t need = (last.fill + 126) / 127 * 128 + kNodeSize;
      if (padded_.size() < need) padded_.resize(need);
      Push(std::min(height, kBatchHeight),
           ReduceBatch(last.data, last.fill, padded_.data(), std::min(height, kBatchHeight)));
    }
    // Fold: stack heights strictly decrease upwards; pair each with its left neighbour of equal
    // height or with a zero subtree on its right, until one root of the piece height remains.
    auto [h, node] = stack_.back();
    stack_.pop_back();
    while (!stack_.empty() || h < height) {
      if (!stack_.empty() && stack_.back().first == h) {
        node = HashNode(stack_.back().second, node);
        stack_.pop_back();
      } else {
        node = HashNode(node, ZeroComm(h));
      }
      ++h;
    }
    return PieceInfo::Make(node, padded, total_);
  }

  uint64_t payload_size() const { return total_; }

 private:
  enum class State { kFilling, kQueued, kDone };
  struct Slot {
    Bytes raw;
    const uint8_t* data = nullptr;  // raw.data(), or the caller's memory for a borrowed batch
    size_t fill = 0;
    State state = State::kFilling;  // guarded by mu_ once submitted
    Node root{};                    // written by a worker under mu_
  };

  Result<void> CheckOpen(size_t n) const {
    if (finished_) return Err(ErrorCode::kInvalidArgument, "commp: Update after Finish");
    if (n > kMaxPayload - total_) {
      return Err(ErrorCode::kInvalidArgument,
                 "commp: payload exceeds the largest piece (2^63 bytes padded)");
    }
    return Ok();
  }

  Slot& Current() { return slots_[submitted_ % slots_.size()]; }

  MutableByteSpan WritableUnchecked() {
    Slot& s = Current();
    if (s.fill == s.raw.size()) {
      // Grow geometrically from 64 KiB to one batch; keeps what was written.
      s.raw.resize(std::min(kBatchRaw, std::max<size_t>(s.raw.size() * 2, 64 * 1024)));
    }
    s.data = s.raw.data();
    return {s.raw.data() + s.fill, s.raw.size() - s.fill};
  }

  void CommitUnchecked(size_t n) {
    Slot& s = Current();
    s.fill += n;
    total_ += n;
    if (s.fill == kBatchRaw) SubmitFull();
  }

  // The current slot is full: hash it now (one thread) or hand it to the workers, then make the
  // next slot current (collecting the root it still holds, which is the oldest outstanding one).
  void SubmitFull() {
    Slot& s = Current();
    if (threads_ == 1) {
      if (padded_.size() < kBatchPadded + kNodeSize) padded_.resize(kBatchPadded + kNodeSize);
      Push(kBatchHeight, ReduceBatch(s.data, s.fill, padded_.data(), kBatchHeight));
      s.fill = 0;
      s.data = s.raw.data();
      ++submitted_;
      ++collected_;
      return;
    }
    StartWorkers();
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.state = State::kQueued;
      queue_.push_back(&s);
    }
    work_cv_.notify_one();
    ++submitted_;
    if (submitted_ - collected_ == slots_.size()) CollectOldest();
  }

  void CollectOldest() {
    Slot& s = slots_[collected_ % slots_.size()];
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return s.state == State::kDone; });
    const Node root = s.root;
    s.state = State::kFilling;
    s.fill = 0;
    s.data = s.raw.data();
    lock.unlock();
    Push(kBatchHeight, root);
    ++collected_;
  }

  void Push(int height, Node node) {
    while (!stack_.empty() && stack_.back().first == height) {
      node = HashNode(stack_.back().second, node);
      stack_.pop_back();
      ++height;
    }
    stack_.emplace_back(height, node);
  }

  void StartWorkers() {
    if (!workers_.empty()) return;
    for (unsigned i = 0; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }

  void StopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void WorkerLoop() {
    Bytes padded(kBatchPadded + kNodeSize);
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      Slot* s = queue_.front();
      queue_.pop_front();
      lock.unlock();
      const Node root = ReduceBatch(s->data, s->fill, padded.data(), kBatchHeight);
      lock.lock();
      s->root = root;
      s->state = State::kDone;
      done_cv_.notify_all();
    }
  }

  unsigned threads_ = 1;
  std::vector<Slot> slots_;
  Bytes padded_;            // the caller thread's padding buffer
  uint64_t total_ = 0;      // payload bytes committed
  uint64_t submitted_ = 0;  // full batches handed over (the current slot is submitted_ % size)
  uint64_t collected_ = 0;  // batch roots pushed onto stack_, in order
  bool finished_ = false;
  std::vector<std::pair<int, Node>> stack_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Slot*> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;        // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

CommPBuilder::CommPBuilder(CommPOptions options) : impl_(std::make_unique<Impl>(options)) {}
CommPBuilder::~CommPBuilder() = default;
Result<void> CommPBuilder::Update(ByteSpan data) { return impl_->Update(data); }
MutableByteSpan CommPBuilder::Writable() { return impl_->Writable(); }
Result<void> CommPBuilder::Commit(size_t n) { return impl_->Commit(n); }
Result<PieceInfo> CommPBuilder::Finish() { return impl_->Finish(); }
uint64_t CommPBuilder::payload_size() const { return impl_->payload_size(); }

Result<PieceInfo> ComputeCommP(ByteSource& source, CommPOptions options) {
  CommPBuilder builder(options);
  for (;;) {
    MutableByteSpan w = builder.Writable();
    const size_t n = CAIRN_TRY(source.Read(w));
    if (n == 0) break;
    if (n > w.size()) {
      return Err(ErrorCode::kInternal, "commp: source returned more bytes than asked");
    }
    CAIRN_TRY(builder.Commit(n));
  }
  return builder.Finish();
}

Result<PieceInfo> ComputeCommP(ByteSpan payload, CommPOptions options) {
  CommPBuilder::Impl impl(options);
  CAIRN_TRY(impl.UpdateBorrowed(payload));
  return impl.Finish();
}

}  // namespace cairn::filecoin::piece
