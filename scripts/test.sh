#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds, runs every CTest label
# (unit, integration, interop, slow) in the release build, the unit and integration tests again
# under ASan/UBSan, the connection code's tests (libp2p host, bitswap and the DHT over it) under
# ThreadSanitizer, and a short libFuzzer run of every fuzz target.
#
# Environment: CAIRN_FUZZ_SECONDS (per target, default 15), CAIRN_SKIP_ASAN=1, CAIRN_SKIP_TSAN=1,
# CAIRN_SKIP_FUZZ=1, CAIRN_JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CAIRN_JOBS:-$(nproc)}

# `ctest` with the arguments after the first, its output also kept in the log file named first.
# When a test fails, the output ends with each failure's own words (gtest's "file:line: Failure"
# and what follows it, sanitizer reports), so that a CI log that keeps only its start and its end
# still says what failed and where.
ctest_logged() {
  local log=$1 rc=0
  shift
  ctest "$@" 2>&1 | tee "$log" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== what failed (the whole output: $log)"
    grep -E -A10 ': Failure$|^\[  FAILED  \] [A-Za-z]|ERROR: AddressSanitizer|runtime error:|WARNING: ThreadSanitizer|^SUMMARY: ' \
      "$log" | head -200 || true
  fi
  return "$rc"
}

scripts/install-deps.sh

# The devnet (Node only) runs beside the C++ build: its tests need none of it.
devnet_pid=""
if [ -f devnet/package.json ]; then
  echo "== devnet tests (node --test, in the background; log: build-devnet-test.log)"
  (cd devnet && npm test) >build-devnet-test.log 2>&1 &
  devnet_pid=$!
fi

echo "== rules: include layers, formatting of every C++ file"
python3 scripts/check-layers.py
scripts/check-format.sh --all

echo "== release build"
cmake --preset release >/dev/null
cmake --build build -j "$jobs"
echo "== rules: clang-tidy on the translation units the last commit changed"
scripts/tidy.sh --changed HEAD~1 build
echo "== release tests (all labels)"
# The pins scale test proves paging correct on a large account; 200k pins keep it proportionate
# in CI. Its 1M-pin latencies are measured by scripts/bench-serve.sh (docs/benchmarks.md).
CAIRN_SCALE_PINS=${CAIRN_SCALE_PINS:-200000} ctest_logged build/ctest.log --test-dir build -j "$jobs" \
  --output-on-failure

if [ "${CAIRN_SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan/UBSan build"
  cmake --preset debug >/dev/null
  cmake --build build-asan -j "$jobs"
  echo "== ASan/UBSan tests (unit, integration)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest_logged build-asan/ctest.log --test-dir build-asan -j "$jobs" --output-on-failure \
    -L "unit|integration" -LE slow
fi

if [ "${CAIRN_SKIP_TSAN:-0}" != 1 ]; then
  # The threads that share connections, streams and peers: the host's I/O threads against its
  # callers, bitswap's and the DHT's workers against the host.
  tsan_tests=(net_test bitswap_libp2p_test dht_libp2p_test)
  echo "== ThreadSanitizer build and tests (${tsan_tests[*]})"
  cmake --preset tsan >/dev/null
  cmake --build build-tsan -j "$jobs" --target "${tsan_tests[@]}"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest_logged build-tsan/ctest.log --test-dir build-tsan -j "$jobs" --output-on-failure \
    -R "^($(IFS='|'; echo "${tsan_tests[*]}"))\$"
fi

if [ "${CAIRN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz (short)"
  scripts/fuzz.sh "${CAIRN_FUZZ_SECONDS:-15}"
fi
if [ -n "$devnet_pid" ]; then
  echo "== devnet tests (result)"
  if ! wait "$devnet_pid"; then
    tail -80 build-devnet-test.log
    echo "== devnet tests FAILED (full log: build-devnet-test.log)"
    exit 1
  fi
  tail -15 build-devnet-test.log
fi
echo "== all tests passed"
