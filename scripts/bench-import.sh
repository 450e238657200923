#!/usr/bin/env bash
# UnixFS import benchmark: one file, every number measured side by side in the same run.
#   limit:  `openssl speed -evp sha256` on one core and on all cores (-multi), and SHA-256 of the
#           file with `openssl dgst`
#   cairn:  `cairn add -n -Q` (hash only; leaves hashed on every core, then --threads 1) and, when
#           the repo block store is built, `cairn add` into a fresh repo vs. a sequential write of
#           the same bytes (dd conv=fdatasync)
#   peer:   ipfs-unixfs-importer (hash only, tests/interop/unixfs_import_bench.mjs)
#   memory: max RSS of `cairn add -n -Q` at two file sizes (constant-memory streaming)
# The hash-only runs go in ROUNDS rounds (dgst, cairn, cairn --threads 1, js back to back), so a
# burst of load from other jobs hits every side of one round alike. Reported: the best MB/s of
# each, and the median over rounds of each round's ratio.
# Usage: scripts/bench-import.sh [SIZE_MIB=256]   env: CAIRN=path/to/cairn (default build/cairn),
#        ROUNDS=5, BENCH_DIR=dir for the test files (default a fresh temp dir on /tmp),
#        NICE=n runs the whole benchmark in a session of its own whose scheduler autogroup has
#        nice n (root may give a negative n). With autogroups on, the kernel shares the CPUs
#        between sessions first: while another session builds, this one gets about one core
#        whatever its thread count, so a second hashing thread cannot help. A negative n
#        approximates an idle machine for every side alike.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-256}
CAIRN=${CAIRN:-build/cairn}
ROUNDS=${ROUNDS:-5}
NICE=${NICE:-0}
if [ "$NICE" != 0 ] && [ -z "${BENCH_IMPORT_SESSION:-}" ]; then
  exec setsid -w env BENCH_IMPORT_SESSION=1 "$PWD/scripts/bench-import.sh" "$@"
fi
if [ "$NICE" != 0 ] && [ -w /proc/self/autogroup ]; then
  echo "$NICE" > /proc/self/autogroup
fi
DIR=${BENCH_DIR:-$(mktemp -d /tmp/cairn-bench-import.XXXXXX)}
trap 'rm -rf "$DIR"' EXIT
[ -x "$CAIRN" ] || { echo "no cairn binary at $CAIRN (build it or set CAIRN=)"; exit 2; }

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
load() { awk '{ print $1 }' /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best() { sort -g | head -1; }  # of seconds

FILE=$DIR/input.bin
head -c $((SIZE_MIB << 20)) /dev/urandom > "$FILE"
BYTES=$(stat -c %s "$FILE")
cat "$FILE" > /dev/null  # warm the page cache: every reader below sees the same cached bytes

echo "# UnixFS import, $SIZE_MIB MiB random file, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load average $(load), autogroup: $(cat /proc/self/autogroup 2>/dev/null || echo n/a)"
speed() {  # MB/s of openssl's SHA-256 over 256 KiB blocks (per CPU-second of each process)
  openssl speed -evp sha256 -bytes 262144 -seconds 2 "$@" 2>/dev/null |
    awk '/^sha256/ { v = $NF } END { sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'
}
SPEED_MBS=$(speed)
echo "openssl speed -evp sha256 (256 KiB blocks): $SPEED_MBS MB/s (one core)"
SPEED_ALL=$(speed -multi "$(nproc)")
echo "openssl speed ... -multi $(nproc):               $SPEED_ALL MB/s (all cores, wall clock: what they give under the current load)"

JS=0
[ -d tests/interop/node_modules/ipfs-unixfs-importer ] && JS=1
timed() { local a b; a=$(now); "$@" > /dev/null; b=$(now); echo "$b - $a" | bc; }
: > "$DIR/dgst"; : > "$DIR/cairn"; : > "$DIR/cairn1"; : > "$DIR/js"; : > "$DIR/ratio"; : > "$DIR/ratio1"
for r in $(seq "$ROUNDS"); do
  timed openssl dgst -sha256 "$FILE" >> "$DIR/dgst"
  c=$(timed "$CAIRN" add -n -Q "$FILE"); echo "$c" >> "$DIR/cairn"
  c1=$(timed "$CAIRN" add -n -Q --threads 1 "$FILE"); echo "$c1" >> "$DIR/cairn1"
  if [ "$JS" = 1 ]; then
    j=$(cd tests/interop && node unixfs_import_bench.mjs "$FILE" | awk '{ print $3 }')
    echo "$j" >> "$DIR/js"
    awk -v c="$c" -v j="$j" 'BEGIN { print j / c }' >> "$DIR/ratio"
    awk -v c="$c1" -v j="$j" 'BEGIN { print j / c }' >> "$DIR/ratio1"
  fi
  echo "round $r (load $(load)): dgst $(rate "$BYTES" "$(tail -1 "$DIR/dgst")"), cairn $(rate "$BYTES" "$c"), cairn --threads 1 $(rate "$BYTES" "$c1"), js $([ "$JS" = 1 ] && rate "$BYTES" "$j" || echo n/a) MB/s"
done
SHA=$(rate "$BYTES" "$(best < "$DIR/dgst")")
CAIRN_MBS=$(rate "$BYTES" "$(best < "$DIR/cairn")")
CAIRN1_MBS=$(rate "$BYTES" "$(best < "$DIR/cairn1")")
echo "best of $ROUNDS rounds:"
echo "openssl dgst -sha256 of the file:          $SHA MB/s"
echo "cairn add -n -Q (hash only, all cores):    $CAIRN_MBS MB/s"
echo "cairn add -n -Q --threads 1:               $CAIRN1_MBS MB/s"
CPU=$( { /usr/bin/time -f "%U %S" "$CAIRN" add -n -Q "$FILE" > /dev/null; } 2>&1 | tail -1)
echo "cairn add -n -Q CPU time (one run):        $(awk -v b="$BYTES" -v c="$CPU" 'BEGIN { split(c, t, " "); printf "%.0f", b / (t[1] + t[2]) / 1e6 }') MB per CPU-second"
CS1=$( (for _ in 1 2 3; do timed "$CAIRN" add -n -Q --profile=unixfs-v1-2025 "$FILE"; done) | best)
echo "cairn add -n -Q --profile=unixfs-v1-2025:  $(rate "$BYTES" "$CS1") MB/s"
if [ "$JS" = 1 ]; then
  JS_MBS=$(rate "$BYTES" "$(best < "$DIR/js")")
  echo "ipfs-unixfs-importer 17.1.1 (hash only):   $JS_MBS MB/s"
  echo "ratio cairn / js, best / best:             $(awk -v a="$CAIRN_MBS" -v b="$JS_MBS" 'BEGIN { printf "%.2f", a / b }')x"
  echo "ratio cairn / js, median of rounds:        $(median < "$DIR/ratio" | awk '{ printf "%.2f", $1 }')x (--threads 1: $(median < "$DIR/ratio1" | awk '{ printf "%.2f", $1 }')x)"
else
  echo "ipfs-unixfs-importer: not installed (npm ci in tests/interop)"
fi
echo "ratio cairn / openssl speed (one core):    $(awk -v a="$CAIRN_MBS" -v b="$SPEED_MBS" 'BEGIN { printf "%.2f", a / b }') (--threads 1: $(awk -v a="$CAIRN1_MBS" -v b="$SPEED_MBS" 'BEGIN { printf "%.2f", a / b }'))"
echo "ratio cairn / sha256 of the file:          $(awk -v a="$CAIRN_MBS" -v b="$SHA" 'BEGIN { printf "%.2f", a / b }')"

# Storing into a fresh repo vs. writing the same bytes sequentially.
t0=$(now); dd if="$FILE" of="$DIR/seq.bin" bs=4M conv=fdatasync status=none; t1=$(now)
DD_MBS=$(rate "$BYTES" "$(echo "$t1 - $t0" | bc)")
rm -f "$DIR/seq.bin"
echo "dd conv=fdatasync (sequential write):      $DD_MBS MB/s"
t0=$(now)
if "$CAIRN" --repo "$DIR/repo" add -Q "$FILE" > "$DIR/store.out" 2>&1; then
  t1=$(now)
  ST_MBS=$(rate "$BYTES" "$(echo "$t1 - $t0" | bc)")
  echo "cairn add into a fresh repo (+ Sync):      $ST_MBS MB/s"
  echo "ratio store / sequential write:            $(awk -v a="$ST_MBS" -v b="$DD_MBS" 'BEGIN { printf "%.2f", a / b }')"
else
  echo "cairn add into a repo: not measured ($(tail -1 "$DIR/store.out"))"
fi
rm -rf "$DIR/repo"

# Peak memory at two sizes: streaming keeps it flat.
SMALL=$DIR/small.bin
head -c $((SIZE_MIB << 18)) "$FILE" > "$SMALL"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }'; }
echo "max RSS cairn add -n -Q, $((SIZE_MIB / 4)) MiB:          $(rss "$CAIRN" add -n -Q "$SMALL") KiB"
echo "max RSS cairn add -n -Q, $SIZE_MIB MiB:         $(rss "$CAIRN" add -n -Q "$FILE") KiB"
echo "load average at the end: $(load)"
