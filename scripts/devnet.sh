#!/usr/bin/env bash
# Starts Cairn's local, simulated Filecoin network (devnet/, Node only). Never a real network.
# usage: scripts/devnet.sh [--port N] [--providers N] [--epoch-ms MS] [--seed S] [--state DIR] [...]
# Installs devnet/'s npm packages if they are missing, then runs until SIGTERM. Once ready it
# prints one JSON line on stdout: {"rpc": "...", "providers": [{"id", "kind", "http", "multiaddr", "peerId"}, ...]}.
# See devnet/README.md for every option and the Devnet.* control methods.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/devnet"
if ! command -v node >/dev/null; then echo "devnet: node (>= 20.19) is required" >&2; exit 1; fi
if [ ! -d node_modules ] || [ package.json -nt node_modules/.installed ]; then
  echo "devnet: npm install in devnet/" >&2
  npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2
  touch node_modules/.installed
fi
exec node src/main.js "$@"
