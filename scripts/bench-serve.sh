#!/usr/bin/env bash
# Service (HTTP) benchmark, all in one run on 127.0.0.1, beside nginx serving the same bytes
# (docs/benchmarks.md "Service (HTTP)"):
#   1. seeds a fresh repo with bench/serve/seed_repo.cpp (ACCOUNTS accounts with a token and a
#      pin each; one account with PINS pins) and starts `cairn serve` on it (THREADS I/O threads,
#      no pinning gateways: nothing leaves the machine);
#   2. uploads a FILE_MIB random file through /api/v0/add (CIDv1, raw leaves) and starts nginx
#      (worker_processes = THREADS, bench/serve/nginx.conf.in) serving the same PinStatus bytes
#      and the same file; checks that both serve identical bytes;
#   3. REPEAT rounds, servers alternating within each round, wrk --latency for DURATION s each:
#        GET /pins/{id}   cairn vs nginx (same request stream, bench/serve/get_pin.lua)
#        GET /ipfs/<cid>  cairn vs nginx (sendfile) vs nginx (sendfile off)
#        POST /pins       cairn (durable: 202 after the SQLite commit), beside the fsync rate of
#                         the same filesystem, and pins created per durable commit (from
#                         /metrics: cairn_pins and cairn_metadata_commits_total)
#        GET /pins pages  cairn, one paced client (the account's rate limit), query kinds in
#                         bench/serve/list_pins.lua
#   4. prints every run and a summary: medians over the rounds, ratios, p99 latencies.
# Everything lives in a temp dir that is removed at the end (KEEP=1 keeps it).
#
#   scripts/bench-serve.sh [BUILD_DIR=build-bench]
#   env: CAIRN (binary; default BUILD_DIR/cairn), SEED (default BUILD_DIR/bench/serve_seed_repo),
#        THREADS (cores), REPEAT (3), DURATION (10), CONNECTIONS (32), WRK_THREADS (2),
#        FILE_CONNECTIONS (8), FILE_MIB (64), PINS (1000000), ACCOUNTS (2000),
#        LIST_DURATION (10), LIST_PAUSE_MS (25), LIST_KINDS ("first before status name meta cid"),
#        SCRATCH (a directory for the temp dir; default $TMPDIR or /tmp),
#        PIN_WORKERS (pinning.workers; default cairn's),
#        SEED_CACHE=DIR (seed once into DIR and copy it on later runs with the same PINS and
#        ACCOUNTS; cairn migrates the copy on start),
#        NODELAY=1 (start cairn with bench/serve/nodelay_preload.c preloaded: TCP_NODELAY on
#        every accepted socket, to measure a server without Nagle delays)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build-bench}
cairn=${CAIRN:-$build/cairn}
seed=${SEED:-$build/bench/serve_seed_repo}
threads=${THREADS:-$(nproc)}
repeat=${REPEAT:-3}
duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-2}
file_connections=${FILE_CONNECTIONS:-8}
file_mib=${FILE_MIB:-64}
pins=${PINS:-1000000}
accounts=${ACCOUNTS:-2000}
list_duration=${LIST_DURATION:-10}
list_pause=${LIST_PAUSE_MS:-25}
list_kinds=${LIST_KINDS:-first before status name meta cid}
lua="$here/bench/serve"

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "bench-serve: $tool not found (scripts/install-deps.sh installs wrk and nginx-light)" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$cairn" ] || { echo "bench-serve: no cairn binary at $cairn (build the cairn target)" >&2; exit 1; }
[ -x "$seed" ] || { echo "bench-serve: no $seed (build the serve_seed_repo target)" >&2; exit 1; }

tmp=$(mktemp -d "${SCRATCH:-${TMPDIR:-/tmp}}/cairn-bench-serve.XXXXXX")
cairn_pid=""
nginx_pid=""
cleanup() {
  [ -n "$cairn_pid" ] && kill "$cairn_pid" 2>/dev/null && wait "$cairn_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "# bench-serve $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load:$(uptime | sed 's/.*load average://')"
echo "# cairn $cairn, threads $threads; $(wrk --version 2>&1 | head -1 | cut -c1-40); $("$nginx_bin" -v 2>&1)"

# 1. Seed and start cairn.
repo="$tmp/repo"
if [ -n "${SEED_CACHE:-}" ]; then
  cache="$SEED_CACHE/pins-$pins-accounts-$accounts"
  if [ ! -f "$cache/done" ]; then
    rm -rf "$cache"
    "$seed" --repo "$cache/repo" --out "$cache/seed" --pins "$pins" --accounts "$accounts"
    touch "$cache/done"
  fi
  echo "# seeded repo copied from $cache"
  cp -r "$cache/repo" "$repo"
  cp -r "$cache/seed" "$tmp/seed"
else
  "$seed" --repo "$repo" --out "$tmp/seed" --pins "$pins" --accounts "$accounts"
fi
cat >"$repo/config.toml" <<EOF
[server]
listen = "127.0.0.1:0"
threads = $threads
[pinning]
gateways = []
${PIN_WORKERS:+workers = $PIN_WORKERS}
EOF
preload=""
if [ "${NODELAY:-0}" = 1 ]; then
  cc -O2 -shared -fPIC -o "$tmp/nodelay_preload.so" "$lua/nodelay_preload.c" -ldl
  preload="$tmp/nodelay_preload.so"
  echo "# NODELAY=1: cairn runs with TCP_NODELAY forced on accepted sockets (LD_PRELOAD)"
fi
# libp2p on loopback with a free port: a benchmark listens on 127.0.0.1 only.
LD_PRELOAD="$preload" "$cairn" --repo "$repo" serve --libp2p-listen /ip4/127.0.0.1/tcp/0 \
  >"$tmp/cairn.log" 2>&1 &
cairn_pid=$!
for _ in $(seq 1 600); do  # up to 60 s: pending migrations run first
  grep -q '^cairn: serving' "$tmp/cairn.log" 2>/dev/null && break
  kill -0 "$cairn_pid" 2>/dev/null || { cat "$tmp/cairn.log" >&2; exit 1; }
  sleep 0.1
done
cairn_url=$(sed -n 's|^cairn: serving repo .* at \(http://[^/]*\)/$|\1|p' "$tmp/cairn.log" | head -1)
[ -n "$cairn_url" ] || { echo "bench-serve: cairn did not start" >&2; cat "$tmp/cairn.log" >&2; exit 1; }

# 2. The same bytes for nginx: the hot file and a PinStatus body.
big_token=$(cat "$tmp/seed/big.token")
read -r big_oldest big_newest <"$tmp/seed/big.created"
big_cid=$(cat "$tmp/seed/big.cid")
read -r small_token small_id <"$tmp/seed/small.tokens"
head -c $((file_mib << 20)) /dev/urandom >"$tmp/hot.bin"
file_cid=$(curl -sf -H "Authorization: Bearer $small_token" -F file=@"$tmp/hot.bin" \
  "$cairn_url/api/v0/add?cid-version=1&raw-leaves=true" |
  python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["Hash"])')
www="$tmp/www"
mkdir -p "$www/ipfs" "$tmp/nginx"
chmod 755 "$tmp"  # nginx workers started by root run as nobody and must read $www
curl -sf -H "Authorization: Bearer $small_token" "$cairn_url/pins/$small_id" >"$www/pin.json"
pin_bytes=$(stat -c %s "$www/pin.json")
# Every small account's PinStatus has the same size (fixed-width CIDs, names, ids, times).
while read -r token id; do
  n=$(curl -sf -H "Authorization: Bearer $token" "$cairn_url/pins/$id" | wc -c)
  [ "$n" = "$pin_bytes" ] || { echo "bench-serve: PinStatus sizes differ ($n vs $pin_bytes)" >&2; exit 1; }
done < <(sed -n '2p;$p' "$tmp/seed/small.tokens")
cp "$tmp/hot.bin" "$www/ipfs/$file_cid"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|@PREFIX@|$tmp/nginx|g" -e "s|@ROOT@|$www|g" -e "s|@PORT@|$nginx_port|g" \
  -e "s|@WORKERS@|$threads|g" "$lua/nginx.conf.in" >"$tmp/nginx/nginx.conf"
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nginx_port"
for _ in $(seq 1 50); do curl -sf -o /dev/null "$nginx_url/pins/x" && break; sleep 0.1; done
cmp -s <(curl -sf "$nginx_url/pins/$small_id") "$www/pin.json" ||
  { echo "bench-serve: nginx does not serve the PinStatus bytes" >&2; exit 1; }
for url in "$cairn_url/ipfs/$file_cid" "$nginx_url/ipfs/$file_cid" "$nginx_url/copy/ipfs/$file_cid"; do
  cmp -s <(curl -sf "$url") "$tmp/hot.bin" || { echo "bench-serve: $url differs from the file" >&2; exit 1; }
done
echo "# PinStatus body $pin_bytes bytes; hot file $file_mib MiB, $file_cid; $pins pins in one account, $accounts accounts"

# The durable-write reference: 4 KiB writes, each synced (O_DSYNC), on the repo's filesystem.
fsync_rate() {
  local out
  out=$(dd if=/dev/zero of="$repo/dsync.bin" bs=4k count=2000 oflag=dsync 2>&1)
  rm -f "$repo/dsync.bin"
  echo "$out" | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) secs = $(i-1);
    printf "%.0f", 2000 / secs }'
}

# wrk output → "rps bytes_per_s p99_ms non2xx".
parse_wrk() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                     if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    function bytes(v) { n = v + 0; if (v ~ /KB$/) n *= 1024; else if (v ~ /MB$/) n *= 1048576;
                        else if (v ~ /GB$/) n *= 1073741824; else if (v ~ /TB$/) n *= 1099511627776;
                        return n }
    /Requests\/sec:/ { rps = $2 }
    /Transfer\/sec:/ { bps = bytes($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { errs = $0 }
    END { printf "%s %.0f %s %d\n", rps, bps, p99 == "" ? "nan" : p99, bad + 0 }'
}

# metric NAME: the sum of every sample of NAME in cairn's /metrics (all label sets).
metric() {
  curl -sf "$cairn_url/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }'
}

results="$tmp/results"
: >"$results"
# run NAME ROUND wrk-args...: one wrk run, its line appended to the results.
run() {
  local name=$1 round=$2
  shift 2
  local out
  out=$(wrk --latency "$@" 2>&1)
  echo "$out" >"$tmp/wrk-$name-$round.txt"
  if ! kill -0 "$cairn_pid" 2>/dev/null; then
    echo "bench-serve: cairn exited during $name (round $round); its log ends:" >&2
    tail -5 "$tmp/cairn.log" >&2
    exit 1
  fi
  local line
  line=$(echo "$out" | parse_wrk)
  echo "$name $round $line" >>"$results"
  printf '%-22s round %s: %10s req/s %12s B/s  p99 %8s ms  non-2xx %s\n' "$name" "$round" $line
}

# Warm-up: every token authenticates once (the first use of a token in a minute records it).
wrk -t "$wrk_threads" -c "$connections" -d 3 -s "$lua/get_pin.lua" "$cairn_url" -- "$tmp/seed/small.tokens" >/dev/null
wrk -t "$wrk_threads" -c "$connections" -d 3 -s "$lua/get_pin.lua" "$nginx_url" -- "$tmp/seed/small.tokens" >/dev/null

for round in $(seq 1 "$repeat"); do
  common=(-t "$wrk_threads" -c "$connections" -d "$duration")
  run get_pin_nginx "$round" "${common[@]}" -s "$lua/get_pin.lua" "$nginx_url" -- "$tmp/seed/small.tokens"
  run get_pin_cairn "$round" "${common[@]}" -s "$lua/get_pin.lua" "$cairn_url" -- "$tmp/seed/small.tokens"
  file=(-t "$wrk_threads" -c "$file_connections" -d "$duration")
  run file_nginx "$round" "${file[@]}" "$nginx_url/ipfs/$file_cid"
  run file_nginx_copy "$round" "${file[@]}" "$nginx_url/copy/ipfs/$file_cid"
  run file_cairn "$round" "${file[@]}" "$cairn_url/ipfs/$file_cid"
  echo "fsync_ref $round $(fsync_rate) 0 nan 0" >>"$results"
  printf '%-22s round %s: %10s syncs/s\n' fsync_ref "$round" "$(awk -v r="$round" '$1 == "fsync_ref" && $2 == r { print $3 }' "$results")"
  pins0=$(metric cairn_pins)
  commits0=$(metric cairn_metadata_commits_total)
  run post_pin_cairn "$round" "${common[@]}" -s "$lua/post_pin.lua" "$cairn_url" -- \
    "$tmp/seed/small.tokens" "$(date +%s%N)-$round"
  # Pins created per durable commit (fsync) during the run: the group committer at work.
  per=$(awk -v p="$(( $(metric cairn_pins) - pins0 ))" -v c="$(( $(metric cairn_metadata_commits_total) - commits0 ))" \
    'BEGIN { if (c > 0) printf "%.1f", p / c; else print "nan" }')
  echo "pins_per_fsync $round $per 0 nan 0" >>"$results"
  printf '%-22s round %s: %10s pins per commit\n' pins_per_fsync "$round" "$per"
  for kind in $list_kinds; do
    run "list_${kind}_cairn" "$round" -t 1 -c 1 -d "$list_duration" -s "$lua/list_pins.lua" \
      "$cairn_url" -- "$big_token" "$kind" "$big_oldest" "$big_newest" "$big_cid" "$list_pause"
  done
done

# Non-2xx responses make a run invalid (e.g. 429 from the rate limiter): say so loudly.
if awk '$6 > 0 { bad = 1 } END { exit !bad }' "$results"; then
  echo "WARNING: some runs had non-2xx responses (column non-2xx above); their rates are not valid"
fi

echo
echo "# summary: medians over $repeat rounds (load now:$(uptime | sed 's/.*load average://'))"
python3 - "$results" "$file_mib" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, _, rps, bps, p99, bad = line.split()
    rows.setdefault(name, []).append((float(rps), float(bps), float(p99), int(bad)))
def med(name, i):
    v = [r[i] for r in rows.get(name, []) if r[i] == r[i]]
    return statistics.median(v) if v else float("nan")
print(f"{'what':24} {'req/s':>10} {'MB/s':>9} {'p99 ms':>8}")
for name in rows:
    print(f"{name:24} {med(name, 0):10.0f} {med(name, 1) / 1e6:9.1f} {med(name, 2):8.2f}")
print()
def ratio(label, a, b, i, goal):
    print(f"{label:44} {med(a, i) / med(b, i):6.2f}   (goal {goal})")
ratio("GET /pins/{id} cairn / nginx (req/s)", "get_pin_cairn", "get_pin_nginx", 0, ">= 0.50")
ratio("hot file cairn / nginx sendfile (bytes/s)", "file_cairn", "file_nginx", 1, ">= 0.80")
ratio("hot file cairn / nginx sendfile off (bytes/s)", "file_cairn", "file_nginx_copy", 1, "-")
print(f"{'POST /pins durable (req/s)':44} {med('post_pin_cairn', 0):6.0f}   (goal >= 5000)")
ratio("POST /pins / fsync rate of the filesystem", "post_pin_cairn", "fsync_ref", 0, "-")
print(f"{'POST /pins: pins per fsync (commit)':44} {med('pins_per_fsync', 0):6.1f}   (goal >= 10 with >= 32 clients)")
for name in rows:
    if name.startswith("list_"):
        print(f"{'GET /pins page p99 ms, ' + name[5:-6]:44} {med(name, 2):6.2f}   (goal <= 10)")
EOF
