#!/usr/bin/env bash
# Deal data benchmarks, each side by side with the same bytes as a plain file, in one run on
# 127.0.0.1 (docs/benchmarks.md "Deal data (issue 10 §11)"):
#   1. seeds a fresh repo with bench/deal_bench.cpp `seed`: PINS random files (MIN_KIB..MAX_KIB)
#      imported into the repo's block store and pinned, segmented and packed into an aggregate of
#      PIECE_MIB padded MiB by the real deal engine (FakeLotus as the chain), one deal of it in
#      `accepted` with a known data token, and payload.bin = the deal's payload as the piece
#      endpoint serves it (its CommP checked to be the aggregate's piece CID);
#   2. CommP, in one process (`deal_bench commp`, ROUNDS rounds, sides alternating, 1 hashing
#      thread; once per MALLOCS entry, see 3.): the aggregate read from the block store through AggregateView (what the deal's
#      piece is made of) and every segment's CARv1 export from the block store (what the engine's
#      Segment step hashes), each against ComputeCommP over the same bytes in payload.bin; then
#      as processes (ROUNDS rounds, alternating): `cairn piece commp --threads 1 payload.bin`
#      against `deal_bench commp --only aggregate --threads 1` (opens the repo, the deal's piece
#      through DealEngine::OpenPiece, CommP of the whole payload from the block store);
#   3. serving: `cairn serve` on the repo (THREADS I/O threads, the cold tier on with the seeded
#      wallet and provider; its chain endpoint is a closed port on 127.0.0.1, so the engine's
#      passes fail at the chain and change nothing; no DHT, no pinning gateways) and nginx (bench/serve/nginx.conf.in,
#      worker_processes = THREADS) serving payload.bin; for each block cache size in CACHE_MIBS
#      (`blockstore.cache_mib`; 0 = every block read from the log store and verified, as a
#      provider's one pull of a piece finds it), REPEAT rounds, servers alternating: PULLS
#      whole-piece GETs with curl on one connection each (as a provider pulls a deal's data;
#      Cairn's with the deal's Bearer token), then wrk -c CONNECTIONS for DURATION s. Bytes are
#      checked equal (whole piece and one Range) before the rounds. Each cache size runs once
#      per MALLOCS entry: "default" (glibc as it comes) and "tuned" (GLIBC_TUNABLES=$TUNED, a
#      fixed mmap threshold and a high trim threshold, so the 1 MiB buffer each block is read
#      into is reused instead of mapped, faulted in and trimmed again for every block).
# Prints every run and a summary (medians, ratios). Everything lives in a temp dir removed at the
# end (KEEP=1 keeps it).
#
#   scripts/bench-deals.sh [BUILD_DIR=build]
#   env: CAIRN (default BUILD_DIR/cairn), DEAL_BENCH (default BUILD_DIR/bench/deal_bench),
#        PINS (96), MIN_KIB (64), MAX_KIB (4096), PIECE_MIB (256), ROUNDS (5), THREADS (cores),
#        CACHE_MIBS ("0 256"), MALLOCS ("default tuned"), TUNED (the GLIBC_TUNABLES of "tuned"),
#        REPEAT (3), PULLS (3), CONNECTIONS (4), DURATION (8),
#        SKIP_COMMP=1, SKIP_SERVE=1, SCRATCH (parent of the temp dir; default $TMPDIR or /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
cairn=${CAIRN:-$build/cairn}
deal_bench=${DEAL_BENCH:-$build/bench/deal_bench}
pins=${PINS:-96}
min_kib=${MIN_KIB:-64}
max_kib=${MAX_KIB:-4096}
piece_mib=${PIECE_MIB:-256}
rounds=${ROUNDS:-5}
threads=${THREADS:-$(nproc)}
cache_mibs=${CACHE_MIBS:-0 256}
mallocs=${MALLOCS:-default tuned}
tuned=${TUNED:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456}
repeat=${REPEAT:-3}
pulls=${PULLS:-3}
connections=${CONNECTIONS:-4}
duration=${DURATION:-8}

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "bench-deals: $tool not found (scripts/install-deps.sh installs wrk and nginx-light)" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$cairn" ] || { echo "bench-deals: no cairn binary at $cairn (build the cairn target)" >&2; exit 1; }
[ -x "$deal_bench" ] || { echo "bench-deals: no $deal_bench (build the deal_bench target)" >&2; exit 1; }

tmp=$(mktemp -d "${SCRATCH:-${TMPDIR:-/tmp}}/cairn-bench-deals.XXXXXX")
cairn_pid=""
nginx_pid=""
stop_cairn() {
  if [ -n "$cairn_pid" ]; then
    kill "$cairn_pid" 2>/dev/null || true
    wait "$cairn_pid" 2>/dev/null || true
    cairn_pid=""
  fi
}
cleanup() {
  stop_cairn
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "# bench-deals $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load:$(uptime | sed 's/.*load average://')"
echo "# cairn $cairn; $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'); $("$nginx_bin" -v 2>&1); $(wrk --version 2>&1 | head -1 | cut -c1-20)"

# 1. Seed.
repo="$tmp/repo"
seed="$tmp/seed"
"$deal_bench" seed --repo "$repo" --out "$seed" --pins "$pins" --min-kib "$min_kib" \
  --max-kib "$max_kib" --piece-mib "$piece_mib"
uuid=$(cat "$seed/deal.uuid")
token=$(cat "$seed/deal.token")
piece_cid=$(cat "$seed/piece.cid")
payload="$seed/payload.bin"
payload_bytes=$(stat -c %s "$payload")

results="$tmp/results"
: >"$results"

# 2. CommP.
if [ "${SKIP_COMMP:-0}" != 1 ]; then
  for malloc in $mallocs; do
    tunables=""
    [ "$malloc" = tuned ] && tunables=$tuned
    echo
    echo "== CommP in one process, malloc $malloc: $deal_bench commp --rounds $rounds --threads 1"
    GLIBC_TUNABLES="$tunables" "$deal_bench" commp --repo "$repo" --out "$seed" --rounds "$rounds" --threads 1
  done
  echo
  echo "== CommP as processes, $rounds rounds: cairn piece commp FILE vs the aggregate from the store"
  python3 - "$rounds" "$piece_cid" "$payload_bytes" -- \
    "$cairn" piece commp --threads 1 "$payload" -- \
    "$deal_bench" commp --repo "$repo" --out "$seed" --only aggregate --threads 1 <<'EOF'
import json, os, resource, statistics, subprocess, sys, time
rounds, piece_cid, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rest = sys.argv[5:]
split = rest.index("--")
file_cmd, store_cmd = rest[:split], rest[split + 1:]
def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    got = json.loads(out.strip().splitlines()[-1])["pieceCidV1"]
    if got != piece_cid:
        sys.exit(f"bench-deals: {cmd[0]} computed {got}, not {piece_cid}")
    return cpu, wall
run(file_cmd); run(store_cmd)  # warm the page cache for both
costs = {"file": [], "store": []}
for r in range(rounds):
    order = [("file", file_cmd), ("store", store_cmd)]
    if r % 2:
        order.reverse()
    for name, cmd in order:
        costs[name].append(run(cmd))
    print(f"round {r + 1}: cairn piece commp FILE {costs['file'][-1][0]:.3f} s CPU "
          f"({costs['file'][-1][1]:.3f} wall), aggregate from the store {costs['store'][-1][0]:.3f} "
          f"({costs['store'][-1][1]:.3f})")
med = lambda name, i: statistics.median(c[i] for c in costs[name])
mb = size / 1e6
print(f"cairn piece commp FILE:        {mb / med('file', 0):.0f} MB per CPU-second, {mb / med('file', 1):.0f} MB/s wall")
print(f"aggregate from the block store: {mb / med('store', 0):.0f} MB per CPU-second, {mb / med('store', 1):.0f} MB/s wall")
print(f"ratio store / file (processes): {med('file', 0) / med('store', 0):.2f} (CPU), "
      f"{med('file', 1) / med('store', 1):.2f} (wall)  (goal >= 0.8)")
EOF
fi

[ "${SKIP_SERVE:-0}" = 1 ] && exit 0

# 3. Serving: nginx with the same bytes.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
www="$tmp/www"
mkdir -p "$www/ipfs" "$tmp/nginx"
chmod 755 "$tmp"  # nginx workers started by root run as nobody and must read $www
ln "$payload" "$www/ipfs/$piece_cid" 2>/dev/null || cp "$payload" "$www/ipfs/$piece_cid"
chmod 644 "$www/ipfs/$piece_cid"
echo '{}' >"$www/pin.json"
nginx_port=$(free_port)
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@ROOT@|$www|g" -e "s|@PORT@|$nginx_port|g" \
  -e "s|@WORKERS@|$threads|g" "$here/bench/serve/nginx.conf.in" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nginx_port/ipfs/$piece_cid"
for _ in $(seq 1 50); do curl -sf -o /dev/null -r 0-0 "$nginx_url" && break; sleep 0.1; done

# The chain endpoint: a port nothing listens on (the engine's passes fail there, harmlessly).
dead_port=$(free_port)
start_cairn() {
  cat >"$repo/config.toml" <<EOF
[server]
listen = "127.0.0.1:0"
threads = $threads
[pinning]
gateways = []
[dht]
mode = "off"
[blockstore]
cache_mib = $1
[filecoin]
rpc = "http://127.0.0.1:$dead_port/rpc/v1"
providers = ["$(cat "$seed/provider")"]
replicas = 1
public_url = "http://127.0.0.1:9"
probe_interval_seconds = 0
EOF
  : >"$tmp/cairn.log"
  local tunables=""
  [ "$2" = tuned ] && tunables=$tuned
  GLIBC_TUNABLES="$tunables" "$cairn" --repo "$repo" serve --libp2p-listen /ip4/127.0.0.1/tcp/0 >"$tmp/cairn.log" 2>&1 &
  cairn_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^cairn: serving' "$tmp/cairn.log" 2>/dev/null && break
    kill -0 "$cairn_pid" 2>/dev/null || { cat "$tmp/cairn.log" >&2; exit 1; }
    sleep 0.1
  done
  local base
  base=$(sed -n 's|^cairn: serving repo .* at \(http://[^/]*\)/$|\1|p' "$tmp/cairn.log" | head -1)
  [ -n "$base" ] || { echo "bench-deals: cairn did not start" >&2; cat "$tmp/cairn.log" >&2; exit 1; }
  cairn_url="$base/filecoin/piece/$uuid"
}

# CPU seconds (user + system) a process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# pull NAME ROUND URL [curl args...]: one whole-piece GET on a new connection.
pull() {
  local name=$1 round=$2 url=$3
  shift 3
  local c0 out c1
  c0=$(cpu_of "$cairn_pid")
  out=$(curl -sf -o /dev/null -w '%{size_download} %{time_total}' "$@" "$url")
  c1=$(cpu_of "$cairn_pid")
  read -r got secs <<<"$out"
  [ "$got" = "$payload_bytes" ] || { echo "bench-deals: $name pulled $got bytes, not $payload_bytes" >&2; exit 1; }
  local rate
  rate=$(awk -v b="$got" -v s="$secs" 'BEGIN { printf "%.0f", b / s }')
  echo "$name $round $rate $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" >>"$results"
  printf '%-24s round %s: %8.0f MB/s  (cairn CPU %s s)\n' "$name" "$round" "$(awk -v r="$rate" 'BEGIN { print r / 1e6 }')" \
    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')"
}

# load NAME ROUND URL [wrk args...]: wrk with CONNECTIONS connections for DURATION s.
load() {
  local name=$1 round=$2 url=$3
  shift 3
  local out bps bad
  out=$(wrk -t 2 -c "$connections" -d "$duration" "$@" "$url" 2>&1)
  echo "$out" >"$tmp/wrk-$name-$round.txt"
  bps=$(echo "$out" | awk '/Transfer\/sec:/ { v = $2; n = v + 0; if (v ~ /KB$/) n *= 1024;
    else if (v ~ /MB$/) n *= 1048576; else if (v ~ /GB$/) n *= 1073741824; printf "%.0f", n }')
  bad=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { print $NF }')
  [ -z "$bad" ] || { echo "bench-deals: $name had $bad non-2xx answers" >&2; exit 1; }
  echo "$name $round $bps 0" >>"$results"
  printf '%-24s round %s: %8.0f MB/s  (wrk -c %s)\n' "$name" "$round" "$(awk -v r="$bps" 'BEGIN { print r / 1e6 }')" "$connections"
}

auth=(-H "Authorization: Bearer $token")
for cache in $cache_mibs; do
for malloc in $mallocs; do
  start_cairn "$cache" "$malloc"
  v="c${cache}_$malloc"
  echo
  echo "== serving, blockstore.cache_mib = $cache, malloc $malloc: $cairn_url"
  # The same bytes: the whole piece, one Range, and no bytes without the token.
  cmp -s <(curl -sf "${auth[@]}" "$cairn_url") "$payload" || { echo "bench-deals: cairn's piece differs from payload.bin" >&2; exit 1; }
  cmp -s <(curl -sf "$nginx_url") "$payload" || { echo "bench-deals: nginx's file differs from payload.bin" >&2; exit 1; }
  cmp -s <(curl -sf "${auth[@]}" -r 1000000-3000000 "$cairn_url") <(curl -sf -r 1000000-3000000 "$nginx_url") ||
    { echo "bench-deals: a Range of cairn's piece differs from nginx's" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$cairn_url")
  [ "$code" = 401 ] || { echo "bench-deals: a wrong token got $code, not 401" >&2; exit 1; }
  for round in $(seq 1 "$repeat"); do
    for i in $(seq 1 "$pulls"); do
      if [ $(((round + i) % 2)) = 0 ]; then
        pull "pull_nginx_$v" "$round" "$nginx_url"
        pull "pull_cairn_$v" "$round" "$cairn_url" "${auth[@]}"
      else
        pull "pull_cairn_$v" "$round" "$cairn_url" "${auth[@]}"
        pull "pull_nginx_$v" "$round" "$nginx_url"
      fi
    done
    load "wrk_nginx_$v" "$round" "$nginx_url"
    load "wrk_cairn_$v" "$round" "$cairn_url" "${auth[@]}"
  done
  stop_cairn
done
done

echo
echo "# summary: medians ($repeat rounds; $pulls pulls per round and server; load now:$(uptime | sed 's/.*load average://'))"
python3 - "$results" "$payload_bytes" "$cache_mibs" "$mallocs" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, _, rate, cpu = line.split()
    rows.setdefault(name, []).append((float(rate), float(cpu)))
size = int(sys.argv[2])
med = lambda name, i: statistics.median(r[i] for r in rows[name])
print(f"payload {size / 1e6:.1f} MB")
for c in [f"_c{cache}_{m}" for cache in sys.argv[3].split() for m in sys.argv[4].split()]:
    label = c[1:]
    pc, pn = med("pull_cairn" + c, 0), med("pull_nginx" + c, 0)
    wc, wn = med("wrk_cairn" + c, 0), med("wrk_nginx" + c, 0)
    cpu = med("pull_cairn" + c, 1)
    print(f"{label}: one pull: cairn {pc / 1e6:.0f} MB/s, nginx {pn / 1e6:.0f} MB/s, "
          f"ratio {pc / pn:.2f} (goal >= 0.80); cairn CPU {cpu:.3f} s per pull = "
          f"{size / 1e6 / cpu if cpu else float('nan'):.0f} MB per CPU-second")
    print(f"{label}: wrk -c N: cairn {wc / 1e6:.0f} MB/s, nginx {wn / 1e6:.0f} MB/s, "
          f"ratio {wc / wn:.2f} (goal >= 0.80)")
EOF
