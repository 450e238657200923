#!/usr/bin/env bash
# dag/import with many roots, on a fresh repo each time: wall time of importing R roots split
# over 1, 2 and 4 CARs (root handling linear in the roots gives about the same time for every
# split; quadratic handling grows with the split), and the latency of another account's 14-byte
# `add` while two imports of 2R roots run (fair completion scheduling keeps it short).
# Usage: scripts/bench-import-roots.sh [CAIRN_BINARY] [ROOTS]   (defaults: build/cairn, 25000)
# Needs python3 (bench/tools/gen_root_cars.py writes the CARs) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/cairn}")
roots=${2:-25000}
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

start() {  # start <repo>: a fresh server; sets url, ta, tb
  [ -n "$server" ] && { kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; }
  local repo=$1 extra='max_import_roots = 10000000\n'
  for attempt in 1 2; do
    printf "[api]\nrate_per_second = 1000000\nrate_burst = 1000000\n${extra}[pinning]\ngateways = []\n" >"$work/config.toml"
    "$bin" --repo "$repo" serve --listen 127.0.0.1:0 --libp2p-listen /ip4/127.0.0.1/tcp/0 --config "$work/config.toml" >"$work/out" 2>"$work/err" &
    server=$!
    for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$work/out" 2>/dev/null && break; sleep 0.1; done
    grep -q "http://127.0.0.1:" "$work/out" && break
    extra=''  # a binary from before api.max_import_roots: no limit to raise
  done
  url=$(grep -o "http://127.0.0.1:[0-9]*" "$work/out" | head -1)
  "$bin" --repo "$repo" account create a >/dev/null
  "$bin" --repo "$repo" account create b >/dev/null
  ta=$("$bin" --repo "$repo" token create --account a 2>/dev/null)
  tb=$("$bin" --repo "$repo" token create --account b 2>/dev/null)
}
import() {  # import <token> <dir>
  local args=()
  for f in "$2"/*.car; do args+=(-F "file=@$f"); done
  curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $1" "${args[@]}" "$url/api/v0/dag/import"
}
for n in 1 2 4; do
  mkdir -p "$work/c$n"
  python3 bench/tools/gen_root_cars.py "$roots" "$n" "split$n" "$work/c$n"
  start "$work/repo$n"
  echo "roots=$roots cars=$n: status, seconds: $(import "$ta" "$work/c$n")"
done
for k in 1 2; do mkdir -p "$work/big$k"; python3 bench/tools/gen_root_cars.py $((roots * 2)) 1 "big$k" "$work/big$k"; done
start "$work/repo-fair"
import "$ta" "$work/big1" >/dev/null & p1=$!
import "$ta" "$work/big2" >/dev/null & p2=$!
sleep 1
echo "hello, cairn!" >"$work/small"
echo "account b's 14-byte add beside two imports of $((roots * 2)) roots by account a: status, seconds: $(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $tb" -F "file=@$work/small" "$url/api/v0/add")"
wait $p1 $p2
