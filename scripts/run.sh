#!/usr/bin/env bash
# Quick start: installs dependencies, builds the release binary and runs `cairn serve` with its
# embedded defaults (repo ./cairn-data, 127.0.0.1:8080) and cold storage on a local, simulated
# Filecoin network (scripts/devnet.sh) that this script starts and stops with the service.
#
# The first run writes <repo>/config.toml with a [filecoin] section for that devnet (marked with
# the line "# cairn-devnet: written by scripts/run.sh"), creates the repo's wallet and funds it
# with devnet FIL. A config.toml without that marker is yours: it is used as it is, and the devnet
# is not started. Extra arguments go to `cairn serve`.
#
# Environment: CAIRN_REPO (default ./cairn-data), CAIRN_DEVNET=0 (no devnet: the hot tier alone
# unless your config.toml has a [filecoin] section), CAIRN_DEVNET_PORT (its RPC port, default
# 1234, Lotus' port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build build -j "$(nproc)" --target cairn

repo=${CAIRN_REPO:-cairn-data}
devnet_port=${CAIRN_DEVNET_PORT:-1234}
marker="# cairn-devnet: written by scripts/run.sh"
config="$repo/config.toml"
mkdir -p "$repo"
cairn() { build/cairn --repo "$repo" "$@"; }

if [ "${CAIRN_DEVNET:-1}" = 0 ] || { [ -f "$config" ] && ! grep -qxF "$marker" "$config"; }; then
  exec build/cairn --repo "$repo" serve --libp2p-allow-private "$@"
fi

# The devnet: fast epochs and a short finality, so that a pin becomes active deals in about a
# minute. Its state lives in the repo, so deals and balances survive a restart.
ready="$repo/devnet/ready.json"
mkdir -p "$repo/devnet"
rm -f "$ready"
scripts/devnet.sh --port "$devnet_port" --providers 2 --epoch-ms 1000 --publish-period 5 \
  --seal-delay 10 --finality 30 --seed cairn-run --state "$repo/devnet" >"$ready" &
devnet_pid=$!
trap 'kill "$devnet_pid" 2>/dev/null; wait "$devnet_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -s "$ready" ] && break
  kill -0 "$devnet_pid" 2>/dev/null || { echo "run: the devnet did not start" >&2; exit 1; }
  sleep 0.2
done
[ -s "$ready" ] || { echo "run: the devnet did not answer within 60 s" >&2; exit 1; }
rpc=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).rpc)' "$ready")
providers=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).providers.map(p => JSON.stringify(p.id)).join(", "))' "$ready")

if [ ! -f "$config" ]; then
  cat >"$config" <<EOF
$marker
# Cold storage on the local devnet, a simulated Filecoin network: its deals store nothing real.
# Delete this file (or the marker line above) to configure Cairn yourself; docs/filecoin.md says
# how to point it at calibnet or mainnet.
[filecoin]
rpc = "$rpc"
network = "testnet"
providers = [$providers]
replicas = 2
piece_size = 1048576
batch_wait_seconds = 10
public_url = "http://127.0.0.1:8080"
start_delay_epochs = 200
poll_seconds = 2
EOF
fi

if [ -z "$(cairn wallet list)" ]; then cairn wallet new >/dev/null; fi
address=$(cairn wallet default)
# Devnet FIL for deals and escrow (Devnet.Fund mints it; a real network needs a funded wallet).
node -e '
  const [rpc, address] = process.argv.slice(1)
  fetch(rpc, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Devnet.Fund", params: [address, "100000000000000000000"] }) })
    .then(r => r.json()).then(j => { if (j.error) throw new Error(j.error.message) })
    .catch(e => { console.error("run: funding " + address + " on the devnet failed: " + e.message); process.exit(1) })
' "$rpc" "$address"
echo "run: local Filecoin devnet at $rpc (simulated; state in $repo/devnet), wallet $address funded"
build/cairn --repo "$repo" serve --libp2p-allow-private "$@" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; kill "$devnet_pid" 2>/dev/null; wait "$devnet_pid" 2>/dev/null || true' EXIT
trap 'kill -TERM "$serve_pid" 2>/dev/null' INT TERM
wait "$serve_pid"
