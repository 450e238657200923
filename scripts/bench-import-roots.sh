#!/usr/bin/env bash
# dag/import with many roots: wall time of importing R roots split over 1, 2 and 4 CARs (linear
# root handling gives the same time for each split), and the latency of another account's tiny
# `add` while two large imports run (fair completion scheduling keeps it short).
# Usage: scripts/bench-import-roots.sh [CAIRN_BINARY] [ROOTS]   (defaults: build/cairn, 25000)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/cairn}")
roots=${2:-25000}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
printf '[api]\nrate_per_second = 1000000\nrate_burst = 1000000\nmax_import_roots = 1000000\n[pinning]\ngateways = []\n' >"$work/config.toml"
if ! "$bin" --repo "$work/repo" serve --listen 127.0.0.1:0 --config "$work/config.toml" >"$work/out" 2>"$work/err" & then :; fi
server=$!
for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$work/out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q "http://127.0.0.1:" "$work/out"; then
  # A binary without api.max_import_roots (before it existed): no config then.
  kill $server 2>/dev/null || true; wait $server 2>/dev/null || true
  printf '[api]\nrate_per_second = 1000000\nrate_burst = 1000000\n[pinning]\ngateways = []\n' >"$work/config.toml"
  "$bin" --repo "$work/repo" serve --listen 127.0.0.1:0 --config "$work/config.toml" >"$work/out" 2>"$work/err" &
  server=$!
  for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$work/out" 2>/dev/null && break; sleep 0.1; done
fi
url=$(grep -o "http://127.0.0.1:[0-9]*" "$work/out" | head -1)
"$bin" --repo "$work/repo" account create a >/dev/null
"$bin" --repo "$work/repo" account create b >/dev/null
ta=$("$bin" --repo "$work/repo" token create --account a 2>/dev/null)
tb=$("$bin" --repo "$work/repo" token create --account b 2>/dev/null)
import() {  # import <token> <dir>
  local args=()
  for f in "$2"/*.car; do args+=(-F "file=@$f"); done
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $1" "${args[@]}" "$url/api/v0/dag/import"
}
for n in 1 2 4; do
  mkdir -p "$work/c$n"
  python3 bench/tools/gen_root_cars.py "$roots" "$n" "split$n" "$work/c$n"
  echo "roots=$roots cars=$n: $(import "$ta" "$work/c$n")"
done
# Starvation: two big imports of account a, then account b's 14-byte add.
for k in 1 2; do mkdir -p "$work/big$k"; python3 bench/tools/gen_root_cars.py $((roots * 2)) 1 "big$k" "$work/big$k"; done
import "$ta" "$work/big1" >/dev/null & p1=$!
import "$ta" "$work/big2" >/dev/null & p2=$!
sleep 0.5
echo "hello, cairn!" >"$work/small"
echo "account b's 14-byte add while a imports twice: $(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $tb" -F "file=@$work/small" "$url/api/v0/add")"
wait $p1 $p2
