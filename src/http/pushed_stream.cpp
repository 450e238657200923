#include "http/pushed_stream.hpp"

#include <cstring>

namespace cairn::http {
namespace {

class Channel {
 public:
  explicit Channel(size_t max_buffered) : max_buffered_(max_buffered) {}

  Result<void> Push(ByteSpan data) {
    std::unique_lock lock(mu_);
    while (!data.empty()) {
      space_.wait(lock, [&] { return cancelled_ || buffered_ < max_buffered_; });
      if (cancelled_) return Err(ErrorCode::kCancelled, "gateway: client went away");
      size_t n = std::min(data.size(), max_buffered_ - buffered_);
      chunks_.emplace_back(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      buffered_ += n;
      data = data.subspan(n);
      ready_.notify_one();
    }
    return Ok();
  }

  void Close(Result<void> result) {
    std::lock_guard lock(mu_);
    done_ = true;
    result_ = std::move(result);
    ready_.notify_all();
  }

  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    space_.notify_all();
  }

  // Copies up to buffer.size() bytes; 0 at a clean end; the producer's error otherwise.
  Result<size_t> Pull(MutableByteSpan buffer) {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !chunks_.empty() || done_; });
    size_t copied = 0;
    while (copied < buffer.size() && !chunks_.empty()) {
      Bytes& front = chunks_.front();
      size_t n = std::min(buffer.size() - copied, front.size() - front_offset_);
      std::memcpy(buffer.data() + copied, front.data() + front_offset_, n);
      copied += n;
      front_offset_ += n;
      if (front_offset_ == front.size()) {
        buffered_ -= front.size();
        chunks_.pop_front();
        front_offset_ = 0;
      }
    }
    space_.notify_one();
    if (copied > 0) return copied;
    if (!result_) return Err(result_.error());
    return size_t{0};
  }

 private:
  const size_t max_buffered_;
  std::mutex mu_;
  std::condition_variable ready_;  // data or end available
  std::condition_variable space_;  // room for the producer
  std::deque<Bytes> chunks_;       // GUARDED_BY(mu_)
  size_t front_offset_ = 0;        // GUARDED_BY(mu_)
  size_t buffered_ = 0;            // GUARDED_BY(mu_)
  bool done_ = false;              // GUARDED_BY(mu_)
  bool cancelled_ = false;         // GUARDED_BY(mu_)
  Result<void> result_ = Ok();     // GUARDED_BY(mu_)
};

// Owns the producer thread; destroying it cancels and joins.
struct PushedStream {
  std::shared_ptr<Channel> channel;
  std::thread thread;
  ~PushedStream() {
    channel->Cancel();
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

BodyStream MakePushedStream(Producer producer, size_t max_buffered) {
  auto state = std::make_shared<PushedStream>();
  state->channel = std::make_shared<Channel>(max_buffered);
  bool started = false;
  // The thread starts on the first pull, so a response that is never sent (HEAD, 304) costs none.
  return [state, producer = std::move(producer), started](MutableByteSpan buffer) mutable -> Result<size_t> {
    if (!started) {
      started = true;
      auto channel = state->channel;
      state->thread = std::thread([channel, producer = std::move(producer)] {
        auto r = producer([&](ByteSpan data) { return channel->Push(data); });
        channel->Close(std::move(r));
      });
    }
    return state->channel->Pull(buffer);
  };
}

}  // namespace cairn::http
