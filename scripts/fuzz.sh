#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan/UBSan) and runs each briefly from its seed corpus,
# CAIRN_JOBS targets at a time (default: number of cores; each target is single-threaded).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
jobs=${CAIRN_JOBS:-$(nproc)}
cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target fuzzers

# Runs one target; its output goes to build-fuzz/corpus-run/<name>.log, crash inputs beside it.
run_one() {
  local bin=$1 name work seeds
  name=$(basename "$bin")
  work=build-fuzz/corpus-run/$name
  mkdir -p "$work"
  seeds=fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=""
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$work/" "$work" $seeds >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED; see $work.log and the crash input in $work/"
    tail -40 "$work.log"
    return 1
  fi
}

status=0
running=0
for bin in build-fuzz/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  run_one "$bin" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
