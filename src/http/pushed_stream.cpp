#include "http/pushed_stream.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace cairn::http {
namespace internal {

class Channel {
 public:
  explicit Channel(size_t max_buffered) : max_buffered_(max_buffered) {}

  // Queues `data` (kept alive by `owner`), waiting while `max_buffered` bytes are queued.
  Result<void> Push(ByteSpan data, std::shared_ptr<const void> owner) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return cancelled_ || buffered_ < max_buffered_; });
    if (cancelled_) return Err(ErrorCode::kCancelled, "gateway: client went away");
    if (data.empty()) return Ok();
    buffered_ += data.size();
    pieces_.push_back(BodyPiece{data, std::move(owner)});
    ready_.notify_one();
    auto wake = std::exchange(wake_, nullptr);
    lock.unlock();
    if (wake) wake();
    return Ok();
  }

  // See BodyStream::WhenReady.
  bool WhenReady(std::function<void()> wake) {
    std::lock_guard lock(mu_);
    if (!pieces_.empty() || done_) return true;
    if (wake && !cancelled_) wake_ = std::move(wake);
    return false;
  }

  void Close(Result<void> result) {
    std::unique_lock lock(mu_);
    done_ = true;
    result_ = std::move(result);
    ready_.notify_all();
    auto wake = std::exchange(wake_, nullptr);
    lock.unlock();
    if (wake) wake();
  }

  // The reader is gone: the producer's next Push fails, and nobody is woken any more.
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    wake_ = nullptr;
    space_.notify_all();
  }

  // The next piece; an empty one at a clean end; the producer's error otherwise.
  Result<BodyPiece> Pull() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !pieces_.empty() || done_; });
    if (!pieces_.empty()) {
      BodyPiece piece = std::move(pieces_.front());
      pieces_.pop_front();
      buffered_ -= piece.data.size();
      space_.notify_one();
      return piece;
    }
    if (!result_) return Err(result_.error());
    return BodyPiece{};
  }

 private:
  const size_t max_buffered_;
  std::mutex mu_;
  std::condition_variable ready_;  // data or end available
  std::condition_variable space_;  // room for the producer
  std::deque<BodyPiece> pieces_;   // GUARDED_BY(mu_)
  size_t buffered_ = 0;            // GUARDED_BY(mu_)
  bool done_ = false;              // GUARDED_BY(mu_)
  bool cancelled_ = false;         // GUARDED_BY(mu_)
  Result<void> result_ = Ok();     // GUARDED_BY(mu_)
  std::function<void()> wake_;     // GUARDED_BY(mu_): the reader waiting for a piece
};

}  // namespace internal

namespace {

// Copies are made in pieces of at most this size, so the bound on buffered bytes holds for
// large writes too.
constexpr size_t kCopyPiece = 256 * 1024;

// Owns the producer thread; destroying it cancels and joins.
struct PushedStream {
  std::shared_ptr<internal::Channel> channel;
  Producer producer;  // until started
  std::thread thread;
  bool started = false;
  // Called by the reading thread only.
  void Start() {
    if (started) return;
    started = true;
    thread = std::thread([channel = channel, producer = std::exchange(producer, nullptr)] {
      auto r = producer(PushSink(channel.get()));
      channel->Close(std::move(r));
    });
  }
  ~PushedStream() {
    channel->Cancel();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

Result<void> PushSink::operator()(ByteSpan data) const {
  while (!data.empty()) {
    size_t n = std::min(data.size(), kCopyPiece);
    auto copy =
        std::make_shared<const Bytes>(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    ByteSpan view(copy->data(), copy->size());
    CAIRN_TRY(channel_->Push(view, std::move(copy)));
    data = data.subspan(n);
  }
  return Ok();
}

Result<void> PushSink::Share(ByteSpan data, std::shared_ptr<const void> owner) const {
  if (!owner) return (*this)(data);
  return channel_->Push(data, std::move(owner));
}

BodyStream MakePushedStream(Producer producer, size_t max_buffered) {
  auto state = std::make_shared<PushedStream>();
  state->channel = std::make_shared<internal::Channel>(max_buffered);
  state->producer = std::move(producer);
  // The thread starts on the first pull, so a response that is never sent (HEAD, 304) costs none.
  return BodyStream::FromPieces(
      [state]() -> Result<BodyPiece> {
        state->Start();
        return state->channel->Pull();
      },
      [state](std::function<void()> wake) {
        state->Start();
        return state->channel->WhenReady(std::move(wake));
      });
}

}  // namespace cairn::http
