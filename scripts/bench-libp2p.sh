#!/usr/bin/env bash
# libp2p host benchmark: one Noise+yamux stream over loopback (bench/libp2p_bench.cpp) beside
# the machine's ChaCha20-Poly1305 rate (`openssl speed -evp chacha20-poly1305`, 16 KiB blocks),
# as a ratio, and the resident memory per idle connection end (1,000 idle connections).
# The stream runs twice: with the host's defaults (receive windows auto-tuned up to 16 MiB) and
# with the window fixed at yamux's initial 256 KiB (--max-window 262144).
# Usage: scripts/bench-libp2p.sh [BUILD_DIR [more libp2p_bench flags for the first run]]
# (default build; needs the libp2p_bench target)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target libp2p_bench >/dev/null
out=$("$build"/bench/libp2p_bench --mib 256 --conns 1000 "${@:2}")
fixed=$("$build"/bench/libp2p_bench --mib 256 --conns 1 --max-window 262144 | head -1)
echo "$out"
echo "$fixed"
stream=$(echo "$out" | awk '/^stream_throughput_mb_s/ {print $2}')
stream_fixed=$(echo "$fixed" | awk '/^stream_throughput_mb_s/ {print $2}')
# openssl prints k = 1000 bytes/s; the last column is 16384-byte blocks.
aead=$(openssl speed -evp chacha20-poly1305 -seconds 3 2>/dev/null | awk '/^ChaCha20-Poly1305/ {sub("k","",$NF); print $NF/1000}')
echo "chacha20_poly1305_mb_s $aead"
awk -v s="$stream" -v a="$aead" 'BEGIN { printf "stream / aead = %.1f %% (auto-tuned window)\n", 100 * s / a }'
awk -v s="$stream_fixed" -v a="$aead" 'BEGIN { printf "stream / aead = %.1f %% (256 KiB window)\n", 100 * s / a }'
