// Time as a seam: production code asks a Clock, tests inject a FakeClock (STYLE.md: tests inject
// time). Monotonic time for deadlines and rates; wall time for timestamps users see.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic microseconds (arbitrary epoch): for deadlines, rates, durations.
  virtual int64_t MonotonicMicros() const = 0;
  // Microseconds since the Unix epoch (UTC): for timestamps that are stored or shown.
  virtual int64_t WallMicros() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t MonotonicMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t WallMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_micros = 1'600'000'000'000'000) : now_(start_micros) {}
  int64_t MonotonicMicros() const override { return now_.load(); }
  int64_t WallMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace cairn
