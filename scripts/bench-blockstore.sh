#!/usr/bin/env bash
# Block store benchmark, all in one run on the same filesystem:
#   1. the physical limit: dd of 2 GiB with conv=fdatasync (sequential write), before and after;
#   2. bench/blockstore_bench: file-per-block (256 KiB files, final syncfs), LogBlockstore Put of
#      256 KiB random blocks with precomputed CIDs and Sync every 64 MiB, verifying Get;
# then prints the ratios recorded in docs/benchmarks.md ("Block store"). Everything it writes is
# removed afterwards.
#
#   scripts/bench-blockstore.sh [BUILD_DIR=build] [SCRATCH_DIR=<BUILD_DIR>/bench-blockstore]
#   env: TOTAL_MIB (1024), BLOCK_KIB (256), SYNC_MIB (64), DD_MIB (2048)
set -euo pipefail
build=${1:-build}
scratch=${2:-$build/bench-blockstore}
bench="$build/blockstore_bench"
[ -x "$bench" ] || bench="$build/bench/blockstore_bench"
[ -x "$bench" ] || { echo "build the blockstore_bench target first ($bench)" >&2; exit 1; }
total=${TOTAL_MIB:-1024}
block=${BLOCK_KIB:-256}
sync_mib=${SYNC_MIB:-64}
dd_mib=${DD_MIB:-2048}

mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT

# The limit is measured before and after the store's run; the larger value is used, so the ratio
# is conservative on a machine whose disk is shared.
seq_write() {
  sync
  local dd_out
  dd_out=$(dd if=/dev/zero of="$scratch/dd.bin" bs=1M count="$dd_mib" conv=fdatasync 2>&1)
  rm -f "$scratch/dd.bin"
  sync
  # dd prints "... copied, 1.2 s, 1.8 GB/s": recompute MB/s from bytes and seconds.
  echo "$dd_out" | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) secs = $(i-1);
    printf "%.1f", $1 / secs / 1e6 }'
}
seq_before=$(seq_write)
out=$("$bench" "$scratch/run" "$total" "$block" "$sync_mib")
seq_after=$(seq_write)
seq_mbps=$(awk -v a="$seq_before" -v b="$seq_after" 'BEGIN { print (a > b ? a : b) }')
echo "$out"
echo "sequential_write_mbps_before $seq_before"
echo "sequential_write_mbps_after $seq_after"
echo "sequential_write_mbps $seq_mbps"
get() { echo "$out" | awk -v k="$1" '$1 == k { print $2 }'; }
put=$(get store_put_mbps)
fpb=$(get file_per_block_mbps)
awk -v put="$put" -v seq="$seq_mbps" -v fpb="$fpb" 'BEGIN {
  printf "ratio_store_put_vs_sequential %.2f\n", put / seq;
  printf "ratio_store_put_vs_file_per_block %.2f\n", put / fpb }'
