#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan/UBSan) and runs each briefly from its seed corpus.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target fuzzers
status=0
for bin in build-fuzz/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
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
    status=1
  fi
done
exit $status
