#include "net/yamux.hpp"

#include <gtest/gtest.h>

#include "common/clock.hpp"

namespace cairn::net::yamux {
namespace {

// Moves every queued byte from `from` to `to`, in pieces of `chunk` bytes.
Result<Events> Pump(Session& from, Session& to, size_t chunk = 7) {
  Events ev;
  Bytes out = from.TakeOutput();
  for (size_t at = 0; at < out.size(); at += chunk) {
    CAIRN_TRY(to.Receive(ByteSpan(out).subspan(at, std::min(chunk, out.size() - at)), ev));
  }
  return ev;
}

Bytes Frame(FrameType type, uint16_t flags, uint32_t id, uint32_t length, size_t payload = 0) {
  Bytes out;
  AppendHeader(out, Header{type, flags, id, length});
  out.resize(out.size() + payload, 'x');
  return out;
}

TEST(YamuxHeader, EncodesBigEndian) {
  Bytes out;
  AppendHeader(out, Header{FrameType::kWindowUpdate, kSyn | kAck, 0x01020304, 0x00040000});
  EXPECT_EQ(HexEncode(out), "000100030102030400040000");
  auto h = DecodeHeader(out);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->stream_id, 0x01020304u);
  out[0] = 1;
  EXPECT_FALSE(DecodeHeader(out));
  out[0] = 0;
  out[1] = 4;
  EXPECT_FALSE(DecodeHeader(out));
}

TEST(YamuxSession, OpensWritesReadsAndCloses) {
  Session client(Role::kClient), server(Role::kServer);
  auto id = client.Open();
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 1u);
  EXPECT_EQ(client.Write(*id, AsBytes("hello")), 5u);
  client.CloseWrite(*id);
  auto ev = Pump(client, server);
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->opened, std::vector<uint32_t>{1});
  EXPECT_EQ(server.Readable(1), 5u);
  EXPECT_TRUE(server.RemoteClosed(1));
  uint8_t buf[16];
  EXPECT_EQ(server.Read(1, buf), 5u);
  EXPECT_EQ(AsString(ByteSpan(buf, 5)), "hello");
  EXPECT_EQ(server.Write(1, AsBytes("bye")), 3u);
  server.CloseWrite(1);
  ASSERT_TRUE(Pump(server, client));
  EXPECT_EQ(client.Read(1, buf), 3u);
  EXPECT_TRUE(client.RemoteClosed(1));
  EXPECT_FALSE(client.IsReset(1));
  client.Release(1);
  server.Release(1);
  EXPECT_EQ(client.stream_count(), 0u);
  EXPECT_EQ(client.pending_output(), 0u);  // closed both ways: no RST on release
}

TEST(YamuxSession, FlowControlStopsAtTheWindowAndResumesOnUpdate) {
  Session client(Role::kClient), server(Role::kServer);
  uint32_t id = *client.Open();
  Bytes big(kInitialWindow + 1000, 'a');
  size_t sent = 0;
  while (sent < big.size()) {
    size_t n = client.Write(id, ByteSpan(big).subspan(sent));
    if (n == 0) break;
    sent += n;
    ASSERT_TRUE(Pump(client, server, 4096));
  }
  EXPECT_EQ(sent, kInitialWindow);
  EXPECT_EQ(client.SendWindow(id), 0u);
  // Reading half the window grants it back.
  Bytes buf(kInitialWindow / 2);
  EXPECT_EQ(server.Read(id, buf), buf.size());
  auto ev = Pump(server, client);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->touched.back(), id);  // (after the ACK of the SYN)
  EXPECT_EQ(client.SendWindow(id), kInitialWindow / 2);
}

TEST(YamuxSession, DataBeyondTheWindowIsAProtocolError) {
  Session server(Role::kServer);
  Events ev;
  ASSERT_TRUE(server.Receive(Frame(FrameType::kWindowUpdate, kSyn, 1, 0), ev));
  auto r = server.Receive(Frame(FrameType::kData, 0, 1, kInitialWindow + 1), ev);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("beyond the window"), std::string::npos);
  Bytes out = server.TakeOutput();
  // ACK for the stream, then GO_AWAY with protocol error.
  EXPECT_EQ(HexEncode(ByteSpan(out).last(12)), "000300000000000000000001");
}

TEST(YamuxSession, RejectsWrongParitySynAndHugeWindows) {
  {
    Session server(Role::kServer);
    Events ev;
    EXPECT_FALSE(server.Receive(Frame(FrameType::kWindowUpdate, kSyn, 2, 0), ev));
  }
  {
    Session server(Role::kServer);
    Events ev;
    ASSERT_TRUE(server.Receive(Frame(FrameType::kWindowUpdate, kSyn, 1, 0), ev));
    EXPECT_FALSE(server.Receive(Frame(FrameType::kWindowUpdate, 0, 1, 0xffffffffu), ev));
  }
  {
    Session server(Role::kServer);
    Events ev;
    ASSERT_TRUE(server.Receive(Frame(FrameType::kWindowUpdate, kSyn, 1, 0), ev));
    EXPECT_FALSE(server.Receive(Frame(FrameType::kWindowUpdate, kSyn, 1, 0), ev));  // reused
  }
}

TEST(YamuxSession, RefusesStreamsOverTheLimitWithRst) {
  Options o;
  o.max_streams = 2;
  Session server(Role::kServer, o);
  Events ev;
  for (uint32_t id : {1u, 3u, 5u}) {
    ASSERT_TRUE(server.Receive(Frame(FrameType::kData, kSyn, id, 4, 4), ev));
  }
  EXPECT_EQ(ev.opened, (std::vector<uint32_t>{1, 3}));
  Bytes out = server.TakeOutput();
  EXPECT_EQ(HexEncode(ByteSpan(out).last(12)), "000100080000000500000000");  // RST for 5
  EXPECT_EQ(server.Readable(1), 4u);
}

TEST(YamuxSession, AnswersPingsAndNotesGoAway) {
  Session s(Role::kServer);
  Events ev;
  ASSERT_TRUE(s.Receive(Frame(FrameType::kPing, kSyn, 0, 77), ev));
  EXPECT_EQ(HexEncode(s.TakeOutput()), "00020002000000000000004d");
  ASSERT_TRUE(s.Receive(Frame(FrameType::kGoAway, 0, 0, 0), ev));
  EXPECT_TRUE(ev.go_away);
  EXPECT_FALSE(s.Open());
}

TEST(YamuxSession, PingFloodWithoutReadingIsCutOff) {
  Options o;
  o.max_control_backlog = 1200;
  Session s(Role::kServer, o);
  Events ev;
  Bytes flood;
  for (int i = 0; i < 200; ++i) {
    Bytes f = Frame(FrameType::kPing, kSyn, 0, i);
    flood.insert(flood.end(), f.begin(), f.end());
  }
  auto r = s.Receive(flood, ev);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
}

TEST(YamuxSession, ResetIsSeenByThePeerAndLaterDataIsDropped) {
  Session client(Role::kClient), server(Role::kServer);
  uint32_t id = *client.Open();
  ASSERT_TRUE(client.Write(id, AsBytes("x")));
  ASSERT_TRUE(Pump(client, server));
  server.Reset(id);
  ASSERT_TRUE(client.Write(id, AsBytes("late")));
  ASSERT_TRUE(Pump(client, server));  // dropped, not an error
  EXPECT_EQ(server.Readable(id), 0u);
  ASSERT_TRUE(Pump(server, client));
  EXPECT_TRUE(client.IsReset(id));
  EXPECT_EQ(client.Write(id, AsBytes("more")), 0u);
}

TEST(YamuxSession, LargerReceiveWindowIsGrantedInTheSyn) {
  Options o;
  o.receive_window = 1 << 20;
  Session client(Role::kClient, o), server(Role::kServer);
  uint32_t id = *client.Open();
  ASSERT_TRUE(Pump(client, server));
  EXPECT_EQ(server.SendWindow(id), 1u << 20);
}

TEST(YamuxSession, ReadsManyReceivedPiecesBackInOrder) {
  Session client(Role::kClient), server(Role::kServer);
  uint32_t id = *client.Open();
  Bytes sent(200 * 1000);
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<uint8_t>(i * 7 + i / 251);
  size_t at = 0;
  Bytes got;
  uint8_t buf[3000];
  while (got.size() < sent.size()) {
    at += client.Write(id, ByteSpan(sent).subspan(at, std::min<size_t>(5000, sent.size() - at)));
    ASSERT_TRUE(Pump(client, server, 1 + at % 1500));
    size_t n = server.Read(id, MutableByteSpan(buf, 1 + at % sizeof buf));
    got.insert(got.end(), buf, buf + n);
    EXPECT_EQ(server.Readable(id), at - got.size());
    ASSERT_TRUE(Pump(server, client));  // window updates
  }
  EXPECT_EQ(got, sent);
}

// Auto-tuning: a sender and a receiver on one fake clock; the receiver measured an RTT of 100 us.
struct AutoTune {
  explicit AutoTune(Options o = {})
      : client(Role::kClient, With(o)), server(Role::kServer, With(o)) {
    server.StartRttMeasurement();
    EXPECT_TRUE(Pump(server, client));
    clock.Advance(100);
    EXPECT_TRUE(Pump(client, server));
  }
  Options With(Options o) {
    o.clock = &clock;
    return o;
  }
  // Sends `n` bytes on `id` and has the server read them all (the window updates go back).
  void Move(uint32_t id, size_t n) {
    Bytes data(n, 'z');
    size_t at = 0;
    uint8_t buf[8192];
    while (at < n) {
      size_t w = client.Write(id, ByteSpan(data).subspan(at));
      ASSERT_GT(w, 0u) << "send window " << client.SendWindow(id);
      at += w;
      ASSERT_TRUE(Pump(client, server, 65536));
      while (server.Read(id, buf) > 0) {
      }
      ASSERT_TRUE(Pump(server, client, 65536));
    }
  }
  FakeClock clock;
  Session client, server;
};

TEST(YamuxAutoTune, MeasuresTheRttWithOnePing) {
  AutoTune t;
  EXPECT_EQ(t.server.rtt_micros(), 100);
  EXPECT_EQ(t.client.rtt_micros(), 0);  // it only answered
}

TEST(YamuxAutoTune, WindowDoublesWhenHalfIsConsumedWithinFourRtts) {
  AutoTune t;
  uint32_t id = *t.client.Open();
  t.Move(id, kInitialWindow / 2);
  EXPECT_EQ(t.server.ReceiveWindow(id), 2 * kInitialWindow);
  // The update granted the consumed half and the growth.
  EXPECT_EQ(t.client.SendWindow(id), 2 * kInitialWindow);
  t.Move(id, kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(id), 4 * kInitialWindow);
}

TEST(YamuxAutoTune, SlowReaderKeepsItsWindow) {
  AutoTune t;
  uint32_t id = *t.client.Open();
  Bytes data(kInitialWindow / 2, 'z');
  EXPECT_EQ(t.client.Write(id, data), data.size());
  ASSERT_TRUE(Pump(t.client, t.server, 65536));
  t.clock.Advance(401);  // more than 4 RTTs since the stream opened
  Bytes buf(data.size());
  EXPECT_EQ(t.server.Read(id, buf), buf.size());
  ASSERT_TRUE(Pump(t.server, t.client));
  EXPECT_EQ(t.server.ReceiveWindow(id), kInitialWindow);
  EXPECT_EQ(t.client.SendWindow(id), kInitialWindow);
}

TEST(YamuxAutoTune, NoGrowthWithoutAnRtt) {
  FakeClock clock;
  Options o;
  o.clock = &clock;
  Session client(Role::kClient, o), server(Role::kServer, o);
  uint32_t id = *client.Open();
  Bytes data(kInitialWindow, 'z');
  EXPECT_EQ(client.Write(id, data), data.size());
  ASSERT_TRUE(Pump(client, server, 65536));
  Bytes buf(data.size());
  EXPECT_EQ(server.Read(id, buf), buf.size());
  EXPECT_EQ(server.ReceiveWindow(id), kInitialWindow);
}

TEST(YamuxAutoTune, GrowthStopsAtThePerStreamAndSessionLimits) {
  Options o;
  o.max_receive_window = 4 * kInitialWindow;
  o.max_window_growth = 4 * kInitialWindow;
  AutoTune t(o);
  uint32_t a = *t.client.Open();
  t.Move(a, 8 * kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(a), 4 * kInitialWindow);  // 256 K -> 512 K -> 1 M, no more
  uint32_t b = *t.client.Open();
  t.Move(b, 8 * kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(b), 2 * kInitialWindow);  // only 1 more window of growth left
  // Releasing a stream returns its growth to the session.
  t.client.CloseWrite(a);
  ASSERT_TRUE(Pump(t.client, t.server));
  t.server.Release(a);
  uint32_t c = *t.client.Open();
  t.Move(c, 8 * kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(c), 4 * kInitialWindow);
}

TEST(YamuxAutoTune, DataForAReleasedGrownStreamIsDroppedNotAnError) {
  Options o;
  o.max_data_frame = 1 << 20;  // one DATA frame larger than the initial window
  AutoTune t(o);
  uint32_t id = *t.client.Open();
  t.Move(id, 2 * kInitialWindow);
  ASSERT_GT(t.server.ReceiveWindow(id), kInitialWindow);
  t.server.Release(id);  // RST queued but not delivered yet
  Bytes late(kInitialWindow + 1000, 'z');
  size_t w = t.client.Write(id, late);
  EXPECT_GT(w, size_t{kInitialWindow});
  EXPECT_TRUE(Pump(t.client, t.server, 65536));
}

TEST(YamuxSession, WindowUpdatesAndPingAnswersGoAheadOfQueuedData) {
  Session client(Role::kClient), server(Role::kServer);
  uint32_t id = *client.Open();
  Bytes half(kInitialWindow / 2, 'a');
  EXPECT_EQ(client.Write(id, half), half.size());
  ASSERT_TRUE(Pump(client, server, 65536));
  EXPECT_EQ(server.Write(id, AsBytes("queued data")), 11u);
  Bytes buf(half.size());
  EXPECT_EQ(server.Read(id, buf), buf.size());  // a window update is due
  Events ev;
  ASSERT_TRUE(server.Receive(Frame(FrameType::kPing, kSyn, 0, 9), ev));
  Bytes out = server.TakeOutput();
  ASSERT_GE(out.size(), 24u);
  // The window update, then the ping's answer, then the ACK and DATA queued before them.
  EXPECT_EQ(HexEncode(ByteSpan(out).first(24)),
            "000100000000000100020000"
            "000200020000000000000009");
  EXPECT_EQ(HexEncode(ByteSpan(out).subspan(24, 12)), "000100020000000100000000");
}

TEST(YamuxAutoTune, RttIsTheSmallestSampleAndIsResampledWithWindowUpdates) {
  AutoTune t;  // first sample: 100 us
  uint32_t id = *t.client.Open();
  Bytes data(kInitialWindow / 2, 'z');
  EXPECT_EQ(t.client.Write(id, data), data.size());
  ASSERT_TRUE(Pump(t.client, t.server, 65536));
  Bytes buf(data.size());
  EXPECT_EQ(t.server.Read(id, buf), buf.size());
  ASSERT_TRUE(Pump(t.server, t.client));  // the window update and a new RTT ping
  t.clock.Advance(30);
  ASSERT_TRUE(Pump(t.client, t.server));
  EXPECT_EQ(t.server.rtt_micros(), 30);
  // A slower sample does not raise it.
  EXPECT_EQ(t.client.Write(id, data), data.size());
  ASSERT_TRUE(Pump(t.client, t.server, 65536));
  t.clock.Advance(1000);  // too slow to grow (4 x 30 us)
  EXPECT_EQ(t.server.Read(id, buf), buf.size());
  ASSERT_TRUE(Pump(t.server, t.client));
  t.clock.Advance(500);
  ASSERT_TRUE(Pump(t.client, t.server));
  EXPECT_EQ(t.server.rtt_micros(), 30);
}

TEST(YamuxAutoTune, NoGrowthWhileTheReceiverIsBehind) {
  AutoTune t;
  uint32_t id = *t.client.Open();
  t.server.SetReceiveBacklog(true);
  t.Move(id, 2 * kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(id), kInitialWindow);
  t.server.SetReceiveBacklog(false);
  t.Move(id, kInitialWindow);
  EXPECT_EQ(t.server.ReceiveWindow(id), 2 * kInitialWindow);
}

}  // namespace
}  // namespace cairn::net::yamux
