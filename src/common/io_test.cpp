#include "common/io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iterator>

#include "common/testing/temp_dir.hpp"

namespace cairn {
namespace {

Bytes Pattern(size_t n) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 7 + i / 251);
  return out;
}

Bytes ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteWhole(const std::string& path, ByteSpan data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Reads `source` to the end in reads of `step` bytes.
Bytes Drain(ByteSource& source, size_t step) {
  Bytes out;
  Bytes buf(step);
  while (true) {
    auto n = source.Read(MutableByteSpan(buf));
    EXPECT_TRUE(n) << n.error().ToString();
    if (!n || *n == 0) break;
    EXPECT_LE(*n, step);
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  return out;
}

TEST(SpanSource, ReadsEverythingThenZeroForever) {
  const Bytes data = Pattern(1000);
  SpanSource source(data);
  EXPECT_EQ(Drain(source, 7), data);
  uint8_t b[4];
  EXPECT_EQ(*source.Read(MutableByteSpan(b, 4)), 0u);
  EXPECT_EQ(*source.Read(MutableByteSpan(b, 4)), 0u);
}

TEST(BytesSink, AppendsAndOverwritesOnlyWhatWasWritten) {
  Bytes out = {9};
  BytesSink sink(out);
  ASSERT_TRUE(sink.Write(ToBytes("abcd")));
  ASSERT_TRUE(sink.Write({}));
  ASSERT_TRUE(sink.WriteAt(2, ToBytes("XY")));
  EXPECT_EQ(out, (Bytes{9, 'a', 'X', 'Y', 'd'}));
  auto beyond = sink.WriteAt(4, ToBytes("XY"));
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(sink.WriteAt(6, {}));
}

TEST(FunctionSink, CallsTheFunctionAndReturnsItsError) {
  std::string seen;
  FunctionSink sink([&](ByteSpan b) -> Result<void> {
    if (b.empty()) return Err(ErrorCode::kCancelled, "empty");
    seen += AsString(b);
    return Ok();
  });
  ByteSink& as_sink = sink;
  ASSERT_TRUE(as_sink.Write(ToBytes("ab")));
  ASSERT_TRUE(as_sink.Write(ToBytes("c")));
  EXPECT_EQ(seen, "abc");
  auto failed = as_sink.Write({});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kCancelled);
}

TEST(FileSource, GivesTheSameBytesForSmallAndLargeReads) {
  testing::TempDir dir;
  const Bytes data = Pattern(3 * FileSource::kBufferSize + 123);
  WriteWhole(dir / "f", data);
  for (size_t step : {size_t{1}, size_t{1000}, FileSource::kBufferSize, size_t{200000}}) {
    auto source = FileSource::Open(dir / "f");
    ASSERT_TRUE(source) << source.error().ToString();
    EXPECT_EQ(Drain(*source, step), data) << step;
    uint8_t b[1];
    EXPECT_EQ(*source->Read(MutableByteSpan(b, 1)), 0u);
  }
}

TEST(FileSource, MixedReadSizesKeepOrderAndRewindStartsOver) {
  testing::TempDir dir;
  const Bytes data = Pattern(2 * FileSource::kBufferSize + 5);
  WriteWhole(dir / "f", data);
  auto source = FileSource::Open(dir / "f");
  ASSERT_TRUE(source);
  // A small read fills the buffer; a large one then returns what is buffered first.
  Bytes got(3);
  ASSERT_EQ(*source->Read(MutableByteSpan(got)), 3u);
  Bytes large(FileSource::kBufferSize);
  const size_t n = *source->Read(MutableByteSpan(large));
  ASSERT_GT(n, 0u);
  got.insert(got.end(), large.begin(), large.begin() + static_cast<std::ptrdiff_t>(n));
  const Bytes rest = Drain(*source, 4096);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, data);
  ASSERT_TRUE(source->Rewind());
  EXPECT_EQ(Drain(*source, 333), data);
}

TEST(FileSource, OpenOfAMissingFileNamesIt) {
  testing::TempDir dir;
  auto source = FileSource::Open(dir / "nope");
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code(), ErrorCode::kIoError);
  EXPECT_NE(source.error().message().find("cannot open"), std::string::npos);
  EXPECT_NE(source.error().message().find("nope"), std::string::npos);
}

TEST(FileSource, BorrowedDescriptorStaysOpenAndPipesCannotRewind) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "hello", 5), 5);
  ::close(fds[1]);
  {
    FileSource source = FileSource::Borrow(fds[0], "pipe");
    Bytes got = Drain(source, 2);
    EXPECT_EQ(AsString(got), "hello");
    auto rewound = source.Rewind();
    ASSERT_FALSE(rewound);
    EXPECT_NE(rewound.error().message().find("cannot rewind pipe"), std::string::npos);
  }
  EXPECT_NE(::fcntl(fds[0], F_GETFD), -1);  // still open: a borrowed descriptor is not closed
  ::close(fds[0]);
}

TEST(FileSink, WritesSmallAndLargePiecesInOrder) {
  testing::TempDir dir;
  auto sink = FileSink::Create(dir / "out");
  ASSERT_TRUE(sink) << sink.error().ToString();
  Bytes expected;
  const Bytes big = Pattern(FileSink::kBufferSize * 2 + 17);
  for (size_t size : {size_t{1}, size_t{10}, big.size(), size_t{5}, FileSink::kBufferSize - 1,
                      FileSink::kBufferSize, size_t{3}}) {
    const ByteSpan piece(big.data(), size);
    ASSERT_TRUE(sink->Write(piece));
    expected.insert(expected.end(), piece.begin(), piece.end());
  }
  ASSERT_TRUE(sink->Close());
  ASSERT_TRUE(sink->Close());  // idempotent
  EXPECT_EQ(ReadWhole(dir / "out"), expected);
}

TEST(FileSink, FlushMakesBytesVisibleAndTheDestructorWritesTheRest) {
  testing::TempDir dir;
  {
    auto sink = FileSink::Create(dir / "out");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(sink->Write(ToBytes("abc")));
    EXPECT_TRUE(ReadWhole(dir / "out").empty());
    ASSERT_TRUE(sink->Flush());
    EXPECT_EQ(AsString(ReadWhole(dir / "out")), "abc");
    ASSERT_TRUE(sink->Write(ToBytes("de")));
  }
  EXPECT_EQ(AsString(ReadWhole(dir / "out")), "abcde");
}

TEST(FileSink, CreateInAMissingDirectoryAndWriteToAClosedPipeFail) {
  testing::TempDir dir;
  auto missing = FileSink::Create(dir / "no/such/file");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot create"), std::string::npos);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  // With SIGPIPE ignored, writing to a pipe without a reader fails with EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  FileSink sink = FileSink::Borrow(fds[1], "pipe");
  const Bytes big = Pattern(FileSink::kBufferSize);
  auto written = sink.Write(big);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), ErrorCode::kIoError);
  EXPECT_NE(written.error().message().find("writing pipe failed"), std::string::npos);
  ASSERT_TRUE(sink.Close());
  ::close(fds[1]);
}

}  // namespace
}  // namespace cairn
