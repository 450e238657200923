#!/usr/bin/env bash
# UnixFS import benchmark: one run, one file, every number measured side by side.
#   limit:  SHA-256 of the file with `openssl dgst` (and `openssl speed -evp sha256`)
#   cairn:  `cairn add -n -Q` (hash only) and, when the repo block store is built, `cairn add`
#           into a fresh repo vs. a sequential write of the same bytes (dd conv=fdatasync)
#   peer:   ipfs-unixfs-importer (hash only, tests/interop/unixfs_import_bench.mjs)
#   memory: max RSS of `cairn add -n -Q` at two file sizes (constant-memory streaming)
# Usage: scripts/bench-import.sh [SIZE_MIB=256]   env: CAIRN=path/to/cairn (default build/cairn),
#        BENCH_DIR=dir for the test files (default a fresh temp dir on /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-256}
CAIRN=${CAIRN:-build/cairn}
DIR=${BENCH_DIR:-$(mktemp -d /tmp/cairn-bench-import.XXXXXX)}
trap 'rm -rf "$DIR"' EXIT
[ -x "$CAIRN" ] || { echo "no cairn binary at $CAIRN (build it or set CAIRN=)"; exit 2; }

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }

FILE=$DIR/input.bin
head -c $((SIZE_MIB << 20)) /dev/urandom > "$FILE"
BYTES=$(stat -c %s "$FILE")
cat "$FILE" > /dev/null  # warm the page cache: every reader below sees the same cached bytes

echo "# UnixFS import, $SIZE_MIB MiB random file, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
SPEED=$(openssl speed -evp sha256 -bytes 262144 -seconds 2 2>/dev/null | awk '/^sha256/ { print $NF }' | tr -d k)
SPEED_MBS=$(awk -v k="$SPEED" 'BEGIN { printf "%.0f", k * 1000 / 1e6 }')
echo "openssl speed -evp sha256 (256 KiB blocks): $SPEED_MBS MB/s"

t0=$(now); openssl dgst -sha256 "$FILE" > /dev/null; t1=$(now)
SHA=$(rate "$BYTES" "$(echo "$t1 - $t0" | bc)")
echo "openssl dgst -sha256 of the file:          $SHA MB/s"

best_of() {  # best_of N cmd... → best seconds
  local best=""
  for _ in $(seq "$1"); do
    local a b; a=$(now); "${@:2}" > /dev/null; b=$(now)
    local s; s=$(echo "$b - $a" | bc)
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc)" = 1 ]; then best=$s; fi
  done
  echo "$best"
}

CS=$(best_of 3 "$CAIRN" add -n -Q "$FILE")
CAIRN_MBS=$(rate "$BYTES" "$CS")
echo "cairn add -n -Q (hash only):               $CAIRN_MBS MB/s"
CS1=$(best_of 3 "$CAIRN" add -n -Q --profile=unixfs-v1-2025 "$FILE")
echo "cairn add -n -Q --profile=unixfs-v1-2025:  $(rate "$BYTES" "$CS1") MB/s"

JS_MBS=n/a
if [ -d tests/interop/node_modules/ipfs-unixfs-importer ]; then
  JS_BEST=""
  for _ in 1 2 3; do
    s=$(cd tests/interop && node unixfs_import_bench.mjs "$FILE" | awk '{ print $3 }')
    if [ -z "$JS_BEST" ] || [ "$(echo "$s < $JS_BEST" | bc)" = 1 ]; then JS_BEST=$s; fi
  done
  JS_MBS=$(rate "$BYTES" "$JS_BEST")
fi
echo "ipfs-unixfs-importer 17.1.1 (hash only):   $JS_MBS MB/s"
if [ "$JS_MBS" != n/a ]; then
  echo "ratio cairn / js:                          $(awk -v a="$CAIRN_MBS" -v b="$JS_MBS" 'BEGIN { printf "%.2f", a / b }')x"
fi
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
