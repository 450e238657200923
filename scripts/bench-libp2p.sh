#!/usr/bin/env bash
# libp2p host benchmark: one Noise+yamux stream over loopback (bench/libp2p_bench.cpp) beside
# the machine's ChaCha20-Poly1305 rate (`openssl speed -evp chacha20-poly1305`, 16 KiB blocks),
# as a ratio, and the resident memory per idle connection end.
# Usage: scripts/bench-libp2p.sh [BUILD_DIR [libp2p_bench flags: --window N --max-window N]]
# (default build; needs the libp2p_bench target)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target libp2p_bench >/dev/null
out=$("$build"/bench/libp2p_bench --mib 256 --conns 1000 "${@:2}")
echo "$out"
stream=$(echo "$out" | awk '/^stream_throughput_mb_s/ {print $2}')
# openssl prints k = 1000 bytes/s; the last column is 16384-byte blocks.
aead=$(openssl speed -evp chacha20-poly1305 -seconds 3 2>/dev/null | awk '/^ChaCha20-Poly1305/ {sub("k","",$NF); print $NF/1000}')
echo "chacha20_poly1305_mb_s $aead"
awk -v s="$stream" -v a="$aead" 'BEGIN { printf "stream / aead = %.1f %%\n", 100 * s / a }'
