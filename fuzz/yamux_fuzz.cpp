// Fuzzes a yamux session with arbitrary received bytes, in arbitrary pieces, while the
// application side reads, writes, half-closes and releases the streams that open. Checks the
// memory bounds: no stream buffers more than its receive window, no window beyond the auto-tuning
// limits, no more streams than the limit. The session measures its RTT (a PING the input may
// answer: ping id 1) on a fake clock that moves 10 us at each piece starting with 0xff, so
// windows can grow.
#include <cstddef>
#include <cstdint>

#include "common/clock.hpp"
#include "net/yamux.hpp"

using namespace cairn;
using namespace cairn::net::yamux;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  FakeClock clock;
  Options options;
  options.max_streams = 8;
  options.max_receive_window = 1 << 20;
  options.max_window_growth = 2 << 20;
  options.clock = &clock;
  Session session(data[0] & 1 ? Role::kClient : Role::kServer, options);
  if (data[0] & 2) session.StartRttMeasurement();
  size_t chunk = 1 + data[1] % 64;
  ByteSpan in(data + 2, size - 2);
  Events ev;
  uint8_t buf[4096];
  std::vector<uint32_t> open;
  for (size_t at = 0; at < in.size(); at += chunk) {
    if (in[at] == 0xff) clock.Advance(10);
    ev.Clear();
    auto r = session.Receive(in.subspan(at, std::min(chunk, in.size() - at)), ev);
    if (!r) break;
    for (uint32_t id : ev.opened) open.push_back(id);
    CAIRN_CHECK(session.stream_count() <= options.max_streams);
    size_t growth = 0;
    for (uint32_t id : open) {
      CAIRN_CHECK(session.ReceiveWindow(id) <= options.max_receive_window);
      growth += session.Exists(id) ? session.ReceiveWindow(id) - options.receive_window : 0;
    }
    CAIRN_CHECK(growth <= options.max_window_growth);
    for (size_t i = 0; i < open.size(); ++i) {
      uint32_t id = open[i];
      CAIRN_CHECK(session.Readable(id) <=
                  std::max(session.ReceiveWindow(id), options.receive_window));
      (void)session.Read(id, buf);
      (void)session.Write(id, ByteSpan(buf, 100));
      if ((id + at) % 3 == 0) session.CloseWrite(id);
      if (session.IsReset(id) || in[at] == 0xfe) {
        session.Release(id);
        open.erase(open.begin() + static_cast<ptrdiff_t>(i));
        --i;
      }
    }
    if (at % 7 == 0) {
      auto id = session.Open();
      if (id) open.push_back(*id);
    }
    (void)session.TakeOutput();
  }
  return 0;
}
