// What the benchmark programs share: stop at the first failure, naming the program and the step.
// A benchmark that cannot do its work must not print a number.
#pragma once

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "common/result.hpp"

namespace cairn::bench {

// The program's name in failure messages; each main sets it first.
inline std::string& ProgramName() {
  static std::string name = "bench";
  return name;
}

// Prints "<program>: <what>" on stderr and exits with status 1.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", ProgramName().c_str(), what.c_str());
  std::exit(1);
}

// The value of `r`, or Die naming `what` and the error.
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r) Die(what + ": " + r.error().ToString());
  return std::move(*r);
}

inline void Must(Result<void> r, const std::string& what) {
  if (!r) Die(what + ": " + r.error().ToString());
}

// CPU seconds of the whole process, every thread included (group-commit, hashing, I/O).
inline double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace cairn::bench
