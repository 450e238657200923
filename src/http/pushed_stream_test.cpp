#include "http/pushed_stream.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace cairn::http {
namespace {

std::string Drain(BodyStream& stream, size_t buf_size, Result<void>* error = nullptr) {
  std::string out;
  Bytes buf(buf_size);
  for (;;) {
    auto n = stream(buf);
    if (!n) {
      if (error) *error = Err(n.error());
      return out;
    }
    if (*n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
}

TEST(PushedStream, DeliversEverythingInOrderWithSmallBuffers) {
  std::string expected;
  for (int i = 0; i < 10000; ++i) expected += std::to_string(i) + ",";
  auto stream = MakePushedStream(
      [&](const PushSink& sink) -> Result<void> {
        for (int i = 0; i < 10000; ++i) CAIRN_TRY(sink(AsBytes(std::to_string(i) + ",")));
        return Ok();
      },
      /*max_buffered=*/64);
  EXPECT_EQ(Drain(stream, 7), expected);
}

TEST(PushedStream, SurfacesProducerErrors) {
  auto stream = MakePushedStream([](const PushSink& sink) -> Result<void> {
    CAIRN_TRY(sink(AsBytes("partial")));
    return Err(ErrorCode::kCorruption, "block x is corrupt");
  });
  Result<void> error = Ok();
  EXPECT_EQ(Drain(stream, 1024, &error), "partial");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code(), ErrorCode::kCorruption);
}

TEST(PushedStream, DestroyingTheStreamStopsTheProducer) {
  std::atomic<bool> saw_cancel{false};
  {
    auto stream = MakePushedStream(
        [&](const PushSink& sink) -> Result<void> {
          for (;;) {
            auto r = sink(AsBytes("forever"));
            if (!r) {
              saw_cancel = r.error().code() == ErrorCode::kCancelled;
              return r;
            }
          }
        },
        16);
    Bytes buf(4);
    ASSERT_TRUE(stream(buf));
  }  // joins the producer
  EXPECT_TRUE(saw_cancel);
}

TEST(PushedStream, NeverPulledMeansNeverStarted) {
  bool ran = false;
  {
    auto stream = MakePushedStream([&](const PushSink&) -> Result<void> {
      ran = true;
      return Ok();
    });
  }
  EXPECT_FALSE(ran);
}

TEST(PushedStream, SharedBytesReachTheReaderInPlaceAndCopiesAreBounded) {
  std::mutex mu;
  std::weak_ptr<const Bytes> watch;  // GUARDED_BY(mu) until the first piece is pulled
  auto stream = MakePushedStream(
      [&](const PushSink& sink) -> Result<void> {
        auto block = std::make_shared<const Bytes>(Bytes(1 << 20, 0x5a));
        {
          std::lock_guard lock(mu);
          watch = block;
        }
        ByteSpan part = ByteSpan(*block).subspan(10, 1000);
        CAIRN_TRY(sink.Share(part, std::move(block)));  // the stream holds the only reference
        CAIRN_TRY(sink(Bytes(600 * 1024, 1)));          // copied, in pieces of at most 256 KiB
        return Ok();
      },
      /*max_buffered=*/64);
  auto first = stream.Next();
  ASSERT_TRUE(first);
  std::lock_guard lock(mu);
  EXPECT_EQ(first->data.data(), watch.lock()->data() + 10);  // the producer's memory itself
  EXPECT_EQ(first->data.size(), 1000u);
  first->owner.reset();
  EXPECT_TRUE(watch.expired());  // handed over, not kept
  uint64_t copied = 0;
  for (;;) {
    auto piece = stream.Next();
    ASSERT_TRUE(piece);
    if (piece->data.empty()) break;
    EXPECT_LE(piece->data.size(), 256u * 1024);
    copied += piece->data.size();
  }
  EXPECT_EQ(copied, 600u * 1024);
}

TEST(PushedStream, ReadyOrNotifyWakesOnceWhenThePieceArrives) {
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;  // GUARDED_BY(mu)
  auto stream = MakePushedStream([&](const PushSink& sink) -> Result<void> {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return go; });
    lock.unlock();
    return sink(AsBytes("late"));
  });
  std::atomic<int> wakes{0};
  EXPECT_FALSE(stream.ReadyOrNotify([&] { ++wakes; }));  // starts the producer, which waits
  EXPECT_EQ(wakes.load(), 0);
  {
    std::lock_guard lock(mu);
    go = true;
    cv.notify_all();
  }
  while (wakes.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(stream.ReadyOrNotify());
  auto piece = stream.Next();
  ASSERT_TRUE(piece);
  EXPECT_EQ(AsString(piece->data), "late");
  EXPECT_EQ(wakes.load(), 1);
  // The end is ready too (the producer closed), without waiting.
  while (!stream.ReadyOrNotify()) std::this_thread::yield();
  auto end = stream.Next();
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->data.empty());
  EXPECT_EQ(wakes.load(), 1);
}

TEST(BodyStream, EitherKindReadsEitherWay) {
  std::string text = "the quick brown fox jumps over the lazy dog";
  size_t at = 0;
  BodyStream fill = [&](MutableByteSpan buf) -> Result<size_t> {
    size_t n = std::min<size_t>({buf.size(), 5, text.size() - at});
    std::memcpy(buf.data(), text.data() + at, n);
    at += n;
    return n;
  };
  std::string via_pieces;
  for (;;) {
    auto piece = fill.Next(3);
    ASSERT_TRUE(piece);
    if (piece->data.empty()) break;
    via_pieces.append(reinterpret_cast<const char*>(piece->data.data()), piece->data.size());
  }
  EXPECT_EQ(via_pieces, text);

  auto shared = std::make_shared<const std::string>(text);
  int calls = 0;
  BodyStream pieces = BodyStream::FromPieces([&]() -> Result<BodyPiece> {
    if (calls++ > 0) return BodyPiece{};
    return BodyPiece{AsBytes(*shared), shared};
  });
  EXPECT_EQ(Drain(pieces, 4), text);
  EXPECT_FALSE(BodyStream());
  EXPECT_TRUE(pieces);
}

}  // namespace
}  // namespace cairn::http
