#!/usr/bin/env bash
# CommP benchmark: Cairn's CommP on 1 and 2 threads over the same 1 GiB payload, in the same run as
# `openssl speed -evp sha256` (the physical limit) and @web3-storage/data-segment (the JS peer) on a
# 16 MiB payload. Prints the measurements and the ratios recorded in docs/benchmarks.md ("CommP").
#
# Bound per core: a piece over P payload bytes has 128/127 * P padded bytes = P/31.75 leaves and as
# many inner nodes (minus one); each inner node hashes one 64-byte message = two 64-byte SHA-256
# blocks (data + constant padding block). So SHA-256 processes 128 bytes per 32 padded bytes:
# 4 * 128/127 ≈ 4.03 bytes per payload byte, and bound = openssl_sha256_rate * 127 / 512.
#
# Usage: scripts/bench-commp.sh [BUILD_DIR]   (env: COMMP_BYTES, JS_BYTES)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
COMMP_BYTES=${COMMP_BYTES:-1073741824}
JS_BYTES=${JS_BYTES:-16777216}

# A fresh directory is configured for Release; an existing one keeps its build type.
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_BENCH=ON >/dev/null
fi
cmake --build "$BUILD" --target commp_bench >/dev/null

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no), load: $(cut -d' ' -f1-3 /proc/loadavg)"

# openssl speed divides by CPU (user) time; take the 16 KiB column (bulk rate, bytes/s).
SSL_LINE=$(openssl speed -seconds 3 -evp sha256 2>/dev/null | grep '^sha256' | tail -1)
echo "== openssl speed -evp sha256: $SSL_LINE"
SHA=$(echo "$SSL_LINE" | awk '{v=$NF; sub(/k$/, "", v); print v * 1000}')

echo "== $BUILD/bench/commp_bench --size $COMMP_BYTES --threads 1,2 --repeat 2"
OUT=$("$BUILD/bench/commp_bench" --size "$COMMP_BYTES" --threads 1,2 --repeat 2)
echo "$OUT"
field() { echo "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }
L1=$(echo "$OUT" | grep '"threads":1,')
L2=$(echo "$OUT" | grep '"threads":2,')
W1=$(field "$L1" MBps); C1=$(field "$L1" MB_per_cpu_s); W2=$(field "$L2" MBps)

echo "== node tests/interop/piece_commp_bench.mjs $JS_BYTES"
JS=$(cd tests/interop && node piece_commp_bench.mjs "$JS_BYTES")
echo "$JS"
JW=$(field "$JS" MBps); JC=$(field "$JS" MB_per_cpu_s)

awk -v sha="$SHA" -v w1="$W1" -v c1="$C1" -v w2="$W2" -v jw="$JW" -v jc="$JC" 'BEGIN {
  bound = sha / 1e6 * 127 / 512
  printf "== ratios\n"
  printf "SHA-256 (openssl, per CPU-second): %.0f MB/s -> CommP bound per core %.0f MB/s\n", sha / 1e6, bound
  printf "1 thread:  %.0f MB/s wall, %.0f MB per CPU-second = %.0f%% of the bound (CPU time, as openssl)\n", w1, c1, 100 * c1 / bound
  printf "2 threads: %.0f MB/s wall = %.2fx 1 thread (wall)\n", w2, w2 / w1
  printf "JS data-segment: %.2f MB/s wall, %.2f MB per CPU-second; Cairn 1 thread / JS = %.0fx (CPU), %.0fx (wall)\n", jw, jc, c1 / jc, w1 / jw
}'
