#include "http/pushed_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>

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
  { auto stream = MakePushedStream([&](const PushSink&) -> Result<void> { ran = true; return Ok(); }); }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace cairn::http
